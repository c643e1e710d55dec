package netjet_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// hostileDocURL is the URL every hostile document is served at.
const hostileDocURL = "/dir/page"

// hostileDoc is a document built to break the parser, the header, or the memory bound, and
// the exact Link value netjet must send for it with the default options.
type hostileDoc struct {
	name string
	doc  []byte
	want string
}

var megabyteURL = "/" + strings.Repeat("a", 1<<20)

// hostileDocuments returns the hostile documents; they are built per test, not held by the
// package, so that 25 MB of them do not sit in every other test's heap.
func hostileDocuments() []hostileDoc {
	return []hostileDoc{
		// Header injection through URLs: browsers drop CR, LF and tabs from URLs; the rest is
		// percent-encoded or, where a browser would fetch it as written, kept.
		{"CRLF in script src", []byte("<script src=\"/a.js\r\nSet-Cookie: x=1\"></script>"),
			"</a.jsSet-Cookie:%20x=1>; rel=preload; as=script"},
		{"NUL in img src", []byte("<img src=\"/a\x00b.png\">"), // the tokenizer turns NUL into U+FFFD
			"</a%EF%BF%BDb.png>; rel=preload; as=image"},
		{"angle brackets in href", []byte(`<link rel=stylesheet href="/a>b<c.css">`),
			"</a%3Eb%3Cc.css>; rel=preload; as=style"},
		{"comma and semicolon in href", []byte(`<link rel=stylesheet href="/a,b;c.css">`),
			"</a,b;c.css>; rel=preload; as=style"},
		{"a second link-value in href", []byte(`<link rel=stylesheet href="/a.css>; rel=preload, </evil.js">`),
			"</a.css%3E;%20rel=preload,%20%3C/evil.js>; rel=preload; as=style"},
		{"quotes in href", []byte(`<link rel=stylesheet href='/a"b.css'><link rel=stylesheet href="/c'd.css">`),
			"</a%22b.css>; rel=preload; as=style, </c'd.css>; rel=preload; as=style"},
		{"non-ASCII href", []byte(`<link rel=stylesheet href="/café/日本.css">`),
			"</caf%C3%A9/%E6%97%A5%E6%9C%AC.css>; rel=preload; as=style"},
		{"invalid UTF-8 in src", []byte("<img src=\"/\xff\xfe\xc3.png\">"),
			"</%FF%FE%C3.png>; rel=preload; as=image"},
		{"every C0 control in src", []byte("<img src=\"/c" + c0Controls() + "d.png\">"),
			"</c%01%02%03%04%05%06%07%08%0B%0C%0E%0F%10%11%12%13%14%15%16%17%18%19%1A%1B%1C%1D%1E%1F%7Fd.png>; rel=preload; as=image"},

		// Injection through parameters: a value that cannot be written safely is left out.
		{"CRLF in crossorigin", []byte("<script src=/a.js crossorigin=\"use-credentials\r\nX-Evil: 1\"></script>"),
			"</a.js>; rel=preload; as=script; crossorigin"},
		{"link-value in crossorigin", []byte(`<script src=/a.js crossorigin="use-credentials>, </evil.js"></script>`),
			"</a.js>; rel=preload; as=script; crossorigin"},
		{"quote and backslash in integrity", []byte(`<script src=/a.js integrity='sha384-"\x'></script>`),
			`</a.js>; rel=preload; as=script; integrity="sha384-\"\\x"`},
		{"CR in integrity", []byte("<script src=/a.js integrity=\"sha384-\rX-Evil: 1\"></script>"),
			"</a.js>; rel=preload; as=script"},
		{"LF in media", []byte("<link rel=stylesheet href=/a.css media=\"screen\nX-Evil: 1\">"),
			"</a.css>; rel=preload; as=style"},
		{"invalid UTF-8 in media", []byte("<link rel=stylesheet href=/a.css media=\"\xff\">"),
			"</a.css>; rel=preload; as=style"},
		{"non-ASCII srcset", []byte(`<img src=/a.png srcset="/é.png 2x">`), // each candidate URL is escaped as href is
			`</a.png>; rel=preload; as=image; imagesrcset="/%C3%A9.png 2x"`},
		{"NUL in as and type", []byte("<link rel=preload as=\"font\x00\" href=/f.woff2><link rel=preload as=font type=\"font/woff2\x00\" href=/g.woff2>"),
			"</g.woff2>; rel=preload; as=font; crossorigin"},

		// Injection through <base>, whose URL is written into every link it resolves.
		{"CRLF in base", []byte("<base href=\"https://evil\r\n.example/\"><script src=x.js></script>"),
			"<https://evil.example/x.js>; rel=preload; as=script"},
		{"angle bracket in base", []byte(`<base href="https://cdn.example/a>b/"><script src=x.js></script>`),
			"<https://cdn.example/a%3Eb/x.js>; rel=preload; as=script"},
		{"space, NUL and quote in base", []byte("<base href='/a b\x00\"/'><script src=x.js></script>"),
			"</a%20b%EF%BF%BD%22/x.js>; rel=preload; as=script"},
		{"link-value in base", []byte(`<base href="/x>; rel=preload, <https://evil.example/"><img src=y.png>`),
			"</x%3E;%20rel=preload,%20%3Chttps://evil.example/y.png>; rel=preload; as=image"},

		// Size: nothing is cut inside a link; a link that does not fit is left out, and the
		// next ones still go.
		{"1 MB URL", []byte(`<link rel=stylesheet href=/a.css><img src="` + megabyteURL + `"><img src=/b.png>`),
			"</a.css>; rel=preload; as=style, </b.png>; rel=preload; as=image"},
		{"1 MB stylesheet URL first", []byte(`<link rel=stylesheet href="` + megabyteURL + `"><link rel=stylesheet href=/b.css>`),
			"</b.css>; rel=preload; as=style"},
		{"100,000 images", manyImages(100_000),
			"</i0.png>; rel=preload; as=image, </i1.png>; rel=preload; as=image"},
		{"10 MB attribute, unterminated", []byte(`<link rel=stylesheet href=/a.css><img src="/` + strings.Repeat("b", 10<<20)),
			"</a.css>; rel=preload; as=style"},
		{"10 MB attribute", []byte(`<link rel=stylesheet href=/a.css><img alt="` + strings.Repeat("b", 10<<20) + `" src=/c.png>`),
			"</a.css>; rel=preload; as=style, </c.png>; rel=preload; as=image"},

		// Structure.
		{"100,000 nested divs", []byte(strings.Repeat("<div>", 100_000) + `<link rel=stylesheet href=/deep.css>`),
			"</deep.css>; rel=preload; as=style"},
		{"100,000 nested svg, then an img", []byte(strings.Repeat("<svg>", 100_000) + `<image href=/no.png /><img src=/yes.png>`),
			"</yes.png>; rel=preload; as=image"},
		{"100,000 nested templates", []byte(strings.Repeat("<template>", 100_000) + `<img src=/no.png>` + strings.Repeat("</template>", 99_999)),
			""},
		{"plaintext", []byte(`<link rel=stylesheet href=/a.css><plaintext><link rel=stylesheet href=/no.css></plaintext><img src=/no.png>`),
			"</a.css>; rel=preload; as=style"},
		{"unclosed script at the end", []byte(`<link rel=stylesheet href=/a.css><script>var s = "<img src=/no.png>`),
			"</a.css>; rel=preload; as=style"},
		{"unclosed comment at the end", []byte(`<link rel=stylesheet href=/a.css><!-- <img src=/no.png>`),
			"</a.css>; rel=preload; as=style"},
		{"unclosed tag at the end", []byte(`<link rel=stylesheet href=/a.css><img src=/trunc`),
			"</a.css>; rel=preload; as=style"},
		{"invalid UTF-8 in names", []byte("<img \xff=1 src=/x.png><\xffimg src=/no.png><link rel=\"stylesheet\xff\" href=/no.css>"),
			"</x.png>; rel=preload; as=image"},
	}
}

