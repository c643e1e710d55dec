package netjet

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// pageHandler serves page as an HTML handler would, with an ETag when etag is not empty.
func pageHandler(page []byte, etag string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if etag != "" {
			w.Header().Set("Etag", etag)
		}
		w.Write(page)
	})
}

// serveOnce runs one request through h with a fresh header map, as a server would.
func serveOnce(h http.Handler, w *discardWriter, r *http.Request) {
	clear(w.h)
	w.code = 0
	h.ServeHTTP(w, r)
}

// The middleware variants the benchmarks compare with the bare handler.
func benchVariants(b *testing.B, page []byte) map[string]http.Handler {
	hit, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	miss, err := New(Options{CacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]http.Handler{
		"bare":       pageHandler(page, `"v1"`),
		"cache-hit":  hit.Handler(pageHandler(page, `"v1"`)),
		"cache-miss": miss.Handler(pageHandler(page, `"v1"`)),
		"no-etag":    hit.Handler(pageHandler(page, "")),
	}
}

// BenchmarkMiddleware measures one request for iab-1.html (the median corpus page) through
// each variant, with allocations: compare each with bare.
func BenchmarkMiddleware(b *testing.B) {
	page := readCorpusPage(b, "iab-1.html")
	r := httptest.NewRequest(http.MethodGet, "/article", nil)
	for _, name := range []string{"bare", "cache-hit", "cache-miss", "no-etag"} {
		h := benchVariants(b, page)[name]
		b.Run(name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			serveOnce(h, w, r) // fills the cache for cache-hit
			b.SetBytes(int64(len(page)))
			b.ReportAllocs()
			for b.Loop() {
				serveOnce(h, w, r)
			}
		})
	}
}

// BenchmarkLoopbackRatio serves iab-1.html over loopback from a bare server and from netjet
// servers, to one keep-alive client, interleaving batches of requests so that both see the
// same machine at the same moment, and reports netjet's throughput as a fraction of the bare
// server's (1.0 means free). bench/loadtest does the same with wrk and many connections.
func BenchmarkLoopbackRatio(b *testing.B) {
	page := readCorpusPage(b, "iab-1.html")
	variants := benchVariants(b, page)
	bare := httptest.NewServer(variants["bare"])
	defer bare.Close()
	for _, name := range []string{"cache-hit", "cache-miss", "no-etag"} {
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(variants[name])
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			get := func(url string) {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
			get(srv.URL + "/article") // fills the cache for cache-hit
			const batch = 16
			var bareTime, netjetTime time.Duration
			for b.Loop() {
				start := time.Now()
				for range batch {
					get(bare.URL + "/article")
				}
				mid := time.Now()
				for range batch {
					get(srv.URL + "/article")
				}
				bareTime += mid.Sub(start)
				netjetTime += time.Since(mid)
			}
			b.ReportMetric(float64(bareTime.Nanoseconds())/float64(b.N*batch), "bare-ns/req")
			b.ReportMetric(float64(netjetTime.Nanoseconds())/float64(b.N*batch), "netjet-ns/req")
			b.ReportMetric(float64(bareTime)/float64(netjetTime), "x-bare-throughput")
		})
	}
}
