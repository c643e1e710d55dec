package main

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
	"github.com/netjet-go/netjet/internal/selfsigned"
)

// lateFiles is a page whose HTML names one stylesheet. That stylesheet @imports a second,
// which declares the web font of the heading and the background of the hero: three
// resources a browser finds only once it has read a stylesheet, and that netjet learns from
// the browser's own requests for them.
var lateFiles = fstest.MapFS{
	"index.html": {Data: []byte(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>netjet: what stylesheets fetch</title>
<link rel="stylesheet" href="/late/page.css">
</head>
<body>
<div class="hero"></div>
<h1>Fetched once, from the hint</h1>
</body>
</html>
`)},
	"late/page.css": {Data: []byte(`@import url("/late/type.css");
body { margin: 0; }
`)},
	"late/type.css": {Data: []byte(`@font-face {
  font-family: "Late Square";
  src: url("/static/square.woff2") format("woff2");
}
h1 { font-family: "Late Square", sans-serif; }
.hero { height: 8rem; background: url("/static/hero.png") center / cover; image-rendering: pixelated; }
`)},
}

const (
	lateSheet  = "/late/page.css"
	lateImport = "/late/type.css"
	lateFont   = "/static/square.woff2"
	lateHero   = "/static/hero.png"
)

// lateSite serves lateFiles through netjet with Early Hints, the page after think; the font
// and the hero are the demo's.
func lateSite(think time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /late/", cacheable(http.FileServerFS(lateFiles)))
	// netjet types a font preload after the Content-Type it was served with: set it here
	// rather than depend on the system's MIME table knowing .woff2.
	mux.Handle("GET "+lateFont, cacheable(withContentType("font/woff2", http.FileServerFS(siteFiles))))
	mux.Handle("GET "+lateHero, cacheable(http.FileServerFS(siteFiles)))
	mux.Handle("GET /{$}", afterThinking(think, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, lateFiles, "index.html")
	})))
	return netjet.Middleware(netjet.Options{EarlyHints: true})(mux)
}

func withContentType(ct string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ct)
		next.ServeHTTP(w, r)
	})
}

// lateResources are what the page's stylesheets make the browser fetch.
var lateResources = []string{lateImport, lateFont, lateHero}

func TestBrowserFetchesLearnedLateResourcesOnceFromTheHints(t *testing.T) {
	b := newTestBrowser(t, lateSite(300*time.Millisecond))
	sheet := `</late/page.css>; rel=preload; as=style`
	learned := []string{ // the page's links once netjet has learned, in the order it names them
		sheet,
		`</late/type.css>; rel=preload; as=style`,
		`</static/square.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin`,
		`</static/hero.png>; rel=preload; as=image; fetchpriority=high`,
	}

	// The first load teaches: the page names its stylesheet only, and the browser finds the
	// rest in the stylesheets, which it sends as Referer.
	teach := b.navigate(t, 0)
	require.Equal(t, sheet, teach.page.link, "the first load's Link header")
	// The request for the hero may still be on its way to the server, which has to answer it
	// for netjet to learn from it before the next load.
	require.Eventually(t, func() bool {
		served, _, _, _ := b.served.snapshot()
		return served[lateHero] > 0
	}, 10*time.Second, 10*time.Millisecond, "the first load's request for %s", lateHero)
	for _, p := range lateResources {
		from := lateImport
		if p == lateImport {
			from = lateSheet
		}
		require.Equal(t, 1, teach.requests[b.url(p)], "%s: requests the browser sent on the first load", p)
		require.Equal(t, []string{"parser " + b.url(from)}, teach.requestedBy[b.url(p)],
			"%s: on the first load, the stylesheet that names it makes the browser fetch it", p)
	}

	// The next load's Link header names them all, and the browser preloads each from it
	// instead of waiting for the stylesheets.
	linked := b.navigate(t, unusedPreloadWait)
	assert.Equal(t, strings.Join(learned, ", "), linked.page.link, "the second load's Link header")
	for _, p := range lateResources {
		assert.Equal(t, 1, linked.served[p], "%s: requests the server got", p)
		assert.Equal(t, 1, linked.requests[b.url(p)], "%s: requests the browser sent", p)
		assert.Equal(t, 1, linked.timings[b.url(p)], "%s: resource timing entries", p)
		assert.Equal(t, []string{"other"}, linked.requestedBy[b.url(p)], "%s: what made the browser fetch it", p)
		assert.NotContains(t, linked.initiators[b.url(p)], "css", "%s: how the browser came to fetch it", p)
	}
	assert.Empty(t, linked.preloadWarnings())

	// A 103 names a route's links once the caller's last two responses agreed on them, so
	// from the third load on; of the late resources it names the import and the hero, taken
	// for the largest paint, and leaves the font to the final response, where the browser
	// finds it as soon as the page arrives. Headless Chromium sometimes reports no 103 that
	// the server sent (see TestBrowserTakesEarlyHintsAndFetchesEachResourceOnce): navigate
	// until it reports one, at most five times, and check that load.
	var nav *navigation
	for attempt := 1; attempt <= 5; attempt++ {
		if nav = b.navigate(t, unusedPreloadWait); nav.earlyHints > 0 {
			break
		}
		t.Logf("navigation %d: the browser reported no 103; the server sent %q", attempt+2, nav.page.hints)
	}
	require.Equal(t, 1, nav.earlyHints, "103 responses the browser reported")
	assert.Equal(t, []string{strings.Join([]string{learned[0], learned[1], learned[3]}, ", ")}, nav.page.hints,
		"the Link values of the 103s the server sent")
	assert.Equal(t, strings.Join(learned, ", "), nav.page.link, "the final response's Link header")

	for _, p := range lateResources {
		assert.Equal(t, 1, nav.served[p], "%s: requests the server got", p)
		assert.Equal(t, 1, nav.requests[b.url(p)], "%s: requests the browser sent", p)
		assert.Equal(t, 1, nav.timings[b.url(p)], "%s: resource timing entries", p)
		assert.Equal(t, []string{"other"}, nav.requestedBy[b.url(p)], "%s: what made the browser fetch it", p)
	}
	for _, p := range []string{lateImport, lateHero} {
		assert.Equal(t, []string{"early-hints"}, nav.initiators[b.url(p)], "%s: how the browser came to fetch it", p)
		assert.True(t, nav.fromEarlyHints[b.url(p)], "%s: the response the page used came from the Early Hints preload", p)
		// The server got the request while it was still building the page.
		assert.True(t, nav.arrived[p].Before(nav.pageDone), "%s: asked for at %s, the page was done at %s",
			p, nav.arrived[p].Format(time.StampMilli), nav.pageDone.Format(time.StampMilli))
	}
	// The font comes from the final response's Link header.
	assert.Equal(t, []string{"link"}, nav.initiators[b.url(lateFont)], "%s: how the browser came to fetch it", lateFont)
	assert.False(t, nav.fromEarlyHints[b.url(lateFont)], "%s: not from the Early Hints preload", lateFont)
	assert.Empty(t, nav.preloadWarnings())
}

// cdnFiles is a page whose stylesheet names its web font on another origin, a CDN's: a
// request that never passes through netjet, whose connection netjet can have the browser open
// early, once it has read the stylesheet.
var cdnFiles = fstest.MapFS{
	"index.html": {Data: []byte(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>netjet: a font from another origin</title>
<link rel="stylesheet" href="/cdn/page.css">
</head>
<body>
<h1>Connected before it was asked for</h1>
</body>
</html>
`)},
	"cdn/page.css": {Data: []byte(`@font-face {
  font-family: "CDN Square";
  src: url("https://` + cdnHost + `/square.woff2") format("woff2");
}
h1 { font-family: "CDN Square", sans-serif; }
`)},
}

