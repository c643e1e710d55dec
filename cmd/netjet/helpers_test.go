package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/netjet-go/netjet/internal/selfsigned"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer that the proxy's goroutines may write while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runResult is what one in-process run of netjet printed and returned.
type runResult struct {
	code           int
	stdout, stderr string
}

// runNetjet runs netjet with args in-process, for commands that end on their own.
func runNetjet(t *testing.T, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr)
	return runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// runningProxy is a netjet proxy serving in-process on a free loopback port.
type runningProxy struct {
	addr   string
	stderr *syncBuffer
	cancel context.CancelFunc
	exit   chan int
	// stopped and code are set once the proxy has exited.
	stopped bool
	code    int
}

// startProxy runs `netjet proxy -listen 127.0.0.1:0 args...` until the test ends, and checks
// then that it stopped cleanly.
func startProxy(t *testing.T, args ...string) *runningProxy {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &runningProxy{stderr: &syncBuffer{}, cancel: cancel, exit: make(chan int, 1)}
	addrs := make(chan net.Addr, 1)
	c := &cli{stdout: io.Discard, stderr: p.stderr, listening: func(a net.Addr) { addrs <- a }}
	go func() { p.exit <- c.run(ctx, append([]string{"proxy", "-listen", "127.0.0.1:0"}, args...)) }()
	select {
	case a := <-addrs:
		p.addr = a.String()
	case code := <-p.exit:
		cancel()
		t.Fatalf("netjet proxy exited with %d before listening:\n%s", code, p.stderr)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("netjet proxy did not listen within 10s:\n%s", p.stderr)
	}
	t.Cleanup(func() {
		if !p.stopped {
			assert.Equal(t, exitOK, p.stop(t), "exit code; log:\n%s", p.stderr)
		}
	})
	return p
}

func (p *runningProxy) url(path string) string { return "http://" + p.addr + path }

// stop cancels the proxy's context, as SIGINT does, and returns its exit code.
func (p *runningProxy) stop(t *testing.T) int {
	t.Helper()
	if p.stopped {
		return p.code
	}
	p.cancel()
	select {
	case p.code = <-p.exit:
		p.stopped = true
		return p.code
	case <-time.After(20 * time.Second):
		t.Fatalf("netjet proxy did not stop within 20s:\n%s", p.stderr)
		return -1
	}
}

// startPHP serves docroot with PHP's built-in web server until the test ends, and returns
// its URL. router, when not empty, is a script under docroot that answers every request, as
// an application's front controller does. It skips the test when php is not installed.
func startPHP(t *testing.T, docroot, router string) string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not on PATH: this test runs the proxy in front of PHP's built-in server (apt-get install php-cli)")
	}
	addr := freeAddr(t)
	// -n: no php.ini, so that no local setting buffers or compresses output behind the test's back.
	args := []string{"-n", "-d", "output_buffering=0", "-S", addr, "-t", docroot}
	if router != "" {
		args = append(args, filepath.Join(docroot, router))
	}
	cmd := exec.Command(php, args...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("php -S %s output:\n%s", addr, logs)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return "http://" + addr
		}
		select {
		case err := <-exited:
			t.Fatalf("php -S %s exited: %v\n%s", addr, err, logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("php -S %s did not accept connections within 10s:\n%s", addr, logs)
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago, for servers
// that cannot report the port they picked.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// writeFiles writes files (slash-separated name -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// rawClient returns a client that sends exactly the headers a test sets: no gzip of its own.
func rawClient(t *testing.T, transport *http.Transport) *http.Client {
	t.Helper()
	if transport == nil {
		transport = &http.Transport{}
	}
	transport.DisableCompression = true
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport, Timeout: 20 * time.Second}
}

// get fetches url with the request headers h (name, value, ...) and returns the response
// with its body read.
func get(t *testing.T, client *http.Client, url string, h ...string) (*http.Response, []byte) {
	t.Helper()
	return send(t, client, http.MethodGet, url, "", h...)
}

// send sends a request with method to url, with host as its Host when not empty, and the
// header fields h as name, value pairs, and returns the response and its body.
func send(t *testing.T, client *http.Client, method, url, host string, h ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

// writeSelfSignedCert writes a certificate for 127.0.0.1 and its key as PEM files, and
// returns their paths and a pool that trusts the certificate.
func writeSelfSignedCert(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	cert, err := selfsigned.New("netjet test", "127.0.0.1")
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	roots = x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	return certFile, keyFile, roots
}
