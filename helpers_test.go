package netjet_test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http/httpguts"

	"github.com/netjet-go/netjet"
)

// page is the HTML most tests serve, and pageLinks the Link value netjet gives it.
const (
	page = `<!doctype html><html><head><link rel="stylesheet" href="/app.css">` +
		`<script src="/app.js"></script></head><body><img src="/hero.jpg"><p>Hello</p></body></html>`
	pageLinks = "</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script, </hero.jpg>; rel=preload; as=image"
	// pageHeadLinks is the Link value of page written in pieces, the first time: the header
	// goes out at the end of the head, before the body's image has been written.
	pageHeadLinks = "</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script"
)

// hangGuard bounds every wait on the other side of a connection. It only turns a hang into a
// failure: no assertion depends on how long anything takes.
const hangGuard = 10 * time.Second

// testServer is a real server on the loopback interface, with the log it writes its errors to.
type testServer struct {
	*httptest.Server
	errorLog *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer serves h over HTTP/1.1.
func startServer(t *testing.T, h http.Handler) *testServer { return start(t, h, false) }

// startHTTP2Server serves h over HTTP/2 with TLS; its Client speaks HTTP/2.
func startHTTP2Server(t *testing.T, h http.Handler) *testServer { return start(t, h, true) }

func start(t *testing.T, h http.Handler, http2 bool) *testServer {
	t.Helper()
	s := &testServer{Server: httptest.NewUnstartedServer(h), errorLog: &lockedBuffer{}}
	s.Config.ErrorLog = log.New(s.errorLog, "", 0)
	if http2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// protocols are the two ways a browser talks to the server; behaviour that lives in the
// protocol is tested over both.
var protocols = []struct {
	name  string
	major int
	start func(*testing.T, http.Handler) *testServer
}{
	{"HTTP/1.1", 1, startServer},
	{"HTTP/2", 2, startHTTP2Server},
}

// preload returns h behind a new netjet Preloader with opts.
func preload(t *testing.T, opts netjet.Options, h http.Handler) http.Handler {
	t.Helper()
	return mustPreloader(t, opts).Handler(h)
}

// htmlHandler answers every request with status and body as HTML.
func htmlHandler(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// newRequest returns a request for the server's path, bound to the test's lifetime.
func (s *testServer) newRequest(t *testing.T, method, path string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, nil)
	require.NoError(t, err)
	return req
}

// fetch sends req with the server's client and returns the response and its whole body.
func (s *testServer) fetch(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func (s *testServer) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	return s.fetch(t, s.newRequest(t, http.MethodGet, path))
}

// waitFor blocks until ch is closed, and reports whether it was. It may run in a handler.
func waitFor(t *testing.T, ch <-chan struct{}, what string) bool {
	select {
	case <-ch:
		return true
	case <-time.After(hangGuard):
		t.Errorf("gave up waiting for %s", what)
		return false
	}
}

// traceInformational returns req with a trace that records the 1xx responses the client
// gets, and closes first when the first one arrives.
func traceInformational(req *http.Request, first chan struct{}) (*http.Request, *[]textproto.MIMEHeader, *[]int) {
	var once sync.Once
	var headers []textproto.MIMEHeader
	var codes []int
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		codes = append(codes, code)
		headers = append(headers, h)
		once.Do(func() { close(first) })
		return nil
	}}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace)), &headers, &codes
}

