// Command nethttp puts netjet in front of a net/http ServeMux.
//
//	go run ./examples/nethttp -addr 127.0.0.1:8080
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/netjet-go/netjet"
)

const homePage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>netjet with net/http</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body><h1>Hello from net/http</h1></body>
</html>
`

// newHandler returns the site with netjet in front of all of it.
func newHandler() (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(homePage))
	})
	mux.HandleFunc("GET /app.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write([]byte("h1 { color: #1d4e89; }\n"))
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte("document.title += \" (scripted)\";\n"))
	})

	preloader, err := netjet.New(netjet.Options{})
	if err != nil {
		return nil, err
	}
	return preloader.Handler(mux), nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	handler, err := newHandler()
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("serving http://%s/", *addr)
	srv := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
