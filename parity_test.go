package netjet_test

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/netjet-go/netjet"
)

// parityPages are the pages of netjet 1.4's test suite, by path, rewritten for this one:
// the same shapes of markup, served as text/html; charset=utf-8 with status 200.
var parityPages = map[string]string{
	"/base-href/all": `<base href="/"><img src="img/relative.jpg"><img src="/root.jpg">` +
		`<img src="//cdn.example.com/scheme-relative.jpg"><img src="http://cdn.example.com/plain.jpg">` +
		`<img src="https://cdn.example.com/secure.jpg">`,

	"/blog/one-image":        `<img src="/photos/harbour.jpg" alt="Harbour">`,
	"/blog/two-images":       `<img src="/photos/harbour.jpg" alt="Harbour"><img src="/photos/glacier.jpg" alt="Glacier">`,
	"/blog/image-and-script": `<img src="/photos/harbour.jpg" alt="Harbour"><script src="/lib/site.js"></script>`,
	"/blog/data-image":       `<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt=""><img src="/photos/harbour.jpg" alt="Harbour">`,
	"/blog/one-script":       `<script src="/lib/site.js"></script>`,
	"/blog/nomodule-script":  `<script nomodule src="/lib/legacy.js"></script><script src="/lib/site.js"></script>`,
	"/blog/module-script":    `<script type="module" crossorigin="anonymous" src="/lib/app.mjs"></script>`,
	"/blog/two-scripts":      `<script src="/lib/site.js"></script><script src="/lib/widgets.js"></script>`,
	"/blog/script-and-image": `<img src="/photos/harbour.jpg" alt="Harbour"><script src="/lib/site.js"></script>`,
	"/blog/inline-script":    `<script src="/lib/site.js"></script><script>console.log("inline")</script>`,
	"/blog/one-style":        `<link href="/css/site.css" rel="stylesheet">`,
	"/blog/two-styles":       `<link href="/css/reset.css" rel="stylesheet"><link href="/css/site.css" rel="stylesheet">`,
	"/blog/style-and-script": `<link href="/css/site.css" rel="stylesheet"><script src="/lib/site.js"></script>`,
	"/blog/style-and-icon":   `<link href="/css/site.css" rel="stylesheet"><link rel="apple-touch-icon" href="icon-180.png">`,
	"/blog/everything":       `<img src="/photos/harbour.jpg" alt="Harbour"><script src="/lib/site.js"></script><script>console.log("inline")</script><link href="/css/site.css" rel="stylesheet"><link rel="apple-touch-icon" href="icon-180.png">`,
	"/blog/non-ascii-in-url": `<img src="/photos/reykjavík.jpg" alt="Reykjavík">`,
}

// notFoundPage is what every unknown path gets, with status 404.
const notFoundPage = `<img src="/photos/lost.png" alt="Nothing here">`