// recoverer answers 500 when the handler panics, as recovery middleware does; it lets
// http.ErrAbortHandler through, as it must.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				http.Error(w, "recovered", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// etagPage serves an HTML page with the given ETag (none when empty) whose one stylesheet
// is named by the query's v: the body can change while the ETag stays.
func etagPage(etag string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<link rel="stylesheet" href="/%s.css">`, r.URL.Query().Get("v"))
	}
}

func styleLink(name string) []string {
	return []string{"</" + name + ".css>; rel=preload; as=style"}
}

// splitLinks splits a Link header value into its link-values, at the commas outside <...>
// and quoted strings.
func splitLinks(v string) []string {
	var out []string
	start, inURL, inQuote := 0, false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case inQuote && c == '\\':
			i++
		case inQuote:
			inQuote = c != '"'
		case inURL:
			inURL = c != '>'
		case c == '<':
			inURL = true
		case c == '"':
			inQuote = true
		case c == ',':
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(v[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}

// linkValue is one link-value of a Link header as RFC 8288 section 3 writes it:
// "<" URI-Reference ">" *( OWS ";" OWS link-param ).
type linkValue struct {
	url    string
	params []string // "name" or "name=value" as written, quotes included
}

// parseLinkHeader splits a Link field value into its link-values, checking the grammar as it
// goes: the URL holds no byte netjet promises to escape, parameters are tokens with token or
// quoted-string values, and nothing but printable ASCII appears anywhere. A header that this
// accepts cannot be split, smuggled into another header, or dropped by Go's HTTP/2 server.
func parseLinkHeader(v string) ([]linkValue, error) {
	var out []linkValue
	s := v
	for {
		s = strings.TrimLeft(s, " ")
		if !strings.HasPrefix(s, "<") {
			return nil, fmt.Errorf("link-value must start with '<' at %q", s)
		}
		end := strings.IndexByte(s, '>')
		if end < 0 {
			return nil, fmt.Errorf("no '>' after %q", s)
		}
		lv := linkValue{url: s[1:end]}
		for i := 0; i < len(lv.url); i++ {
			if c := lv.url[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '"' {
				return nil, fmt.Errorf("URL %q holds byte %#x", lv.url, c)
			}
		}
		s = s[end+1:]
		for {
			s = strings.TrimLeft(s, " ")
			if !strings.HasPrefix(s, ";") {
				break
			}
			s = strings.TrimLeft(s[1:], " ")
			n := tokenLen(s)
			if n == 0 {
				return nil, fmt.Errorf("parameter name expected at %q", s)
			}
			param := s[:n]
			s = s[n:]
			if strings.HasPrefix(s, "=") {
				var vn int
				if strings.HasPrefix(s[1:], `"`) {
					vn = quotedLen(s[1:])
				} else {
					vn = tokenLen(s[1:])
				}
				if vn == 0 {
					return nil, fmt.Errorf("parameter %s: bad value at %q", param, s[1:])
				}
				param += s[:1+vn]
				s = s[1+vn:]
			}
			lv.params = append(lv.params, param)
		}
		out = append(out, lv)
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return out, nil
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("',' or end expected at %q", s)
		}
		s = s[1:]
	}
}

// tokenLen returns the length of the RFC 9110 token s starts with.
func tokenLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return i
	}
	return len(s)
}

// quotedLen returns the length of the quoted-string s starts with (printable ASCII only, as
// netjet writes them), or 0 when it is not one.
func quotedLen(s string) int {
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(s) || s[i+1] < ' ' || s[i+1] > '~' {
				return 0
			}
			i++
		case c < ' ' || c > '~':
			return 0
		}
	}
	return 0
}

// checkLinkHeaderValue asserts that one Link field value is well formed and returns its URLs.
func checkLinkHeaderValue(t *testing.T, v string) []string {
	t.Helper()
	require.True(t, httpguts.ValidHeaderFieldValue(v), "Go's HTTP/2 would drop this Link value: %q", v)
	lvs, err := parseLinkHeader(v)
	require.NoError(t, err, "Link value %q", v)
	urls := make([]string, len(lvs))
	for i, lv := range lvs {
		urls[i] = lv.url
	}
	return urls
}

// linkCaps are the caps a list of links must respect; negative means none.
type linkCaps struct{ links, images, headerBytes int }

var (
	defaultCaps = linkCaps{netjet.DefaultMaxLinks, netjet.DefaultMaxImages, netjet.DefaultMaxHeaderBytes}
	noCaps      = linkCaps{-1, -1, -1}
)

