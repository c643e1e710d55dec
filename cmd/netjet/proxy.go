package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
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

A page is held back until the upstream has sent all of it, or -max-buffer-bytes of it,
so that its links go out in the header. Other responses stream.

With -cert and -key the proxy serves HTTPS, and HTTP/2 to clients that speak it.
SIGINT or SIGTERM stops it once the requests in flight are answered.

Flags:
`

// proxy runs netjet proxy until ctx is done.
func (c *cli) proxy(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("netjet proxy", flag.ContinueOnError)
	upstream := fs.String("upstream", "", "`URL` of the server behind the proxy, such as http://127.0.0.1:2368 (required)")
	listen := fs.String("listen", ":8080", "`address` to serve on; port 0 picks a free port (see the log)")
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
	options, err := opts.options()
	if err != nil {
		return c.usageError("proxy", "%v", err)
	}
	preloader, err := netjet.New(options)
	if err != nil {
		return c.usageError("proxy", "%s", optionError(err))
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

	logger := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: logLevel}))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(c.stderr, "netjet proxy: -listen %q: %v\n", *listen, err)
		return exitFailure
	}
	srv := &http.Server{
		Handler:           preloader.Handler(newReverseProxy(target, *upstreamCompression, logger)),
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

// newReverseProxy returns the handler that forwards requests to target.
func newReverseProxy(target *url.URL, upstreamCompression bool, logger *slog.Logger) http.Handler {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Without a client's Accept-Encoding the Transport would ask for gzip on its own and
	// decompress the answer, changing the upstream's headers behind everyone's back.
	transport.DisableCompression = true
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			if !upstreamCompression {
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(holdHTMLFlushes{w}, r)
	})
}

// holdHTMLFlushes keeps httputil.ReverseProxy from flushing a page netjet is still reading.
// ReverseProxy flushes a response of unknown length (chunked, or ended by closing the
// connection, as PHP's built-in server does) after every read from the upstream, and once
// before the first one; netjet sends the header at a flush, so such a page would go out with
// the links of its first read, or none. Those flushes are the proxy's guess, not the
// upstream's wish: while the response may be HTML they are dropped, and netjet sends the
// page once it has read it, or past -max-buffer-bytes. Other responses, server-sent events
// among them, still stream.
type holdHTMLFlushes struct{ http.ResponseWriter }

// FlushError is what http.ResponseController, which ReverseProxy flushes with, calls.
func (w holdHTMLFlushes) FlushError() error {
	if mayBeHTML(w.Header()) {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach Hijack (for WebSocket upgrades) and deadlines.
func (w holdHTMLFlushes) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// mayBeHTML reports whether netjet may read a response with header h: uncompressed or in
// gzip or deflate, and HTML or without a Content-Type (netjet then sniffs the body).
func mayBeHTML(h http.Header) bool {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Encoding"))) {
	case "", "gzip", "x-gzip", "deflate":
	default:
		return false
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		return true
	}
	mediaType, _, _ := strings.Cut(ct, ";")
	mediaType = strings.TrimSpace(mediaType)
	return strings.EqualFold(mediaType, "text/html") || strings.EqualFold(mediaType, "application/xhtml+xml")
}