// parityHandler serves the parity pages, a PNG, a JSON document, the 404 page, and under
// /etag/{tag} and /other/etag/{tag} a page with that ETag whose image carries the request's
// ?count, so that the body changes while the ETag stays.
func parityHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/static/image.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = io.WriteString(w, "")
	})
	mux.HandleFunc("/api/whoami", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":"<img src=\"/photos/harbour.jpg\">"}`)
	})
	var served atomic.Int64
	etagPage := func(w http.ResponseWriter, r *http.Request) {
		tag := r.PathValue("tag")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("ETag", tag)
		_, _ = fmt.Fprintf(w, `<img src="/photos/%s.png?count=%d">`, tag, served.Add(1))
	}
	mux.HandleFunc("/etag/{tag}", etagPage)
	mux.HandleFunc("/other/etag/{tag}", etagPage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, ok := parityPages[r.URL.Path]
		status := http.StatusOK
		if !ok {
			body, status = notFoundPage, http.StatusNotFound
		}
		htmlHandler(status, body)(w, r)
	})
	return mux
}

// parityRequest is one request of a parity case and what its response must carry.
type parityRequest struct {
	path        string
	status      int
	contentType string
	link        string // the whole Link header; empty: none
}

func page200(path, link string) parityRequest {
	return parityRequest{path, http.StatusOK, "text/html; charset=utf-8", link}
}

func image(u string) string  { return "<" + u + ">; rel=preload; as=image" }
func script(u string) string { return "<" + u + ">; rel=preload; as=script" }
func style(u string) string  { return "<" + u + ">; rel=preload; as=style" }

// TestParityWithNetjet14 runs the cases of netjet 1.4's test suite through the middleware.
// Rows say where this project deliberately differs.
func TestParityWithNetjet14(t *testing.T) {
	images, scripts, styles := netjet.Options{Kinds: netjet.Images}, netjet.Options{Kinds: netjet.Scripts}, netjet.Options{Kinds: netjet.Styles}
	cases := []struct {
		name     string
		opts     netjet.Options
		requests []parityRequest
	}{
		{"non-HTML: PNG is skipped", netjet.Options{}, []parityRequest{{"/static/image.png", http.StatusOK, "image/png", ""}}},
		{"non-HTML: JSON is skipped", netjet.Options{}, []parityRequest{{"/api/whoami", http.StatusOK, "application/json", ""}}},
		// netjet had no caps; the default MaxImages of 2 would keep only the first two images.
		{"base href applies to every URL form", netjet.Options{Kinds: netjet.Images, MaxImages: -1}, []parityRequest{page200("/base-href/all",
			image("/img/relative.jpg")+", "+image("/root.jpg")+", "+image("//cdn.example.com/scheme-relative.jpg")+", "+
				image("http://cdn.example.com/plain.jpg")+", "+image("https://cdn.example.com/secure.jpg"))}},
		{"images: one", images, []parityRequest{page200("/blog/one-image", image("/photos/harbour.jpg"))}},
		{"images: two, in document order", images, []parityRequest{page200("/blog/two-images",
			image("/photos/harbour.jpg")+", "+image("/photos/glacier.jpg"))}},
		{"images: a script is not an image", images, []parityRequest{page200("/blog/image-and-script", image("/photos/harbour.jpg"))}},
		{"images: a data: URL is skipped", images, []parityRequest{page200("/blog/data-image", image("/photos/harbour.jpg"))}},
		{"scripts: one", scripts, []parityRequest{page200("/blog/one-script", script("/lib/site.js"))}},
		// Browsers that run modules never fetch a nomodule script: preloading it wastes bandwidth.
		{"scripts: nomodule is skipped", scripts, []parityRequest{page200("/blog/nomodule-script", script("/lib/site.js"))}},
		// netjet sent rel=preload; as=script, which a module fetch does not match: the browser
		// downloaded the file twice. modulepreload matches it; crossorigin=anonymous is carried
		// as a bare crossorigin. A module runs after parsing: its preload waits at low priority
		// instead of competing with the render-blocking files (measured by bench/speedtest).
		{"scripts: a module is a modulepreload", scripts, []parityRequest{page200("/blog/module-script",
			"</lib/app.mjs>; rel=modulepreload; crossorigin; fetchpriority=low")}},
		{"scripts: two, in document order", scripts, []parityRequest{page200("/blog/two-scripts",
			script("/lib/site.js")+", "+script("/lib/widgets.js"))}},
		{"scripts: an image is not a script", scripts, []parityRequest{page200("/blog/script-and-image", script("/lib/site.js"))}},
		{"scripts: an inline script is skipped", scripts, []parityRequest{page200("/blog/inline-script", script("/lib/site.js"))}},
		{"styles: one", styles, []parityRequest{page200("/blog/one-style", style("/css/site.css"))}},
		{"styles: two, in document order", styles, []parityRequest{page200("/blog/two-styles",
			style("/css/reset.css")+", "+style("/css/site.css"))}},
		{"styles: a script is not a stylesheet", styles, []parityRequest{page200("/blog/style-and-script", style("/css/site.css"))}},
		{"styles: apple-touch-icon is not a stylesheet", styles, []parityRequest{page200("/blog/style-and-icon", style("/css/site.css"))}},
		// netjet kept document order (image, script, style); links go out by importance here:
		// render-blocking stylesheets first, then blocking scripts, images last.
		{"all kinds together", netjet.Options{}, []parityRequest{page200("/blog/everything",
			style("/css/site.css")+", "+script("/lib/site.js")+", "+image("/photos/harbour.jpg"))}},
		{"a 404 page still gets its links", netjet.Options{}, []parityRequest{
			{"/no/such/page", http.StatusNotFound, "text/html; charset=utf-8", image("/photos/lost.png")}}},
		// As netjet did, non-ASCII goes out as percent-encoded UTF-8. Unlike netjet, characters
		// such as | ^ % are left as written, so the browser matches the URL it fetches.
		{"non-ASCII URLs are percent-encoded", netjet.Options{}, []parityRequest{page200("/blog/non-ascii-in-url",
			image("/photos/reykjav%C3%ADk.jpg"))}},
		// The key is the URL as an HTTP cache keys it (host, path, query, the headers Vary
		// names) and the ETag: netjet keyed on the ETag alone, so another page with the same
		// ETag got the first page's links. Here it gets its own. The body's count changes on
		// every response while the ETag stays.
		{"cache: same URL and ETag reuse the first response's links", netjet.Options{}, []parityRequest{
			page200("/etag/100", image("/photos/100.png?count=1")),
			page200("/etag/100", image("/photos/100.png?count=1")),
			page200("/other/etag/100", image("/photos/100.png?count=3")),
			page200("/etag/100?v=2", image("/photos/100.png?count=4")),
		}},
		// netjet's cache was an LRU; this one is a 2Q cache, so that pages asked for once make
		// room for each other before a page asked for again is evicted.
		{"cache: with CacheSize 2, a page asked for again stays", netjet.Options{CacheSize: 2}, []parityRequest{
			page200("/etag/1", image("/photos/1.png?count=1")),
			page200("/etag/1", image("/photos/1.png?count=1")),
			page200("/etag/2", image("/photos/2.png?count=3")),
			page200("/etag/3", image("/photos/3.png?count=4")),
			page200("/etag/1", image("/photos/1.png?count=1")),
		}},
		{"attributes: nopush", netjet.Options{Attributes: []string{"nopush"}}, []parityRequest{
			{"/no/such/page", http.StatusNotFound, "text/html; charset=utf-8", image("/photos/lost.png") + "; nopush"}}},
		{"attributes: nopush and x-http2-push-only", netjet.Options{Attributes: []string{"nopush", "x-http2-push-only"}}, []parityRequest{
			{"/no/such/page", http.StatusNotFound, "text/html; charset=utf-8", image("/photos/lost.png") + "; nopush; x-http2-push-only"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, preload(t, c.opts, parityHandler()))
			for _, want := range c.requests {
				resp, _ := srv.get(t, want.path)
				assert.Equal(t, want.status, resp.StatusCode, want.path)
				assert.Equal(t, want.contentType, resp.Header.Get("Content-Type"), want.path)
				var link []string
				if want.link != "" {
					link = []string{want.link}
				}
				assert.Equal(t, link, resp.Header.Values("Link"), want.path)
			}
		})
	}
}
