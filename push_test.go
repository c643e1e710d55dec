package netjet

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

const pushPage = `<!doctype html><link rel=stylesheet href=/app.css>
<link rel=preconnect href=https://fonts.example>
<script src=https://cdn.example/lib.js></script><script src=/app.js></script><img src=/hero.jpg>`

// pushServer serves pushPage at / and, to tempt a recursive push, an HTML page with links for
// every other path; outer, when not nil, wraps netjet.
func pushServer(t *testing.T, opts Options, outer func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	h := Middleware(opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/" {
			io.WriteString(w, pushPage)
			return
		}
		io.WriteString(w, `<link rel=stylesheet href=/nested.css>`)
	}))
	if outer != nil {
		h = outer(h)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// h2Exchange is what a raw HTTP/2 client saw of one GET: the paths promised by PUSH_PROMISE
// frames and the header of the response.
type h2Exchange struct {
	promised []string
	header   map[string]string
}

// h2Get sends one GET / over a fresh HTTP/2 connection, with pushes on or off, and reads
// frames until the response's stream ends. Go's own client turns pushes off, so this speaks
// the frames itself.
func h2Get(t *testing.T, srv *httptest.Server, allowPush bool) h2Exchange {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	require.NoError(t, err)
	defer conn.Close()
	require.Equal(t, "h2", conn.ConnectionState().NegotiatedProtocol)
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))

	_, err = io.WriteString(conn, http2.ClientPreface)
	require.NoError(t, err)
	fr := http2.NewFramer(conn, conn)
	var settings []http2.Setting
	if !allowPush {
		settings = append(settings, http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	}
	require.NoError(t, fr.WriteSettings(settings...))

	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "example.test"}, {":path", "/"}} {
		require.NoError(t, enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}))
	}
	require.NoError(t, fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true}))

	var ex h2Exchange
	// One decoder for every header block of the connection: HPACK state is shared by all.
	var fields []hpack.HeaderField
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) { fields = append(fields, f) })
	for {
		frame, err := fr.ReadFrame()
		require.NoError(t, err)
		switch f := frame.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				require.NoError(t, fr.WriteSettingsAck())
			}
		case *http2.PushPromiseFrame:
			fields = fields[:0]
			_, err := dec.Write(f.HeaderBlockFragment())
			require.NoError(t, err)
			for _, hf := range fields {
				if hf.Name == ":path" {
					ex.promised = append(ex.promised, hf.Value)
				}
			}
		case *http2.HeadersFrame:
			fields = fields[:0]
			_, err := dec.Write(f.HeaderBlockFragment())
			require.NoError(t, err)
			if f.StreamID == 1 {
				ex.header = map[string]string{}
				for _, hf := range fields {
					ex.header[hf.Name] = hf.Value
				}
			}
			if f.StreamID == 1 && f.StreamEnded() {
				return ex
			}
		case *http2.DataFrame:
			if f.StreamID == 1 && f.StreamEnded() {
				sort.Strings(ex.promised)
				return ex
			}
		}
	}
}

func TestPushPromisesSameOriginLinks(t *testing.T) {
	srv := pushServer(t, Options{Push: true}, nil)
	ex := h2Get(t, srv, true)
	assert.Equal(t, []string{"/app.css", "/app.js", "/hero.jpg"}, ex.promised,
		"paths only: not the CDN script, not the preconnect, and nothing from the pushed pages")
	assert.Equal(t, "</app.css>,</app.js>,</hero.jpg>", ex.header["netjet-pushed"])
	assert.Contains(t, ex.header["link"], "</app.css>; rel=preload; as=style")
}

func TestPushRefusedByClientIsNotAnError(t *testing.T) {
	srv := pushServer(t, Options{Push: true}, nil)
	ex := h2Get(t, srv, false)
	assert.Empty(t, ex.promised)
	assert.Equal(t, "200", ex.header[":status"])
	assert.NotContains(t, ex.header, "netjet-pushed")
	assert.Contains(t, ex.header["link"], "</app.css>; rel=preload; as=style")
}

func TestNoPushWithoutTheOption(t *testing.T) {
	srv := pushServer(t, Options{}, nil)
	ex := h2Get(t, srv, true)
	assert.Empty(t, ex.promised)
	assert.NotContains(t, ex.header, "netjet-pushed")
}

// unwrapper is an outer middleware's writer that offers only Unwrap, as newer ones do.
type unwrapper struct{ http.ResponseWriter }

func (w unwrapper) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Behind a wrapper that offers only Unwrap, netjet still reaches the connection's Pusher.
func TestPushThroughAWrapperWithOnlyUnwrap(t *testing.T) {
	srv := pushServer(t, Options{Push: true}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, isPusher := any(unwrapper{w}).(http.Pusher)
			assert.False(t, isPusher)
			next.ServeHTTP(unwrapper{w}, r)
		})
	})
	ex := h2Get(t, srv, true)
	assert.Equal(t, []string{"/app.css", "/app.js", "/hero.jpg"}, ex.promised)
	assert.Equal(t, "</app.css>,</app.js>,</hero.jpg>", ex.header["netjet-pushed"])
}