// joinLinks is the Link value for links, as netjet sends it on a response without its own.
func joinLinks(links []netjet.Link) string {
	vs := make([]string, len(links))
	for i, l := range links {
		vs[i] = l.String()
	}
	return strings.Join(vs, ", ")
}

// checkLinks asserts what must hold for any result of Preloader.Links: each link is one valid
// link-value naming its own URL, no URL twice, the caps respected, and the joined header valid.
func checkLinks(t *testing.T, links []netjet.Link, caps linkCaps) {
	t.Helper()
	seen := map[string]bool{}
	images := 0
	for _, l := range links {
		s := l.String()
		lvs, err := parseLinkHeader(s)
		require.NoError(t, err, "Link.String() = %q", s)
		require.Len(t, lvs, 1, "Link.String() = %q is one link-value", s)
		require.Equal(t, l.URL, lvs[0].url, "Link.URL is written as it is between < and >")
		require.NotEmpty(t, l.URL)
		require.Contains(t, []string{"preload", "modulepreload", "preconnect"}, l.Rel, "%q", s)
		require.False(t, seen[l.URL], "URL %q twice", l.URL)
		seen[l.URL] = true
		if l.Kind == netjet.Images && l.FetchPriority != "high" {
			images++
		}
	}
	joined := joinLinks(links)
	if len(links) > 0 {
		urls := checkLinkHeaderValue(t, joined)
		require.Len(t, urls, len(links), "the joined header %q splits back into the links", joined)
	}
	if caps.links >= 0 {
		require.LessOrEqual(t, len(links), caps.links)
	}
	if caps.images >= 0 {
		require.LessOrEqual(t, images, caps.images)
	}
	if caps.headerBytes >= 0 {
		require.LessOrEqual(t, len(joined), caps.headerBytes)
	}
}

// mustPreloader is New for options the test knows are valid.
func mustPreloader(tb testing.TB, opts netjet.Options) *netjet.Preloader {
	tb.Helper()
	p, err := netjet.New(opts)
	require.NoError(tb, err)
	return p
}

// uncapped turns every cap off.
var uncapped = netjet.Options{MaxLinks: -1, MaxImages: -1, MaxHeaderBytes: -1}

// allocatedBy returns the bytes allocated while f runs.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// retainedHeap returns the live heap after a full collection.
func retainedHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// compareStream reads r to the end and reports where it differs from want, without holding
// a second copy of a large body.
func compareStream(r io.Reader, want []byte) error {
	buf := make([]byte, 64<<10)
	off := 0
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if off+n > len(want) || !bytes.Equal(buf[:n], want[off:off+n]) {
				return fmt.Errorf("body differs within bytes %d..%d (want %d bytes)", off, off+n, len(want))
			}
			off += n
		}
		if err == io.EOF {
			if off != len(want) {
				return fmt.Errorf("body ends at %d bytes, want %d", off, len(want))
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", off, err)
		}
	}
}

// corpusDir holds real pages; tests that read them skip when it is absent.
const corpusDir = "../shared/corpus/pages"

// corpusPages returns the corpus pages by name, or skips the test.
func corpusPages(t *testing.T) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(corpusDir, "*.html"))
	require.NoError(t, err)
	if len(names) == 0 {
		t.Skipf("no corpus at %s", corpusDir)
	}
	pages := make(map[string][]byte, len(names))
	for _, name := range names {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		pages[filepath.Base(name)] = b
	}
	return pages
}

// discardRecorder is a ResponseWriter that keeps the header and drops the body.
type discardRecorder struct{ h http.Header }

func newDiscardRecorder() *discardRecorder { return &discardRecorder{h: http.Header{}} }

func (d *discardRecorder) Header() http.Header { return d.h }

func (d *discardRecorder) WriteHeader(int) {}

func (d *discardRecorder) Write(b []byte) (int, error) { return len(b), nil }

// linkSet returns the values of links as a set.
func linkSet(links []netjet.Link) map[string]bool {
	set := make(map[string]bool, len(links))
	for _, l := range links {
		set[l.String()] = true
	}
	return set
}