func c0Controls() string {
	var b []byte
	for c := byte(1); c < ' '; c++ {
		if c != '\t' && c != '\n' && c != '\r' { // browsers drop these three from URLs
			b = append(b, c)
		}
	}
	return string(append(b, 0x7f))
}

func manyImages(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "<img src=/i%d.png>", i)
	}
	return b.Bytes()
}

func TestHostileDocumentsThroughLinks(t *testing.T) {
	p := mustPreloader(t, netjet.Options{})
	for _, tc := range hostileDocuments() {
		t.Run(tc.name, func(t *testing.T) {
			var links []netjet.Link
			allocated := allocatedBy(func() { links = p.Links(tc.doc, hostileDocURL) })
			checkLinks(t, links, defaultCaps)
			assert.Equal(t, tc.want, joinLinks(links))
			// Linear in the document, with room for the tokenizer's growing buffer and a
			// few copies of the longest URL: what matters is that nothing is quadratic.
			assert.LessOrEqual(t, allocated, uint64(24*len(tc.doc)+1<<20),
				"allocated %d bytes for a %d-byte document", allocated, len(tc.doc))
		})
	}
}

// TestHostileDocumentsThroughHTTP2 serves each hostile document behind netjet over HTTP/2,
// where Go drops a whole header value that holds a control character: the Link header must
// arrive exactly as computed, and the body untouched.
func TestHostileDocumentsThroughHTTP2(t *testing.T) {
	hostileDocs := hostileDocuments()
	srv := httptest.NewUnstartedServer(netjet.Middleware(netjet.Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.URL.Query().Get("case"))
		if err != nil || i < 0 || i >= len(hostileDocs) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		doc := hostileDocs[i].doc
		for len(doc) > 0 { // in pieces, as a template engine writes
			n := min(len(doc), 32<<10)
			if _, err := w.Write(doc[:n]); err != nil {
				return
			}
			doc = doc[n:]
		}
	})))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	for i, tc := range hostileDocs {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := srv.Client().Get(srv.URL + hostileDocURL + "?case=" + strconv.Itoa(i))
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, 2, resp.ProtoMajor)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.True(t, bytes.Equal(tc.doc, body), "body of %d bytes changed (got %d bytes)", len(tc.doc), len(body))
			want := tc.want
			if len(tc.doc) > netjet.DefaultMaxBufferBytes {
				// The header goes out with the links of the first MaxBufferBytes.
				want = joinLinks(mustPreloader(t, netjet.Options{}).Links(tc.doc[:netjet.DefaultMaxBufferBytes], hostileDocURL))
			}
			assert.Equal(t, want, strings.Join(resp.Header["Link"], ", "))
		})
	}
}

