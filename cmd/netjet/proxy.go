package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/netjet-go/netjet"
)

const proxyUsage = `Usage: netjet proxy -upstream URL [-listen ADDR] [flags]

Serves the upstream's responses and adds Link preload headers to its HTML.

The proxy asks the upstream for uncompressed bodies: it drops the client's
Accept-Encoding, and netjet reads the HTML as it is. Compress in front of the proxy (a
CDN, nginx, Caddy). With -upstream-compression, Accept-Encoding reaches the upstream:
gzip and deflate HTML is then read through a decoded copy and sent as it came; HTML in
any other encoding (br, zstd) passes through without links.

A page (the answer to a GET or HEAD, in HTML) is held back until netjet has its links,
reading at most -max-buffer-bytes of it; the header then goes out with them, and the
rest of the page streams as the upstream sends it. Other responses stream from the start.

The upstream gets the client's Host, as a browser sent it, so that the redirects and
absolute URLs it builds point to the proxy; -rewrite-host sends the upstream's own host
instead. X-Forwarded-For, X-Forwarded-Host and X-Forwarded-Proto name the client, its
Host and its scheme; those the client sent are dropped, unless -trust-forwarded says the
client is a proxy that sets them.

With -cert and -key the proxy serves HTTPS, and HTTP/2 to clients that speak it.
SIGINT or SIGTERM stops it once the requests in flight are answered.

Flags:
`

// proxy runs netjet proxy until ctx is done.
func (c *cli) proxy(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("netjet proxy", flag.ContinueOnError)
	upstream := fs.String("upstream", "", "`URL` of the server behind the proxy, such as http://127.0.0.1:2368 (required)")
	listen := fs.String("listen", "127.0.0.1:8080",
		"`address` to serve on; :8080 serves on every interface, and port 0 picks a free port (see the log)")
	upstreamCA := fs.String("upstream-ca", "",
		"CA certificates `file` (PEM) to verify an https -upstream with, instead of the system's")
	rewriteHost := fs.Bool("rewrite-host", false,
		"send the upstream's host and port as Host instead of the client's Host")
	trustForwarded := fs.Bool("trust-forwarded", false,
		"keep the X-Forwarded-For, -Host and -Proto headers a client sends, for a proxy behind another\n"+
			"(a CDN, nginx) that sets them; never when clients reach this proxy directly")
	certFile := fs.String("cert", "", "TLS certificate chain `file` (PEM), with -key: serve HTTPS and HTTP/2")
	keyFile := fs.String("key", "", "TLS private key `file` (PEM), with -cert")
	upstreamCompression := fs.Bool("upstream-compression", false,
		"forward Accept-Encoding to the upstream; HTML in encodings other than gzip and deflate then gets no links")
	shutdownTimeout := fs.Duration("shutdown-timeout", 10*time.Second,
		"how long SIGINT or SIGTERM waits for the requests in flight")
	logLevel := slog.LevelInfo
	fs.TextVar(&logLevel, "log-level", logLevel, "least `level` logged: debug, info, warn or error")
	var opts optionFlags
	opts.addLinkFlags(fs)
	opts.addServingFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), proxyUsage)
		fs.PrintDefaults()
	}
	if code, done := c.parseFlags(fs, args); done {
		return code
	}

	// Everything that can be wrong with the command line is checked before listening.
	switch {
	case fs.NArg() > 0:
		return c.usageError("proxy", "unexpected argument %q", fs.Arg(0))
	case *upstream == "":
		return c.usageError("proxy", "-upstream is required")
	case (*certFile == "") != (*keyFile == ""):
		return c.usageError("proxy", "-cert and -key go together")
	}
	target, err := url.Parse(*upstream)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return c.usageError("proxy", "-upstream %q: want an absolute http or https URL", *upstream)
	}
	if *upstreamCA != "" && target.Scheme != "https" {
		return c.usageError("proxy", "-upstream-ca needs an https -upstream, not %q", *upstream)
	}
	options, err := opts.options()
	if err != nil {
		return c.usageError("proxy", "%v", err)
	}
	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: logLevel}))
	options.Logger = logger // at debug level: why a request got no 103
	preloader, err := netjet.New(options)
	if err != nil {
		return c.usageError("proxy", "%s", optionError(err))
	}
	var upstreamRoots *x509.CertPool
	if *upstreamCA != "" {
		pemCerts, err := os.ReadFile(*upstreamCA)
		if err != nil {
			fmt.Fprintf(c.stderr, "netjet proxy: -upstream-ca: %v\n", err)
			return exitFailure
		}
		upstreamRoots = x509.NewCertPool()
		if !upstreamRoots.AppendCertsFromPEM(pemCerts) {
			fmt.Fprintf(c.stderr, "netjet proxy: -upstream-ca %s: no PEM certificate in it\n", *upstreamCA)
			return exitFailure
		}
	}
	var tlsConfig *tls.Config
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintf(c.stderr, "netjet proxy: -cert and -key: %v\n", err)
			return exitFailure
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(c.stderr, "netjet proxy: -listen %q: %v\n", *listen, err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintln(c.stderr, "netjet proxy: pick another address, such as -listen 127.0.0.1:8081, or port 0 for a free one")
		}
		return exitFailure
	}
	srv := &http.Server{
		Handler: newProxyHandler(preloader, upstreamConfig{
			target:         target,
			compression:    *upstreamCompression,
			rewriteHost:    *rewriteHost,
			trustForwarded: *trustForwarded,
			roots:          upstreamRoots,
		}, logger),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	logger.Info("netjet proxy listening", "url", scheme+"://"+ln.Addr().String(), "upstream", target.String())
	return c.serve(ctx, srv, ln, logger, *shutdownTimeout)
}

