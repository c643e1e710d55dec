package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// get fetches path from srv and returns the response with its body read.
func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func newDemoServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(netjet.Middleware(netjet.Options{})(siteHandler(0)))
	t.Cleanup(srv.Close)
	return srv
}

func siteFile(t *testing.T, name string) []byte {
	b, err := siteFiles.ReadFile(name)
	require.NoError(t, err)
	return b
}

func TestHomePageGetsLinksForWhatItLoadsFirst(t *testing.T) {
	srv := newDemoServer(t)
	resp, body := get(t, srv, "/")

	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, siteFile(t, "index.html"), body, "the body must be the page as written")
	links := strings.Join(resp.Header.Values("Link"), ", ")
	for _, want := range []string{
		"</static/site.css>; rel=preload; as=style",
		"</static/theme.css>; rel=preload; as=style; crossorigin",
		`</static/square.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin`,
		"</static/app.js>; rel=preload; as=script",
		"</static/year.js>; rel=preload; as=script; fetchpriority=low",
		"</static/timings.js>; rel=modulepreload; fetchpriority=low",
		"</static/hero.png>; rel=preload; as=image; fetchpriority=high",
	} {
		assert.Contains(t, links, want)
	}
	assert.NotContains(t, links, "footer.png", "a lazy image is not needed to render the page")
}

func TestHomePageLinksComeBackFromTheCache(t *testing.T) {
	srv := newDemoServer(t)
	first, _ := get(t, srv, "/")
	second, body := get(t, srv, "/")

	assert.NotEmpty(t, first.Header.Get("Link"))
	assert.Equal(t, first.Header.Values("Link"), second.Header.Values("Link"))
	assert.Equal(t, siteFile(t, "index.html"), body)
}

func TestNotFoundPageGetsLinksToo(t *testing.T) {
	srv := newDemoServer(t)
	resp, body := get(t, srv, "/no/such/page")

	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, siteFile(t, "404.html"), body)
	assert.Equal(t, []string{
		"</static/site.css>; rel=preload; as=style, </static/theme.css>; rel=preload; as=style; crossorigin",
	}, resp.Header.Values("Link"))
}

func TestAssetsPassThroughUntouched(t *testing.T) {
	srv := newDemoServer(t)
	for _, name := range []string{"static/site.css", "static/app.js", "static/square.woff2", "static/hero.png"} {
		resp, body := get(t, srv, "/"+name)
		require.Equal(t, http.StatusOK, resp.StatusCode, name)
		assert.Empty(t, resp.Header.Values("Link"), name)
		assert.Equal(t, "max-age=60", resp.Header.Get("Cache-Control"), name)
		assert.Equal(t, siteFile(t, name), body, name)
	}
}

func TestThinkDelaysPages(t *testing.T) {
	const think = 100 * time.Millisecond
	srv := httptest.NewServer(netjet.Middleware(netjet.Options{})(siteHandler(think)))
	t.Cleanup(srv.Close)

	start := time.Now()
	resp, _ := get(t, srv, "/")
	assert.GreaterOrEqual(t, time.Since(start), think)
	assert.NotEmpty(t, resp.Header.Get("Link"))
}

// TestRunServesHTTP2AndStopsCleanly runs the demo as main does, with -tls -early-hints, reads
// what it prints about its own home page, then stops it as a SIGINT would.
func TestRunServesHTTP2AndStopsCleanly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{addr: "127.0.0.1:0", tls: true, earlyHints: true}, outW)
		outW.Close()
	}()

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var printed []string
	for line := range lines {
		printed = append(printed, line)
		if strings.HasPrefix(line, "Link: ") {
			break
		}
	}
	require.GreaterOrEqual(t, len(printed), 5, "printed: %q", printed)
	assert.Contains(t, printed[0], "https://127.0.0.1:")
	home := strings.Fields(printed[0])[3]
	assert.Contains(t, printed[2], spkiFlag(t, home)+" "+home,
		"the Chrome command must name the certificate the demo serves")
	assert.Contains(t, printed[len(printed)-2], "HTTP/2.0 200 OK")
	assert.Contains(t, printed[len(printed)-1], "</static/site.css>; rel=preload; as=style")

	cancel()
	for line := range lines {
		printed = append(printed, line)
	}
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	assert.Equal(t, "shutting down", printed[len(printed)-1])
}

// TestEarlyHintsReachTheThirdNavigation shows what -early-hints does: once two responses of
// the home page agreed on its links, the next navigation gets them in a 103 before the page.
func TestEarlyHintsReachTheThirdNavigation(t *testing.T) {
	srv := httptest.NewUnstartedServer(netjet.Middleware(netjet.Options{EarlyHints: true})(siteHandler(0)))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	navigate := func() (hints []string, resp *http.Response) {
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			if code == http.StatusEarlyHints {
				hints = append(hints, h.Values("Link")...)
			}
			return nil
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
			http.MethodGet, srv.URL+"/", nil)
		require.NoError(t, err)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		resp, err = srv.Client().Do(req)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, "HTTP/2.0", resp.Proto)
		return hints, resp
	}

	for range 2 {
		hints, _ := navigate()
		assert.Empty(t, hints, "nothing learned yet")
	}
	hints, resp := navigate()
	require.Len(t, hints, 1)
	assert.Contains(t, hints[0], "</static/site.css>; rel=preload; as=style")
	assert.Contains(t, hints[0], "</static/app.js>; rel=preload; as=script")
	assert.NotContains(t, hints[0], "hero.png", "only what blocks the first render is hinted")
	assert.Contains(t, resp.Header.Get("Link"), "</static/site.css>; rel=preload; as=style")
}

// spkiFlag returns Chrome's --ignore-certificate-errors-spki-list flag for the certificate
// that the server at url presents.
func spkiFlag(t *testing.T, url string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "https://"), "/"),
		&tls.Config{InsecureSkipVerify: true}) // the certificate is what is under test
	require.NoError(t, err)
	defer conn.Close()
	spki := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].RawSubjectPublicKeyInfo)
	return "--ignore-certificate-errors-spki-list=" + base64.StdEncoding.EncodeToString(spki[:])
}