// TestHostileHugeURLIsNotCopiedOverAndOver compares a page holding a 1 MB URL with the same
// page holding a 1 MB attribute netjet does not read: the tokenizer's cost is the same, so the
// difference is what netjet spends on a URL it can never send in a 1000-byte header.
func TestHostileHugeURLIsNotCopiedOverAndOver(t *testing.T) {
	p := mustPreloader(t, netjet.Options{})
	withURL := []byte(`<link rel=stylesheet href=/a.css><img src="` + megabyteURL + `">`)
	withText := []byte(`<link rel=stylesheet href=/a.css><img alt="` + megabyteURL + `">`)
	p.Links(withText, hostileDocURL) // warm up
	urlCost := allocatedBy(func() { p.Links(withURL, hostileDocURL) })
	textCost := allocatedBy(func() { p.Links(withText, hostileDocURL) })
	extra := int64(urlCost) - int64(textCost)
	t.Logf("a 1 MB URL costs %d bytes more than a 1 MB alt text (%d vs %d)", extra, urlCost, textCost)
	assert.LessOrEqual(t, extra, int64(2*len(megabyteURL)),
		"a URL longer than MaxHeaderBytes is copied %.1f times", float64(extra)/float64(len(megabyteURL)))
}

// TestHostileTenMegabyteAttributeThroughTheMiddleware sends a page whose attribute is larger
// than the default buffer: the body arrives intact, the header carries the links found before
// it, and what netjet allocates does not grow with the body.
func TestHostileTenMegabyteAttributeThroughTheMiddleware(t *testing.T) {
	pages := map[string][]byte{}
	for _, mb := range []int{10, 20} {
		pages[strconv.Itoa(mb)] = []byte(`<!doctype html><link rel=stylesheet href=/a.css><img src=/b.png><p title="` +
			strings.Repeat("x", mb<<20) + `"><script src=/late.js></script>`)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc := pages[strings.TrimPrefix(r.URL.Path, "/")]
		w.Header().Set("Content-Type", "text/html")
		for len(doc) > 0 {
			n := min(len(doc), 64<<10)
			if _, err := w.Write(doc[:n]); err != nil {
				return
			}
			doc = doc[n:]
		}
	})
	plain := httptest.NewServer(page)
	t.Cleanup(plain.Close)
	withNetjet := httptest.NewServer(netjet.Middleware(netjet.Options{})(page))
	t.Cleanup(withNetjet.Close)

	fetch := func(srv *httptest.Server, path string) (link string, allocated uint64) {
		allocated = allocatedBy(func() {
			resp, err := srv.Client().Get(srv.URL + path)
			require.NoError(t, err)
			defer resp.Body.Close()
			want := pages[strings.TrimPrefix(path, "/")]
			require.NoError(t, compareStream(resp.Body, want))
			link = strings.Join(resp.Header["Link"], ", ")
		})
		return link, allocated
	}
	extra := map[string]uint64{}
	for _, path := range []string{"/10", "/20"} {
		fetch(withNetjet, path) // warm up both connections and pools
		fetch(plain, path)
		link, withAlloc := fetch(withNetjet, path)
		_, plainAlloc := fetch(plain, path)
		assert.Equal(t, "</a.css>; rel=preload; as=style, </b.png>; rel=preload; as=image", link, path)
		extra[path] = withAlloc - min(withAlloc, plainAlloc)
		t.Logf("%s MB page: netjet allocated %d bytes more than the plain server", path, extra[path])
		// The held head grows to MaxBufferBytes by doubling; the body is read as it passes,
		// keeping what an unfinished attribute has taken so far, up to a bound (1 MiB,
		// grown by doubling) past which the page is not read on.
		assert.LessOrEqual(t, extra[path], uint64(6<<20), "%s: netjet's own allocations", path)
	}
	assert.InDelta(t, float64(extra["/10"]), float64(extra["/20"]), float64(4*netjet.DefaultMaxBufferBytes),
		"doubling the body must not raise netjet's allocations (bounded by what it holds)")
}

