//go:build !race

package netjet

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The race detector changes what allocates: these tests and benchmarks run without it.

// missPage returns a page with the given number of links (stylesheets) in its head and
// about size bytes of text in its body.
func missPage(links, size int) []byte {
	var b strings.Builder
	b.WriteString("<!doctype html><html><head>")
	for i := range links {
		fmt.Fprintf(&b, `<link rel="stylesheet" href="/css/%d.css">`, i)
	}
	b.WriteString("</head><body>")
	for b.Len() < size {
		b.WriteString(`<div class="row"><p>Some text, <a href="/x">a link</a>.</p></div>` + "\n")
	}
	b.WriteString("</body></html>")
	return []byte(b.String())
}

// missAllocs returns the allocations of one request for page that netjet has to parse.
func missAllocs(t testing.TB, page []byte) float64 {
	p, err := New(Options{CacheSize: -1, MaxLinks: -1, MaxHeaderBytes: -1})
	require.NoError(t, err)
	h := p.Handler(pageHandler(page, `"v1"`))
	r := httptest.NewRequest(http.MethodGet, "/page", nil)
	w := &discardWriter{h: http.Header{}}
	serveOnce(h, w, r) // warm the pools
	return testing.AllocsPerRun(50, func() { serveOnce(h, w, r) })
}

// TestMissAllocationsDependOnLinksNotPageSize checks issue 4's rule for a page netjet parses:
// a small constant plus a few allocations per link, whatever the size of the page.
func TestMissAllocationsDependOnLinksNotPageSize(t *testing.T) {
	small := missAllocs(t, missPage(10, 1<<10))
	for _, size := range []int{16 << 10, 200 << 10} {
		assert.Equal(t, small, missAllocs(t, missPage(10, size)), "10 links, %d bytes of body", size)
	}
	one := missAllocs(t, missPage(1, 1<<10))
	perLink := (small - one) / 9
	t.Logf("parse of a small page: %.0f allocations with 1 link, %.0f with 10 (%.1f per link)", one, small, perLink)
	assert.LessOrEqual(t, perLink, 3.0)
	assert.LessOrEqual(t, one, 40.0)

	// A body larger than the pool keeps gets a buffer of its own, one allocation, and the
	// pooled buffer goes back to the pool. At a megabyte a request, the collector runs every
	// few requests and empties the sync.Pools, which costs about one more: at most two in all,
	// whatever the size.
	for _, size := range []int{300 << 10, 1 << 20, 3 << 20} {
		assert.LessOrEqual(t, missAllocs(t, missPage(10, size)), small+2, "10 links, %d bytes of body", size)
	}
}

// BenchmarkMissBySize parses pages of one size after another, with 10 links each, and reports
// allocations and bytes per request: the allocation count stays the same up to the largest
// pooled buffer (256 KiB); a larger body gets a buffer of its own, left to the garbage
// collector, which is where bytes per request grow.
func BenchmarkMissBySize(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
		page := missPage(10, size)
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			p, err := New(Options{CacheSize: -1})
			require.NoError(b, err)
			h := p.Handler(pageHandler(page, `"v1"`))
			r := httptest.NewRequest(http.MethodGet, "/page", nil)
			w := &discardWriter{h: http.Header{}}
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				serveOnce(h, w, r)
			}
		})
	}
}
