// Command compression shows where netjet goes beside compression middleware, here
// klauspost/compress's gzhttp: compression outside, netjet inside, so that netjet reads the
// HTML as the handler wrote it.
//
//	go run ./examples/compression -addr 127.0.0.1:8080
//	curl -sv --compressed http://127.0.0.1:8080/ -o /dev/null 2>&1 | grep -i '^< link'
//
// The other order works too: netjet then reads a decoded copy of the gzip body (at most
// MaxBufferBytes of it) and sends the compressed bytes untouched, at the cost of decoding.
package main

import (
	"flag"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"github.com/netjet-go/netjet"
)

// page is large enough for gzhttp to compress it (it leaves small bodies alone).
var page = `<!doctype html><html><head><title>netjet and gzip</title>
<link rel="stylesheet" href="/site.css">
<script src="/app.js" defer></script>
</head><body><img src="/hero.png" alt="">` + strings.Repeat("<p>Compressed, and preloaded.</p>\n", 200) + `</body></html>`

// site serves the page, with an ETag as a static site would.
func site() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", `"page-1"`)
		w.Write([]byte(page))
	})
}

// handler is the recommended stack: gzhttp outside, netjet inside.
func handler() http.Handler {
	return gzhttp.GzipHandler(netjet.Middleware(netjet.Options{})(site()))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	log.Printf("serving on http://%s/", *addr)
	srv := &http.Server{Addr: *addr, Handler: handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
