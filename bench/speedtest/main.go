// Command speedtest measures, in a real browser on a slow network, whether netjet makes
// pages faster.
//
//	go run ./bench/speedtest                              # from the repository root
//	go run ./bench/speedtest -pages 1 -site "" -runs 3    # the demo page only, fewer runs
//	go run ./bench/speedtest -site bench/sites/late       # a static site's pages only
//
// It serves two sets of pages over HTTP/2 with TLS on loopback, one set after the other.
// The first is the demo's home page and pages of ../shared/corpus/pages (when that folder
// is there): their stylesheets, scripts, images and fonts get synthetic bodies of typical
// sizes (50, 150, 80 and 30 KB) with long-lived cache headers, on whatever host the page
// names them (Chromium's --host-resolver-rules sends every host name to the one server).
// The second is a static site as it is on disk (-site, bench/sites/late by default): each
// of its .html files is a page, named by its path without .html, and every other file is
// served with its own body and type, cacheable for a year. Naming -site alone loads that
// site's pages only. Every page takes -think to build, as a page that queries a database
// does.
//
// Each page is loaded in three variants, interleaved run by run: without netjet ("none"),
// with netjet's Link headers on the final response ("links"), and with netjet's Early Hints
// ("early-hints"), measured once the route has learned its links from two earlier responses.
// Every load starts in a new browser context: an empty HTTP cache and no open connections.
//
// The network is emulated at the server's sockets, not with DevTools: Chrome fetches what a
// 103 Early Hints response names from the browser process, outside the throttle DevTools
// puts on the page, so DevTools emulation lets exactly those fetches run at loopback speed.
// Every byte in either direction waits for its turn on the link's bandwidth, which all the
// connections of a browser share, and then travels for half the round-trip time; the first
// bytes of a connection wait one round trip more, for the TCP handshake. -network devtools
// uses DevTools emulation instead, to see the difference.
//
// The figures come from the browser: first contentful paint, largest contentful paint, the
// load event, and how many resources it took from Early Hints. Bytes are counted where they
// cross the link, and a resource fetched twice is one the server sent twice in one load,
// because Chrome does not show the page what it fetched for an Early Hints response.
//
// It prints one table (medians, with the minimum and maximum, and each variant's ratio to
// "none"), then one line per page and variant such as
//
//	summary: demo early-hints FCP x0.71 LCP x0.69
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/netjet-go/netjet/internal/selfsigned"
)

type config struct {
	pages, runs int
	think, rtt  time.Duration
	down, up    float64 // Mbit/s
	corpusDir   string
	demoDir     string
	siteDir     string // a static site, or ""
	chromium    string
	parallel    int
	variants    string
	network     string // "link" or "devtools"
	trace       bool
	progress    io.Writer
}