// cdnHost is the CDN's host name; the browser's host resolver sends it to the CDN's server.
const cdnHost = "cdn.netjet.test"

// cdnServer is the other origin: it serves the demo's font to any origin, and records when
// each TLS handshake and each request reached it.
type cdnServer struct {
	*httptest.Server
	mu         sync.Mutex
	handshakes []time.Time
	requests   []time.Time
}

func startCDN(t *testing.T, cert tls.Certificate) *cdnServer {
	c := &cdnServer{}
	font, err := siteFiles.ReadFile("static/square.woff2")
	require.NoError(t, err)
	c.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.requests = append(c.requests, time.Now())
		c.mu.Unlock()
		w.Header().Set("Content-Type", "font/woff2")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write(font)
	}))
	c.EnableHTTP2 = true
	c.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c.mu.Lock()
		c.handshakes = append(c.handshakes, time.Now())
		c.mu.Unlock()
		return nil, nil
	}}
	c.StartTLS()
	t.Cleanup(c.Close)
	return c
}

// take returns what reached the CDN since the last take, and forgets it.
func (c *cdnServer) take() (handshakes, requests []time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	handshakes, requests = c.handshakes, c.requests
	c.handshakes, c.requests = nil, nil
	return handshakes, requests
}

func TestBrowserConnectsToAStylesheetsFontOriginFromThe103(t *testing.T) {
	cert, err := selfsigned.New("netjet demo", "127.0.0.1")
	require.NoError(t, err)
	cdn := startCDN(t, cert)
	mux := http.NewServeMux()
	mux.Handle("GET /cdn/", cacheable(http.FileServerFS(cdnFiles)))
	mux.Handle("GET /{$}", afterThinking(300*time.Millisecond, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, cdnFiles, "index.html")
	})))
	b := newTestBrowserWith(t, netjet.Middleware(netjet.Options{EarlyHints: true})(mux), cert,
		chromedp.Flag("host-resolver-rules", "MAP "+cdnHost+" "+strings.TrimPrefix(cdn.URL, "https://")))
	sheet := `</cdn/page.css>; rel=preload; as=style`
	preconnect := `<https://` + cdnHost + `>; rel=preconnect; crossorigin`

	// The first load teaches: netjet reads the stylesheet as it passes. The font comes from
	// the CDN only once the browser has read the stylesheet and laid out the heading: after
	// the page has arrived.
	cdn.take()
	teach := b.navigate(t, 0)
	require.Equal(t, sheet, teach.page.link, "the first load's Link header")
	handshakes, requests := cdn.take()
	require.Len(t, requests, 1, "the font, on the first load")
	require.NotEmpty(t, handshakes)
	require.True(t, handshakes[0].After(teach.pageDone), "without a hint, the connection opens once the page is there")

	// From the third load (the route's links agree over the caller's last two responses), the
	// 103 names the CDN's origin: the browser opens its connection while the server is still
	// building the page, and takes the font over it.
	b.navigate(t, 0)
	var nav *navigation
	for attempt := 1; attempt <= 5; attempt++ {
		cdn.take()
		if nav = b.navigate(t, unusedPreloadWait); nav.earlyHints > 0 {
			break
		}
		t.Logf("navigation %d: the browser reported no 103; the server sent %q", attempt+2, nav.page.hints)
	}
	require.Equal(t, 1, nav.earlyHints, "103 responses the browser reported")
	assert.Equal(t, []string{sheet + ", " + preconnect}, nav.page.hints, "the Link values of the 103s the server sent")
	assert.Equal(t, sheet+", "+preconnect, nav.page.link, "the final response's Link header")
	handshakes, requests = cdn.take()
	require.Len(t, requests, 1, "the font")
	require.Len(t, handshakes, 1, "one connection to the CDN, opened from the hint and used for the font")
	assert.True(t, handshakes[0].Before(nav.pageDone), "connected at %s, the page was done at %s",
		handshakes[0].Format(time.StampMilli), nav.pageDone.Format(time.StampMilli))
	assert.True(t, requests[0].After(nav.pageDone), "the font is asked for once the page is laid out")
	assert.Equal(t, 1, nav.requests["https://"+cdnHost+"/square.woff2"], "requests the browser sent for the font")
	assert.Empty(t, nav.preloadWarnings())
}
