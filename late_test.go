package netjet_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// lateSite is a page whose stylesheet @imports another, names a web font and, through the
// import, a background hero: none of which the page's HTML names.
var lateSite = map[string]struct{ contentType, body string }{
	"/":                  {"text/html", `<!doctype html><html><head><link rel="stylesheet" href="/static/site.css"></head><body><h1 class="hero">Hi</h1></body></html>`},
	"/static/site.css":   {"text/css", `@import url("/static/theme.css"); @font-face { font-family: F; src: url(/static/f.woff2) format("woff2"); }`},
	"/static/theme.css":  {"text/css", `.hero { background: url(/static/hero.jpg); }`},
	"/static/f.woff2":    {"font/woff2", "wOF2"},
	"/static/hero.jpg":   {"image/jpeg", "\xff\xd8\xff"},
	"/static/unused.jpg": {"image/jpeg", "\xff\xd8\xff"},
	// A page with images of its own, one of them marked as the one that matters.
	"/photos": {"text/html", `<!doctype html><html><head><link rel="stylesheet" href="/static/site.css"></head><body><h1 class="hero">Hi</h1>` +
		`<img src="/static/a.jpg"><img src="/static/b.jpg"><img src="/static/lcp.jpg" fetchpriority="high"></body></html>`},
}

const (
	lateImport = `</static/theme.css>; rel=preload; as=style`
	lateFont   = `</static/f.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin`
	lateHero   = `</static/hero.jpg>; rel=preload; as=image; fetchpriority=high`
	lateSheet  = `</static/site.css>; rel=preload; as=style`
)

// lateServer serves lateSite through one Preloader, behind a stand-in for a proxy's
// real-IP middleware: the X-Client header of a test request becomes its RemoteAddr, so that
// one test can be several clients.
func lateServer(t *testing.T, opts netjet.Options) *testServer {
	return startLateServer(t, opts, false)
}

// startLateServer is lateServer, over HTTP/2 with TLS when http2 is set.
func startLateServer(t *testing.T, opts netjet.Options, http2 bool) *testServer {
	site := mustPreloader(t, opts).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := lateSite[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.contentType)
		io.WriteString(w, f.body)
	}))
	return start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := r.Header.Get("X-Client"); c != "" {
			r.RemoteAddr = c + ":1234"
		}
		site.ServeHTTP(w, r)
	}), http2)
}

// fetchAs sends a GET for path from client (an IP address) with the given headers, and returns
// the response's Link header.
func fetchAs(t *testing.T, srv *testServer, client, path string, header ...string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("X-Client", client)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	return strings.Join(resp.Header.Values("Link"), ", ")
}

// loadLikeABrowser loads the page and what a browser fetches for it, in order: the stylesheet,
// then what the stylesheet names (with the stylesheet as Referer), then the import's image.
// It returns the page's Link header.
func loadLikeABrowser(t *testing.T, srv *testServer, client string) string {
	t.Helper()
	link := fetchAs(t, srv, client, "/", "Sec-Fetch-Dest", "document", "Sec-Fetch-Mode", "navigate")
	fetchAs(t, srv, client, "/static/site.css", "Sec-Fetch-Dest", "style", "Referer", srv.URL+"/")
	fetchAs(t, srv, client, "/static/theme.css", "Sec-Fetch-Dest", "style", "Referer", srv.URL+"/static/site.css")
	fetchAs(t, srv, client, "/static/f.woff2", "Sec-Fetch-Dest", "font", "Referer", srv.URL+"/static/site.css")
	fetchAs(t, srv, client, "/static/hero.jpg", "Sec-Fetch-Dest", "image", "Referer", srv.URL+"/static/theme.css")
	return link
}

func TestLateResourcesLearnedFromWhatBrowsersFetch(t *testing.T) {
	srv := lateServer(t, netjet.Options{})
	assert.Equal(t, lateSheet, loadLikeABrowser(t, srv, "10.0.0.1"), "the first load: only what the HTML names")
	want := lateSheet + ", " + lateImport + ", " + lateFont + ", " + lateHero
	assert.Equal(t, want, loadLikeABrowser(t, srv, "10.0.0.1"), "the same client's next load: the import, the font, the hero")

	// Another client is told only once three distinct clients fetched them.
	assert.Equal(t, lateSheet, fetchAs(t, srv, "10.0.0.2", "/"), "one client's fetches reach no other client")
	loadLikeABrowser(t, srv, "10.0.0.2")
	assert.Equal(t, lateSheet, fetchAs(t, srv, "10.0.0.4", "/"), "two clients are not enough")
	loadLikeABrowser(t, srv, "10.0.0.3")
	assert.Equal(t, want, fetchAs(t, srv, "10.0.0.4", "/"), "three distinct clients fetched them")
}

