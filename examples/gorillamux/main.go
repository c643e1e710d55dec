// Command gorillamux adds netjet to a gorilla/mux router.
//
//	go run ./examples/gorillamux -addr 127.0.0.1:8080
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/netjet-go/netjet"
)

const homePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>netjet with gorilla/mux</title>
<link rel="stylesheet" href="/static/app.css">
</head>
<body><h1>Hello from gorilla/mux</h1><img src="/static/logo.svg" alt="logo"></body>
</html>
`

// newHandler returns the site. netjet wraps the whole router rather than going in with
// r.Use: gorilla/mux runs its middleware only for matched routes, so the 404 page would
// go without links.
func newHandler() http.Handler {
	r := mux.NewRouter()
	r.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(homePage))
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/static/app.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte("h1 { color: #1d4e89; }\n"))
	}).Methods(http.MethodGet, http.MethodHead)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`<!doctype html><link rel="stylesheet" href="/static/app.css"><h1>Not found</h1>`))
	})
	return netjet.Middleware(netjet.Options{})(r)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	log.Printf("serving http://%s/", *addr)
	srv := &http.Server{Addr: *addr, Handler: newHandler(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
