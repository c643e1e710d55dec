package netjet_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

func TestHTMLGetsLinks(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			srv := proto.start(t, preload(t, netjet.Options{}, htmlHandler(http.StatusOK, page)))
			resp, body := srv.get(t, "/")
			assert.Equal(t, proto.major, resp.ProtoMajor)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, []string{pageLinks}, resp.Header.Values("Link"))
			assert.Equal(t, page, body)
		})
	}
}

func TestNonHTMLUntouched(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR<link rel=stylesheet href=/x.css>")
	cases := []struct{ contentType, body string }{
		{"application/json", `{"html":"<link rel=\"stylesheet\" href=\"/x.css\">"}`},
		{"image/png", string(png)},
		{"text/css", `body{background:url(/x.png)} /* <img src="/y.png"> */`},
		{"text/javascript", `document.write('<script src="/z.js"></script>')`},
	}
	for _, c := range cases {
		t.Run(c.contentType, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.contentType)
				_, _ = io.WriteString(w, c.body)
			})
			plainResp, plainBody := startServer(t, h).get(t, "/")
			resp, body := startServer(t, preload(t, netjet.Options{}, h)).get(t, "/")
			assert.Empty(t, resp.Header.Values("Link"))
			assert.Equal(t, c.body, body)
			assert.Equal(t, plainBody, body)
			assert.Equal(t, plainResp.Header.Get("Content-Type"), resp.Header.Get("Content-Type"))
			assert.Equal(t, plainResp.ContentLength, resp.ContentLength)
		})
	}
}

func TestSniffedHTMLGetsLinksAndPlainContentType(t *testing.T) {
	filler := strings.Repeat("<p>text</p>", 100) // past the 512 bytes net/http sniffs
	cases := []struct {
		name      string
		chunks    []string
		wantLinks []string
	}{
		{"short HTML", []string{page}, []string{pageLinks}},
		{"long HTML in small writes", splitEvery(page+filler, 7), []string{pageHeadLinks}},
		{"plain text", []string{"just <link rel=stylesheet href=/x.css> text"}, nil},
		{"long plain text in small writes", splitEvery(strings.Repeat("text ", 200)+`<link rel=stylesheet href=/x.css>`, 7), nil},
		{"PNG", []string{"\x89PNG\r\n\x1a\n<link rel=stylesheet href=/x.css>"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for _, chunk := range c.chunks {
					_, _ = io.WriteString(w, chunk)
				}
			})
			plainResp, plainBody := startServer(t, h).get(t, "/")
			resp, body := startServer(t, preload(t, netjet.Options{}, h)).get(t, "/")
			assert.Equal(t, c.wantLinks, resp.Header.Values("Link"))
			assert.Equal(t, plainResp.Header.Get("Content-Type"), resp.Header.Get("Content-Type"))
			assert.Equal(t, strings.Join(c.chunks, ""), body)
			assert.Equal(t, plainBody, body)
		})
	}
}

func TestNilContentTypeMeansNoSniffing(t *testing.T) {
	srv := startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		_, _ = io.WriteString(w, page)
	})))
	resp, body := srv.get(t, "/")
	assert.Empty(t, resp.Header.Values("Content-Type"))
	assert.Empty(t, resp.Header.Values("Link"))
	assert.Equal(t, page, body)
}

func TestContentLengthThenWrite(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			srv := proto.start(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Length", fmt.Sprint(len(page)))
				_, _ = io.WriteString(w, page[:10])
				_, _ = io.WriteString(w, page[10:])
			})))
			resp, body := srv.get(t, "/")
			assert.Equal(t, int64(len(page)), resp.ContentLength)
			assert.Equal(t, page, body)
			assert.Equal(t, []string{pageLinks}, resp.Header.Values("Link"))
		})
	}
}

func TestWriteBeyondContentLengthFailsAsInNetHTTP(t *testing.T) {
	writeErrs := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", "5")
		_, err := io.WriteString(w, page)
		writeErrs <- err
	})
	// The client sees a body shorter than announced either way; only the handler's error matters.
	handlerErr := func(srv *testServer) error {
		resp, err := srv.Client().Do(srv.newRequest(t, http.MethodGet, "/"))
		if err == nil {
			resp.Body.Close()
		}
		return <-writeErrs
	}
	plainErr := handlerErr(startServer(t, h))
	assert.ErrorIs(t, plainErr, http.ErrContentLength)
	assert.Equal(t, plainErr, handlerErr(startServer(t, preload(t, netjet.Options{}, h))))
}

