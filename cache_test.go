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
// TestPageWithoutETagIsNeverCached: without an ETag, nothing names the page's version, so its
// links are read from each response (up to the end of its head): a page that changed gets its
// new links at once.
func TestPageWithoutETagIsNeverCached(t *testing.T) {
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
	version.Store("two")
	resp, _ := srv.get(t, "/")
	assert.Equal(t, "</two.css>; rel=preload; as=style", resp.Header.Get("Link"))
	st := p.Stats()
	assert.Equal(t, [2]uint64{4, 0}, [2]uint64{st.Parsed, st.CacheHits}, "parsed, cache hits")
}

func TestNoCacheParsesEveryResponse(t *testing.T) {
	p, err := netjet.New(netjet.Options{CacheSize: -1})
	require.NoError(t, err)
	srv := startServer(t, p.Handler(etagPage(`"1"`)))
	for i := 0; i < 3; i++ {
		resp, _ := srv.get(t, "/page?v=one")
		assert.Equal(t, styleLink("one"), resp.Header.Values("Link"))
	}
	st := p.Stats()
	assert.Equal(t, [2]uint64{3, 0}, [2]uint64{st.Parsed, st.CacheHits}, "parsed, cache hits")
}
