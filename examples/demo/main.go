// Command demo serves a small site through netjet and shows the Link header it gets.
//
//	go run ./examples/demo                            # http://127.0.0.1:8080/
//	go run ./examples/demo -tls -early-hints -think 300ms
//
// With -tls it serves HTTP/2 with a self-signed certificate made at start, and prints how to
// start Chrome so that it trusts the certificate. With -early-hints, netjet sends a 103 Early Hints response before the
// handler runs, once two responses of a page agreed on its links (the demo's own fetch at
// start is the first); -think makes every page take that long to build, which is the time
// Early Hints put to use.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netjet-go/netjet"
	"github.com/netjet-go/netjet/internal/selfsigned"
)

type config struct {
	addr       string
	tls        bool
	earlyHints bool
	think      time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "address to listen on")
	flag.BoolVar(&cfg.tls, "tls", false, "serve HTTPS and HTTP/2 with a self-signed certificate")
	flag.BoolVar(&cfg.earlyHints, "early-hints", false, "send 103 Early Hints (browsers use them over HTTP/2 only: add -tls)")
	flag.DurationVar(&cfg.think, "think", 0, "how long each page takes to build, e.g. 300ms")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run serves the site until ctx ends, then shuts down gracefully. Once listening, it fetches
// the home page and writes the Link header it got to out.
func run(ctx context.Context, cfg config, out io.Writer) error {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler(cfg),
		ReadHeaderTimeout: 10 * time.Second,
	}
	client := &http.Client{Timeout: 10*time.Second + cfg.think}
	scheme := "http"
	serve := func() error { return srv.Serve(ln) }
	var leaf *x509.Certificate
	if cfg.tls {
		var cert tls.Certificate
		// localhost, 127.0.0.1 and ::1: whichever the demo is opened by.
		cert, err = selfsigned.New("netjet demo", "localhost", "127.0.0.1", "::1")
		if err != nil {
			ln.Close()
			return err
		}
		leaf = cert.Leaf
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		roots := x509.NewCertPool()
		roots.AddCert(leaf)
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
		scheme = "https"
		serve = func() error { return srv.ServeTLS(ln, "", "") }
	}
	served := make(chan error, 1)
	go func() { served <- serve() }()

	home := homeURL(scheme, ln.Addr())
	fmt.Fprintf(out, "netjet demo on %s (Ctrl-C to stop)\n", home)
	if cfg.earlyHints && !cfg.tls {
		fmt.Fprintln(out, "note: netjet sends Early Hints over HTTP/2 only; add -tls")
	}
	if leaf != nil {
		// Clicking through the browser's warning is not enough: Chrome neither caches nor
		// takes Early Hints from a site whose certificate it does not trust.
		fmt.Fprintf(out, "to trust this self-signed certificate, start Chrome with:\n"+
			"  chromium --user-data-dir=$(mktemp -d) --ignore-certificate-errors-spki-list=%s %s\n",
			selfsigned.SPKIHash(leaf), home)
	}
	if err := showLinks(ctx, client, home, out); err != nil {
		srv.Close()
		return err
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// handler is the demo site behind netjet, as cfg asks for it.
func handler(cfg config) http.Handler {
	return netjet.Middleware(netjet.Options{EarlyHints: cfg.earlyHints})(siteHandler(cfg.think))
}

// homeURL is the URL of the home page on the listener at addr; an unspecified host (as
// with -addr :8080) is reached on loopback.
func homeURL(scheme string, addr net.Addr) string {
	host, port := "127.0.0.1", ""
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
		if !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

// showLinks fetches url as a browser navigates to it and writes the status line and the
// Link header of the response to out.
func showLinks(ctx context.Context, client *http.Client, url string, out io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("fetching the home page: %w", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("reading the home page: %w", err)
	}
	links := strings.Join(resp.Header.Values("Link"), ", ")
	if links == "" {
		return errors.New("the home page came without a Link header")
	}
	fmt.Fprintf(out, "GET %s: %s %s\nLink: %s\n", url, resp.Proto, resp.Status, links)
	return nil
}