func main() {
	cfg := config{progress: os.Stderr}
	flag.IntVar(&cfg.pages, "pages", 2, "pages to load: the demo and up to N-1 corpus pages (0: none; 0 by default when -site names a site)")
	flag.IntVar(&cfg.runs, "runs", 7, "runs per page and variant")
	flag.DurationVar(&cfg.think, "think", 300*time.Millisecond, "how long each page takes to build")
	flag.DurationVar(&cfg.rtt, "rtt", 150*time.Millisecond, "round-trip time of the emulated network")
	flag.Float64Var(&cfg.down, "down", 1.6, "download bandwidth, Mbit/s")
	flag.Float64Var(&cfg.up, "up", 0.75, "upload bandwidth, Mbit/s")
	flag.StringVar(&cfg.corpusDir, "corpus", "../shared/corpus/pages", "directory of corpus pages (skipped when absent)")
	flag.StringVar(&cfg.demoDir, "demo", "examples/demo", "directory of the demo site")
	flag.StringVar(&cfg.siteDir, "site", "bench/sites/late", `static site whose .html pages to load as well ("": none)`)
	flag.StringVar(&cfg.chromium, "chromium", "", "Chromium or Chrome to run (default: chromium, chromium-browser or google-chrome on PATH)")
	flag.IntVar(&cfg.parallel, "parallel", 2, "browsers loading pages at the same time, each on its own emulated network")
	flag.StringVar(&cfg.variants, "variants", strings.Join(defaultVariants, ","), "variants to measure, comma-separated; also: "+extraVariantNames())
	flag.StringVar(&cfg.network, "network", "link", `network emulation: "link" (at the server's sockets) or "devtools"`)
	flag.BoolVar(&cfg.trace, "trace", false, "write when the server started and finished each request of each load (with the browser's priority) to stderr")
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["site"] && cfg.siteDir != "" && !set["pages"] {
		cfg.pages = 0 // -site DIR measures that site; -site "" leaves the default pages
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// extraVariantNames lists the variants that are not measured by default.
func extraVariantNames() string {
	var names []string
	for _, v := range allVariants[len(defaultVariants):] {
		names = append(names, v.name)
	}
	return strings.Join(names, ", ")
}

// run measures every page in every variant cfg.runs times, then writes the table and the
// summary lines to out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	started := time.Now()
	if cfg.progress == nil {
		cfg.progress = io.Discard
	}
	variants, err := pickVariants(cfg.variants)
	if err != nil {
		return err
	}
	if cfg.network != "link" && cfg.network != "devtools" {
		return fmt.Errorf(`-network must be "link" or "devtools", not %q`, cfg.network)
	}
	if cfg.runs < 1 || cfg.pages < 0 || cfg.parallel < 1 {
		return errors.New("-runs and -parallel must be at least 1, -pages at least 0")
	}
	if cfg.chromium == "" {
		if cfg.chromium, err = findChromium(); err != nil {
			return err
		}
	}
	sets, err := loadPageSets(cfg)
	if err != nil {
		return err
	}
	var pages []*page
	for _, set := range sets {
		pages = append(pages, set.pages...)
	}
	// The variants' hosts and 127.0.0.1, but no third-party host: the browser then does not
	// pool third-party requests into the site's connections, as it would not on the web.
	cert, err := selfsigned.New("netjet speedtest", "*.speedtest.test", "127.0.0.1")
	if err != nil {
		return err
	}
	spki := selfsigned.SPKIHash(cert.Leaf)

	var throttle *network.Conditions
	if cfg.network == "devtools" {
		throttle = &network.Conditions{
			Latency:            float64(cfg.rtt.Milliseconds()),
			DownloadThroughput: cfg.down * 1e6 / 8,
			UploadThroughput:   cfg.up * 1e6 / 8,
		}
	}
	cpuBefore, haveCPU := readCPUTimes()
	res := results{}
	var version string
	lanes := 0
	for _, set := range sets {
		// One set at a time, each with its own server and browsers: the sets' paths may
		// overlap, and a browser starts afresh anyway for every load.
		if lanes, err = measureSet(ctx, cfg, set, variants, cert, spki, throttle, res, &version); err != nil {
			return err
		}
	}
	cpu := "use unknown"
	if cpuAfter, ok := readCPUTimes(); ok && haveCPU {
		busy := cpuAfter.busySince(cpuBefore)
		cpu = fmt.Sprintf("%.0f%% busy", 100*busy)
		if busy > starvedCPU {
			fmt.Fprintf(cfg.progress, "speedtest: the CPUs were %.0f%% busy during the loads: the browsers waited for CPU, which adds to every figure; -parallel %d would give them more\n",
				100*busy, max(1, lanes/2))
		}
	}

	fmt.Fprintf(out, "speedtest: %d pages x %d variants x %d runs in %s; think %s, RTT %s, %.2g Mbit/s down, %.2g up (%s emulation); %s on %d CPUs (%s), %d at a time\n",
		len(pages), len(variants), cfg.runs, time.Since(started).Round(time.Second), cfg.think, cfg.rtt, cfg.down, cfg.up,
		cfg.network, version, runtime.NumCPU(), cpu, lanes)
	if err := writeTable(out, res, pages, variants); err != nil {
		return err
	}
	for _, line := range summaryLines(res, pages, variants) {
		if _, err := fmt.Fprintln(out, line); err != nil {
			return err
		}
	}
	return nil
}

// pageSet is pages and the site that serves them.
type pageSet struct {
	site  *site
	pages []*page
}

// loadPageSets returns the demo with the corpus pages, as many as cfg.pages says, and the
// static site's pages when cfg.siteDir names one. Page names must differ, as the table
// tells the pages apart by name.
func loadPageSets(cfg config) ([]pageSet, error) {
	var sets []pageSet
	if cfg.pages > 0 {
		pages, err := loadPages(cfg.demoDir, cfg.corpusDir, cfg.pages)
		if err != nil {
			return nil, err
		}
		if len(pages) < cfg.pages {
			fmt.Fprintf(cfg.progress, "speedtest: %d of %d pages (corpus at %s: %d found)\n", len(pages), cfg.pages, cfg.corpusDir, len(pages)-1)
		}
		s, err := newSite(pages, cfg.demoDir, cfg.think)
		if err != nil {
			return nil, err
		}
		sets = append(sets, pageSet{s, pages})
	}
	if cfg.siteDir != "" {
		s, pages, err := loadStaticSite(cfg.siteDir, cfg.think)
		if err != nil {
			return nil, err
		}
		sets = append(sets, pageSet{s, pages})
	}
	if len(sets) == 0 {
		return nil, errors.New("nothing to load: -pages is 0 and -site is empty")
	}
	names := map[string]bool{}
	for _, set := range sets {
		for _, p := range set.pages {
			if names[p.name] {
				return nil, fmt.Errorf("two pages named %q: the table could not tell them apart", p.name)
			}
			names[p.name] = true
		}
	}
	return sets, nil
}

// measureSet measures the pages of one set on browsers of its own and adds their figures to
// res. It returns how many browsers loaded pages at a time, and sets version to theirs.
func measureSet(ctx context.Context, cfg config, set pageSet, variants []variant, cert tls.Certificate, spki string,
	throttle *network.Conditions, res results, version *string) (int, error) {
	handler := set.site.handler(variants)
	teachEarlyHints(handler, set.pages, variants)
	lanes, err := startLanes(ctx, cfg, handler, cert, spki)
	defer func() {
		for _, l := range lanes {
			l.close()
		}
	}()
	if err != nil {
		return 0, err
	}
	if *version == "" {
		*version = browserVersion(lanes[0])
	}
	return len(lanes), measure(ctx, cfg, lanes, set.pages, variants, throttle, res)
}

// pickVariants returns the variants named in list, which must include none and early-hints.
func pickVariants(list string) ([]variant, error) {
	var out []variant
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := indexOf(allVariants, name)
		if i < 0 {
			return nil, fmt.Errorf("unknown variant %q", name)
		}
		out = append(out, allVariants[i])
	}
	if indexOf(out, "none") < 0 || indexOf(out, "early-hints") < 0 {
		return nil, errors.New(`-variants must include "none" and "early-hints"`)
	}
	return out, nil
}

