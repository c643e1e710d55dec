package netjet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/netjet-go/netjet"
)

// The load test's shape: enough clients and requests to overlap every path of the writer
// and evict the small cache constantly, few enough to finish in well under a minute with -race.
const (
	loadClientsPerProtocol = 32
	loadRequestsPerClient  = 12
	loadMaxBuffer          = 256 << 10
	loadChunk              = 16 << 10 // divides loadMaxBuffer: the header goes out after whole writes
)

// loadSite is what the load test serves: pages with ETags, and handlers that misbehave.
type loadSite struct {
	pages [][]byte
	etags []string
	// ownLinks holds every link value of each page, without caps, over plain HTTP ([0]) and
	// over TLS ([1]), where mixed content is left out: a response may name any of its own
	// page's links, and nothing else.
	ownLinks [2]map[string]map[string]bool // by path

	served   atomic.Int64 // requests handled, retries included
	ids      sync.Map     // loadRequestHeader values seen
	inFlight atomic.Int64
	peak     atomic.Int64 // the most handlers running at once
}

// distinctRequests counts the requests that reached the handler, once each.
func (site *loadSite) distinctRequests() int {
	n := 0
	site.ids.Range(func(any, any) bool { n++; return true })
	return n
}

func newLoadSite(t *testing.T) *loadSite {
	site := &loadSite{ownLinks: [2]map[string]map[string]bool{{}, {}}}
	if corpus, ok := loadCorpus(t); ok {
		names := make([]string, 0, len(corpus))
		for name := range corpus {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			site.pages = append(site.pages, corpus[name])
		}
	} else {
		site.pages = generatedPages(60)
	}
	expect := mustPreloader(t, uncapped)
	for i, page := range site.pages {
		sum := sha256.Sum256(page)
		site.etags = append(site.etags, `"`+hex.EncodeToString(sum[:8])+`"`)
		// The document's URL matters for a relative <base>.
		for _, path := range []string{fmt.Sprintf("/page/%d", i), fmt.Sprintf("/slow/%d", i)} {
			site.ownLinks[0][path] = linkSet(expect.Links(page, path))
			site.ownLinks[1][path] = linkSet(expect.LinksOverTLS(page, path))
		}
	}
	return site
}

// loadCorpus returns the corpus pages, or false when there is no corpus.
func loadCorpus(t *testing.T) (map[string][]byte, bool) {
	var pages map[string][]byte
	ok := t.Run("corpus", func(t *testing.T) { pages = corpusPages(t) })
	return pages, ok && len(pages) > 0
}

// generatedPages stands in for the corpus: pages from 2 KB to 600 KB, with links in the head,
// images through the body, and large inline scripts.
func generatedPages(n int) [][]byte {
	pages := make([][]byte, n)
	for i := range pages {
		var b bytes.Buffer
		fmt.Fprintf(&b, "<!doctype html><html><head><title>page %d</title>", i)
		for j := 0; j < i%12; j++ {
			fmt.Fprintf(&b, "<link rel=stylesheet href=/css/%d-%d.css><script src=/js/%d-%d.js></script>", i, j, i, j)
		}
		fmt.Fprintf(&b, "<script>var data = %q;</script></head><body>", strings.Repeat("x", (i*7919)%(64<<10)))
		for b.Len() < 2<<10+(i*104729)%(600<<10) {
			fmt.Fprintf(&b, "<p>%s</p><img src=/img/%d-%d.png>", strings.Repeat("text ", 40), i, b.Len())
		}
		b.WriteString("</body></html>")
		pages[i] = b.Bytes()
	}
	return pages
}

// handler serves /page/N (ETag, chunks, Content-Length on odd pages), /slow/N (a flush after
// each chunk), /panic-abort and /panic (after a first write), and /hijack.
func (site *loadSite) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site.served.Add(1)
		site.ids.Store(r.Header.Get(loadRequestHeader), true)
		now := site.inFlight.Add(1)
		defer site.inFlight.Add(-1)
		for {
			p := site.peak.Load()
			if now <= p || site.peak.CompareAndSwap(p, now) {
				break
			}
		}
		route, arg, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		switch route {
		case "page", "slow":
			i, err := strconv.Atoi(arg)
			if err != nil || i < 0 || i >= len(site.pages) {
				http.NotFound(w, r)
				return
			}
			page := site.pages[i]
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			if route == "page" {
				w.Header().Set("ETag", site.etags[i])
				if i%2 == 1 {
					w.Header().Set("Content-Length", strconv.Itoa(len(page)))
				}
			}
			for len(page) > 0 {
				n := min(len(page), loadChunk)
				if _, err := w.Write(page[:n]); err != nil {
					return // the client went away
				}
				page = page[n:]
				if route == "slow" {
					if err := http.NewResponseController(w).Flush(); err != nil {
						return
					}
					time.Sleep(time.Millisecond)
				}
			}
		case "panic-abort":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><title>half a head</title><link rel=stylesheet href=/half.css>")
			panic(http.ErrAbortHandler)
		case "panic":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><title>half a head</title><link rel=stylesheet href=/half.css>")
			panic("the handler failed")
		case "hijack":
			conn, brw, err := http.NewResponseController(w).Hijack()
			if errors.Is(err, http.ErrNotSupported) {
				io.WriteString(w, "not hijacked") // HTTP/2 has no connection to give
				return
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			brw.Flush()
		default:
			http.NotFound(w, r)
		}
	})
}