// serve serves on ln until ctx is done, then shuts srv down, waiting up to timeout for the
// requests in flight.
func (c *cli) serve(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger, timeout time.Duration) int {
	served := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	if c.listening != nil {
		c.listening(ln.Addr())
	}
	select {
	case err := <-served:
		logger.Error("serving failed", "err", err)
		return exitFailure
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing the requests in flight", "timeout", timeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("requests still in flight at the shutdown timeout: closing their connections", "err", err)
		_ = srv.Close()
		return exitFailure
	}
	logger.Info("stopped")
	return exitOK
}

// upstreamConfig is how the proxy talks to the upstream.
type upstreamConfig struct {
	target         *url.URL
	compression    bool           // forward the client's Accept-Encoding
	rewriteHost    bool           // send the upstream's host as Host, not the client's
	trustForwarded bool           // keep the client's X-Forwarded-* headers
	roots          *x509.CertPool // CAs to verify an https upstream with; nil: the system's
}

// newProxyHandler returns the proxy's handler: netjet in front of a ReverseProxy to the
// upstream, with the flushes of the one held back for the other (see holdFlushes).
func newProxyHandler(preloader *netjet.Preloader, up upstreamConfig, logger *slog.Logger) http.Handler {
	rp := newReverseProxy(up, logger)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		watch := &headerWatch{ResponseWriter: w}
		preloader.Handler(http.HandlerFunc(func(nw http.ResponseWriter, r *http.Request) {
			rp.ServeHTTP(holdFlushes{ResponseWriter: nw, watch: watch}, r)
		})).ServeHTTP(watch, r)
	})
}

