package netjetcaddy_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// The Link header netjet adds to the test pages, and the hint it sends in their 103: the
// stylesheet and the blocking script, what holds up the first render.
const (
	pageLinks = "</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script, </hero.png>; rel=preload; as=image"
	pageHint  = "</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script"
)

func siteRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", "site"))
	require.NoError(t, err)
	return root
}

func TestFileServerPagesGetLinksAndKeepTheirBodies(t *testing.T) {
	c := startCaddy(t, `
	root * `+siteRoot(t)+`
	encode gzip {
		minimum_length 64
	}
	netjet
	file_server`)
	page := readFile(t, "site/index.html")
	for _, cl := range []*client{h1Client(t, c.cert.pool), h2Client(t, c.cert.pool), h3Client(t, c.cert.pool)} {
		t.Run(cl.name, func(t *testing.T) {
			res := cl.get(t, c.url+"/")
			require.Equal(t, http.StatusOK, res.status)
			assert.Equal(t, cl.name, protoName(res.resp))
			assert.Equal(t, pageLinks, res.resp.Header.Get("Link"))
			assert.Equal(t, page, res.body, "the page as file_server sent it")
			assert.Empty(t, res.early, "no 103 without early_hints")

			css := cl.get(t, c.url+"/app.css")
			assert.Equal(t, readFile(t, "site/app.css"), css.body)
			assert.Empty(t, css.resp.Header.Values("Link"), "a stylesheet gets no Link header")
		})
	}

	// netjet is inside encode: it reads the page before encode compresses it, and the
	// compressed body is the page.
	res := h2Client(t, c.cert.pool).get(t, c.url+"/", "Accept-Encoding", "gzip")
	require.Equal(t, "gzip", res.resp.Header.Get("Content-Encoding"))
	assert.Equal(t, pageLinks, res.resp.Header.Get("Link"))
	zr, err := gzip.NewReader(bytes.NewReader([]byte(res.body)))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, page, string(plain))
}

// protoName names the protocol of a response as the clients are named.
func protoName(r *http.Response) string {
	switch r.ProtoMajor {
	case 3:
		return "HTTP/3"
	case 2:
		return "HTTP/2"
	}
	return r.Proto
}

func TestPHPOriginBehindReverseProxy(t *testing.T) {
	origin := phpOrigin(t)
	c := startCaddy(t, `
	netjet
	reverse_proxy `+origin)

	// What PHP itself sends, without Caddy: the body Caddy must pass on unchanged.
	direct, err := http.Get("http://" + origin + "/?name=caddy")
	require.NoError(t, err)
	want, err := io.ReadAll(direct.Body)
	direct.Body.Close()
	require.NoError(t, err)
	require.Empty(t, direct.Header.Values("Link"), "PHP sends no Link header of its own")
	require.Contains(t, string(want), "Hello, caddy")

	for _, cl := range []*client{h1Client(t, c.cert.pool), h2Client(t, c.cert.pool), h3Client(t, c.cert.pool)} {
		t.Run(cl.name, func(t *testing.T) {
			res := cl.get(t, c.url+"/?name=caddy")
			require.Equal(t, http.StatusOK, res.status)
			assert.Equal(t, cl.name, protoName(res.resp))
			assert.Equal(t, pageLinks, res.resp.Header.Get("Link"))
			assert.Equal(t, string(want), res.body)
		})
	}
}

// earlyHints returns the 103 responses among res's 1xx responses.
func earlyHints(res *result) []informational {
	var out []informational
	for _, i := range res.early {
		if i.code == http.StatusEarlyHints {
			out = append(out, i)
		}
	}
	return out
}

// maxLearning is how many navigations after the first a route may take before netjet sends
// its 103: netjet learns a route's hints from its pages.
const maxLearning = 5

// untilHinted navigates to url until a response comes after a 103, at most maxLearning times
// after the first, and returns that response. The first navigation of a route never gets
// one: nothing has been learned yet.
func (c *client) untilHinted(t *testing.T, url string) *result {
	t.Helper()
	first := c.get(t, url)
	require.Empty(t, first.early, "%s: 1xx responses before the route was ever seen", c.name)
	for range maxLearning {
		if res := c.get(t, url); len(res.early) > 0 {
			return res
		}
	}
	t.Fatalf("%s: no 103 in %d navigations", c.name, maxLearning+1)
	return nil
}