func TestManySmallWritesMatchOneWrite(t *testing.T) {
	body := page + strings.Repeat("<p>more text</p>", 300)
	for _, contentType := range []string{"text/html; charset=utf-8", ""} {
		t.Run("Content-Type "+contentType, func(t *testing.T) {
			serve := func(chunks []string) *testServer {
				return startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if contentType != "" {
						w.Header().Set("Content-Type", contentType)
					}
					for _, c := range chunks {
						_, _ = io.WriteString(w, c)
					}
				})))
			}
			one, many := serve([]string{body}), serve(splitEvery(body, 7))
			oneResp, oneBody := one.get(t, "/")
			manyResp, manyBody := many.get(t, "/")
			assert.Equal(t, body, oneBody)
			assert.Equal(t, oneBody, manyBody)
			assert.Equal(t, []string{pageLinks}, oneResp.Header.Values("Link"), "the whole page at once")
			assert.Equal(t, []string{pageHeadLinks}, manyResp.Header.Values("Link"), "the header goes out after the head")
			for _, k := range []string{"Content-Type", "Content-Length"} {
				assert.Equal(t, oneResp.Header.Values(k), manyResp.Header.Values(k), k)
			}
			assert.Equal(t, oneResp.TransferEncoding, manyResp.TransferEncoding)
			many.get(t, "/")
			manyResp, _ = many.get(t, "/")
			assert.Equal(t, []string{pageLinks}, manyResp.Header.Values("Link"), "the third response: the body's image learned")
		})
	}
}

func TestBodyOverBufferLimitKeepsLinksFoundSoFar(t *testing.T) {
	const limit = 1024
	head := `<!doctype html><html><head><link rel="stylesheet" href="/early.css">`
	body := head + strings.Repeat("<p>filler</p>", 300) + `<script src="/late.js"></script></head></html>`
	require.Greater(t, len(body), 2*limit)
	for _, c := range []struct {
		name   string
		chunks []string
		want   string
	}{
		// Written at once, the page is all in hand: it is read where it is.
		{"one write", []string{body}, "</early.css>; rel=preload; as=style, </late.js>; rel=preload; as=script"},
		{"small writes", splitEvery(body, 100), "</early.css>; rel=preload; as=style"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, preload(t, netjet.Options{MaxBufferBytes: limit}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				for _, chunk := range c.chunks {
					n, err := io.WriteString(w, chunk)
					assert.NoError(t, err)
					assert.Equal(t, len(chunk), n)
				}
			})))
			resp, got := srv.get(t, "/")
			assert.Equal(t, []string{c.want}, resp.Header.Values("Link"))
			assert.Equal(t, body, got)
		})
	}
}

func Test1xxThenFinalStatus(t *testing.T) {
	const hint = "</app.css>; rel=preload; as=style"
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			got103 := make(chan struct{})
			srv := proto.start(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", hint)
				w.WriteHeader(http.StatusEarlyHints)
				if !waitFor(t, got103, "the client to get the 103") {
					return
				}
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusNotFound)
				_, _ = io.WriteString(w, page)
			})))
			req, hints, codes := traceInformational(srv.newRequest(t, http.MethodGet, "/"), got103)
			resp, body := srv.fetch(t, req)
			assert.Equal(t, []int{http.StatusEarlyHints}, *codes)
			require.Len(t, *hints, 1)
			assert.Equal(t, []string{hint}, (*hints)[0]["Link"])
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
			// Go leaves the 103's Link in the map: netjet keeps it and does not repeat its URL.
			assert.Equal(t, []string{hint, "</app.js>; rel=preload; as=script, </hero.jpg>; rel=preload; as=image"},
				resp.Header.Values("Link"))
			assert.Equal(t, page, body)
		})
	}
}

func Test1xxBeforeContentTypeStillGetsLinks(t *testing.T) {
	got103 := make(chan struct{})
	srv := startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, page)
	})))
	req, _, codes := traceInformational(srv.newRequest(t, http.MethodGet, "/"), got103)
	resp, body := srv.fetch(t, req)
	assert.Equal(t, []int{http.StatusEarlyHints}, *codes)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{pageLinks}, resp.Header.Values("Link"))
	assert.Equal(t, page, body)
}