// newReverseProxy returns the handler that forwards requests to the upstream.
func newReverseProxy(up upstreamConfig, logger *slog.Logger) *httputil.ReverseProxy {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Without a client's Accept-Encoding the Transport would ask for gzip on its own and
	// decompress the answer, changing the upstream's headers behind everyone's back.
	transport.DisableCompression = true
	if up.roots != nil {
		transport.TLSClientConfig = &tls.Config{RootCAs: up.roots}
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up.target)
			if !up.rewriteHost {
				// Applications build redirects and absolute URLs from Host: with the
				// upstream's address there, a login would send the browser to the upstream.
				// The Transport still dials, and verifies TLS against, the upstream's host.
				pr.Out.Host = pr.In.Host
			}
			// ReverseProxy drops the client's X-Forwarded-* headers before Rewrite: unless
			// told to trust the proxy in front, the proxy names the client and its Host.
			if up.trustForwarded {
				pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"] // the client is appended
			}
			pr.SetXForwarded()
			if up.trustForwarded {
				for _, h := range []string{"X-Forwarded-Host", "X-Forwarded-Proto"} {
					if v := pr.In.Header.Get(h); v != "" {
						pr.Out.Header.Set(h, v)
					}
				}
			}
			if !up.compression {
				// Whether a response will be HTML is known only once it arrives, so every
				// request asks for an uncompressed body: netjet cannot read a compressed one.
				pr.Out.Header.Del("Accept-Encoding")
			}
		},
		Transport: transport,
		ModifyResponse: func(res *http.Response) error {
			logger.Debug("upstream response", "method", res.Request.Method, "url", res.Request.URL.String(),
				"status", res.StatusCode, "content_type", res.Header.Get("Content-Type"),
				"content_encoding", res.Header.Get("Content-Encoding"), "content_length", res.ContentLength)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			level := slog.LevelError
			if errors.Is(err, context.Canceled) {
				level = slog.LevelDebug // the client went away: nothing is wrong upstream
			}
			logger.Log(r.Context(), level, "upstream request failed", "method", r.Method, "url", r.URL.String(), "err", err)
			w.WriteHeader(http.StatusBadGateway)
		},
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// holdFlushes keeps httputil.ReverseProxy from flushing a page before netjet has its links,
// and lets every other flush through at once.
//
// ReverseProxy flushes a response of unknown length (chunked, or ended by closing the
// connection, as PHP's built-in server does) after every read from the upstream, and once from
// a timer as it starts; those flushes are its guess, not the upstream's wish. netjet sends
// the header at a flush: a page flushed before its links were read would go out with none. So
// a flush is dropped while netjet holds the header back, which it does only for a response it
// reads (a GET or HEAD of HTML), and only until it has the page's links or holds as much of
// the body as -max-buffer-bytes allows. headerWatch, beneath netjet, sees when that ends: from
// then on the header is gone, and a flush must reach net/http, whose own buffer would
// otherwise keep streamed bytes until the upstream sends more or ends. A response netjet does
// not read (a POST, JSON, server-sent events) has its header sent at once, so none of its
// flushes waits.
//
// The rule follows what netjet does rather than repeating its tests of method, type and
// status here: a copy would drift from the library's, and a flush dropped after the header
// went out holds a stream back for as long as the upstream takes.
type holdFlushes struct {
	http.ResponseWriter // netjet's writer
	watch               *headerWatch
}

// FlushError is what http.ResponseController, which ReverseProxy flushes with, calls.
func (w holdFlushes) FlushError() error {
	if !w.watch.sent.Load() {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach Hijack (for WebSocket upgrades) and deadlines.
func (w holdFlushes) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// headerWatch is the server's ResponseWriter as netjet sees it: it records when netjet has sent
// the final status. ReverseProxy flushes from a timer goroutine too, hence the atomic.
type headerWatch struct {
	http.ResponseWriter
	sent atomic.Bool
}

func (w *headerWatch) WriteHeader(code int) {
	// A 1xx other than 101 (netjet's 103 Early Hints) comes before the final status.
	if code < 100 || code >= 200 || code == http.StatusSwitchingProtocols {
		w.sent.Store(true)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *headerWatch) Write(b []byte) (int, error) {
	w.sent.Store(true) // net/http sends 200 before the first byte
	return w.ResponseWriter.Write(b)
}

// FlushError flushes the server's writer: net/http sends the header at a flush.
func (w *headerWatch) FlushError() error {
	w.sent.Store(true)
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Push keeps -push working: netjet pushes through the writer it was given.
func (w *headerWatch) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap lets http.ResponseController reach Hijack, deadlines and full duplex.
func (w *headerWatch) Unwrap() http.ResponseWriter { return w.ResponseWriter }
