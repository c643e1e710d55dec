package netjet_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// A body that will be parsed anyway (it has an ETag, or the cache is off) is read as it
// arrives: once its links can no longer change, the header goes out and the rest streams.

// earlyHead holds two stylesheets, all that Options{Kinds: Styles, MaxLinks: 2} can take,
// and enough text after them that netjet reads the body before the handler has finished.
var earlyHead = `<!doctype html><html><head><link rel="stylesheet" href="/a.css">` +
	`<link rel="stylesheet" href="/b.css"></head><body>` + strings.Repeat("<p>early text</p>", 400)

const (
	lateTail  = `<link rel="stylesheet" href="/late.css"><p>late text</p></body></html>`
	earlyLink = "</a.css>; rel=preload; as=style, </b.css>; rel=preload; as=style"
)

func TestFinalLinksSendTheHeaderAndStreamTheRest(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			clientRead := make(chan struct{})
			p, err := netjet.New(netjet.Options{Kinds: netjet.Styles, MaxLinks: 2})
			require.NoError(t, err)
			srv := proto.start(t, p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("ETag", `"v1"`)
				_, _ = io.WriteString(w, earlyHead)
				// No flush: the header and the first part must reach the client all the same.
				if r.Header.Get("X-Second") != "" || waitFor(t, clientRead, "the client to read the first part") {
					_, _ = io.WriteString(w, lateTail)
				}
			})))

			resp, err := srv.Client().Do(srv.newRequest(t, http.MethodGet, "/"))
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, []string{earlyLink}, resp.Header.Values("Link"))
			// net/http sends a body as its buffer fills; the last few KB wait for the next write,
			// as they would without netjet.
			first := make([]byte, 1024)
			_, err = io.ReadFull(resp.Body, first)
			require.NoError(t, err)
			assert.Equal(t, earlyHead[:len(first)], string(first))
			close(clientRead)
			rest, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, earlyHead[len(first):]+lateTail, string(rest))
			assert.Equal(t, [2]uint64{1, 0}, [2]uint64{p.Stats().Parsed, p.Stats().CacheHits}, "parsed, cache hits")

			// The links were final: the page's ETag remembers them.
			req := srv.newRequest(t, http.MethodGet, "/")
			req.Header.Set("X-Second", "1")
			resp, body := srv.fetch(t, req)
			assert.Equal(t, []string{earlyLink}, resp.Header.Values("Link"))
			assert.Equal(t, earlyHead+lateTail, body)
			assert.Equal(t, [2]uint64{1, 1}, [2]uint64{p.Stats().Parsed, p.Stats().CacheHits}, "parsed, cache hits")
		})
	}
}

// sentWatcher tells whether the status went out on the writer beneath netjet.
type sentWatcher struct {
	http.ResponseWriter
	sent bool
}

func (w *sentWatcher) WriteHeader(code int) { w.sent = true; w.ResponseWriter.WriteHeader(code) }
func (w *sentWatcher) Write(b []byte) (int, error) {
	w.sent = true
	return w.ResponseWriter.Write(b)
}