func TestLateResourcesOnlyFromWhatStylesheetsAsked(t *testing.T) {
	srv := lateServer(t, netjet.Options{})
	const client = "10.0.0.1"
	for range 2 {
		fetchAs(t, srv, client, "/")
		// An image the page asked for, not a stylesheet: the HTML already names what it needs.
		fetchAs(t, srv, client, "/static/unused.jpg", "Sec-Fetch-Dest", "image", "Referer", srv.URL+"/")
		// Another origin's stylesheet as Referer, or one over another scheme.
		fetchAs(t, srv, client, "/static/unused.jpg", "Sec-Fetch-Dest", "image", "Referer", "http://evil.example/static/site.css")
		fetchAs(t, srv, client, "/static/unused.jpg", "Sec-Fetch-Dest", "image", "Referer", "https://"+strings.TrimPrefix(srv.URL, "http://")+"/static/site.css")
		// No Sec-Fetch-Dest: not a browser's fetch for a stylesheet.
		fetchAs(t, srv, client, "/static/unused.jpg", "Referer", srv.URL+"/static/site.css")
		// A fetch that failed.
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/static/missing.jpg", nil)
		require.NoError(t, err)
		req.Header.Set("X-Client", client)
		req.Header.Set("Sec-Fetch-Dest", "image")
		req.Header.Set("Referer", srv.URL+"/static/site.css")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
	}
	assert.Equal(t, lateSheet, fetchAs(t, srv, client, "/"))
}

// The 103 takes the stylesheet's import and either the image taken for the largest paint or,
// when the page marks an image of its own as that, the stylesheet's font: hinted together they
// would share the link and each come later.
func TestLateResourcesInEarlyHints(t *testing.T) {
	srv := startLateServer(t, netjet.Options{EarlyHints: true}, true)
	const client = "10.0.0.1"
	for range 3 {
		loadLikeABrowser(t, srv, client)
	}
	hints, link := navigateOverHTTP2(t, srv, client, "/")
	assert.Equal(t, []string{lateSheet + ", " + lateImport + ", " + lateHero}, hints)
	assert.Equal(t, lateSheet+", "+lateImport+", "+lateFont+", "+lateHero, link)

	for range 2 {
		fetchAs(t, srv, client, "/photos", "Sec-Fetch-Dest", "document", "Sec-Fetch-Mode", "navigate")
	}
	hints, link = navigateOverHTTP2(t, srv, client, "/photos")
	assert.Equal(t, []string{lateSheet + ", " + lateImport + ", " + lateFont}, hints, "the page marks its own image high: the font")
	assert.Contains(t, link, `</static/lcp.jpg>; rel=preload; as=image; fetchpriority=high`)
}

// navigateOverHTTP2 navigates to page as client, over HTTP/2, and returns the Link values of
// the 103s it got and of the final response.
func navigateOverHTTP2(t *testing.T, srv *testServer, client, page string) (hints []string, link string) {
	t.Helper()
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, h.Get("Link"))
			return nil
		},
	}), http.MethodGet, srv.URL+page, nil)
	require.NoError(t, err)
	req.Header.Set("X-Client", client)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 2, resp.ProtoMajor)
	return hints, resp.Header.Get("Link")
}

// A stylesheet's image is found late: it takes the image cap before the page's own images.
// It is marked fetchpriority=high, as the likely largest paint, unless the page marks an
// image of its own so.
func TestLateImagesComeFirstAmongImages(t *testing.T) {
	srv := lateServer(t, netjet.Options{})
	const client = "10.0.0.1"
	load := func(page string) string {
		link := fetchAs(t, srv, client, page, "Sec-Fetch-Dest", "document", "Sec-Fetch-Mode", "navigate")
		fetchAs(t, srv, client, "/static/site.css", "Sec-Fetch-Dest", "style", "Referer", srv.URL+page)
		fetchAs(t, srv, client, "/static/theme.css", "Sec-Fetch-Dest", "style", "Referer", srv.URL+"/static/site.css")
		fetchAs(t, srv, client, "/static/hero.jpg", "Sec-Fetch-Dest", "image", "Referer", srv.URL+"/static/theme.css")
		return link
	}
	first := load("/photos")
	assert.Equal(t, lateSheet+`, </static/a.jpg>; rel=preload; as=image, </static/b.jpg>; rel=preload; as=image, `+
		`</static/lcp.jpg>; rel=preload; as=image; fetchpriority=high`, first, "nothing learned yet: the page's two images and its marked one")
	assert.Equal(t, lateSheet+", "+lateImport+`, </static/hero.jpg>; rel=preload; as=image, </static/a.jpg>; rel=preload; as=image, `+
		`</static/lcp.jpg>; rel=preload; as=image; fetchpriority=high`, load("/photos"),
		"the hero takes the first of the two image places, at its own priority: the page marks its own image high")
	assert.Equal(t, lateSheet+", "+lateImport+", "+lateHero, load("/"), "a page without a marked image: the hero goes high")
}

