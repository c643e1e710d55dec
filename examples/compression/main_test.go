package main

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klauspost/compress/gzhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

const wantLinks = "</site.css>; rel=preload; as=style, </app.js>; rel=preload; as=script; fetchpriority=low, </hero.png>; rel=preload; as=image"

// fetchGzip gets / from h over a real server, asking for gzip itself so that the client
// leaves the body compressed, and returns the response and the decoded body.
func fetchGzip(t *testing.T, srv *httptest.Server) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(resp.Body)
	require.NoError(t, err)
	body, err := io.ReadAll(zr)
	require.NoError(t, err)
	return resp, string(body)
}

func TestStackedWithGzhttpInBothOrders(t *testing.T) {
	stacks := map[string]http.Handler{
		"gzhttp outside netjet": handler(),
		"netjet outside gzhttp": netjet.Middleware(netjet.Options{})(gzhttp.GzipHandler(site())),
	}
	for name, h := range stacks {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			for i := 0; i < 3; i++ { // the later requests come from the cache
				resp, body := fetchGzip(t, srv)
				assert.Equal(t, wantLinks, resp.Header.Get("Link"), "request %d", i+1)
				assert.Equal(t, page, body, "request %d", i+1)
			}
		})
	}
}

// gzhttp can mark the ETag of a compressed body with a suffix: the cache keys on it, so a
// page served compressed and uncompressed is remembered twice, and both get their links.
func TestGzhttpETagSuffixKeepsTheCacheRight(t *testing.T) {
	wrap, err := gzhttp.NewWrapper(gzhttp.SuffixETag("-gzip"))
	require.NoError(t, err)
	p, err := netjet.New(netjet.Options{})
	require.NoError(t, err)
	srv := httptest.NewServer(p.Handler(wrap(site())))
	defer srv.Close()

	resp, body := fetchGzip(t, srv)
	assert.Equal(t, `"page-1-gzip"`, resp.Header.Get("ETag"))
	assert.Equal(t, wantLinks, resp.Header.Get("Link"))
	assert.Equal(t, page, body)

	req, err := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "identity") // Go's client would ask for gzip by itself
	plain, err := srv.Client().Do(req)
	require.NoError(t, err)
	plain.Body.Close()
	assert.Equal(t, `"page-1"`, plain.Header.Get("ETag"))
	assert.Equal(t, wantLinks, plain.Header.Get("Link"))

	resp, _ = fetchGzip(t, srv)
	assert.Equal(t, wantLinks, resp.Header.Get("Link"))
	st := p.Stats()
	assert.Equal(t, [2]uint64{2, 1}, [2]uint64{st.Parsed, st.CacheHits}, "parsed, cache hits")
}