func TestFlushSendsBufferedHTML(t *testing.T) {
	const (
		head = `<html><head><link rel="stylesheet" href="/app.css">`
		tail = `<script src="/late.js"></script></head></html>`
	)
	flushes := []struct {
		name  string
		flush func(http.ResponseWriter) error
	}{
		{"ResponseController", func(w http.ResponseWriter) error { return http.NewResponseController(w).Flush() }},
		{"http.Flusher", func(w http.ResponseWriter) error { w.(http.Flusher).Flush(); return nil }},
	}
	for _, proto := range protocols {
		for _, f := range flushes {
			t.Run(proto.name+"/"+f.name, func(t *testing.T) {
				clientRead := make(chan struct{})
				srv := proto.start(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = io.WriteString(w, head)
					assert.NoError(t, f.flush(w))
					if waitFor(t, clientRead, "the client to read the flushed part") {
						_, _ = io.WriteString(w, tail)
					}
				})))
				resp, err := srv.Client().Do(srv.newRequest(t, http.MethodGet, "/"))
				require.NoError(t, err)
				defer resp.Body.Close()
				// The header went out at the flush, with the links found up to there.
				assert.Equal(t, []string{"</app.css>; rel=preload; as=style"}, resp.Header.Values("Link"))
				first := make([]byte, len(head))
				_, err = io.ReadFull(resp.Body, first)
				require.NoError(t, err)
				assert.Equal(t, head, string(first))
				close(clientRead)
				rest, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				assert.Equal(t, tail, string(rest))
			})
		}
	}
}

func TestServerSentEventsReachClientBeforeHandlerGoesOn(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			clientRead := make(chan struct{})
			srv := proto.start(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				_, _ = io.WriteString(w, "data: one\n\n")
				assert.NoError(t, http.NewResponseController(w).Flush())
				if waitFor(t, clientRead, "the client to read the first event") {
					_, _ = io.WriteString(w, "data: two\n\n")
				}
			})))
			resp, err := srv.Client().Do(srv.newRequest(t, http.MethodGet, "/"))
			require.NoError(t, err)
			defer resp.Body.Close()
			events := bufio.NewReader(resp.Body)
			for _, want := range []string{"data: one\n", "\n"} {
				line, err := events.ReadString('\n')
				require.NoError(t, err)
				assert.Equal(t, want, line)
			}
			close(clientRead)
			rest, err := io.ReadAll(events)
			require.NoError(t, err)
			assert.Equal(t, "data: two\n\n", string(rest))
			assert.Empty(t, resp.Header.Values("Link"))
		})
	}
}

func TestFlushBeforeWriteSendsHeader(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			gotHeader := make(chan struct{})
			srv := proto.start(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("X-Before-Flush", "yes")
				assert.NoError(t, http.NewResponseController(w).Flush())
				if waitFor(t, gotHeader, "the client to get the header") {
					_, _ = io.WriteString(w, page)
				}
			})))
			resp, err := srv.Client().Do(srv.newRequest(t, http.MethodGet, "/"))
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "yes", resp.Header.Get("X-Before-Flush"))
			assert.Empty(t, resp.Header.Values("Link"), "nothing was written before the flush, so nothing was found")
			close(gotHeader)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, page, string(body))
		})
	}
}

// rawExchange writes request on a new connection to srv and returns all it reads until the
// server closes the connection.
func rawExchange(t *testing.T, srv *testServer, request string) string {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(hangGuard)))
	_, err = io.WriteString(conn, request)
	require.NoError(t, err)
	got, err := io.ReadAll(conn)
	require.NoError(t, err)
	return string(got)
}

// websocketAccept is the Sec-WebSocket-Accept answer to key (RFC 6455 section 4.2.2).
func websocketAccept(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func TestHijackWebsocketHandshake(t *testing.T) {
	srv := startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close()
		_, _ = fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: %s\r\n\r\n", websocketAccept(r.Header.Get("Sec-WebSocket-Key")))
		assert.NoError(t, brw.Flush())
		msg, err := brw.ReadString('\n')
		assert.NoError(t, err)
		_, _ = brw.WriteString("echo " + msg)
		assert.NoError(t, brw.Flush())
		// The connection is the handler's now: nothing may reach it through the ResponseWriter.
		_, err = io.WriteString(w, "late")
		assert.ErrorIs(t, err, http.ErrHijacked)
		w.WriteHeader(http.StatusInternalServerError)
		assert.ErrorIs(t, http.NewResponseController(w).Flush(), http.ErrHijacked)
	})))

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(hangGuard)))
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	_, err = io.WriteString(conn, "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+key+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	assert.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", resp.Header.Get("Sec-WebSocket-Accept"))
	_, err = io.WriteString(conn, "ping\n")
	require.NoError(t, err)
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "echo ping\n", string(rest))
}

