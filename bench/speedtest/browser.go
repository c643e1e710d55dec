package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/netjet-go/netjet/internal/headless"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// findChromium returns the path of the first Chromium or Chrome on PATH.
func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on PATH (set -chromium)")
}

// browser is one headless Chromium that sends every host name to one port on loopback and
// trusts one certificate there, as it would trust a real site's.
type browser struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// startBrowser starts Chromium with a profile in dataDir. spki is the base64 SHA-256 of the
// certificate's public key: Chrome takes Early Hints, and caches what they preload, only
// from a site whose certificate it trusts, and --ignore-certificate-errors alone does not
// make it trust one.
func startBrowser(ctx context.Context, execPath, dataDir, spki string, port int) (*browser, error) {
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromeSwitches(),
		chromedp.ExecPath(execPath),
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		// What Chrome fetches for itself would go to the site and cross the link.
		chromedp.Flag("disable-features", "OptimizationHints,OptimizationGuideModelDownloading,MediaRouter,Translate,AutofillServerCommunication"),
		chromedp.UserDataDir(dataDir),
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
		chromedp.Flag("host-resolver-rules", hostRules(port)),
		chromedp.WindowSize(1280, 800),
	)...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(browserCtx); err != nil {
		cancelBrowser()
		cancelAlloc()
		return nil, fmt.Errorf("starting %s: %w", execPath, err)
	}
	return &browser{ctx: browserCtx, cancel: func() { cancelBrowser(); cancelAlloc() }}, nil
}

// chromeServices are hosts Chrome talks to on its own, whatever the flags say: sign-in,
// component updates, autofill. They must not reach the site, where their bytes would
// cross the link and count as the page's.
var chromeServices = []string{
	"accounts.google.com", "clients2.google.com", "update.googleapis.com", "content-autofill.googleapis.com",
	"optimizationguide-pa.googleapis.com", "safebrowsing.googleapis.com", "clientservices.googleapis.com",
	"www.google.com", "android.clients.google.com", // Chromium 148: the new tab page's data, device check-in
}

// hostRules sends every host to the site at port on loopback, but Chrome's own services
// nowhere: Chrome applies the first rule that matches.
func hostRules(port int) string {
	var rules []string
	for _, h := range chromeServices {
		rules = append(rules, "MAP "+h+" ~NOTFOUND")
	}
	return strings.Join(append(rules, fmt.Sprintf("MAP * 127.0.0.1:%d", port)), ", ")
}

// figures is what one page load measured, in milliseconds from the start of the navigation.
type figures struct {
	FCP  float64 `json:"fcp"`
	LCP  float64 `json:"lcp"`
	Load float64 `json:"load"`
	// Hinted is how many resources the browser took from a 103 Early Hints response.
	Hinted int `json:"hinted"`

	bytes  int64 // carried from the server to the browser
	double int   // resources the server sent more than once
}

// collectFigures waits for the page's first contentful paint and its largest contentful
// paint, which Chrome can report after the load event, and reads them with the load event
// from the page's own timing entries.
const collectFigures = `new Promise(resolve => {
  const nav = performance.getEntriesByType('navigation')[0];
  const hinted = performance.getEntriesByType('resource').filter(e => e.initiatorType === 'early-hints').length;
  let fcp = -1, lcp = -1;
  const finish = () => resolve({fcp, lcp, load: nav.loadEventStart, hinted});
  let timer = setTimeout(finish, 5000);
  const settle = () => {
    if (fcp < 0 || lcp < 0) return;
    clearTimeout(timer);
    timer = setTimeout(finish, 100); // a larger element may still be painting
  };
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) if (e.name === 'first-contentful-paint') fcp = e.startTime;
    settle();
  }).observe({type: 'paint', buffered: true});
  new PerformanceObserver(list => {
    const entries = list.getEntries();
    lcp = entries[entries.length - 1].startTime;
    settle();
  }).observe({type: 'largest-contentful-paint', buffered: true});
})`

// loadTimeout bounds one page load.
const loadTimeout = 90 * time.Second

// load opens url in a new browser context, which has an empty HTTP cache and no connections
// yet, and returns what the page measured. With throttle set, DevTools emulates that
// network for the page. settle waits for what the page still fetches after its load event;
// the figures are read after it, because the largest paint can come later still: an image
// that only a stylesheet names may not hold up the load event.
func (b *browser) load(url string, throttle *network.Conditions, settle func()) (figures, error) {
	tabCtx, cancelTab := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	defer func() {
		_ = chromedp.Cancel(tabCtx) // closes the tab and disposes of its browser context
		cancelTab()
	}()
	if err := chromedp.Do(tabCtx); err != nil { // opens the tab, with no time limit on its life
		return figures{}, err
	}
	ctx, cancel := context.WithTimeout(tabCtx, loadTimeout)
	defer cancel()
	if throttle != nil {
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{throttle},
			})
			return err
		}))
		if err != nil {
			return figures{}, fmt.Errorf("emulating the network: %w", err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return figures{}, fmt.Errorf("loading %s: %w", url, err)
	}
	settle()
	f, err := chromedp.Run(ctx, chromedp.Evaluate[figures](collectFigures, chromedp.EvalAwaitPromise))
	if err != nil {
		return figures{}, fmt.Errorf("reading the timings of %s: %w", url, err)
	}
	if f.FCP < 0 || f.LCP < 0 {
		return f, fmt.Errorf("%s: the browser reported no first or largest contentful paint", url)
	}
	return f, nil
}

// version is the browser's product name and version, such as "HeadlessChrome/156.0.8078.108".
func (b *browser) version() (string, error) {
	v, err := chromedp.CallBrowser(b.ctx, cdpbrowser.GetVersion, cdp.Empty{})
	return v.Product, err
}

// chromeSwitches are the project's headless switches as chromedp options.
func chromeSwitches() (opts []chromedp.ExecAllocatorOption) {
	for _, s := range headless.Switches {
		opts = append(opts, chromedp.Flag(s.Name, s.Value))
	}
	return opts
}
