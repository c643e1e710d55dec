package main

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"fmt"
	"net/http"
	"time"
)

// siteFiles is the whole demo site: two pages and their assets under static/.
//
//go:embed index.html 404.html static
var siteFiles embed.FS

// siteHandler serves the demo site without netjet: the home page at /, the assets under
// /static/, and the 404 page for any other path. Pages are written after think, as by a
// backend that takes that long to build them.
func siteHandler(think time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", cacheable(http.FileServerFS(siteFiles)))
	mux.Handle("GET /{$}", afterThinking(think, servePage("index.html", http.StatusOK)))
	mux.Handle("/", afterThinking(think, servePage("404.html", http.StatusNotFound)))
	return mux
}

// servePage serves one of the site's HTML files with status. A 200 page gets an ETag, so
// that netjet parses it once and takes its links from the cache afterwards.
func servePage(name string, status int) http.HandlerFunc {
	body, err := siteFiles.ReadFile(name)
	if err != nil {
		panic(err) // the file is embedded at build time: only a typo in name gets here
	}
	etag := fmt.Sprintf(`"%x"`, sha256.Sum256(body))
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if status != http.StatusOK {
			w.WriteHeader(status)
			_, _ = w.Write(body)
			return
		}
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	}
}

// cacheable gives the assets a freshness lifetime. A browser keeps what an Early Hint
// preloaded only in its HTTP cache: an asset that cannot be stored there is fetched again
// when the page asks for it, and the hint cost a download instead of saving time.
func cacheable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		next.ServeHTTP(w, r)
	})
}

// afterThinking runs next after think, unless the client leaves first.
func afterThinking(think time.Duration, next http.Handler) http.Handler {
	if think <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(think):
			next.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}
