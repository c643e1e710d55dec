package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// phpSite is a small PHP site: pages that set their own headers, stream, compress, and
// answer JSON, as the origins the proxy sits in front of do.
var phpSite = map[string]string{
	"index.php": `<?php
header('Link: </pushed.css>; rel=preload; as=style');
?>
<!doctype html>
<html><head>
<title>PHP</title>
<link rel="stylesheet" href="/pushed.css">
<link rel="stylesheet" href="/style.css">
<script src="/app.js"></script>
</head><body>
<?php echo '<h1>Hello from PHP</h1>', "\n"; ?>
<img src="/logo.png" alt="">
</body></html>
`,
	// stream.php sends its page in two parts, as a slow template would.
	"stream.php": `<?php
echo '<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body>';
flush();
usleep(200000);
echo '<img src="/late.png" alt=""></body></html>';
`,
	// gzip.php compresses its page when the request allows it.
	"gzip.php": `<?php ob_start('ob_gzhandler'); ?>
<!doctype html><html><head><link rel="stylesheet" href="/style.css"></head><body>compressed</body></html>
`,
	"api.php": `<?php
header('Content-Type: application/json');
echo json_encode(['items' => [1, 2, 3], 'html' => '<link rel="stylesheet" href="/no.css">']);
`,
	// echo.php answers the request headers the upstream received.
	"echo.php": `<?php
header('Content-Type: application/json');
echo json_encode([
	'accept_encoding' => $_SERVER['HTTP_ACCEPT_ENCODING'] ?? null,
	'x_forwarded_host' => $_SERVER['HTTP_X_FORWARDED_HOST'] ?? null,
	'x_forwarded_proto' => $_SERVER['HTTP_X_FORWARDED_PROTO'] ?? null,
	'x_forwarded_for' => $_SERVER['HTTP_X_FORWARDED_FOR'] ?? null,
]);
`,
	"page.html":  "<!doctype html><html><head><link rel=stylesheet href=/static.css></head><body>static</body></html>\n",
	"style.css":  "body { color: #123; }\n/* <link rel=stylesheet href=/not-html.css> */\n",
	"pushed.css": "h1 { margin: 0; }\n",
}

func TestProxyInFrontOfPHP(t *testing.T) {
	docroot := t.TempDir()
	writeFiles(t, docroot, phpSite)
	origin := startPHP(t, docroot, "")
	proxy := startProxy(t, "-upstream", origin)
	client := rawClient(t, nil)

	tests := []struct {
		path        string
		contentType string
		links       []string // the response's Link header, nil for none
		// first is what the first response has at least, where it differs: the header goes
		// out at the end of the head, perhaps before the body's image has arrived; the
		// route learns it.
		first []string
	}{
		{
			path:        "/",
			contentType: "text/html; charset=UTF-8",
			links: []string{
				"</pushed.css>; rel=preload; as=style", // PHP's own, kept first and not repeated
				"</style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script, </logo.png>; rel=preload; as=image",
			},
			first: []string{
				"</pushed.css>; rel=preload; as=style",
				"</style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script",
			},
		},
		{
			path:        "/stream.php",
			contentType: "text/html; charset=UTF-8",
			links:       []string{"</style.css>; rel=preload; as=style, </late.png>; rel=preload; as=image"},
			first:       []string{"</style.css>; rel=preload; as=style"},
		},
		{
			path:        "/gzip.php",
			contentType: "text/html; charset=UTF-8",
			links:       []string{"</style.css>; rel=preload; as=style"},
		},
		{
			path:        "/page.html",
			contentType: "text/html; charset=UTF-8",
			links:       []string{"</static.css>; rel=preload; as=style"},
		},
		{path: "/api.php", contentType: "application/json"},
		{path: "/style.css", contentType: "text/css; charset=UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			direct, directBody := get(t, client, origin+tt.path)
			require.Equal(t, http.StatusOK, direct.StatusCode)
			for i := 1; i <= 3; i++ {
				res, _ := get(t, client, proxy.url(tt.path))
				if i == 1 && tt.first != nil {
					got := strings.Join(res.Header["Link"], ", ")
					assert.True(t, strings.HasPrefix(got, strings.Join(tt.first, ", ")), "the first response: %q", got)
					assert.True(t, strings.HasPrefix(strings.Join(tt.links, ", "), got), "the first response: %q", got)
				} else if i == 1 {
					assert.Equal(t, tt.links, res.Header["Link"], "the first response")
				}
			}
			res, body := get(t, client, proxy.url(tt.path))
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, tt.contentType, res.Header.Get("Content-Type"))
			assert.Equal(t, tt.links, res.Header["Link"], "once the route has learned")
			assert.Equal(t, string(directBody), string(body), "body through the proxy")
			assert.Empty(t, res.Header.Get("Content-Encoding"))
		})
	}
}