// heapSampler records the largest HeapInuse seen while it runs.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
}

func sampleHeap(every time.Duration) *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			s.peak = max(s.peak, m.HeapInuse)
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) finish() uint64 {
	close(s.stop)
	<-s.done
	return s.peak
}

// loadClient is one client's view of the site over one protocol.
type loadClient struct {
	site   *loadSite
	client *http.Client
	base   string
	http2  bool // over TLS, as the HTTP/2 server is the TLS one
}

// checkOwnLinks checks that a response's Link values are valid and name only links of its own
// page: whatever other clients' requests taught, nothing of another page reaches it.
func (c *loadClient) checkOwnLinks(t *testing.T, values []string, path, what string) {
	for _, v := range values {
		_, err := parseLinkHeader(v)
		assert.NoError(t, err, what)
		for _, l := range splitLinks(v) {
			assert.True(t, c.site.ownLinks[c.tls()][path][l], "%s: %q is no link of this page", what, l)
		}
	}
}

// tls indexes loadSite.ownLinks: 1 over TLS.
func (c *loadClient) tls() int {
	if c.http2 {
		return 1
	}
	return 0
}

// one sends a request of the given kind and checks what comes back. It runs on the
// client's goroutine, so it reports with assert (t.Errorf) and returns, never t.FailNow.
func (c *loadClient) one(t *testing.T, id, kind string, page int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	method, path := http.MethodGet, "/"+kind
	switch kind {
	case "page", "cancel":
		path = fmt.Sprintf("/page/%d", page)
	case "slow":
		path = fmt.Sprintf("/slow/%d", page)
	case "head":
		method, path = http.MethodHead, fmt.Sprintf("/page/%d", page)
	}
	what := fmt.Sprintf("%s %s (request %s, HTTP/2 %v)", method, path, id, c.http2)
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if !assert.NoError(t, err) {
		return
	}
	req.Header.Set(loadRequestHeader, id)
	resp, err := c.client.Do(req)
	if kind == "panic-abort" {
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		assert.Error(t, err, "%s: an aborted handler's response must not arrive complete", what)
		return
	}
	if !assert.NoError(t, err, what) {
		return
	}
	defer resp.Body.Close()
	want := c.site.pages[page]
	switch kind {
	case "page", "slow":
		if !assert.Equal(t, http.StatusOK, resp.StatusCode, what) {
			return
		}
		assert.NoError(t, compareStream(resp.Body, want), what)
		c.checkOwnLinks(t, resp.Header["Link"], path, what)
	case "head":
		assert.Equal(t, http.StatusOK, resp.StatusCode, what)
		c.checkOwnLinks(t, resp.Header["Link"], path, what)
	case "cancel":
		if !assert.Equal(t, http.StatusOK, resp.StatusCode, what) {
			return
		}
		_, err := io.ReadFull(resp.Body, make([]byte, min(len(want), 4<<10)))
		assert.NoError(t, err, what)
		cancel() // mid-body: the server's writes fail from here on
	case "panic":
		body, err := io.ReadAll(resp.Body)
		assert.NoError(t, err, what)
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode, "%s: the recoverer's 500, not the half-written 200", what)
		assert.Equal(t, "recovered\n", string(body), what)
		assert.Empty(t, resp.Header["Link"], "%s: no links from half a head", what)
	case "hijack":
		body, err := io.ReadAll(resp.Body)
		assert.NoError(t, err, what)
		assert.Equal(t, http.StatusOK, resp.StatusCode, what)
		if c.http2 {
			assert.Equal(t, "not hijacked", string(body), what)
		} else {
			assert.Equal(t, "hijacked", string(body), what)
		}
	}
}

// loadRequestHeader carries a request's id, so that the server counts each request once
// even when the client transport retries it.
const loadRequestHeader = "X-Load-Request"

// loadKinds are the kinds of request a client sends, by weight.
var loadKinds = []struct {
	kind   string
	weight int
}{{"page", 60}, {"slow", 6}, {"head", 6}, {"cancel", 12}, {"panic", 5}, {"panic-abort", 5}, {"hijack", 6}}

