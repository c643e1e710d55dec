package netjetcaddy_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/netjet-go/netjet/internal/selfsigned"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	"github.com/quic-go/quic-go/http3"
	"github.com/stretchr/testify/require"

	_ "github.com/netjet-go/netjet/caddy"
)

// The tests run a real Caddy, in this process: Caddy's own Caddyfile adapter and loader, its
// HTTP/1.1, HTTP/2 and HTTP/3 servers, file_server and reverse_proxy, with the netjet module
// registered as a plugin is. Caddy's configuration is global to the process, so the tests
// that start one do not run in parallel.

// caddyMainEnv makes the test binary run as the caddy command, with the netjet module in it:
// the tests run `caddy validate` through it without building Caddy a second time.
const caddyMainEnv = "NETJET_TEST_CADDY_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(caddyMainEnv) == "1" {
		caddycmd.Main()
		return
	}
	// Caddy keeps its data (locks, certificates) and autosaved configuration under these:
	// keep them out of the home directory.
	dir, err := os.MkdirTemp("", "netjet-caddy-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testCert is a self-signed certificate for 127.0.0.1 and ::1, in PEM files that a Caddyfile
// can name, and a pool that trusts it.
type testCert struct {
	certFile, keyFile string
	leaf              *x509.Certificate
	pool              *x509.CertPool
}

func newTestCert(t *testing.T) *testCert {
	t.Helper()
	cert, err := selfsigned.New("netjet caddy test", "127.0.0.1", "::1")
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	require.NoError(t, err)
	dir := t.TempDir()
	c := &testCert{certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), leaf: cert.Leaf, pool: x509.NewCertPool()}
	require.NoError(t, os.WriteFile(c.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), 0o600))
	require.NoError(t, os.WriteFile(c.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	c.pool.AddCert(cert.Leaf)
	return c
}

// testCaddy is a running Caddy that serves one HTTPS site on 127.0.0.1, over HTTP/1.1,
// HTTP/2 and HTTP/3 (TCP and UDP on the same port).
type testCaddy struct {
	url  string // https://127.0.0.1:PORT
	cert *testCert
}

// startCaddy adapts a Caddyfile whose one site is the body given (the directives inside the
// site block), loads it into Caddy and stops Caddy when the test ends. The global options
// keep Caddy on loopback, without its admin endpoint and without automatic HTTPS: the site
// uses a certificate the test made.
func startCaddy(t *testing.T, site string) *testCaddy {
	t.Helper()
	cert := newTestCert(t)
	var lastErr error
	for range 5 { // a free port can be taken between finding it and Caddy binding it
		port := freePort(t)
		caddyfile := fmt.Sprintf(`{
	admin off
	persist_config off
	auto_https off
	default_bind 127.0.0.1
	log {
		level ERROR
	}
}

https://127.0.0.1:%d {
	tls %s %s
%s
}
`, port, cert.certFile, cert.keyFile, site)
		cfg := adapt(t, caddyfile)
		if lastErr = caddy.Load(cfg, true); lastErr == nil {
			t.Cleanup(func() { _ = caddy.Stop() })
			return &testCaddy{url: "https://127.0.0.1:" + strconv.Itoa(port), cert: cert}
		}
		if !strings.Contains(lastErr.Error(), "address already in use") {
			break
		}
	}
	require.NoError(t, lastErr, "loading the Caddy configuration")
	return nil
}

// adapt turns a Caddyfile into Caddy's JSON configuration, failing the test on an error or
// on a warning other than about the Caddyfile's layout.
func adapt(t *testing.T, caddyfile string) []byte {
	t.Helper()
	cfg, warnings, err := adaptCaddyfile(caddyfile)
	require.NoError(t, err, "adapting:\n%s", caddyfile)
	for _, w := range warnings {
		if !strings.Contains(w.Message, "not formatted") {
			t.Errorf("adapting: %s\n%s", w, caddyfile)
		}
	}
	return cfg
}

func adaptCaddyfile(caddyfile string) ([]byte, []caddyconfig.Warning, error) {
	return caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
}

// freePort returns a port on 127.0.0.1 that is free for TCP and for UDP.
func freePort(t *testing.T) int {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
}

// client is an HTTP client of one protocol that trusts the test certificate.
type client struct {
	name string
	http *http.Client
}

// h1Client, h2Client and h3Client speak only HTTP/1.1, only HTTP/2 and only HTTP/3.
func h1Client(t *testing.T, pool *x509.CertPool) *client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP1(true)
	t.Cleanup(tr.CloseIdleConnections)
	return &client{name: "HTTP/1.1", http: &http.Client{Transport: tr, Timeout: 20 * time.Second}}
}

func h2Client(t *testing.T, pool *x509.CertPool) *client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	return &client{name: "HTTP/2", http: &http.Client{Transport: tr, Timeout: 20 * time.Second}}
}

func h3Client(t *testing.T, pool *x509.CertPool) *client {
	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(func() { tr.Close() })
	return &client{name: "HTTP/3", http: &http.Client{Transport: tr, Timeout: 20 * time.Second}}
}

// informational is a 1xx response that a client reported.
type informational struct {
	code   int
	header textproto.MIMEHeader
}

// result is a response and the 1xx responses that came before it.
type result struct {
	resp   *http.Response
	body   string
	early  []informational
	status int
}

// get requests url as a browser navigating to it does (Sec-Fetch-Mode: navigate), with
// extra headers, and records the 1xx responses that the client reports before the final one.
func (c *client) get(t *testing.T, url string, header ...string) *result {
	t.Helper()
	res := &result{}
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		res.early = append(res.early, informational{code: code, header: textproto.MIMEHeader(http.Header(h).Clone())})
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	require.NoError(t, err, "%s GET %s", c.name, url)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "%s GET %s: reading the body", c.name, url)
	res.resp, res.body, res.status = resp, string(b), resp.StatusCode
	mu.Lock()
	defer mu.Unlock()
	res.early = append([]informational(nil), res.early...)
	return res
}

// readFile returns the contents of a file under testdata.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// phpOrigin starts PHP's built-in web server on 127.0.0.1 with testdata/php as its document
// root, and returns its address. The test skips without php.
func phpOrigin(t *testing.T) string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("no php on PATH (Debian: php-cli)")
	}
	root, err := filepath.Abs(filepath.Join("testdata", "php"))
	require.NoError(t, err)
	for range 5 { // a free port can be taken before PHP binds it
		addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
		cmd := exec.Command(php, "-S", addr, "-t", root)
		// Several workers, so that the page's resources are served while a page is built.
		// The workers are PHP's children: a process group of their own is ended whole.
		cmd.Env = append(os.Environ(), "PHP_CLI_SERVER_WORKERS=4")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.WaitDelay = 5 * time.Second // should a worker outlive the group's end, holding the output open
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if waitListening(addr, exited) {
			t.Cleanup(func() {
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			})
			return addr
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		t.Logf("php -S %s did not start: %s", addr, out.String())
	}
	t.Fatal("PHP's built-in server did not start")
	return ""
}

// waitListening reports whether addr accepts a TCP connection before the process that is
// to listen there exits, trying for up to ten seconds.
func waitListening(addr string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(20 * time.Millisecond): // polling a port: nothing to wait on
		}
	}
	return false
}