// Without holdHTMLFlushes, ReverseProxy flushes a response of unknown length before its
// first read: netjet then sends the header with no links at all. PHP's server never sends
// Content-Length for a script, so this is every PHP page; repeat to catch the race.
func TestProxyPHPPagesAlwaysGetTheirLinks(t *testing.T) {
	docroot := t.TempDir()
	writeFiles(t, docroot, phpSite)
	origin := startPHP(t, docroot, "")
	proxy := startProxy(t, "-upstream", origin, "-cache-size", "-1")
	client := rawClient(t, nil)
	for range 20 {
		res, _ := get(t, client, proxy.url("/"))
		require.Len(t, res.Header["Link"], 2, "Link: %q", res.Header["Link"])
	}
}

func TestProxyAcceptEncoding(t *testing.T) {
	docroot := t.TempDir()
	writeFiles(t, docroot, phpSite)
	origin := startPHP(t, docroot, "")
	client := rawClient(t, nil)

	t.Run("stripped by default", func(t *testing.T) {
		proxy := startProxy(t, "-upstream", origin)
		_, body := get(t, client, proxy.url("/echo.php"), "Accept-Encoding", "gzip, br")
		seen := decodeEcho(t, body)
		assert.Nil(t, seen["accept_encoding"], "the upstream must be asked for an uncompressed body")
		assert.Equal(t, proxy.addr, seen["x_forwarded_host"])
		assert.Equal(t, "http", seen["x_forwarded_proto"])
		assert.Equal(t, "127.0.0.1", seen["x_forwarded_for"])

		res, body := get(t, client, proxy.url("/gzip.php"), "Accept-Encoding", "gzip")
		assert.Empty(t, res.Header.Get("Content-Encoding"))
		assert.Equal(t, []string{"</style.css>; rel=preload; as=style"}, res.Header["Link"])
		assert.Contains(t, string(body), "compressed</body>")
	})

	t.Run("kept with -upstream-compression", func(t *testing.T) {
		proxy := startProxy(t, "-upstream", origin, "-upstream-compression")
		_, body := get(t, client, proxy.url("/echo.php"), "Accept-Encoding", "gzip, br")
		assert.Equal(t, "gzip, br", decodeEcho(t, body)["accept_encoding"])

		// No Accept-Encoding from the client: the proxy asks for none of its own.
		_, body = get(t, client, proxy.url("/echo.php"))
		assert.Nil(t, decodeEcho(t, body)["accept_encoding"])

		// Compressed HTML passes through byte for byte, and gets its links all the same.
		direct, directBody := get(t, client, origin+"/gzip.php", "Accept-Encoding", "gzip")
		require.Equal(t, "gzip", direct.Header.Get("Content-Encoding"))
		res, body := get(t, client, proxy.url("/gzip.php"), "Accept-Encoding", "gzip")
		assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
		assert.Equal(t, []string{"</style.css>; rel=preload; as=style"}, res.Header["Link"])
		assert.Equal(t, directBody, body)
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Contains(t, string(plain), `<link rel="stylesheet" href="/style.css">`)
	})
}

func decodeEcho(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var seen map[string]any
	require.NoError(t, json.Unmarshal(body, &seen), "body: %s", body)
	return seen
}