func TestHijackSendsHeldStatusFirstAndNothingAfter(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK) // held back by netjet, sent by net/http at the hijack
		conn, brw, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		_, _ = brw.WriteString("raw bytes")
		assert.NoError(t, brw.Flush())
		assert.NoError(t, conn.Close())
	})
	const request = "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
	date := regexp.MustCompile("(?m)^Date: .*\r\n")
	plain := date.ReplaceAllString(rawExchange(t, startServer(t, h), request), "")
	got := date.ReplaceAllString(rawExchange(t, startServer(t, preload(t, netjet.Options{}, h)), request), "")
	assert.True(t, strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n"), got)
	assert.True(t, strings.HasSuffix(got, "\r\n\r\nraw bytes"), got)
	assert.Equal(t, plain, got)
}

func TestHijackAfterSwitchingProtocols(t *testing.T) {
	srv := startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "example/1")
		w.Header().Set("Connection", "Upgrade")
		w.WriteHeader(http.StatusSwitchingProtocols)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		_, _ = brw.WriteString("hello")
		assert.NoError(t, brw.Flush())
		assert.NoError(t, conn.Close())
	})))
	got := rawExchange(t, srv, "GET / HTTP/1.1\r\nHost: example.com\r\nUpgrade: example/1\r\nConnection: Upgrade\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	assert.Equal(t, "example/1", resp.Header.Get("Upgrade"))
	assert.Empty(t, resp.Header.Values("Link"))
	assert.True(t, strings.HasSuffix(got, "\r\n\r\nhello"), got)
}

// unwrapOnly is a middleware's ResponseWriter that implements nothing but Unwrap, as many do.
type unwrapOnly struct{ http.ResponseWriter }

func (w unwrapOnly) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func TestHijackThroughOuterWrapper(t *testing.T) {
	inner := preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if !assert.NoError(t, err) {
			return
		}
		_, _ = brw.WriteString("hijacked")
		assert.NoError(t, brw.Flush())
		assert.NoError(t, conn.Close())
	}))
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(unwrapOnly{w}, r)
	}))
	assert.Equal(t, "hijacked", rawExchange(t, srv, "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"))
}

func TestHijackOverHTTP2NotSupported(t *testing.T) {
	srv := startHTTP2Server(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _, err := http.NewResponseController(w).Hijack()
		assert.ErrorIs(t, err, http.ErrNotSupported)
		_, _ = io.WriteString(w, page) // the failed attempt leaves the response as it was
	})))
	resp, body := srv.get(t, "/")
	assert.Equal(t, 2, resp.ProtoMajor)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{pageLinks}, resp.Header.Values("Link"))
	assert.Equal(t, page, body)
}

func TestDeadlinesThroughWrapper(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			srv := proto.start(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				assert.NoError(t, rc.SetReadDeadline(time.Now().Add(time.Hour)))
				assert.NoError(t, rc.SetWriteDeadline(time.Now().Add(time.Hour)))
				htmlHandler(http.StatusOK, page)(w, r)
			})))
			resp, body := srv.get(t, "/")
			assert.Equal(t, []string{pageLinks}, resp.Header.Values("Link"))
			assert.Equal(t, page, body)
		})
	}
}

func TestWriteDeadlineThroughWrapperCutsSlowWrites(t *testing.T) {
	written := make(chan error, 1)
	srv := startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		assert.NoError(t, http.NewResponseController(w).SetWriteDeadline(time.Now().Add(-time.Second)))
		_, err := w.Write(bytes.Repeat([]byte("x"), 1<<20))
		written <- err
	})))
	resp, err := srv.Client().Do(srv.newRequest(t, http.MethodGet, "/"))
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// A deadline in the past makes the write fail: proof that it reached the connection.
	assert.Error(t, <-written)
}

func TestEnableFullDuplexThroughWrapper(t *testing.T) {
	srv := startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !assert.NoError(t, http.NewResponseController(w).EnableFullDuplex()) {
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ready\n")
		assert.NoError(t, http.NewResponseController(w).Flush())
		// Reading the request after the response started needs full duplex in HTTP/1.
		line, err := bufio.NewReader(r.Body).ReadString('\n')
		assert.NoError(t, err)
		_, _ = io.WriteString(w, "got "+line)
	})))
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	pr, pw := io.Pipe()
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) }) // the client waits for its body
	// A GET with a body: netjet reads only GET and HEAD responses, the others never meet it.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, pr)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "ready\n", line)
	_, err = io.WriteString(pw, "hello\n")
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "got hello\n", string(rest))
}