func pickKind(r *rand.Rand) string {
	total := 0
	for _, k := range loadKinds {
		total += k.weight
	}
	n := r.IntN(total)
	for _, k := range loadKinds {
		if n < k.weight {
			return k.kind
		}
		n -= k.weight
	}
	panic("unreachable")
}

// TestLoadManyClientsOneMiddleware runs many clients over HTTP/1.1 and HTTP/2 against one
// middleware with a cache far smaller than the site. Every body must arrive byte for byte,
// every Link header must be the page's, misbehaving handlers must not disturb the others,
// the heap must stay within the buffers the clients can hold, and no goroutine may outlive
// the servers.
func TestLoadManyClientsOneMiddleware(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped with -short")
	}
	site := newLoadSite(t)
	baselineGoroutines := runtime.NumGoroutine()
	// With the default GOGC the heap may hold as much garbage as live data before a
	// collection; a low setting makes HeapInuse follow what is actually held.
	defer debug.SetGCPercent(debug.SetGCPercent(loadGCPercent))
	baselineHeap := retainedHeap()

	h := recoverer(mustPreloader(t, netjet.Options{CacheSize: 8, MaxBufferBytes: loadMaxBuffer}).Handler(site.handler()))
	var logs lockedBuffer
	h1 := httptest.NewUnstartedServer(h)
	h1.Config.ErrorLog = log.New(&logs, "http/1.1: ", 0)
	h1.Start()
	h2 := httptest.NewUnstartedServer(h)
	h2.Config.ErrorLog = log.New(&logs, "http/2: ", 0)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	h1Transport := &http.Transport{MaxIdleConnsPerHost: loadClientsPerProtocol, DisableCompression: true}
	h2Transport := h2.Client().Transport.(*http.Transport)
	h2Transport.DisableCompression = true

	// A request that hangs fails on its own instead of holding the whole test.
	const requestTimeout = 30 * time.Second
	clients := []*loadClient{}
	for i := 0; i < loadClientsPerProtocol; i++ {
		clients = append(clients,
			&loadClient{site: site, client: &http.Client{Transport: h1Transport, Timeout: requestTimeout}, base: h1.URL},
			&loadClient{site: site, client: &http.Client{Transport: h2Transport, Timeout: requestTimeout}, base: h2.URL, http2: true})
	}

	sampler := sampleHeap(5 * time.Millisecond)
	start := time.Now()
	var wg sync.WaitGroup
	for ci, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(ci), 1))
			for j := 0; j < loadRequestsPerClient; j++ {
				// Page by page, so that together the clients fetch every page.
				page := (ci*loadRequestsPerClient + j) % len(site.pages)
				c.one(t, fmt.Sprintf("%d.%d", ci, j), pickKind(r), page)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	peakHeap := sampler.finish()

	h1.Close()
	h2.Close()
	h1Transport.CloseIdleConnections()
	h2Transport.CloseIdleConnections()

	concurrency := len(clients)
	bound := baselineHeap + uint64(loadMaxBuffer*concurrency) + loadHeapSlack
	t.Logf("%d requests (%d handler runs with the client's retries) in %v, %d clients, %d handlers at once at most; "+
		"peak HeapInuse %.1f MiB (baseline %.1f MiB + MaxBufferBytes x clients %.1f MiB + slack %.1f MiB = bound %.1f MiB)",
		site.distinctRequests(), site.served.Load(), elapsed.Round(time.Millisecond), concurrency, site.peak.Load(), mib(peakHeap),
		mib(baselineHeap), mib(uint64(loadMaxBuffer*concurrency)), mib(loadHeapSlack), mib(bound))
	assert.Equal(t, len(clients)*loadRequestsPerClient, site.distinctRequests(), "requests that reached the handler")
	assert.LessOrEqual(t, peakHeap, bound, "peak HeapInuse")
	assert.NotContains(t, logs.String(), "superfluous", "netjet made net/http log a superfluous WriteHeader")
	assert.NotContains(t, logs.String(), "panic serving", "a panic escaped")

	waitForGoroutines(t, baselineGoroutines)
}

// loadHeapSlack is what the heap may hold beyond the clients' buffers: both servers' and
// transports' connection buffers, TLS state, the cache, pooled buffers and the garbage that
// loadGCPercent allows.
const (
	loadHeapSlack = 32 << 20
	loadGCPercent = 10
)

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// waitForGoroutines polls until no more goroutines run than before the test, and fails with
// their stacks when some are still running after a few seconds.
func waitForGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		var stacks strings.Builder
		_ = pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		t.Errorf("%d goroutines still running, %d before the test:\n%s", n, baseline, stacks.String())
	}
}
