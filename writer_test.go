package netjet_test

import (
	"io"
	"net/http"
	"net/textproto"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// navigateTo sends a navigation for path, with Host host when not empty, and returns the
// response, its body, and the status and header of each 1xx before it.
func navigateTo(t *testing.T, srv *testServer, host, path string) (*http.Response, string, []int, []textproto.MIMEHeader) {
	t.Helper()
	req, hints, codes := traceInformational(srv.newRequest(t, http.MethodGet, path), make(chan struct{}))
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	if host != "" {
		req.Host = host
	}
	resp, body := srv.fetch(t, req)
	return resp, body, *codes, *hints
}

// Inside http.TimeoutHandler, which takes the first status it is given for the final one, a
// navigation to a learned route gets no 103: the page that now answers 404 stays a 404, and
// nothing set for the final response goes out early. The same chain without TimeoutHandler
// does get its 103, carrying the hints alone.
func TestEarlyHintsNotThroughTimeoutHandler(t *testing.T) {
	for _, proto := range protocols {
		for _, timeout := range []bool{true, false} {
			name := proto.name + "/direct"
			if timeout {
				name = proto.name + "/TimeoutHandler"
			}
			t.Run(name, func(t *testing.T) {
				var gone atomic.Bool
				p := mustPreloader(t, netjet.Options{EarlyHints: true, EarlyHintsHTTP1: true})
				var h http.Handler = p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Set-Cookie", "session=secret")
					w.Header().Set("Content-Type", "text/html")
					if gone.Load() {
						w.WriteHeader(http.StatusNotFound)
					}
					io.WriteString(w, page)
				}))
				if timeout {
					h = http.TimeoutHandler(h, time.Minute, "timed out")
				}
				srv := proto.start(t, h)
				for range 2 {
					resp, _, codes, _ := navigateTo(t, srv, "", "/")
					require.Equal(t, http.StatusOK, resp.StatusCode)
					require.Empty(t, codes, "nothing learned yet")
				}
				gone.Store(true)
				resp, body, codes, hints := navigateTo(t, srv, "", "/")
				assert.Equal(t, http.StatusNotFound, resp.StatusCode)
				assert.Equal(t, page, body)
				assert.Equal(t, "session=secret", resp.Header.Get("Set-Cookie"))
				if timeout {
					assert.Empty(t, codes, "no 1xx through TimeoutHandler")
					assert.Equal(t, uint64(3), p.Stats().NoEarlyHints.Writer, "the writer is checked first")
					return
				}
				require.Equal(t, []int{http.StatusEarlyHints}, codes)
				assert.Equal(t, []string{"Link"}, headerNames(hints[0]), "the 103 carries the hints alone")
				assert.Equal(t, "</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script", hints[0].Get("Link"))
			})
		}
	}
}

func headerNames(h textproto.MIMEHeader) []string {
	var names []string
	for k := range h {
		names = append(names, k)
	}
	return names
}

// A route is learned over TLS apart from over plain HTTP: the http: stylesheets a page has
// over plain HTTP, which an HTTPS page may not load, never reach a 103 sent over TLS, even
// from the same client, host and path.
func TestEarlyHintsOverTLSNeverCarryWhatPlainHTTPTaught(t *testing.T) {
	p := mustPreloader(t, netjet.Options{EarlyHints: true, EarlyHintsHTTP1: true, MaxHeaderBytes: -1})
	h := p.Handler(htmlHandler(http.StatusOK, mixedPage))
	plain, tls := startServer(t, h), startHTTP2Server(t, h)
	const host = "site.example"
	for range 2 {
		navigateTo(t, plain, host, "/page")
	}
	_, _, codes, hints := navigateTo(t, plain, host, "/page")
	require.Equal(t, []int{http.StatusEarlyHints}, codes)
	require.Contains(t, hints[0].Get("Link"), "<http://old.example/site.css>", "plain HTTP taught its route")

	_, _, codes, _ = navigateTo(t, tls, host, "/page")
	assert.Empty(t, codes, "the route over TLS has taught nothing yet")
	navigateTo(t, tls, host, "/page")
	_, _, codes, hints = navigateTo(t, tls, host, "/page")
	require.Equal(t, []int{http.StatusEarlyHints}, codes)
	assert.Equal(t, "<https://cdn.example/new.css>; rel=preload; as=style, </local.css>; rel=preload; as=style, "+
		"<http://old.example>; rel=preconnect", hints[0].Get("Link"))
}
