// Command fileserver serves a directory with http.FileServer and netjet in front: HTML files
// get Link headers, every other file goes through as it is, still sent with sendfile.
//
//	go run ./examples/fileserver -dir ./public
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/netjet-go/netjet"
)

// newHandler serves the files under dir with netjet in front.
func newHandler(dir string) http.Handler {
	return netjet.Middleware(netjet.Options{})(http.FileServer(http.Dir(dir)))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	dir := flag.String("dir", ".", "directory to serve")
	flag.Parse()
	log.Printf("serving %s on http://%s/", *dir, *addr)
	srv := &http.Server{Addr: *addr, Handler: newHandler(*dir), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