// A flood of made-up stylesheets, each with the most resources a stylesheet keeps and paths of
// the longest length kept, from an attacker's two addresses: the memory it takes stays within
// the stylesheet table's bound, and a stylesheet that three clients keep fetching for keeps
// what it taught.
func TestLateResourcesFloodIsBoundedAndKeepsPopularSheets(t *testing.T) {
	const page = `<!doctype html><html><head><link rel="stylesheet" href="/static/site.css"></head><body></body></html>`
	h := mustPreloader(t, netjet.Options{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, page)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		io.WriteString(w, "\xff\xd8\xff") // any path is an image: every request of the flood teaches
	}))
	get := func(client, path, sheet string) string {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = client + ":1234"
		if sheet != "" {
			r.Header.Set("Sec-Fetch-Dest", "image")
			r.Header.Set("Referer", "http://example.com"+sheet)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, http.StatusOK, w.Code)
		return strings.Join(w.Result().Header.Values("Link"), ", ")
	}
	for range 3 {
		for _, client := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
			get(client, "/static/hero.jpg", "/static/site.css")
		}
	}
	const hero = `</static/hero.jpg>; rel=preload; as=image; fetchpriority=high`
	require.Equal(t, lateSheet+", "+hero, get("10.0.0.9", "/", ""), "three clients taught the hero")

	// Four times as many stylesheets as the table keeps by default (Routes/4), eight resources
	// each, every path as long as a late resource may be.
	const sheets, perSheet, tableSize = 4096, 8, 4096 / 4
	before := retainedHeap()
	for i := range sheets {
		for j := range perSheet {
			path := fmt.Sprintf("/f/%d/%d/", i, j)
			path += strings.Repeat("x", 512-len(path))
			get([]string{"192.0.2.1", "192.0.2.2"}[j%2], path, fmt.Sprintf("/s/%d.css", i))
		}
	}
	growth := int64(retainedHeap()) - int64(before)
	t.Logf("retained heap growth after %d stylesheets x %d resources of 512-byte paths: %d bytes (%d per stylesheet kept)",
		sheets, perSheet, growth, growth/tableSize)
	// What the table may keep: its stylesheets, each with eight resources of a 512-byte URL and
	// the hashes of who fetched them, well under 1 KiB each beside the URL. Kept for every
	// stylesheet of the flood, it would be four times as much.
	assert.Less(t, growth, int64(tableSize*perSheet*(512+1024)))
	assert.Equal(t, lateSheet+", "+hero, get("10.0.0.9", "/", ""), "the flood did not evict the popular stylesheet")
}

// sheetOriginsServer serves a page whose same-origin stylesheet names a font on another
// origin. The stylesheet's body is body's, or, for a request with a "font" cookie, one naming
// that cookie's origin instead: a stylesheet that reflects what a client sends, as per-user
// themes do. Clients are told apart by X-Client, as in lateServer.
func sheetOriginsServer(t *testing.T, opts netjet.Options, http2 bool, body *atomic.Pointer[string]) *testServer {
	const page = `<!doctype html><html><head><link rel="stylesheet" href="/static/site.css"></head><body><h1>Hi</h1></body></html>`
	site := mustPreloader(t, opts).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, page)
		case "/static/site.css":
			w.Header().Set("Content-Type", "text/css; charset=utf-8")
			if c, err := r.Cookie("font"); err == nil {
				fmt.Fprintf(w, "@font-face { font-family: F; src: url(%s/f.woff2) }", c.Value)
				return
			}
			io.WriteString(w, *body.Load())
		default:
			http.NotFound(w, r)
		}
	}))
	return start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := r.Header.Get("X-Client"); c != "" {
			r.RemoteAddr = c + ":1234"
		}
		site.ServeHTTP(w, r)
	}), http2)
}

const (
	fontOrigin     = `<https://fonts.example.net>; rel=preconnect; crossorigin`
	importedOrigin = `<https://cdn.example.net>; rel=preconnect`
	remoteSheet    = `@import url("https://cdn.example.net/base.css"); ` +
		`@font-face { font-family: F; src: url(https://fonts.example.net/f.woff2) format("woff2"); } h1 { font-family: F }`
)