func indexOf(vs []variant, name string) int {
	for i, v := range vs {
		if v.name == name {
			return i
		}
	}
	return -1
}

// teachEarlyHints makes two requests for every page to each variant with Early Hints, so
// that netjet has learned the route's links before the first measured load: Early Hints
// pay off from a route's third response on.
func teachEarlyHints(h http.Handler, pages []*page, variants []variant) {
	var wg sync.WaitGroup
	for _, v := range variants {
		if v.opts == nil || !v.opts.EarlyHints {
			continue
		}
		for _, p := range pages {
			wg.Go(func() {
				for range 2 {
					// From the address the browsers load from: what one client taught
					// reaches another only once three distinct clients agreed on it.
					r := httptest.NewRequest(http.MethodGet, "https://"+v.host()+p.path, nil)
					r.RemoteAddr = "127.0.0.1:1"
					h.ServeHTTP(httptest.NewRecorder(), r)
				}
			})
		}
	}
	wg.Wait()
}

// lane is one browser with its own server and its own emulated network.
type lane struct {
	link     *link
	server   *http.Server
	served   *requestLog
	browser  *browser
	dataDir  string
	trace    bool // write every request of every load to progress
	progress io.Writer
}

func startLanes(ctx context.Context, cfg config, h http.Handler, cert tls.Certificate, spki string) ([]*lane, error) {
	lanes := make([]*lane, cfg.parallel)
	errs := make([]error, cfg.parallel)
	var wg sync.WaitGroup
	for i := range lanes {
		wg.Go(func() { lanes[i], errs[i] = startLane(ctx, cfg, h, cert, spki) })
	}
	wg.Wait()
	var started []*lane
	for _, l := range lanes {
		if l != nil {
			started = append(started, l)
		}
	}
	return started, errors.Join(errs...)
}