// requireOneHint checks that res came after exactly one 1xx response, a 103 with the test
// page's hint, and with the page's Link header.
func requireOneHint(t *testing.T, res *result) {
	t.Helper()
	require.Equal(t, http.StatusOK, res.status)
	hints := earlyHints(res)
	require.Len(t, hints, 1, "103 responses")
	assert.Equal(t, []string{pageHint}, hints[0].header.Values("Link"))
	assert.Len(t, res.early, 1, "1xx responses, 103 or other")
	assert.Equal(t, pageLinks, res.resp.Header.Get("Link"))
}

func TestEarlyHintsReachHTTP2AndHTTP3Clients(t *testing.T) {
	origin := phpOrigin(t)
	for _, newClient := range []func(*testing.T, *x509.CertPool) *client{h2Client, h3Client} {
		c := startCaddy(t, `
	encode
	netjet {
		early_hints
	}
	reverse_proxy `+origin)
		cl := newClient(t, c.cert.pool)
		t.Run(cl.name, func(t *testing.T) {
			res := cl.untilHinted(t, c.url+"/")
			assert.Equal(t, cl.name, protoName(res.resp))
			requireOneHint(t, res)
			requireOneHint(t, cl.get(t, c.url+"/")) // and the next navigation too

			// A request that is not a navigation (a fetch(), a preload) gets no 103.
			assert.Empty(t, cl.get(t, c.url+"/", "Sec-Fetch-Mode", "cors").early)
		})
	}
}

func TestEarlyHintsSkipHTTP1UnlessAllowed(t *testing.T) {
	for _, allow := range []bool{false, true} {
		site := `
	root * ` + siteRoot(t) + `
	netjet {
		early_hints
	}
	file_server`
		if allow {
			site = `
	root * ` + siteRoot(t) + `
	netjet {
		early_hints
		early_hints_http1
	}
	file_server`
		}
		c := startCaddy(t, site)
		cl := h1Client(t, c.cert.pool)
		if allow {
			res := cl.untilHinted(t, c.url+"/")
			require.Equal(t, "HTTP/1.1", res.resp.Proto)
			requireOneHint(t, res)
			continue
		}
		for i := range maxLearning + 1 {
			res := cl.get(t, c.url+"/")
			require.Equal(t, "HTTP/1.1", res.resp.Proto)
			assert.Equal(t, pageLinks, res.resp.Header.Get("Link"))
			assert.Empty(t, res.early, "navigation %d without early_hints_http1", i+1)
		}
	}
}

func TestCaddyErrorRoutesStillHandleErrors(t *testing.T) {
	c := startCaddy(t, `
	root * `+siteRoot(t)+`
	netjet
	file_server
	handle_errors {
		respond "error route: {err.status_code}" 404
	}`)
	res := h2Client(t, c.cert.pool).get(t, c.url+"/missing.html")
	assert.Equal(t, http.StatusNotFound, res.status)
	assert.Equal(t, "error route: 404", res.body, "file_server's error reached Caddy's error route")
}

// TestReverseProxyForwardsTheOrigin103 is the recipe of an origin that runs netjet itself
// behind Caddy: the origin sends its 103 over the HTTP/1.1 hop, and Caddy's reverse_proxy
// passes it on to an HTTP/2 or HTTP/3 client.
func TestReverseProxyForwardsTheOrigin103(t *testing.T) {
	p, err := netjet.New(netjet.Options{EarlyHints: true, EarlyHintsHTTP1: true})
	require.NoError(t, err)
	page, err := os.ReadFile(filepath.Join("testdata", "site", "index.html"))
	require.NoError(t, err)
	var mu sync.Mutex
	var protos []string
	origin := httptest.NewServer(p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos = append(protos, r.Proto)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})))
	t.Cleanup(origin.Close)

	c := startCaddy(t, `
	reverse_proxy `+origin.Listener.Addr().String())
	for _, cl := range []*client{h2Client(t, c.cert.pool), h3Client(t, c.cert.pool)} {
		t.Run(cl.name, func(t *testing.T) {
			res := cl.untilHinted(t, c.url+"/"+cl.name[len("HTTP/"):]) // a route per client
			require.Equal(t, cl.name, protoName(res.resp))
			requireOneHint(t, res)
			assert.Equal(t, string(page), res.body)
		})
	}
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, protos)
	for _, p := range protos {
		assert.Equal(t, "HTTP/1.1", p, "the hop from Caddy to the origin")
	}
}