func TestPanicAfterWriteGivesRecovererA500(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			srv := proto.start(t, recoverer(preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, `<html><head><link rel="stylesheet" href="/app.css">`)
				panic("template failed")
			}))))
			resp, body := srv.get(t, "/")
			assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
			assert.Equal(t, "recovered\n", body)
			assert.Empty(t, resp.Header.Values("Link"))
			assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		})
	}
}

func TestPanicErrAbortHandlerPropagates(t *testing.T) {
	recovered := make(chan any, 1)
	inner := preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<html>")
		panic(http.ErrAbortHandler)
	}))
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			recovered <- v
			panic(v)
		}()
		inner.ServeHTTP(w, r)
	}))
	resp, err := srv.Client().Do(srv.newRequest(t, http.MethodGet, "/"))
	if err == nil {
		resp.Body.Close()
	}
	assert.Error(t, err, "the server aborts the response")
	assert.Equal(t, http.ErrAbortHandler, <-recovered)
	// net/http logs every panic but ErrAbortHandler: a log line would mean netjet changed it.
	assert.Empty(t, srv.errorLog.String())
}

func TestWriteHeaderTwiceLogsNothing(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"WriteHeader twice", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, page)
		}},
		{"Write then WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, page)
			w.WriteHeader(http.StatusInternalServerError)
		}},
		{"Flush then WriteHeader", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, page)
			_ = http.NewResponseController(w).Flush()
			w.WriteHeader(http.StatusInternalServerError)
		}},
		{"non-HTML WriteHeader twice", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			w.WriteHeader(http.StatusInternalServerError)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plain := startServer(t, c.handler)
			plainResp, _ := plain.get(t, "/")
			require.Contains(t, plain.errorLog.String(), "superfluous", "the log is captured")

			srv := startServer(t, preload(t, netjet.Options{}, c.handler))
			resp, _ := srv.get(t, "/")
			assert.Equal(t, plainResp.StatusCode, resp.StatusCode)
			assert.NotContains(t, srv.errorLog.String(), "superfluous")
		})
	}
}

func TestHeaderChangesAfterStatusAreIgnored(t *testing.T) {
	sendStatus := []struct {
		name string
		send func(http.ResponseWriter)
	}{
		{"WriteHeader", func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK) }},
		{"first Write", func(w http.ResponseWriter) { _, _ = io.WriteString(w, "<!doctype html>") }},
	}
	for _, proto := range protocols {
		for _, status := range sendStatus {
			t.Run(proto.name+"/"+status.name, func(t *testing.T) {
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Trailer", "Server-Timing")
					w.Header().Set("Content-Type", "text/html")
					w.Header().Set("X-Early", "sent")
					status.send(w)
					_, _ = io.WriteString(w, page)
					// net/http sends the header as it was at the status: these changes are
					// ignored, but for the declared trailer's value.
					w.Header().Set("Server-Timing", "render;dur=12")
					w.Header().Set("X-Late", "ignored")
					w.Header().Del("X-Early")
				})
				plainResp, plainBody := proto.start(t, h).get(t, "/")
				resp, body := proto.start(t, preload(t, netjet.Options{}, h)).get(t, "/")
				assert.Equal(t, []string{pageLinks}, resp.Header.Values("Link"))
				assert.Equal(t, headerWithout(plainResp.Header, "Date"), headerWithout(resp.Header, "Date", "Link"))
				assert.Equal(t, "sent", resp.Header.Get("X-Early"))
				assert.Empty(t, resp.Header.Values("X-Late"))
				assert.Empty(t, resp.Header.Values("Server-Timing"))
				assert.Equal(t, http.Header{"Server-Timing": {"render;dur=12"}}, resp.Trailer)
				assert.Equal(t, plainResp.Trailer, resp.Trailer)
				assert.Equal(t, plainBody, body)
			})
		}
	}
}

// headerWithout returns a copy of h without the keys, for comparing what differs by design.
func headerWithout(h http.Header, keys ...string) http.Header {
	h = h.Clone()
	for _, k := range keys {
		h.Del(k)
	}
	return h
}