// TestHostileCachedPageKeepsOnlyWhatItCanSend: a cached page should cost about what its
// header can hold, not the size of links that can never be sent. Without that, pages carrying
// one huge URL (user content, a data: URL in disguise) make the cache hold CacheSize times
// that URL.
func TestHostileCachedPageKeepsOnlyWhatItCanSend(t *testing.T) {
	const pages = 8
	longURL := megabyteURL[:256<<10]
	p := mustPreloader(t, netjet.Options{})
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, `<link rel=stylesheet href=/a.css><img src="`+longURL+`">`)
	}))
	before := retainedHeap()
	for i := 0; i < pages; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/page/%d", i), nil))
		require.Equal(t, "</a.css>; rel=preload; as=style", rec.Header().Get("Link"))
	}
	retained := int64(retainedHeap()) - int64(before)
	runtime.KeepAlive(p)
	perPage := retained / pages
	t.Logf("each cached page retains %d bytes", perPage)
	assert.LessOrEqual(t, perPage, int64(32<<10),
		"a cached page with a %d-byte URL that can never fit in the 1000-byte header retains %d bytes", len(longURL), perPage)
}

// TestHostileQuotedAngleBracketsDoNotHideLinks: a Link header the handler set may carry a
// '<' inside a quoted parameter; it names no URL, so netjet must still add the page's link.
func TestHostileQuotedAngleBracketsDoNotHideLinks(t *testing.T) {
	h := netjet.Middleware(netjet.Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Link", `</hero.png>; rel=preload; as=image; imagesrcset="</app.css> 2x"`)
		io.WriteString(w, `<link rel=stylesheet href=/app.css>`)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	assert.Equal(t, []string{`</hero.png>; rel=preload; as=image; imagesrcset="</app.css> 2x"`, "</app.css>; rel=preload; as=style"},
		rec.Header()["Link"])
}

// TestImageSrcsetResolvedAgainstBase: a Link header resolves against the response URL, never
// against <base>, so the candidates of imagesrcset must be resolved as the href is, or left out.
func TestImageSrcsetResolvedAgainstBase(t *testing.T) {
	p := mustPreloader(t, netjet.Options{})
	for _, doc := range []string{
		`<base href=https://cdn.example/x/><img src=a.png srcset="a.png 1x, b.png 2x">`,
		`<base href=https://cdn.example/x/><link rel=preload as=image href=a.png imagesrcset="a.png 1x, b.png 2x">`,
	} {
		links := p.Links([]byte(doc), hostileDocURL)
		require.Len(t, links, 1, doc)
		assert.Equal(t, "https://cdn.example/x/a.png", links[0].URL, doc)
		if links[0].ImageSrcset != "" {
			assert.Equal(t, "https://cdn.example/x/a.png 1x, https://cdn.example/x/b.png 2x", links[0].ImageSrcset,
				"%s: a browser would fetch imagesrcset's relative URLs from %s, not from the <base>", doc, hostileDocURL)
		}
	}
}

// TestHostileEveryCutOfACorpusPage cuts a real page at evenly spaced byte offsets, as a flush
// or a full buffer does: every cut yields valid links, within the caps, and only URLs the
// whole page has. The step is odd, so that cuts fall on every kind of byte.
func TestHostileEveryCutOfACorpusPage(t *testing.T) {
	const (
		page = "heise.html" // 62 KB, 46 links: stylesheets, scripts, author hints and images
		cuts = 400
	)
	doc, ok := corpusPages(t)[page]
	if !ok {
		t.Skipf("%s is not in the corpus", page)
	}
	capped := mustPreloader(t, netjet.Options{})
	all := mustPreloader(t, uncapped)
	whole := map[string]bool{}
	for _, l := range all.Links(doc, hostileDocURL) {
		whole[l.URL] = true
	}
	step := max(1, len(doc)/cuts) | 1
	n := 0
	for cut := 0; cut <= len(doc); cut += step {
		links := capped.Links(doc[:cut], hostileDocURL)
		checkLinks(t, links, defaultCaps)
		for _, l := range links {
			require.True(t, whole[l.URL], "%s cut at %d: %q is not a link of the whole page", page, cut, l.URL)
		}
		n++
	}
	t.Logf("%d cuts of %s (%d bytes), every %d bytes", n, page, len(doc), step)
}