// TestSlowOriginPagesGetLinks is about Caddy's reverse_proxy, which flushes a response of
// unknown length as soon as its header arrives: netjet must still read the page before its
// header goes to the client.
func TestSlowOriginPagesGetLinks(t *testing.T) {
	page := readFile(t, "site/index.html")
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		// An application that takes a while to build the page after its header: the
		// header reaches Caddy well before the body.
		time.Sleep(100 * time.Millisecond)
		_, _ = io.WriteString(w, page)
	}))
	t.Cleanup(origin.Close)
	c := startCaddy(t, `
	netjet
	reverse_proxy `+origin.Listener.Addr().String())
	for _, cl := range []*client{h1Client(t, c.cert.pool), h2Client(t, c.cert.pool), h3Client(t, c.cert.pool)} {
		res := cl.get(t, c.url+"/"+cl.name[len("HTTP/"):]) // a page not seen before for each
		assert.Equal(t, pageLinks, res.resp.Header.Get("Link"), cl.name)
		assert.Equal(t, page, res.body, cl.name)
	}
}

// TestStreamsStillStream checks that what netjet does not read (here server-sent events)
// keeps flowing through Caddy's reverse_proxy as the origin flushes it.
func TestStreamsStillStream(t *testing.T) {
	release := make(chan struct{})
	released := make(chan bool, 1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: first\n\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release: // the client has read the first event
			released <- true
		case <-time.After(10 * time.Second):
			released <- false
		}
		_, _ = io.WriteString(w, "data: second\n\n")
	}))
	t.Cleanup(origin.Close)
	c := startCaddy(t, `
	netjet
	reverse_proxy `+origin.Listener.Addr().String())

	resp, err := h2Client(t, c.cert.pool).http.Get(c.url + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "data: first\n", line)
	close(release)
	assert.True(t, <-released, "the first event reached the client while the origin waited")
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "\ndata: second\n\n", string(rest))
}

// TestUpgradedConnectionsPassThrough checks that a connection upgrade (as WebSocket does)
// through Caddy's reverse_proxy still reaches the origin's hijacked connection with netjet
// in the chain: the writers netjet and the module put around Caddy's hand the connection on.
func TestUpgradedConnectionsPassThrough(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "upgrade to echo", http.StatusUpgradeRequired)
			return
		}
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "echo")
		w.WriteHeader(http.StatusSwitchingProtocols)
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		line, err := brw.ReadString('\n')
		if err != nil {
			return
		}
		_, _ = brw.WriteString("echo: " + line)
		_ = brw.Flush()
	}))
	t.Cleanup(origin.Close)
	c := startCaddy(t, `
	netjet {
		early_hints
	}
	reverse_proxy `+origin.Listener.Addr().String())

	req, err := http.NewRequest(http.MethodGet, c.url+"/socket", nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	// The transport itself: http.Client's Timeout would hide the connection behind a body
	// that only reads.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := h1Client(t, c.cert.pool).http.Transport.RoundTrip(req.WithContext(ctx))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	rw, ok := resp.Body.(io.ReadWriter)
	require.True(t, ok, "the body of a 101 is the connection")
	_, err = io.WriteString(rw, "hello\n")
	require.NoError(t, err)
	line, err := bufio.NewReader(rw).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "echo: hello\n", line)
}

// TestRouteGroupsPages checks route through Caddy: with the first path
// segment as the route, pages that netjet has never seen get the hints their section taught.
func TestRouteGroupsPages(t *testing.T) {
	page := readFile(t, "site/index.html")
	for _, grouped := range []bool{false, true} {
		route := ""
		if grouped {
			route = "route {http.request.host}/{http.request.uri.path.0}"
		}
		c := startCaddy(t, `
	netjet {
		early_hints
		`+route+`
	}
	header Content-Type "text/html; charset=utf-8"
	respond `+"`"+page+"`")
		cl := h2Client(t, c.cert.pool)
		var res *result
		for i := range maxLearning + 1 { // a new page each time, all in /blog
			res = cl.get(t, c.url+"/blog/post-"+strconv.Itoa(i))
			require.Equal(t, pageLinks, res.resp.Header.Get("Link"))
			if len(res.early) > 0 {
				break
			}
		}
		if grouped {
			requireOneHint(t, res)
		} else {
			assert.Empty(t, res.early, "each page is a route of its own, never seen before")
		}
	}
}