// TestHeaderGoesOutAfterTheHead: whatever the page's ETag and the cache, the header goes out
// once the head has been read, before the handler writes the rest; the rest streams.
func TestHeaderGoesOutAfterTheHead(t *testing.T) {
	cases := []struct {
		name string
		opts netjet.Options
		etag string
	}{
		{"no ETag, cache on", netjet.Options{Kinds: netjet.Styles, MaxLinks: 2}, ""},
		{"no ETag, cache off", netjet.Options{Kinds: netjet.Styles, MaxLinks: 2, CacheSize: -1}, ""},
		{"ETag", netjet.Options{Kinds: netjet.Styles, MaxLinks: 2}, `"v1"`},
		// A later stylesheet could still take a place: it is not waited for.
		{"room for more links", netjet.Options{Kinds: netjet.Styles, MaxLinks: 3}, `"v1"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sentBeforeEnd bool
			h := preload(t, c.opts, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				if c.etag != "" {
					w.Header().Set("ETag", c.etag)
				}
				_, _ = io.WriteString(w, earlyHead)
				sentBeforeEnd = r.Context().Value(watcherKey{}).(*sentWatcher).sent
				_, _ = io.WriteString(w, lateTail)
			}))
			srv := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sw := &sentWatcher{ResponseWriter: w}
				h.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), watcherKey{}, sw)))
			}))
			resp, body := srv.get(t, "/")
			assert.True(t, sentBeforeEnd, "the header went out before the handler wrote the rest")
			assert.Equal(t, earlyHead+lateTail, body)
			assert.Equal(t, []string{earlyLink}, resp.Header.Values("Link"))
		})
	}
}

type watcherKey struct{}

// TestArrivingBodyGivesTheLinksOfTheWholePage writes every corpus page in random pieces to a
// Preloader that reads it as it arrives, and compares the response with one that read the
// page whole.
func TestArrivingBodyGivesTheLinksOfTheWholePage(t *testing.T) {
	pages := corpusPages(t)
	for _, opts := range []netjet.Options{{}, {Kinds: netjet.Styles, MaxLinks: 1}, {MaxLinks: 3, MaxImages: 1}} {
		whole := opts
		arriving := opts
		arriving.CacheSize = -1
		wholeSrv := startServer(t, preload(t, whole, servePage(pages, "")))
		arrivingSrv := startServer(t, preload(t, arriving, servePage(pages, `"v1"`)))
		for name, doc := range pages {
			wantResp, wantBody := wholeSrv.get(t, "/"+name)
			gotResp, gotBody := arrivingSrv.get(t, "/"+name)
			require.Equal(t, string(doc), gotBody, name)
			require.Equal(t, wantBody, gotBody, name)
			require.Equal(t, wantResp.Header.Values("Link"), gotResp.Header.Values("Link"), "%s with %+v", name, opts)
		}
	}
}

// servePage serves the corpus page named by the path, with etag unless it is empty, in
// writes of random sizes.
func servePage(pages map[string][]byte, etag string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		doc := pages[strings.TrimPrefix(r.URL.Path, "/")]
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if etag != "" {
			w.Header().Set("ETag", etag)
		}
		rng := rand.New(rand.NewPCG(uint64(len(doc)), 7))
		for len(doc) > 0 {
			n := min(len(doc), 1+rng.IntN(16<<10))
			_, _ = w.Write(doc[:n])
			doc = doc[n:]
		}
	}
}

// slowHead is the head of a page whose body is written later, as its data arrives: large
// enough (inline style) that net/http sends it on without netjet, as a real head does.
var slowHead = `<!doctype html><html><head><link rel="stylesheet" href="/app.css">` +
	`<style>` + strings.Repeat(".c{color:red}", 500) + `</style></head><body>`

// TestSlowPageHeaderArrivesWhileTheHandlerWrites: a page whose head is written first and whose
// body follows later gets its header, with the head's links, while the handler is still at
// work, over HTTP/1.1 and HTTP/2, with and without an ETag, on the first response and later
// ones. From the third response on, the body's image, learned from the earlier ones, is in
// the header too.
func TestSlowPageHeaderArrivesWhileTheHandlerWrites(t *testing.T) {
	const (
		headLinks = "</app.css>; rel=preload; as=style"
		allLinks  = headLinks + ", </hero.jpg>; rel=preload; as=image"
		tail      = `<img src="/hero.jpg"><p>the body</p></body></html>`
	)
	for _, proto := range protocols {
		for _, etag := range []string{"none", "fixed", "new"} {
			t.Run(proto.name+"/ETag "+etag, func(t *testing.T) {
				var gotHeader chan struct{}
				var n atomic.Int64
				srv := proto.start(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					switch etag {
					case "fixed":
						w.Header().Set("ETag", `"v1"`)
					case "new":
						w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, n.Add(1)))
					}
					_, _ = io.WriteString(w, slowHead)
					if waitFor(t, gotHeader, "the client to get the header while the body is still to come") {
						_, _ = io.WriteString(w, tail)
					}
				})))
				for i := 1; i <= 3; i++ {
					gotHeader = make(chan struct{})
					resp, err := srv.Client().Do(srv.newRequest(t, http.MethodGet, "/"))
					require.NoError(t, err)
					close(gotHeader)
					body, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					require.NoError(t, err)
					assert.Equal(t, slowHead+tail, string(body))
					want := headLinks
					if i == 3 || i == 2 && etag == "fixed" {
						want = allLinks // learned by the route, or from the page cache
					}
					assert.Equal(t, []string{want}, resp.Header.Values("Link"), "response %d", i)
				}
			})
		}
	}
}

// progressivePage writes slowHead, then 20 parts of its body 25 ms apart, without a
// flush, as a handler does that writes while its data arrives. etag says which ETag to send:
// none, a fixed one, or a new one each time.
func progressivePage(etag string) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch etag {
		case "fixed":
			w.Header().Set("ETag", `"v1"`)
		case "new":
			w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, n.Add(1)))
		}
		io.WriteString(w, slowHead)
		for i := range 20 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(25 * time.Millisecond):
			}
			fmt.Fprintf(w, `<p>part %d`+strings.Repeat(" text", 2000)+`</p><img src="/img/%d.png">`, i, i)
		}
		io.WriteString(w, `</body></html>`)
	}
}

// BenchmarkFirstByte measures the time to the response headers of a progressively written page
// (progressivePage) from a bare server and through netjet, one after the other in each
// iteration, and reports both and their difference: netjet must not hold the page back past
// its head. Run it with -benchtime 20x: each request's body takes half a second, which is
// cut short once the headers are in.
func BenchmarkFirstByte(b *testing.B) {
	for _, etag := range []string{"none", "fixed", "new"} {
		b.Run("etag-"+etag, func(b *testing.B) {
			p, err := netjet.New(netjet.Options{})
			if err != nil {
				b.Fatal(err)
			}
			bare := httptest.NewServer(progressivePage(etag))
			defer bare.Close()
			withNetjet := httptest.NewServer(p.Handler(progressivePage(etag)))
			defer withNetjet.Close()
			firstByte := func(url string) time.Duration {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel() // the rest of the body is not waited for
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				d := time.Since(start)
				resp.Body.Close()
				return d
			}
			var bareTimes, netjetTimes []time.Duration
			for b.Loop() {
				bareTimes = append(bareTimes, firstByte(bare.URL+"/page"))
				netjetTimes = append(netjetTimes, firstByte(withNetjet.URL+"/page"))
			}
			bareMedian, netjetMedian := median(bareTimes), median(netjetTimes)
			b.ReportMetric(float64(bareMedian.Microseconds())/1000, "bare-ms")
			b.ReportMetric(float64(netjetMedian.Microseconds())/1000, "netjet-ms")
			b.ReportMetric(float64((netjetMedian-bareMedian).Microseconds())/1000, "diff-ms")
		})
	}
}

// median returns the median of ds, which it sorts.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}
