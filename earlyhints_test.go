package netjet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hintsPage is a page with links of every sort a 103 takes or leaves out: a stylesheet with a
// media query (left out: Chrome drops it), one for media "screen" (every screen: taken, without
// media), a deferred script, a font and images (left out: they would take bandwidth from what
// the first render waits for), a preconnect (taken: it costs no bandwidth), and a per-visit
// avatar URL, as a signed per-user URL would be.
func hintsPage(visit int64) string {
	return fmt.Sprintf(`<!doctype html><html><head>
<link rel=stylesheet href=/app.css>
<link rel=stylesheet href=/wide.css media="(min-width: 80em)">
<link rel=stylesheet href=/screen.css media=screen>
<script src=/app.js></script>
<script src=/later.js defer></script>
<link rel=preload href=/font.woff2 as=font type=font/woff2 crossorigin>
<link rel=preconnect href=https://cdn.example crossorigin>
<link rel=preload href=/extra.css as=style>
</head><body><img src="/avatar/%d.png" fetchpriority=high><img src=/hero.jpg fetchpriority=high><img src=/footer.png></body></html>`, visit)
}

// The Link value the route learns from hintsPage: what blocks the first render, and the
// preconnect; no media query, no deferred script, font, image or avatar, no attributes.
const learnedHint = `</app.css>; rel=preload; as=style, </screen.css>; rel=preload; as=style, ` +
	`</app.js>; rel=preload; as=script, <https://cdn.example>; rel=preconnect; crossorigin, ` +
	`</extra.css>; rel=preload; as=style`

// hintsServer serves hintsPage behind netjet with Early Hints. While hold is set, each
// handler call waits for release, so that a test can see a 103 arrive while the handler is
// still at work.
type hintsServer struct {
	*httptest.Server
	visits  atomic.Int64
	hold    atomic.Bool
	release chan struct{}
}

func newHintsServer(t *testing.T, opts Options, outer func(http.Handler) http.Handler, http2 bool) *hintsServer {
	t.Helper()
	hs := &hintsServer{release: make(chan struct{})}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hs.hold.Load() {
			<-hs.release
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/private" {
			w.Header().Set("Cache-Control", "private, max-age=60")
		}
		io.WriteString(w, hintsPage(hs.visits.Add(1)))
	})
	opts.EarlyHints = true
	h := Middleware(opts)(page)
	if outer != nil {
		h = outer(h)
	}
	hs.Server = httptest.NewUnstartedServer(h)
	if http2 {
		hs.EnableHTTP2 = true
		hs.StartTLS()
	} else {
		hs.Start()
	}
	t.Cleanup(hs.Close)
	return hs
}

// navigation is what a client saw of one request: the 103s and the final response.
type navigation struct {
	hints  []textproto.MIMEHeader
	status int
	proto  int
	header http.Header
	body   string
}

// navigate requests path with the given Sec-Fetch-Mode ("" for none). got103, when not nil,
// runs as each 103 arrives.
func (hs *hintsServer) navigate(t *testing.T, path, mode string, got103 func()) navigation {
	t.Helper()
	return hs.request(t, path, mode, nil, got103)
}

// navigateAs navigates to path with the given request headers (a user's cookie, say).
func (hs *hintsServer) navigateAs(t *testing.T, path string, header http.Header) navigation {
	t.Helper()
	return hs.request(t, path, "navigate", header, nil)
}

// request sends a GET for path, with Sec-Fetch-Mode mode and header, and records the 103s.
func (hs *hintsServer) request(t *testing.T, path, mode string, header http.Header, got103 func()) navigation {
	t.Helper()
	var nav navigation
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code == http.StatusEarlyHints {
			mu.Lock()
			nav.hints = append(nav.hints, h)
			mu.Unlock()
			if got103 != nil {
				got103()
			}
		}
		return nil
	}}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hs.URL+path, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	if mode != "" {
		req.Header.Set("Sec-Fetch-Mode", mode)
	}
	resp, err := hs.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	nav.status, nav.proto, nav.header, nav.body = resp.StatusCode, resp.ProtoMajor, resp.Header, string(body)
	return nav
}