func TestHEADNeverCachesEmptyLinks(t *testing.T) {
	srv := startServer(t, preload(t, netjet.Options{}, etagPage(`"1"`)))
	resp, _ := srv.fetch(t, srv.newRequest(t, http.MethodHead, "/page?v=one"))
	assert.Empty(t, resp.Header.Values("Link"), "a HEAD has no body to read")
	resp, _ = srv.get(t, "/page?v=one")
	assert.Equal(t, styleLink("one"), resp.Header.Values("Link"))
}

func TestHEADGetsCachedLinks(t *testing.T) {
	h := etagPage(`"1"`)
	plain := startServer(t, h)
	plainHead, _ := plain.fetch(t, plain.newRequest(t, http.MethodHead, "/page?v=one"))
	srv := startServer(t, preload(t, netjet.Options{}, h))
	getResp, _ := srv.get(t, "/page?v=one")
	headResp, body := srv.fetch(t, srv.newRequest(t, http.MethodHead, "/page?v=one"))
	assert.Equal(t, styleLink("one"), getResp.Header.Values("Link"))
	assert.Equal(t, getResp.Header.Values("Link"), headResp.Header.Values("Link"))
	assert.Empty(t, body)
	assert.Equal(t, plainHead.Header.Values("Content-Length"), headResp.Header.Values("Content-Length"))
}

func TestPassThroughUntouchedAndUnbuffered(t *testing.T) {
	// A long body with a link at its start: buffering would show as a client waiting for
	// the end of a response that needs the client to go on first.
	long := `<html><head><link rel="stylesheet" href="/app.css">` + randomText(t, 64<<10)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = io.WriteString(zw, long)
	require.NoError(t, zw.Close())
	cases := []struct {
		name   string
		status int
		header map[string]string
		body   string
	}{
		{"204", http.StatusNoContent, nil, ""},
		{"304", http.StatusNotModified, map[string]string{"ETag": `"1"`}, ""},
		{"206", http.StatusPartialContent, map[string]string{"Content-Range": fmt.Sprintf("bytes 0-%d/%d", len(long)-1, 2*len(long))}, long},
		// netjet reads gzip and deflate through a decoded copy; any other encoding passes.
		{"Content-Encoding", http.StatusOK, map[string]string{"Content-Encoding": "br"}, gz.String()},
		// Without a Content-Type, 512 bytes tell net/http, and netjet, that this is no HTML.
		{"sniffed as text", http.StatusOK, map[string]string{"Content-Type": ""}, randomText(t, 64<<10) + `<link rel="stylesheet" href="/x.css">`},
	}
	for _, proto := range protocols {
		for _, c := range cases {
			t.Run(proto.name+"/"+c.name, func(t *testing.T) {
				clientRead := make(chan struct{})
				half := len(c.body) / 2
				srv := proto.start(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					for k, v := range c.header {
						if v == "" {
							w.Header().Del(k)
						} else {
							w.Header().Set(k, v)
						}
					}
					w.WriteHeader(c.status)
					if c.body == "" {
						return
					}
					_, _ = io.WriteString(w, c.body[:half])
					if waitFor(t, clientRead, "the client to read the start of the body") {
						_, _ = io.WriteString(w, c.body[half:])
					}
				})))
				req := srv.newRequest(t, http.MethodGet, "/")
				req.Header.Set("Accept-Encoding", "gzip") // set by hand: the client leaves the body compressed
				resp, err := srv.Client().Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				assert.Equal(t, c.status, resp.StatusCode)
				assert.Empty(t, resp.Header.Values("Link"))
				var got []byte
				if c.body != "" {
					got = make([]byte, 1024)
					_, err = io.ReadFull(resp.Body, got)
					require.NoError(t, err)
				}
				close(clientRead)
				rest, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				assert.Equal(t, c.body, string(got)+string(rest))
			})
		}
	}
}

func TestCacheKeyIsPathAndETag(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/a", etagPage(`"same"`))
	mux.Handle("/b", etagPage(`"same"`))
	srv := startServer(t, preload(t, netjet.Options{}, mux))
	resp, _ := srv.get(t, "/a?v=a")
	assert.Equal(t, styleLink("a"), resp.Header.Values("Link"))
	resp, _ = srv.get(t, "/b?v=b")
	assert.Equal(t, styleLink("b"), resp.Header.Values("Link"), "another path with the same ETag has its own links")
}