func TestProxyUsageErrors(t *testing.T) {
	// Every one of these must fail before listening: the address is taken, so a proxy that
	// listened first would report that instead.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	listen := taken.Addr().String()

	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no scheme", []string{"-upstream", "x"}, `netjet proxy: -upstream "x": want an absolute http or https URL`},
		{"host and port only", []string{"-upstream", "127.0.0.1:2368"}, `netjet proxy: -upstream "127.0.0.1:2368": want an absolute http or https URL`},
		{"no host", []string{"-upstream", "http:///blog"}, `netjet proxy: -upstream "http:///blog": want an absolute http or https URL`},
		{"other scheme", []string{"-upstream", "ftp://127.0.0.1/"}, `netjet proxy: -upstream "ftp://127.0.0.1/": want an absolute http or https URL`},
		{"no upstream", nil, "netjet proxy: -upstream is required"},
		{"argument", []string{"-upstream", "http://127.0.0.1:1", "extra"}, `netjet proxy: unexpected argument "extra"`},
		{"cert without key", []string{"-upstream", "http://127.0.0.1:1", "-cert", "c.pem"}, "netjet proxy: -cert and -key go together"},
		{"negative buffer", []string{"-upstream", "http://127.0.0.1:1", "-max-buffer-bytes=-1"},
			"netjet proxy: -max-buffer-bytes -1: want 1 or more"},
		{"no buffer", []string{"-upstream", "http://127.0.0.1:1", "-max-buffer-bytes", "0"},
			"netjet proxy: -max-buffer-bytes 0: want 1 or more"},
		{"no links", []string{"-upstream", "http://127.0.0.1:1", "-max-links", "0"},
			"netjet proxy: -max-links 0 would add no links: want 1 or more, or a negative number for no limit"},
		{"no header bytes", []string{"-upstream", "http://127.0.0.1:1", "-max-header-bytes", "0"},
			"netjet proxy: -max-header-bytes 0 leaves no room for a link"},
		{"only images, none of them", []string{"-upstream", "http://127.0.0.1:1", "-kinds", "images", "-max-images", "0"},
			"netjet proxy: -max-images 0 with -kinds images leaves nothing to preload"},
		{"http1 hints alone", []string{"-upstream", "http://127.0.0.1:1", "-early-hints-http1"},
			"netjet proxy: -early-hints-http1 needs -early-hints"},
		{"bad attribute", []string{"-upstream", "http://127.0.0.1:1", "-attributes", "nopush,a b"},
			`netjet proxy: -attributes[1] "a b":`},
		{"CA for plain HTTP", []string{"-upstream", "http://127.0.0.1:1", "-upstream-ca", "ca.pem"},
			`netjet proxy: -upstream-ca needs an https -upstream, not "http://127.0.0.1:1"`},
		{"unknown kind", []string{"-upstream", "http://127.0.0.1:1", "-kinds", "styles,fonts"},
			`invalid value "styles,fonts" for flag -kinds: unknown kind "fonts"`},
		{"empty kinds", []string{"-upstream", "http://127.0.0.1:1", "-kinds="}, `unknown kind ""`},
		{"unknown flag", []string{"-upstream", "http://127.0.0.1:1", "-gzip"}, "flag provided but not defined: -gzip"},
		{"bad log level", []string{"-upstream", "http://127.0.0.1:1", "-log-level", "loud"}, `invalid value "loud" for flag -log-level`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runNetjet(t, append([]string{"proxy", "-listen", listen}, tt.args...)...)
			assert.Equal(t, exitUsage, r.code)
			assert.Contains(t, r.stderr, tt.stderr)
			assert.NotContains(t, r.stderr, "address already in use")
			assert.Empty(t, r.stdout)
		})
	}
}

func TestProxyRuntimeErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	listen := taken.Addr().String()

	r := runNetjet(t, "proxy", "-upstream", "http://127.0.0.1:2368", "-listen", listen)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr,
		fmt.Sprintf(`netjet proxy: -listen %q: listen tcp %s: bind: address already in use`, listen, listen)+
			"\nnetjet proxy: pick another address, such as -listen 127.0.0.1:8081, or port 0 for a free one\n")

	r = runNetjet(t, "proxy", "-upstream", "http://127.0.0.1:2368", "-listen", listen,
		"-cert", "/nonexistent/cert.pem", "-key", "/nonexistent/key.pem")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "netjet proxy: -cert and -key: open /nonexistent/cert.pem: no such file or directory")

	// The CA file is read before listening too.
	r = runNetjet(t, "proxy", "-upstream", "https://127.0.0.1:2368", "-listen", listen, "-upstream-ca", "/nonexistent/ca.pem")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "netjet proxy: -upstream-ca: open /nonexistent/ca.pem: no such file or directory\n", r.stderr)
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600))
	r = runNetjet(t, "proxy", "-upstream", "https://127.0.0.1:2368", "-listen", listen, "-upstream-ca", notPEM)
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "netjet proxy: -upstream-ca "+notPEM+": no PEM certificate in it\n", r.stderr)
}