// teach sends the two navigations after which a route has hints.
func (hs *hintsServer) teach(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 2; i++ {
		nav := hs.navigate(t, path, "navigate", nil)
		require.Equal(t, http.StatusOK, nav.status)
		require.Empty(t, nav.hints, "navigation %d of %s: nothing learned yet", i+1, path)
	}
}

func TestEarlyHintsArriveWhileTheHandlerIsStillWorking(t *testing.T) {
	hs := newHintsServer(t, Options{MaxImages: -1}, nil, true)
	hs.teach(t, "/")

	hs.hold.Store(true)
	seen := make(chan struct{}, 1)
	done := make(chan navigation)
	go func() { done <- hs.navigate(t, "/", "navigate", func() { seen <- struct{}{} }) }()
	select {
	case <-seen: // the 103 arrived, and the handler is still blocked on release
	case <-time.After(10 * time.Second):
		t.Fatal("no 103 while the handler was running")
	}
	close(hs.release)
	nav := <-done

	require.Equal(t, 2, nav.proto)
	require.Len(t, nav.hints, 1, "exactly one 103")
	assert.Equal(t, []string{learnedHint}, nav.hints[0]["Link"])
	assert.Equal(t, http.StatusOK, nav.status)
	assert.Contains(t, nav.body, "/avatar/3.png")
	assert.Contains(t, nav.header.Get("Link"), "</wide.css>", "the final response keeps every link")
	assert.Contains(t, nav.header.Get("Link"), "</later.js>")
}

func TestEarlyHintsNeverCarryPerUserLinks(t *testing.T) {
	hs := newHintsServer(t, Options{MaxImages: -1}, nil, true)
	hs.teach(t, "/")
	for i := 0; i < 3; i++ {
		nav := hs.navigate(t, "/", "navigate", nil)
		require.Len(t, nav.hints, 1)
		assert.NotContains(t, nav.hints[0].Get("Link"), "avatar")
		for _, avatar := range regexp.MustCompile(`/avatar/\d+\.png`).FindAllString(nav.header.Get("Link"), -1) {
			assert.Equal(t, fmt.Sprintf("/avatar/%d.png", hs.visits.Load()), avatar,
				"the final response names no other visit's avatar")
		}
	}
}

func TestEarlyHintsOnlyForNavigations(t *testing.T) {
	hs := newHintsServer(t, Options{}, nil, true)
	hs.teach(t, "/")
	for _, mode := range []string{"", "cors", "no-cors", "same-origin"} {
		nav := hs.navigate(t, "/", mode, nil)
		assert.Empty(t, nav.hints, "Sec-Fetch-Mode %q", mode)
	}
	assert.Len(t, hs.navigate(t, "/", "navigate", nil).hints, 1)
}

func TestEarlyHintsNotOverHTTP1ByDefault(t *testing.T) {
	hs := newHintsServer(t, Options{}, nil, false)
	for i := 0; i < 4; i++ {
		nav := hs.navigate(t, "/", "navigate", nil)
		require.Equal(t, 1, nav.proto)
		assert.Empty(t, nav.hints)
	}
}

func TestEarlyHintsOverHTTP1WhenAllowed(t *testing.T) {
	hs := newHintsServer(t, Options{EarlyHintsHTTP1: true, MaxImages: -1}, nil, false)
	hs.teach(t, "/")
	nav := hs.navigate(t, "/", "navigate", nil)
	require.Len(t, nav.hints, 1)
	assert.Equal(t, []string{learnedHint}, nav.hints[0]["Link"])
}

func TestEarlyHintsNeverOverHTTP10(t *testing.T) {
	hs := newHintsServer(t, Options{EarlyHintsHTTP1: true}, nil, false)
	hs.teach(t, "/")
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.0\r\nHost: x\r\nSec-Fetch-Mode: navigate\r\n\r\n")
	require.NoError(t, err)
	status, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.0 200 OK\r\n", status, "the first line is the final status: no 103 came before it")
}

