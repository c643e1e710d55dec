package netjet_test

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// A page without an ETag is remembered by a hash of its body: the same bytes again are not
// parsed again, and changed bytes are.
func TestPageWithoutETagIsRememberedByItsBody(t *testing.T) {
	var version atomic.Value
	version.Store("one")
	p, err := netjet.New(netjet.Options{})
	require.NoError(t, err)
	srv := startServer(t, p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<link rel=stylesheet href=/`+version.Load().(string)+`.css>`)
	})))

	for i := 0; i < 3; i++ {
		resp, _ := srv.get(t, "/")
		assert.Equal(t, "</one.css>; rel=preload; as=style", resp.Header.Get("Link"))
	}
	assert.Equal(t, netjet.Stats{Parsed: 1, CacheHits: 2}, p.Stats())

	version.Store("two")
	resp, _ := srv.get(t, "/")
	assert.Equal(t, "</two.css>; rel=preload; as=style", resp.Header.Get("Link"))
	assert.Equal(t, netjet.Stats{Parsed: 2, CacheHits: 2}, p.Stats())

	resp, _ = srv.get(t, "/elsewhere")
	assert.Equal(t, "</two.css>; rel=preload; as=style", resp.Header.Get("Link"))
	assert.Equal(t, netjet.Stats{Parsed: 3, CacheHits: 2}, p.Stats(), "the path is part of the key")
}

func TestNoCacheParsesEveryResponse(t *testing.T) {
	p, err := netjet.New(netjet.Options{CacheSize: -1})
	require.NoError(t, err)
	srv := startServer(t, p.Handler(etagPage(`"1"`)))
	for i := 0; i < 3; i++ {
		resp, _ := srv.get(t, "/page?v=one")
		assert.Equal(t, styleLink("one"), resp.Header.Values("Link"))
	}
	assert.Equal(t, netjet.Stats{Parsed: 3}, p.Stats())
}