func TestProxyHelp(t *testing.T) {
	r := runNetjet(t, "proxy", "-h")
	assert.Equal(t, exitOK, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "Usage: netjet proxy -upstream URL"), r.stdout)
	for _, flag := range []string{"-early-hints", "-early-hints-http1", "-push", "-max-links", "-max-images",
		"-max-header-bytes", "-max-buffer-bytes", "-cache-size", "-attributes", "-kinds", "-cert", "-key",
		"-upstream-compression", "-log-level", "-shutdown-timeout", "-upstream-ca", "-rewrite-host", "-trust-forwarded"} {
		assert.Regexp(t, "\n  "+flag+"[ \n]", r.stdout)
	}
	// Every default is shown, and what 0 means where it means something.
	for _, want := range []string{
		`(default "127.0.0.1:8080")`,
		"(default 10)\n", "(default 2)\n", "(default 1000)\n", "(default 1024)\n", "(default 65536)\n",
		"(default styles,scripts,images,hints)", "(default 10s)", `(default INFO)`,
		"0: no images at all", "0 or negative: no cache",
	} {
		assert.Contains(t, r.stdout, want)
	}
	assert.Empty(t, r.stderr)
}

// htmlOrigin is an upstream written in Go, for the tests that need to control its timing.
func htmlOrigin(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

const originPage = `<!doctype html><link rel=stylesheet href=/a.css><script src=/b.js></script><p>page</p>`

func TestProxyGracefulShutdown(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, originPage)
	})
	proxy := startProxy(t, "-upstream", origin)
	client := rawClient(t, nil)

	type result struct {
		res  *http.Response
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		res, err := client.Get(proxy.url("/slow"))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		done <- result{res: res, body: body, err: err}
	}()
	<-started
	proxy.cancel()
	// Shutdown closes the listener first: once new connections are refused, the request
	// above is in flight during the shutdown.
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", proxy.addr)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, 5*time.Second, 10*time.Millisecond)
	close(release)

	got := <-done
	require.NoError(t, got.err)
	assert.Equal(t, http.StatusOK, got.res.StatusCode)
	assert.Equal(t, originPage, string(got.body))
	assert.Equal(t, "</a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script", got.res.Header.Get("Link"))
	assert.Equal(t, exitOK, proxy.stop(t))
	assert.Contains(t, proxy.stderr.String(), "msg=stopped")
}

func TestProxyShutdownTimeout(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	proxy := startProxy(t, "-upstream", origin, "-shutdown-timeout", "100ms")
	client := rawClient(t, nil)
	failed := make(chan error, 1)
	go func() {
		res, err := client.Get(proxy.url("/never"))
		if err == nil {
			res.Body.Close()
		}
		failed <- err
	}()
	<-started
	assert.Equal(t, exitFailure, proxy.stop(t))
	assert.Error(t, <-failed, "the connection is closed at the timeout")
	assert.Contains(t, proxy.stderr.String(), "requests still in flight at the shutdown timeout")
}

func TestProxyHTTP2(t *testing.T) {
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "%s<!-- %s -->", originPage, r.Header.Get("X-Forwarded-Proto"))
	})
	certFile, keyFile, roots := writeSelfSignedCert(t)
	proxy := startProxy(t, "-upstream", origin, "-cert", certFile, "-key", keyFile,
		"-max-links", "1", "-attributes", "nopush")
	client := rawClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true})

	res, body := get(t, client, "https://"+proxy.addr+"/")
	assert.Equal(t, 2, res.ProtoMajor, "protocol: %s", res.Proto)
	assert.Equal(t, []string{"</a.css>; rel=preload; as=style; nopush"}, res.Header["Link"])
	assert.Equal(t, originPage+"<!-- https -->", string(body))
	assert.Contains(t, proxy.stderr.String(), "url=https://"+proxy.addr)
}