func TestCacheReusesLinksOfSamePathAndETag(t *testing.T) {
	for _, etag := range []string{`"1"`, `W/"1"`} {
		t.Run(etag, func(t *testing.T) {
			var version atomic.Value
			version.Store("one")
			srv := startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("ETag", etag)
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprintf(w, `<link rel="stylesheet" href="/%s.css">`, version.Load())
			})))
			resp, _ := srv.get(t, "/page")
			assert.Equal(t, styleLink("one"), resp.Header.Values("Link"))
			// The body changed under the same ETag: the links come from the cache, unread.
			version.Store("two")
			resp, body := srv.get(t, "/page")
			assert.Equal(t, styleLink("one"), resp.Header.Values("Link"))
			assert.Equal(t, `<link rel="stylesheet" href="/two.css">`, body)
		})
	}
}

func TestNoETagNoCacheEntry(t *testing.T) {
	srv := startServer(t, preload(t, netjet.Options{}, etagPage("")))
	resp, _ := srv.get(t, "/page?v=one")
	assert.Equal(t, styleLink("one"), resp.Header.Values("Link"))
	resp, _ = srv.get(t, "/page?v=two")
	assert.Equal(t, styleLink("two"), resp.Header.Values("Link"))
}

func TestFileServerErrorPageNotCached(t *testing.T) {
	var published atomic.Bool
	empty := fstest.MapFS{}
	full := fstest.MapFS{"page.html": {Data: []byte(page)}}
	srv := startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"release-1"`) // as a deployment that tags every file with its release
		fsys := empty
		if published.Load() {
			fsys = full
		}
		http.FileServerFS(fsys).ServeHTTP(w, r)
	})))
	resp, _ := srv.get(t, "/page.html")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Empty(t, resp.Header.Values("Link"))

	published.Store(true)
	resp, body := srv.get(t, "/page.html")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `"release-1"`, resp.Header.Get("ETag"))
	assert.Equal(t, []string{pageLinks}, resp.Header.Values("Link"))
	assert.Equal(t, page, body)
}

func TestParallelRequests(t *testing.T) {
	const paths = 8
	mux := http.NewServeMux()
	for i := range paths {
		mux.Handle(fmt.Sprintf("/p%d", i), etagPage(fmt.Sprintf(`"%d"`, i%3)))
	}
	srv := startServer(t, preload(t, netjet.Options{CacheSize: 4}, mux))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				n := (g + i) % paths
				resp, err := srv.Client().Get(fmt.Sprintf("%s/p%d?v=s%d", srv.URL, n, n))
				if !assert.NoError(t, err) {
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.NoError(t, err)
				assert.Equal(t, styleLink(fmt.Sprintf("s%d", n)), resp.Header.Values("Link"))
				assert.Equal(t, fmt.Sprintf(`<link rel="stylesheet" href="/s%d.css">`, n), string(body))
			}
		}()
	}
	wg.Wait()
}

// readFromRecorder is an outer middleware's ResponseWriter that records whether the
// writer's io.ReaderFrom fast path (sendfile, for files) was used.
type readFromRecorder struct {
	http.ResponseWriter
	used atomic.Bool
}

func (w *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	w.used.Store(true)
	return w.ResponseWriter.(io.ReaderFrom).ReadFrom(src)
}

func TestReadFromKeptForNonHTML(t *testing.T) {
	image := []byte("\x89PNG\r\n\x1a\n" + randomText(t, 64<<10))
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "logo.png"), image, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "page.html"), []byte(page), 0o600))
	inner := preload(t, netjet.Options{}, http.FileServer(http.Dir(dir)))
	used := make(chan bool, 1)
	srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &readFromRecorder{ResponseWriter: w}
		inner.ServeHTTP(rec, r)
		used <- rec.used.Load()
	}))

	resp, body := srv.get(t, "/logo.png")
	assert.True(t, <-used, "the file went through the inner writer's ReadFrom")
	assert.Empty(t, resp.Header.Values("Link"))
	assert.Equal(t, string(image), body)

	resp, body = srv.get(t, "/page.html")
	<-used
	assert.Equal(t, []string{pageLinks}, resp.Header.Values("Link"))
	assert.Equal(t, page, body)
}

func TestHandlerLinkKeptAndNotRepeated(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			const own = "</app.css>; rel=preload; as=style; nopush"
			srv := proto.start(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Link", own)
				htmlHandler(http.StatusOK, page)(w, r)
			})))
			resp, body := srv.get(t, "/")
			assert.Equal(t, []string{own, "</app.js>; rel=preload; as=script, </hero.jpg>; rel=preload; as=image"},
				resp.Header.Values("Link"))
			assert.Equal(t, page, body)
		})
	}
}

// TestCapsHoldOnCorpus serves every corpus page three times, written at once and in 4 KB
// writes: every Link value is within the caps and names only links of its own page; the first
// response names the render-blocking links the whole page has (those in the part of the body
// held when the header goes out), and the third, once the route has learned, names exactly the
// links of the whole page.
func TestCapsHoldOnCorpus(t *testing.T) {
	pages := map[string][]byte{}
	for name, doc := range corpusPages(t) {
		pages["/"+name] = doc
	}
	for _, chunk := range []int{0, 4 << 10} {
		t.Run(fmt.Sprintf("writes of %d bytes", chunk), func(t *testing.T) {
			p, err := netjet.New(netjet.Options{})
			require.NoError(t, err)
			srv := startServer(t, p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				for doc := pages[r.URL.Path]; len(doc) > 0; {
					n := len(doc)
					if chunk > 0 {
						n = min(n, chunk)
					}
					_, _ = w.Write(doc[:n])
					doc = doc[n:]
				}
			})))
			all := mustPreloader(t, uncapped)
			blocking, found := 0, 0
			for path, doc := range pages {
				whole := splitLinks(joinLinks(p.Links(doc, path)))
				own := splitLinks(joinLinks(all.Links(doc, path)))
				for i := 1; i <= 3; i++ {
					resp, body := srv.get(t, path)
					require.Equal(t, string(doc), body, path)
					values := resp.Header.Values("Link")
					require.LessOrEqual(t, len(values), 1, path)
					header := strings.Join(values, ", ")
					links := splitLinks(header)
					checkCaps(t, header, links, path)
					for _, l := range links {
						assert.Contains(t, own, l, "%s, response %d: a link of the page", path, i)
					}
					switch i {
					case 1:
						for _, l := range whole {
							if strings.Contains(l, "; as=style") || strings.Contains(l, "; as=script") && !strings.Contains(l, "fetchpriority=low") {
								blocking++
								if slices.Contains(links, l) {
									found++
								}
							}
						}
					case 3:
						assert.Equal(t, strings.Join(whole, ", "), header, "%s: response 3, the whole page's links", path)
					}
				}
			}
			share := float64(found) / float64(max(blocking, 1))
			t.Logf("first responses name %d of the %d stylesheets and blocking scripts of the whole pages (%.1f%%)",
				found, blocking, 100*share)
			if chunk == 0 {
				// Written at once, the whole page is in hand when the header goes out.
				// Written in pieces, the header goes out at the end of the head: what
				// the body holds comes from what the route learns.
				assert.GreaterOrEqual(t, share, 0.95)
			}
		})
	}
}

// checkCaps checks a Link value against the default caps.
func checkCaps(t *testing.T, header string, links []string, path string) {
	t.Helper()
	images := 0
	for _, l := range links {
		if strings.Contains(l, "; as=image") && !strings.Contains(l, "; fetchpriority=high") {
			images++
		}
	}
	assert.LessOrEqual(t, len(header), netjet.DefaultMaxHeaderBytes, path)
	assert.LessOrEqual(t, len(links), netjet.DefaultMaxLinks, path)
	assert.LessOrEqual(t, images, netjet.DefaultMaxImages, path)
	assert.NotContains(t, header, "\r", path)
	assert.NotContains(t, header, "\n", path)
}

// splitEvery cuts s into pieces of n bytes, for handlers that write in small pieces.
func splitEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// randomText returns n bytes of hex text that does not compress: a body net/http cannot
// hold in its own small buffers.
func randomText(t *testing.T, n int) string {
	b := make([]byte, n/2)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// TestLinksNameAURLSpelledTwoWaysOnce: two spellings of one URL within a page ("app.css" and
// "/blog/app.css" in /blog/post) go out once.
func TestLinksNameAURLSpelledTwoWaysOnce(t *testing.T) {
	links := mustPreloader(t, netjet.Options{}).Links([]byte(`<link rel=stylesheet href=app.css><link rel=stylesheet href=/blog/app.css>`), "/blog/post")
	var urls []string
	for _, l := range links {
		urls = append(urls, l.URL)
	}
	assert.Equal(t, []string{"app.css"}, urls, "one stylesheet, spelled twice")
}
