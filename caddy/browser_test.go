package netjetcaddy_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/netjet-go/netjet/internal/headless"

	"github.com/netjet-go/netjet/internal/selfsigned"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserTakesEarlyHintsThroughCaddy loads a PHP page through Caddy with netjet in
// headless Chromium, over HTTP/2, and checks from the browser's own records that it got one
// 103 and fetched the hinted stylesheet and script from it, each once.
func TestBrowserTakesEarlyHintsThroughCaddy(t *testing.T) {
	chromium := findChromium(t)
	origin := phpOrigin(t)
	// PHP builds the pages; Caddy serves the static files, as it would in production: a
	// response that a 103 preloaded is only used by the page if the browser may keep it,
	// and PHP's built-in server sends static files with neither Last-Modified nor
	// Cache-Control.
	root, err := filepath.Abs(filepath.Join("testdata", "php"))
	require.NoError(t, err)
	c := startCaddy(t, `
	root * `+root+`
	encode
	netjet {
		early_hints
	}
	@page not path *.css *.js *.png
	reverse_proxy @page `+origin+`
	file_server`)

	// Early Hints need a certificate the browser trusts, which --ignore-certificate-errors
	// does not give: trust this one by its public key instead.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromeSwitches(),
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("ignore-certificate-errors-spki-list", selfsigned.SPKIHash(c.cert.leaf)),
	)...)
	t.Cleanup(cancelAlloc)
	browser, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(browser), "starting %s", chromium)

	first := navigate(t, browser, c.url+"/?think=300")
	assert.Zero(t, first.earlyHints, "103 responses before the route was ever seen")
	assert.Equal(t, "HTTP/2", first.protocol)
	// netjet learns the route's hints from its pages, and headless Chromium does not report
	// every 103 the server sends (examples/demo's browser test saw it miss one load in
	// three): navigate until it reports one, at most maxLearning+5 times.
	var nav *browserNavigation
	for attempt := 2; attempt <= maxLearning+6; attempt++ {
		if nav = navigate(t, browser, c.url+"/?think=300"); nav.earlyHints > 0 {
			break
		}
		t.Logf("navigation %d: the browser reported no 103", attempt)
	}
	require.Equal(t, 1, nav.earlyHints, "103 responses the browser reported")
	for _, p := range []string{"/app.css", "/app.js"} {
		assert.Equal(t, []string{"early-hints"}, nav.initiators[c.url+p], "%s: how the browser came to fetch it", p)
		assert.True(t, nav.fromEarlyHints[c.url+p], "%s: the response the page used came from the Early Hints preload", p)
	}
	for _, p := range []string{"/app.css", "/app.js", "/hero.png"} {
		assert.Equal(t, 1, nav.requests[c.url+p], "%s: requests the page sent", p)
	}
	// The image is not render-blocking: the final response's Link header preloads it.
	assert.Equal(t, []string{"link"}, nav.initiators[c.url+"/hero.png"])
	assert.Equal(t, "yes", nav.scriptRan, "the page's script ran")
}

// findChromium returns the path of a Chromium or Chrome binary, or skips the test.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium, chromium-browser or google-chrome on PATH")
	return ""
}

// browserNavigation is what one page load showed the browser.
type browserNavigation struct {
	earlyHints     int                 // 103 responses
	requests       map[string]int      // requests sent, by URL
	fromEarlyHints map[string]bool     // responses that came from an Early Hints preload, by URL
	protocol       string              // the page's protocol, as the test's clients name them
	initiators     map[string][]string // the initiator type of each resource timing entry, by URL
	scriptRan      string
}

// navigate loads url in a new browser context: an empty cache and no open connection.
func navigate(t *testing.T, browser context.Context, url string) *browserNavigation {
	t.Helper()
	nav := &browserNavigation{requests: map[string]int{}, fromEarlyHints: map[string]bool{}}
	var mu sync.Mutex
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext(),
		chromedp.WithListener(func(ev any) {
			mu.Lock()
			defer mu.Unlock()
			switch ev := ev.(type) {
			case *network.EventRequestWillBeSent:
				nav.requests[ev.Request.URL]++
			case *network.EventResponseReceivedEarlyHints:
				nav.earlyHints++
			case *network.EventResponseReceived:
				nav.fromEarlyHints[ev.Response.URL] = nav.fromEarlyHints[ev.Response.URL] || ev.Response.FromEarlyHints
				if ev.Response.URL == url {
					nav.protocol = map[string]string{"h2": "HTTP/2", "http/1.1": "HTTP/1.1", "h3": "HTTP/3"}[ev.Response.Protocol]
				}
			}
		}))
	defer cancelTab()
	ctx, cancel := context.WithTimeout(tab, time.Minute)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	ran, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dataset.ran || ""`))
	require.NoError(t, err)
	entries, err := chromedp.Run(ctx, chromedp.Evaluate[[]struct {
		Name          string `json:"name"`
		InitiatorType string `json:"initiatorType"`
	}](`performance.getEntriesByType('resource').map(e => ({name: e.name, initiatorType: e.initiatorType}))`))
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	out := &browserNavigation{
		earlyHints: nav.earlyHints, requests: map[string]int{}, fromEarlyHints: map[string]bool{},
		protocol: nav.protocol, scriptRan: ran,
	}
	out.initiators = map[string][]string{}
	for _, e := range entries {
		out.initiators[e.Name] = append(out.initiators[e.Name], e.InitiatorType)
	}
	for k, v := range nav.requests {
		out.requests[k] = v
	}
	for k, v := range nav.fromEarlyHints {
		out.fromEarlyHints[k] = v
	}
	return out
}

// chromeSwitches are the project's headless switches as chromedp options.
func chromeSwitches() (opts []chromedp.ExecAllocatorOption) {
	for _, s := range headless.Switches {
		opts = append(opts, chromedp.Flag(s.Name, s.Value))
	}
	return opts
}