func TestProxyStreamsEventStreams(t *testing.T) {
	next := make(chan struct{})
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		http.NewResponseController(w).Flush()
		<-next
		io.WriteString(w, "data: two\n\n")
	})
	proxy := startProxy(t, "-upstream", origin)
	client := rawClient(t, nil)
	res, err := client.Get(proxy.url("/events"))
	require.NoError(t, err)
	defer res.Body.Close()
	first := make([]byte, len("data: one\n\n"))
	_, err = io.ReadFull(res.Body, first) // would block forever if the proxy held the stream
	require.NoError(t, err)
	assert.Equal(t, "data: one\n\n", string(first))
	close(next)
	rest, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, "data: two\n\n", string(rest))
}

func TestProxyUpstreamDown(t *testing.T) {
	upstream := "http://" + freeAddr(t)
	proxy := startProxy(t, "-upstream", upstream)
	res, _ := get(t, rawClient(t, nil), proxy.url("/page"))
	assert.Equal(t, http.StatusBadGateway, res.StatusCode)
	assert.Contains(t, proxy.stderr.String(),
		`level=ERROR msg="upstream request failed" method=GET url=`+upstream+`/page err="dial tcp`)
}

// A HEAD gets the links a GET of the same page version found: netjet remembers them by path
// and ETag, and ReverseProxy passes the upstream's ETag on.
func TestProxyHeadAfterGet(t *testing.T) {
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("ETag", `W/"v1"`)
		io.WriteString(w, originPage)
	})
	proxy := startProxy(t, "-upstream", origin)
	client := rawClient(t, nil)
	const want = "</a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script"

	res, err := client.Head(proxy.url("/page"))
	require.NoError(t, err)
	res.Body.Close()
	assert.Nil(t, res.Header["Link"], "a HEAD of a page never seen has no body to read")

	res, _ = get(t, client, proxy.url("/page"))
	assert.Equal(t, want, res.Header.Get("Link"))

	res, err = client.Head(proxy.url("/page"))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, want, res.Header.Get("Link"))
	assert.Equal(t, fmt.Sprint(len(originPage)), res.Header.Get("Content-Length"))
}

// Connection upgrades (WebSocket) go through netjet and holdHTMLFlushes to ReverseProxy's
// hijack, and both directions flow afterwards.
func TestProxyUpgrade(t *testing.T) {
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo: " + line)
		brw.Flush()
	})
	proxy := startProxy(t, "-upstream", origin)

	conn, err := net.Dial("tcp", proxy.addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn, "GET /socket HTTP/1.1\r\nHost: "+proxy.addr+"\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, res.StatusCode)
	assert.Nil(t, res.Header["Link"])
	_, err = io.WriteString(conn, "ping\n")
	require.NoError(t, err)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "echo: ping\n", line)
}

// With -early-hints, a navigation over HTTP/2 gets a 103 with the links the route's last
// two pages shared, before the upstream has answered.
func TestProxyEarlyHintsOverHTTP2(t *testing.T) {
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, originPage)
	})
	certFile, keyFile, roots := writeSelfSignedCert(t)
	proxy := startProxy(t, "-upstream", origin, "-cert", certFile, "-key", keyFile, "-early-hints")
	client := rawClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true})

	navigate := func() (hints []string, res *http.Response) {
		var mu sync.Mutex
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			hints = append(hints, fmt.Sprintf("%d %s", code, strings.Join(h["Link"], " | ")))
			return nil
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet,
			"https://"+proxy.addr+"/post", nil)
		require.NoError(t, err)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		res, err = client.Do(req)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, res.Body)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, 2, res.ProtoMajor)
		mu.Lock()
		defer mu.Unlock()
		return hints, res
	}
	const links = "</a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script"
	for i := range 2 {
		hints, res := navigate()
		assert.Empty(t, hints, "navigation %d: the route has not taught two pages yet", i+1)
		assert.Equal(t, links, res.Header.Get("Link"))
	}
	hints, res := navigate()
	assert.Equal(t, []string{"103 " + links}, hints)
	assert.Equal(t, links, res.Header.Get("Link"))
}