// fetchSheet fetches the page's stylesheet as a browser does, from client, with the given
// headers besides.
func fetchSheet(t *testing.T, srv *testServer, client string, header ...string) {
	t.Helper()
	fetchAs(t, srv, client, "/static/site.css", append([]string{"Sec-Fetch-Dest", "style", "Referer", srv.URL + "/"}, header...)...)
}

func TestSheetOriginsLearnedFromStylesheetBodies(t *testing.T) {
	var body atomic.Pointer[string]
	body.Store(ptr(remoteSheet))
	srv := sheetOriginsServer(t, netjet.Options{}, false, &body)
	want := lateSheet + ", " + importedOrigin + ", " + fontOrigin

	fetchAs(t, srv, "10.0.0.1", "/")
	fetchSheet(t, srv, "10.0.0.1")
	assert.Equal(t, want, fetchAs(t, srv, "10.0.0.1", "/"), "the caller whose stylesheet named them")
	assert.Equal(t, lateSheet, fetchAs(t, srv, "10.0.0.9", "/"), "one client's stylesheet reaches no other client")

	// Another origin takes the bodies served to four distinct clients.
	for _, c := range []string{"10.0.0.2", "10.0.0.3"} {
		fetchSheet(t, srv, c)
	}
	assert.Equal(t, lateSheet, fetchAs(t, srv, "10.0.0.9", "/"), "three clients are not enough for another origin")
	fetchSheet(t, srv, "10.0.0.4")
	assert.Equal(t, want, fetchAs(t, srv, "10.0.0.9", "/"), "four distinct clients were served it")

	// Not asked for as a stylesheet (no Sec-Fetch-Dest), or not a 200: nothing is read.
	body.Store(ptr(`@font-face { src: url(https://other.example.net/f.woff2) }`))
	for _, c := range []string{"10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8"} {
		fetchAs(t, srv, c, "/static/site.css", "Referer", srv.URL+"/")
	}
	assert.Equal(t, want, fetchAs(t, srv, "10.0.0.9", "/"))

	// The stylesheet stops naming the font's origin: once the latest bodies served to the
	// four clients no longer name it, nobody is told of it.
	body.Store(ptr(`@import url("https://cdn.example.net/base.css");`))
	fetchSheet(t, srv, "10.0.0.1")
	assert.Equal(t, lateSheet+", "+importedOrigin, fetchAs(t, srv, "10.0.0.1", "/"), "its caller is told what its latest body named")
	assert.Equal(t, lateSheet+", "+importedOrigin, fetchAs(t, srv, "10.0.0.9", "/"), "three clients are left: not a quorum")
}

// What a client sends can make a stylesheet name an origin of its choosing; that origin
// reaches no one else, however often the client's addresses ask, and the clients' own
// stylesheets keep teaching theirs.
func TestSheetOriginsAnAttackerCannotChoose(t *testing.T) {
	var body atomic.Pointer[string]
	body.Store(ptr(remoteSheet))
	srv := sheetOriginsServer(t, netjet.Options{}, false, &body)
	want := lateSheet + ", " + importedOrigin + ", " + fontOrigin
	for _, c := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		fetchSheet(t, srv, c)
	}
	require.Equal(t, want, fetchAs(t, srv, "10.0.0.9", "/"))

	attackers := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}
	for range 20 {
		for _, a := range attackers {
			fetchSheet(t, srv, a, "Cookie", "font=https://evil.example")
			fetchAs(t, srv, a, "/")
		}
	}
	assert.Equal(t, want, fetchAs(t, srv, "10.0.0.9", "/"), "three addresses: another origin needs four")
	assert.Equal(t, want, fetchAs(t, srv, "10.0.0.1", "/"))
	assert.Equal(t, want+`, <https://evil.example>; rel=preconnect; crossorigin`, fetchAs(t, srv, "192.0.2.1", "/", "Cookie", "font=https://evil.example"),
		"the attacker is told what its own stylesheet named")
}

func TestSheetOriginsInEarlyHints(t *testing.T) {
	var body atomic.Pointer[string]
	body.Store(ptr(remoteSheet))
	srv := sheetOriginsServer(t, netjet.Options{EarlyHints: true}, true, &body)
	for _, c := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		fetchAs(t, srv, c, "/")
		fetchSheet(t, srv, c)
		fetchAs(t, srv, c, "/")
	}
	hints, link := navigateOverHTTP2(t, srv, "10.0.0.9", "/")
	want := lateSheet + ", " + importedOrigin + ", " + fontOrigin
	assert.Equal(t, []string{want}, hints, "the preconnects go out with the stylesheet in the 103")
	assert.Equal(t, want, link)
}

func ptr[T any](v T) *T { return &v }
