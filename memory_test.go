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

// TestConcurrentLargestPageMemory holds 256 responses of the largest corpus page in netjet's
// buffers at once and checks the live heap stays within 1.5 times 256 copies of the page:
// the buffers cost the body, not twice the body.
func TestConcurrentLargestPageMemory(t *testing.T) {
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
				release.Wait() // the body stays held back until every handler has written
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

			grown := float64(held.HeapAlloc) - float64(before.HeapAlloc)
			ratio := grown / float64(concurrency*len(page))
			t.Logf("%d responses of %d bytes held: heap grew %.0f MB, %.2fx their size", concurrency, len(page), grown/1e6, ratio)
			assert.Less(t, ratio, 1.5)
			assert.Greater(t, ratio, 0.9, "the bodies are held: the measure must see them")
		})
	}
}
