package netjet_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// TestConcurrentLargestPageMemoryIsBounded has 256 responses of the largest corpus page under
// way at once, each written and not yet finished, and checks that netjet keeps a small part of
// each: the body streams, and is read as it passes.
func TestConcurrentLargestPageMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 600 MB")
	}
	page, err := os.ReadFile(filepath.Join(corpusDir, "yahoo-2.html"))
	if os.IsNotExist(err) {
		t.Skip("corpus absent")
	}
	require.NoError(t, err)
	const concurrency = 256
	for _, write := range []struct {
		name  string
		chunk int
	}{{"one write", len(page)}, {"32 KB writes", 32 << 10}} {
		t.Run(write.name, func(t *testing.T) {
			var written, release sync.WaitGroup
			written.Add(concurrency)
			release.Add(1)
			h := netjet.Middleware(netjet.Options{CacheSize: -1})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				for rest := page; len(rest) > 0; {
					n := min(write.chunk, len(rest))
					w.Write(rest[:n])
					rest = rest[n:]
				}
				written.Done()
				release.Wait() // every response is under way at once
			}))

			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			var done sync.WaitGroup
			for i := 0; i < concurrency; i++ {
				done.Add(1)
				go func() {
					defer done.Done()
					h.ServeHTTP(newDiscardRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
				}()
			}
			written.Wait()
			runtime.GC()
			var held runtime.MemStats
			runtime.ReadMemStats(&held)
			release.Done()
			done.Wait()

			// The body streams: what a response keeps is bounded by MaxBufferBytes (the head)
			// and by what reading the body as it passes keeps of an unfinished tag, whatever
			// the page's size.
			grown := float64(held.HeapAlloc) - float64(before.HeapAlloc)
			perResponse := grown / concurrency
			t.Logf("%d responses of %d bytes under way: heap grew %.1f MB, %.0f KB a response",
				concurrency, len(page), grown/1e6, perResponse/1e3)
			// An unfinished construct (a long inline script) is kept up to 1 MiB while the
			// page is read to be learned from; past that, reading stops.
			assert.Less(t, perResponse, float64(2<<20), "what a response keeps is bounded")
		})
	}
}
