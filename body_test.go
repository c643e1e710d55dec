package netjet_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

const encodedPage = `<!doctype html><link rel=stylesheet href=/app.css><script src=/app.js></script>`

// compressed returns s written through the compressor w makes.
func compressed(t *testing.T, s string, w func(io.Writer) io.WriteCloser) []byte {
	var b bytes.Buffer
	zw := w(&b)
	_, err := io.WriteString(zw, s)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.Bytes()
}

func gzipped(t *testing.T, s string) []byte {
	return compressed(t, s, func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
}

func zlibbed(t *testing.T, s string) []byte {
	return compressed(t, s, func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) })
}

func rawDeflated(t *testing.T, s string) []byte {
	return compressed(t, s, func(w io.Writer) io.WriteCloser {
		fw, err := flate.NewWriter(w, flate.DefaultCompression)
		require.NoError(t, err)
		return fw
	})
}

// encodedHandler serves body as is, with the given Content-Encoding.
func encodedHandler(encoding, contentType string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Set("Content-Encoding", encoding)
		w.Write(body)
	})
}

// fetchRaw gets / from srv with Accept-Encoding set by hand, so that the client hands back
// the body exactly as it came.
func fetchRaw(t *testing.T, srv *testServer) (*http.Response, []byte) {
	req := srv.newRequest(t, http.MethodGet, "/")
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestCompressedBodiesAreReadThroughADecodedCopy(t *testing.T) {
	const want = "</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script"
	for _, c := range []struct {
		name, encoding string
		body           []byte
	}{
		{"gzip", "gzip", gzipped(t, encodedPage)},
		{"x-gzip", "x-gzip", gzipped(t, encodedPage)},
		{"deflate as zlib", "deflate", zlibbed(t, encodedPage)},
		{"deflate raw", "deflate", rawDeflated(t, encodedPage)},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, preload(t, netjet.Options{}, encodedHandler(c.encoding, "text/html", c.body)))
			resp, body := fetchRaw(t, srv)
			assert.Equal(t, want, resp.Header.Get("Link"))
			assert.Equal(t, c.encoding, resp.Header.Get("Content-Encoding"))
			assert.Equal(t, c.body, body, "the compressed bytes go out untouched")
		})
	}
}

func TestCompressedBodyPassesWithoutLinks(t *testing.T) {
	for _, c := range []struct {
		name, encoding, contentType string
		body                        []byte
	}{
		{"another encoding", "br", "text/html", []byte("not really brotli")},
		{"two encodings", "gzip, gzip", "text/html", gzipped(t, string(gzipped(t, encodedPage)))},
		{"no Content-Type", "gzip", "", gzipped(t, encodedPage)},
		{"corrupt gzip", "gzip", "text/html", append([]byte{0x1f, 0x8b, 8, 0}, "garbage"...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, preload(t, netjet.Options{}, encodedHandler(c.encoding, c.contentType, c.body)))
			resp, body := fetchRaw(t, srv)
			assert.Empty(t, resp.Header.Values("Link"))
			assert.Equal(t, c.body, body)
		})
	}
}

// A gzip bomb decodes to far more than it weighs: netjet decodes a bounded start of it (eight
// times MaxBufferBytes), which holds the links at its start.
func TestGzipBombCostsAtMostTheBuffer(t *testing.T) {
	const limit = 64 << 10
	bomb := gzipped(t, encodedPage+strings.Repeat("<p>", 100<<20/3)+`<img src=/late.png>`)
	require.Less(t, len(bomb), 1<<20)
	srv := startServer(t, preload(t, netjet.Options{MaxBufferBytes: limit}, encodedHandler("gzip", "text/html", bomb)))

	resp, body := fetchRaw(t, srv)
	assert.Equal(t, "</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script", resp.Header.Get("Link"),
		"links from the decoded start; the image 100 MB in is never reached")
	assert.Equal(t, bomb, body)

	p, err := netjet.New(netjet.Options{MaxBufferBytes: limit})
	require.NoError(t, err)
	allocs := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec := newDiscardRecorder()
			p.Handler(encodedHandler("gzip", "text/html", bomb)).ServeHTTP(rec, srv.newRequest(t, http.MethodGet, "/"))
		}
	})
	// The decoded copy grows by doubling to 8*limit, from a pooled buffer; the gzip reader
	// has its window and tables: a few times the bound, nothing like the 100 MB.
	assert.Less(t, allocs.AllocedBytesPerOp(), int64(len(bomb)+8*8*limit),
		"decoding a 100 MB bomb allocates %d bytes", allocs.AllocedBytesPerOp())
}
