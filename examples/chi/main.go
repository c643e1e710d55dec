// Command chi adds netjet to a chi router with r.Use.
//
//	go run ./examples/chi -addr 127.0.0.1:8080
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/netjet-go/netjet"
)

const homePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>netjet with chi</title>
<link rel="stylesheet" href="/static/app.css">
<script type="module" src="/static/app.js"></script>
</head>
<body><h1>Hello from chi</h1></body>
</html>
`

// newRouter returns the site. The recoverer goes before netjet, so that it is outside: when a
// handler panics, netjet drops the page it held back and the recoverer's 500 goes out.
func newRouter() *chi.Mux {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Use(netjet.Middleware(netjet.Options{}))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(homePage))
	})
	r.Get("/static/app.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte("h1 { color: #1d4e89; }\n"))
	})
	r.Get("/static/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte("document.title += \" (module)\";\n"))
	})
	return r
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	log.Printf("serving http://%s/", *addr)
	srv := &http.Server{Addr: *addr, Handler: newRouter(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
