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
				assert.Equal(t, []string{"Link"}, netjet.HeaderNames(hints[0]), "the 103 carries the hints alone")
				assert.Equal(t, "</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script", hints[0].Get("Link"))
			})
		}
	}
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

// A HEAD to a handler that writes no body and never calls WriteHeader (net/http answers it
// 200) gets the Link a GET got: from the page cache when the page has an ETag, else from what
// the route taught.
func TestHEADWithoutWriteGetsTheLinksOfAGET(t *testing.T) {
	for _, etag := range []string{`"v1"`, ""} {
		t.Run("ETag "+etag, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				if etag != "" {
					w.Header().Set("ETag", etag)
				}
				if r.Method == http.MethodGet {
					io.WriteString(w, page)
				}
			})
			plain := startServer(t, h)
			plainHead, _ := plain.fetch(t, plain.newRequest(t, http.MethodHead, "/"))
			srv := startServer(t, preload(t, netjet.Options{}, h))
			var get *http.Response
			for range 2 { // two GETs make the caller's own links
				get, _ = srv.get(t, "/")
				require.Equal(t, []string{pageLinks}, get.Header.Values("Link"))
			}
			head, body := srv.fetch(t, srv.newRequest(t, http.MethodHead, "/"))
			assert.Equal(t, http.StatusOK, head.StatusCode)
			assert.Equal(t, get.Header.Values("Link"), head.Header.Values("Link"))
			assert.Empty(t, body)
			assert.Equal(t, headerWithout(plainHead.Header, "Date"), headerWithout(head.Header, "Date", "Link"))
		})
	}
}

// A header value changed in place after the status (the slice net/http was given, not the
// map) does not go out, as with net/http alone: the header held back is a copy, not an alias.
func TestHeaderValueChangedInPlaceAfterStatusIsIgnored(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-State", "at status")
		w.WriteHeader(http.StatusOK)
		w.Header()["X-State"][0] = "changed in place"
		w.Header()["Content-Type"][0] = "text/plain"
		io.WriteString(w, page)
	})
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			plainResp, plainBody := proto.start(t, h).get(t, "/")
			require.Equal(t, "at status", plainResp.Header.Get("X-State"), "net/http sends the header as it was")
			resp, body := proto.start(t, preload(t, netjet.Options{}, h)).get(t, "/")
			assert.Equal(t, headerWithout(plainResp.Header, "Date"), headerWithout(resp.Header, "Date", "Link"))
			assert.Equal(t, []string{pageLinks}, resp.Header.Values("Link"))
			assert.Equal(t, plainBody, body)
		})
	}
}

// A handler that declares a Content-Length of 10 and writes 20 bytes gets the error it gets
// from net/http alone, and the client sees what it sees without netjet: the same status and
// Content-Length, the same body bytes, and an error reading it or not, as with the server
// alone.
func TestWrongContentLengthAnsweredAsWithoutNetjet(t *testing.T) {
	// The head has not ended when the declared length runs out: netjet still holds it.
	const body = "<title>01234</title>"
	require.Len(t, body, 20)
	writes := map[string][]string{"one write": {body}, "two writes": {body[:10], body[10:]}}
	type outcome struct {
		writeErr string
		status   int
		length   int64
		body     string
		readErr  bool
	}
	for _, proto := range protocols {
		for name, parts := range writes {
			t.Run(proto.name+"/"+name, func(t *testing.T) {
				writeErrs := make(chan error, 1)
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					w.Header().Set("Content-Length", "10")
					var err error
					for _, part := range parts {
						if _, err = io.WriteString(w, part); err != nil {
							break
						}
					}
					writeErrs <- err
				})
				exchange := func(srv *testServer) outcome {
					resp, err := srv.Client().Do(srv.newRequest(t, http.MethodGet, "/"))
					require.NoError(t, err)
					defer resp.Body.Close()
					got, err := io.ReadAll(resp.Body)
					o := outcome{status: resp.StatusCode, length: resp.ContentLength, body: string(got), readErr: err != nil}
					if err := <-writeErrs; err != nil {
						o.writeErr = err.Error()
					}
					return o
				}
				plain := exchange(proto.start(t, h))
				if proto.major == 1 {
					// HTTP/2 lets the handler's write through and resets the stream.
					require.Equal(t, http.ErrContentLength.Error(), plain.writeErr)
				}
				assert.Equal(t, plain, exchange(proto.start(t, preload(t, netjet.Options{}, h))))
			})
		}
	}
}