func TestEarlyHintsCarryNoHeaderSetEarlierInTheChain(t *testing.T) {
	outer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Set-Cookie", "session=secret")
			w.Header().Set("X-Request-Id", "42")
			next.ServeHTTP(w, r)
		})
	}
	hs := newHintsServer(t, Options{}, outer, true)
	hs.teach(t, "/")
	nav := hs.navigate(t, "/", "navigate", nil)
	require.Len(t, nav.hints, 1)
	assert.Equal(t, []string{"Link"}, HeaderNames(nav.hints[0]), "the 103 carries the hints and nothing else")
	assert.Equal(t, "session=secret", nav.header.Get("Set-Cookie"), "the final response keeps the outer headers")
	assert.Equal(t, "42", nav.header.Get("X-Request-Id"))
}

// TestPrivateResponsesTeachOnlyTheirCaller: a page marked private (or no-store, as PHP's
// sessions mark every page) teaches its own caller, and reaches another user only once the
// pages of enough distinct clients agreed: with one client address, never.
func TestPrivateResponsesTeachOnlyTheirCaller(t *testing.T) {
	hs := newHintsServer(t, Options{}, nil, true)
	alice := http.Header{"Cookie": {"session=alice"}}
	bob := http.Header{"Cookie": {"session=bob"}}
	for i := 0; i < 2; i++ {
		assert.Empty(t, hs.navigateAs(t, "/private", alice).hints, "navigation %d: nothing learned yet", i+1)
	}
	nav := hs.navigateAs(t, "/private", alice)
	require.Len(t, nav.hints, 1, "the caller's own last two pages agreed")
	assert.Equal(t, learnedHint, nav.hints[0].Get("Link"))
	assert.Empty(t, hs.navigateAs(t, "/private", bob).hints, "another user at the same address")
}

func TestEarlyHintsRouteKeyAndExclusion(t *testing.T) {
	route := func(r *http.Request) string {
		if strings.HasPrefix(r.URL.Path, "/account/") {
			return "" // never hint account pages
		}
		if strings.HasPrefix(r.URL.Path, "/blog/") {
			return "blog post"
		}
		return r.URL.Path
	}
	hs := newHintsServer(t, Options{Route: route}, nil, true)
	hs.navigate(t, "/blog/one", "navigate", nil)
	hs.navigate(t, "/blog/two", "navigate", nil)
	assert.Len(t, hs.navigate(t, "/blog/three", "navigate", nil).hints, 1, "posts share one route")
	for i := 0; i < 3; i++ {
		assert.Empty(t, hs.navigate(t, "/account/settings", "navigate", nil).hints)
	}
}

func TestEarlyHintsLeaveOutAttributesAndUnsafeParameters(t *testing.T) {
	hs := newHintsServer(t, Options{Attributes: []string{"nopush"}, MaxImages: -1}, nil, true)
	hs.teach(t, "/")
	nav := hs.navigate(t, "/", "navigate", nil)
	require.Len(t, nav.hints, 1)
	assert.Equal(t, []string{learnedHint}, nav.hints[0]["Link"], "no nopush, no media link in the 103")
	assert.Contains(t, nav.header.Get("Link"), "; nopush", "the final response keeps the attributes")
}

func TestHandlersOwn103PassesThrough(t *testing.T) {
	h := Middleware(Options{EarlyHints: true})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</own.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `<link rel=stylesheet href=/404.css>`)
	}))
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	hs := &hintsServer{Server: srv}
	nav := hs.navigate(t, "/", "navigate", nil)
	require.Len(t, nav.hints, 1)
	assert.Equal(t, "</own.css>; rel=preload; as=style", nav.hints[0].Get("Link"))
	assert.Equal(t, http.StatusNotFound, nav.status)
	assert.Equal(t, "</404.css>; rel=preload; as=style", nav.header.Get("Link"))
}

func TestEarlyHintsRespectTheByteCap(t *testing.T) {
	hs := newHintsServer(t, Options{MaxImages: -1, MaxHeaderBytes: 80}, nil, true)
	hs.teach(t, "/")
	nav := hs.navigate(t, "/", "navigate", nil)
	require.Len(t, nav.hints, 1)
	assert.Equal(t, "</app.css>; rel=preload; as=style, </screen.css>; rel=preload; as=style", nav.hints[0].Get("Link"))
}
