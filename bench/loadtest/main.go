// Command loadtest measures what netjet costs a real server: it serves one page from three
// servers on loopback (bare, netjet with a warm cache, netjet parsing every request), loads
// each in turn with wrk, interleaving the runs, and prints requests/s, latency and time to
// first byte, with each variant's ratio to the bare server.
//
// Each round runs every variant once, in the reverse order of the round before, so that a
// machine that slows down or speeds up during the run weighs on all variants alike; "paired"
// is the median of each round's ratio to the bare run of the same round, the figure least
// moved by such drift, and "paired IQR" the middle half of those ratios. A warm-up round
// comes first and is not counted.
//
//	apt-get install wrk   # Debian's package
//	go run ./bench/loadtest -page ../shared/corpus/pages/iab-1.html
//
// The servers and wrk share the machine, as they would share a real host; ratios measured in
// one run are what to compare, not absolute figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netjet-go/netjet"
)

func main() {
	page := flag.String("page", "../shared/corpus/pages/iab-1.html", "the HTML page to serve")
	duration := flag.Duration("duration", 5*time.Second, "how long each wrk run lasts")
	connections := flag.Int("connections", 32, "wrk connections")
	threads := flag.Int("threads", 1, "wrk threads")
	runs := flag.Int("runs", 5, "runs per variant, interleaved; medians are reported")
	ttfbRequests := flag.Int("ttfb-requests", 300, "sequential requests per variant to measure time to first byte")
	only := flag.String("variants", "cache-hit,no-etag,no-cache", "the netjet variants to compare with the bare server, comma-separated: fewer variants leave time for more rounds")
	flag.Parse()
	if err := run(*page, *duration, *connections, *threads, *runs, *ttfbRequests, strings.Split(*only, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// variant is one server under test.
type variant struct {
	key     string // its -variants name
	name    string
	url     string
	rps     []float64
	p99     []time.Duration
	ttfbP50 time.Duration
	ttfbP99 time.Duration
}

func run(pagePath string, duration time.Duration, connections, threads, runs, ttfbRequests int, only []string) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk not found: install it with `apt-get install wrk`")
	}
	page, err := os.ReadFile(pagePath)
	if err != nil {
		return err
	}
	serve := func(etag string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if etag != "" {
				w.Header().Set("ETag", etag)
			}
			w.Write(page)
		})
	}
	handler, noETag := serve(`"page-v1"`), serve("")
	warm, err := netjet.New(netjet.Options{})
	if err != nil {
		return err
	}
	fresh, err := netjet.New(netjet.Options{})
	if err != nil {
		return err
	}
	parseAlways, err := netjet.New(netjet.Options{CacheSize: -1})
	if err != nil {
		return err
	}
	// "no ETag": every response is new to netjet, which reads each up to its head and one in
	// 16 to its end, for the route to learn from.
	all := []*variant{{key: "bare", name: "bare"}, {key: "cache-hit", name: "netjet cache hit"},
		{key: "no-etag", name: "netjet no ETag"}, {key: "no-cache", name: "netjet no cache"}}
	handlers := map[string]http.Handler{"bare": handler, "cache-hit": warm.Handler(handler),
		"no-etag": fresh.Handler(noETag), "no-cache": parseAlways.Handler(handler)}
	variants := all[:1]
	for _, key := range only {
		i := slices.IndexFunc(all, func(v *variant) bool { return v.key == strings.TrimSpace(key) })
		if i < 1 {
			return fmt.Errorf("-variants: unknown variant %q (cache-hit, no-etag, no-cache)", key)
		}
		if !slices.Contains(variants, all[i]) {
			variants = append(variants, all[i])
		}
	}
	for _, v := range variants {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: handlers[v.key], ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		v.url = "http://" + ln.Addr().String() + "/article"
	}

	fmt.Printf("page %s (%d bytes), wrk -t%d -c%d -d%s, %d interleaved runs\n", pagePath, len(page), threads, connections, duration, runs)
	// A warm-up round, not counted: the first runs of a fresh process and a cold machine are
	// slower for reasons that have nothing to do with the variants.
	for _, v := range variants {
		if _, _, err := wrk(v.url, duration, connections, threads); err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
	}
	for r := 0; r < runs; r++ {
		order := slices.Clone(variants)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, v := range order {
			rps, p99, err := wrk(v.url, duration, connections, threads)
			if err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			v.rps = append(v.rps, rps)
			v.p99 = append(v.p99, p99)
		}
	}
	for _, v := range variants {
		if v.ttfbP50, v.ttfbP99, err = timeToFirstByte(v.url, ttfbRequests); err != nil {
			return fmt.Errorf("%s: %w", v.name, err)
		}
	}

	base := median(variants[0].rps)
	fmt.Printf("\n%-18s %12s %8s %8s %12s %10s %12s %12s\n", "variant", "req/s (med)", "x bare", "paired", "paired IQR", "p99", "TTFB p50", "TTFB p99")
	for _, v := range variants {
		rps := median(v.rps)
		ratios := make([]float64, len(v.rps))
		for i, x := range v.rps {
			ratios[i] = x / variants[0].rps[i]
		}
		slices.Sort(ratios)
		iqr := fmt.Sprintf("%.2f-%.2f", ratios[len(ratios)/4], ratios[len(ratios)*3/4])
		fmt.Printf("%-18s %12.0f %8.2f %8.2f %12s %10s %12s %12s\n", v.name, rps, rps/base, median(ratios), iqr,
			medianDuration(v.p99).Round(10*time.Microsecond), v.ttfbP50.Round(time.Microsecond), v.ttfbP99.Round(time.Microsecond))
	}
	return nil
}

var (
	rpsLine = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99Line = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
)

// wrk runs one wrk load and returns requests/s and the 99th percentile latency.
func wrk(url string, duration time.Duration, connections, threads int) (float64, time.Duration, error) {
	out, err := exec.Command("wrk", "--latency", "-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(connections),
		"-d"+strconv.Itoa(int(duration.Seconds()))+"s", url).CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("wrk: %w: %s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") || strings.Contains(string(out), "Socket errors") {
		return 0, 0, fmt.Errorf("wrk saw errors:\n%s", out)
	}
	m := rpsLine.FindSubmatch(out)
	p := p99Line.FindSubmatch(out)
	if m == nil || p == nil {
		return 0, 0, fmt.Errorf("cannot read wrk's output:\n%s", out)
	}
	rps, _ := strconv.ParseFloat(string(m[1]), 64)
	p99, _ := time.ParseDuration(string(p[1]) + strings.Replace(string(p[2]), "us", "µs", 1))
	return rps, p99, nil
}

// timeToFirstByte sends n sequential requests and returns the median and 99th percentile of the
// time from sending a request to reading the first byte of its response.
func timeToFirstByte(url string, n int) (p50, p99 time.Duration, err error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	samples := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		var start, first time.Time
		trace := &httptrace.ClientTrace{
			WroteRequest:         func(httptrace.WroteRequestInfo) { start = time.Now() },
			GotFirstResponseByte: func() { first = time.Now() },
		}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		samples = append(samples, first.Sub(start))
	}
	slices.Sort(samples)
	return samples[len(samples)/2], samples[len(samples)*99/100], nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianDuration(xs []time.Duration) time.Duration {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