// hostApp builds redirects and absolute URLs from Host, as DokuWiki, WordPress and most PHP
// applications do.
var hostApp = map[string]string{
	"router.php": `<?php
$host = $_SERVER['HTTP_HOST'];
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/login' && $_SERVER['REQUEST_METHOD'] === 'POST') {
	header('Set-Cookie: session=1; HttpOnly');
	header('Location: http://' . $host . '/doku.php?id=start', true, 303);
	exit;
}
if ($path === '/doku.php') {
	$base = 'http://' . $host;
	echo "<!doctype html><html><head><link rel=\"stylesheet\" href=\"$base/lib/style.css\"></head>";
	echo "<body><a href=\"$base/doku.php?id=other\">other</a></body></html>";
	exit;
}
if ($path === '/seen') {
	header('Content-Type: application/json');
	echo json_encode([
		'host' => $host,
		'x_forwarded_host' => $_SERVER['HTTP_X_FORWARDED_HOST'] ?? null,
		'x_forwarded_proto' => $_SERVER['HTTP_X_FORWARDED_PROTO'] ?? null,
		'x_forwarded_for' => $_SERVER['HTTP_X_FORWARDED_FOR'] ?? null,
	]);
	exit;
}
http_response_code(404);
`,
}

// The proxy passes the client's Host on: an application that redirects by Host sends the
// browser back to the proxy, not to the upstream's address.
func TestProxyKeepsTheClientsHost(t *testing.T) {
	docroot := t.TempDir()
	writeFiles(t, docroot, hostApp)
	origin := startPHP(t, docroot, "router.php")
	client := rawClient(t, nil)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	do := func(method, url, host string, h ...string) (*http.Response, []byte) {
		t.Helper()
		return send(t, client, method, url, host, h...)
	}

	proxy := startProxy(t, "-upstream", origin)
	for _, host := range []string{proxy.addr, "wiki.test:8443"} {
		res, _ := do(http.MethodPost, proxy.url("/login"), host)
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "http://"+host+"/doku.php?id=start", res.Header.Get("Location"))

		res, body := do(http.MethodGet, proxy.url("/doku.php?id=start"), host)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "<http://"+host+"/lib/style.css>; rel=preload; as=style", res.Header.Get("Link"))
		assert.Contains(t, string(body), `<a href="http://`+host+`/doku.php?id=other">`)

		// X-Forwarded-* name the client and what it asked for; the client's own are dropped,
		// as nothing in front of the proxy is trusted.
		_, body = do(http.MethodGet, proxy.url("/seen"), host,
			"X-Forwarded-For", "203.0.113.7", "X-Forwarded-Host", "evil.test", "X-Forwarded-Proto", "https")
		assert.Equal(t, map[string]any{"host": host, "x_forwarded_host": host, "x_forwarded_proto": "http",
			"x_forwarded_for": "127.0.0.1"}, decodeEcho(t, body))
	}

	// -trust-forwarded: behind another proxy, what it says of the client is kept, and the
	// client it connects from is appended to X-Forwarded-For.
	trusting := startProxy(t, "-upstream", origin, "-trust-forwarded")
	_, body := do(http.MethodGet, trusting.url("/seen"), "wiki.test",
		"X-Forwarded-For", "203.0.113.7", "X-Forwarded-Host", "www.example.com", "X-Forwarded-Proto", "https")
	assert.Equal(t, map[string]any{"host": "wiki.test", "x_forwarded_host": "www.example.com", "x_forwarded_proto": "https",
		"x_forwarded_for": "203.0.113.7, 127.0.0.1"}, decodeEcho(t, body))
	_, body = do(http.MethodGet, trusting.url("/seen"), "wiki.test")
	assert.Equal(t, map[string]any{"host": "wiki.test", "x_forwarded_host": "wiki.test", "x_forwarded_proto": "http",
		"x_forwarded_for": "127.0.0.1"}, decodeEcho(t, body), "nothing to trust: as without the flag")

	// -rewrite-host: the upstream's own address, for upstreams that serve by name.
	rewriting := startProxy(t, "-upstream", origin, "-rewrite-host")
	res, _ := do(http.MethodPost, rewriting.url("/login"), "wiki.test")
	assert.Equal(t, origin+"/doku.php?id=start", res.Header.Get("Location"))
	_, body = do(http.MethodGet, rewriting.url("/seen"), "wiki.test")
	assert.Equal(t, map[string]any{"host": strings.TrimPrefix(origin, "http://"), "x_forwarded_host": "wiki.test",
		"x_forwarded_proto": "http", "x_forwarded_for": "127.0.0.1"}, decodeEcho(t, body))
}

