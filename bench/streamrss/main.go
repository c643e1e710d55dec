// Command streamrss streams a large HTML page through netjet's default middleware over
// loopback, to a client that reads and discards it, and prints the process's peak resident
// memory beside the same run without netjet: what netjet keeps of a body it streams must not
// grow with the body.
//
//	go run ./bench/streamrss -mb 512
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/netjet-go/netjet"
)

func main() {
	mb := flag.Int("mb", 512, "megabytes of HTML to stream")
	bare := flag.Bool("bare", false, "serve without netjet (run by the parent for the baseline)")
	flag.Parse()
	if !*bare {
		// The baseline runs in a process of its own, so that each peak is its own.
		out, err := exec.Command(os.Args[0], "-bare", fmt.Sprintf("-mb=%d", *mb)).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "streamrss: baseline: %v\n%s", err, out)
			os.Exit(1)
		}
		fmt.Print(string(out))
	}
	if err := run(*mb, *bare); err != nil {
		fmt.Fprintln(os.Stderr, "streamrss:", err)
		os.Exit(1)
	}
}

func run(mb int, bare bool) error {
	head := `<!doctype html><html><head><link rel="stylesheet" href="/app.css"></head><body>`
	chunk := []byte(strings.Repeat(`<p>Some text of the page <a href="/x">with a link</a> and an <img src="/i.png" loading=lazy>.</p>`, 320))
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, head)
		for n := 0; n < mb<<20; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		io.WriteString(w, `</body></html>`)
	})
	name := "bare"
	if !bare {
		p, err := netjet.New(netjet.Options{})
		if err != nil {
			return err
		}
		h, name = p.Handler(h), "netjet"
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	start := time.Now()
	resp, err := http.Get(srv.URL)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	fmt.Printf("%-6s %d MB streamed in %v, Link %q, peak RSS %.1f MB\n", name, n>>20,
		time.Since(start).Round(time.Millisecond), resp.Header.Get("Link"), float64(ru.Maxrss)/1024)
	return nil
}