func startLane(ctx context.Context, cfg config, h http.Handler, cert tls.Certificate, spki string) (*lane, error) {
	l := &lane{served: &requestLog{}, trace: cfg.trace, progress: cfg.progress}
	if cfg.network == "link" {
		l.link = newLink(cfg.rtt, cfg.down*1e6, cfg.up*1e6)
	} else {
		l.link = newLink(0, 0, 0) // counts bytes only
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l.server = &http.Server{
		Handler:           l.served.wrap(h),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // browsers drop connections as they please
	}
	go func() { _ = l.server.ServeTLS(l.link.listen(ln), "", "") }()
	if l.dataDir, err = os.MkdirTemp("", "speedtest-chromium-"); err != nil {
		l.close()
		return nil, err
	}
	if l.browser, err = startBrowser(ctx, cfg.chromium, l.dataDir, spki, ln.Addr().(*net.TCPAddr).Port); err != nil {
		l.close()
		return nil, err
	}
	l.served.waitQuiet(2 * time.Second) // whatever the browser fetched as it started is no page's
	l.served.take()
	return l, nil
}

func (l *lane) close() {
	if l.browser != nil {
		l.browser.cancel()
	}
	_ = l.server.Close()
	if l.dataDir != "" {
		_ = os.RemoveAll(l.dataDir)
	}
}

// load loads one page in one variant and returns its figures.
func (l *lane) load(p *page, v variant, throttle *network.Conditions) (figures, error) {
	l.served.take()
	sentBefore := l.link.sent.Load()
	f, err := l.browser.load("https://"+v.host()+p.path, throttle, func() { l.served.waitQuiet(10 * time.Second) })
	f.bytes = l.link.sent.Load() - sentBefore
	requests := l.served.take()
	counts := map[string]int{}
	for _, r := range requests {
		if counts[r.url]++; counts[r.url] == 2 {
			f.double++
		}
	}
	if l.trace && len(requests) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s: what the server sent, in ms from the page's request\n", p.name, v.name)
		for _, r := range requests {
			fmt.Fprintf(&b, "  %5d %5d  %-9q %s\n", r.start.Sub(requests[0].start).Milliseconds(),
				r.end.Sub(requests[0].start).Milliseconds(), r.priority, r.url)
			if r.link != "" {
				fmt.Fprintf(&b, "                Link: %s\n", r.link)
			}
		}
		fmt.Fprint(l.progress, b.String())
	}
	return f, err
}

// requestLog records the requests of the current page load, and knows when the last one
// ended.
type requestLog struct {
	mu       sync.Mutex
	served   []*served
	inFlight int
	lastDone time.Time
}

// served is one request the server answered.
type served struct {
	url, priority string
	start, end    time.Time
	link          string // the Link header of an HTML response, as it went out

}

func (rl *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rl.mu.Lock()
		req := &served{url: r.Host + r.URL.RequestURI(), priority: r.Header.Get("Priority"), start: time.Now()}
		rl.served = append(rl.served, req)
		rl.inFlight++
		rl.mu.Unlock()
		defer func() {
			rl.mu.Lock()
			req.end = time.Now()
			if strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				req.link = strings.Join(w.Header()["Link"], ", ")
			}
			rl.inFlight--
			rl.lastDone = time.Now()
			rl.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// take returns the requests so far and starts again with none.
func (rl *requestLog) take() []served {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	out := make([]served, len(rl.served))
	for i, r := range rl.served {
		out[i] = *r
	}
	rl.served = nil
	return out
}

// quietFor is how long the server must have had no request in flight for a page load to be
// over: a lazy image, say, is asked for after the load event.
const quietFor = 300 * time.Millisecond

// waitQuiet returns once no request has been in flight for quietFor, or after limit.
func (rl *requestLog) waitQuiet(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		rl.mu.Lock()
		quiet := rl.inFlight == 0 && time.Since(rl.lastDone) >= quietFor
		rl.mu.Unlock()
		if quiet {
			return
		}
		time.Sleep(quietFor / 10)
	}
}

// measure loads every page in every variant cfg.runs times, each lane taking the next page
// to measure. The variants of one run of a page load one after another on the same lane, in
// an order that turns from run to run, so that what changes over time (the machine, the
// other lane) weighs on each variant alike.
func measure(ctx context.Context, cfg config, lanes []*lane, pages []*page, variants []variant, throttle *network.Conditions, res results) error {
	type job struct{ page, run int }
	jobs := make(chan job)
	go func() {
		defer close(jobs)
		for r := range cfg.runs {
			for p := range pages {
				select {
				case jobs <- job{p, r}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var mu sync.Mutex
	errs := make([]error, len(lanes))
	var wg sync.WaitGroup
	for i, l := range lanes {
		wg.Go(func() {
			for j := range jobs {
				if errs[i] != nil || ctx.Err() != nil {
					continue // drain, so that the sender finishes
				}
				p := pages[j.page]
				for k := range variants {
					v := variants[(j.run+j.page+k)%len(variants)]
					f, err := l.load(p, v, throttle)
					if err != nil {
						errs[i] = fmt.Errorf("%s %s run %d: %w", p.name, v.name, j.run+1, err)
						break
					}
					mu.Lock()
					res.add(p.name, v.name, f)
					mu.Unlock()
					fmt.Fprintf(cfg.progress, "%-28s %-12s run %d/%d: FCP %5.0f LCP %5.0f load %5.0f ms, %4d KB, twice %d, hinted %d\n",
						p.name, v.name, j.run+1, cfg.runs, f.FCP, f.LCP, f.Load, f.bytes/1024, f.double, f.Hinted)
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

// browserVersion is the product name and version of the lane's browser.
func browserVersion(l *lane) string {
	v, err := l.browser.version()
	if err != nil {
		return "Chromium"
	}
	return v
}