// An upstream served over HTTPS with a private CA: -upstream-ca trusts it. The client's Host
// goes to the upstream, and the certificate is still checked against the -upstream host.
func TestProxyUpstreamCA(t *testing.T) {
	var hosts []string
	var mu sync.Mutex
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, originPage)
	}))
	t.Cleanup(upstream.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(caFile,
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: upstream.Certificate().Raw}), 0o600))
	client := rawClient(t, nil)

	untrusting := startProxy(t, "-upstream", upstream.URL)
	res, _ := get(t, client, untrusting.url("/"))
	assert.Equal(t, http.StatusBadGateway, res.StatusCode)
	assert.Contains(t, untrusting.stderr.String(), "certificate signed by unknown authority")

	proxy := startProxy(t, "-upstream", upstream.URL, "-upstream-ca", caFile)
	res, body := get(t, client, proxy.url("/"))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, originPage, string(body))
	assert.Equal(t, "</a.css>; rel=preload; as=style, </b.js>; rel=preload; as=script", res.Header.Get("Link"))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{proxy.addr}, hosts)
}

// respondsWithin sends req and returns the response, and fails the test if its header takes
// longer than 5 seconds: what a streaming proxy passes on at once must not wait for the
// upstream to write more.
func respondsWithin(t *testing.T, client *http.Client, req *http.Request) *http.Response {
	t.Helper()
	type result struct {
		res *http.Response
		err error
	}
	got := make(chan result, 1)
	go func() {
		res, err := client.Do(req)
		got <- result{res, err}
	}()
	select {
	case r := <-got:
		require.NoError(t, r.err)
		t.Cleanup(func() { r.res.Body.Close() })
		return r.res
	case <-time.After(5 * time.Second):
		t.Fatalf("%s %s: no header within 5s: the proxy held it until the upstream wrote more", req.Method, req.URL)
		return nil
	}
}

// readsWithin reads from r until it has read want, and fails the test if that takes longer
// than 5 seconds, as respondsWithin does.
func readsWithin(t *testing.T, r io.Reader, want string) {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		var b strings.Builder
		buf := make([]byte, 1024)
		for !strings.Contains(b.String(), want) {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		got <- b.String()
	}()
	select {
	case s := <-got:
		assert.Contains(t, s, want)
	case <-time.After(5 * time.Second):
		t.Fatalf("%.40q... did not arrive within 5s: the proxy held it until the upstream wrote more", want)
	}
}

// A response netjet does not read (here the answer to a POST, in HTML) streams write by
// write: each flush of the upstream reaches the client while the upstream is still working.
// A page netjet reads streams too, once netjet has sent its header.
func TestProxyStreamsSlowUpstreams(t *testing.T) {
	release := make(chan struct{})
	padding := strings.Repeat("<p>filler</p>", 200) // 2,600 bytes, past -max-buffer-bytes
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><link rel=stylesheet href=/a.css></head><body><p>first</p>`)
		if r.Method == http.MethodGet {
			io.WriteString(w, padding)
		}
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, `<img src=/late.png></body></html>`)
	})
	proxy := startProxy(t, "-upstream", origin, "-max-buffer-bytes", "1024")
	var once sync.Once
	// Registered after startProxy, so that it runs before the proxy is stopped.
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	client := rawClient(t, nil)

	t.Run("POST", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, proxy.url("/search"), strings.NewReader("q=x"))
		require.NoError(t, err)
		res := respondsWithin(t, client, req)
		assert.Nil(t, res.Header["Link"], "netjet reads GET and HEAD responses only")
		readsWithin(t, res.Body, "<p>first</p>")
	})

	t.Run("GET", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, proxy.url("/page"), nil)
		require.NoError(t, err)
		res := respondsWithin(t, client, req)
		assert.Equal(t, "</a.css>; rel=preload; as=style", res.Header.Get("Link"))
		readsWithin(t, res.Body, padding)
		once.Do(func() { close(release) })
		rest, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		assert.Equal(t, "<img src=/late.png></body></html>", string(rest))
	})
}

// sessionApp starts a PHP session on every page, as most PHP applications do: PHP then marks
// every page Cache-Control: no-store.
var sessionApp = map[string]string{
	"index.php": `<?php
session_start();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
?><!doctype html><html><head><link rel="stylesheet" href="/app.css"><script src="/app.js"></script></head>
<body><p>Visit <?= $_SESSION['visits'] ?></p></body></html>`,
}

// TestProxyEarlyHintsForSessionApps: pages that say no-store still teach their own visitor, so
// a user of a session-based application gets Early Hints from their third navigation on; the
// debug log says why the first ones got none.
func TestProxyEarlyHintsForSessionApps(t *testing.T) {
	docroot := t.TempDir()
	writeFiles(t, docroot, sessionApp)
	origin := startPHP(t, docroot, "")
	proxy := startProxy(t, "-upstream", origin, "-early-hints", "-early-hints-http1", "-log-level", "debug")
	client := rawClient(t, nil)
	var cookie string
	navigate := func() (hints []string, res *http.Response) {
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, fmt.Sprintf("%d %s", code, strings.Join(h["Link"], " | ")))
			return nil
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet,
			proxy.url("/index.php"), nil)
		require.NoError(t, err)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		res, err = client.Do(req)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, res.Body)
		require.NoError(t, err)
		res.Body.Close()
		if c := res.Cookies(); len(c) > 0 {
			cookie = c[0].Name + "=" + c[0].Value
		}
		return hints, res
	}
	const links = "</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script"
	hints, res := navigate()
	require.Contains(t, res.Header.Get("Cache-Control"), "no-store", "PHP's sessions mark pages no-store")
	assert.Empty(t, hints)
	require.NotEmpty(t, cookie, "the session cookie")
	for i := 2; i <= 3; i++ {
		hints, _ = navigate()
		assert.Empty(t, hints, "navigation %d: the caller's last two pages (with its session) are not both known yet", i)
	}
	hints, res = navigate()
	assert.Equal(t, []string{"103 " + links}, hints, "log:\n%s", proxy.stderr)
	assert.Equal(t, links, res.Header.Get("Link"))
	assert.Contains(t, proxy.stderr.String(), `msg="netjet: no 103 Early Hints"`)
	assert.Contains(t, proxy.stderr.String(), "the route has taught nothing to hint yet")
}

// PHP pages often set a Link of their own. A page at / whose handler sent </style.css> and
// whose markup says href="style.css" names one stylesheet: it must go out once, or its bytes
// count twice against MaxHeaderBytes.
func TestProxyDoesNotRepeatAURLSpelledAnotherWay(t *testing.T) {
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><link rel="stylesheet" href="style.css">`)
	})
	proxy := startProxy(t, "-upstream", origin)
	res, _ := get(t, rawClient(t, nil), proxy.url("/"))
	assert.Equal(t, []string{"</style.css>; rel=preload; as=style"}, res.Header["Link"])
}

// curl -I after a GET: a HEAD of a page without an ETag gets the Link its caller's GET got.
func TestProxyHEADAfterGETCarriesTheLinks(t *testing.T) {
	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.Method == http.MethodGet {
			io.WriteString(w, originPage)
		}
	})
	proxy := startProxy(t, "-upstream", origin)
	client := rawClient(t, nil)
	res, _ := get(t, client, proxy.url("/post"))
	want := res.Header["Link"]
	require.NotEmpty(t, want)
	req, err := http.NewRequest(http.MethodHead, proxy.url("/post"), nil)
	require.NoError(t, err)
	head, err := client.Do(req)
	require.NoError(t, err)
	head.Body.Close()
	assert.Equal(t, want, head.Header["Link"])
}
