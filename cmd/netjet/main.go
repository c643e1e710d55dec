// Command netjet brings netjet's Link preload headers to sites that are not Go programs.
//
// netjet proxy runs in front of any web server (Ghost, WordPress, a PHP or Node app) and adds
// Link headers to the HTML it passes on. netjet headers reads a directory of built HTML and
// prints the same links as a _headers file, for static hosts (Cloudflare Pages, Netlify) that
// serve the headers that file lists.
//
// Run netjet -h for the usage, and netjet COMMAND -h for a command's flags.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
)

// Exit codes: 2 for a command line that cannot work, as the flag package does, 1 for a
// failure while running.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `netjet adds Link preload headers for the stylesheets, scripts and images
of HTML pages, so that browsers and CDNs fetch them before they read the page.

Usage:

  netjet proxy -upstream URL [-listen ADDR] [flags]
        run a reverse proxy that adds Link headers to the upstream's HTML
  netjet headers [-host cloudflare|netlify] [-base-url URL] [-o FILE] [flags] DIR
        print a _headers file (Cloudflare Pages, Netlify) for the HTML in DIR
  netjet version
        print netjet's version

Run 'netjet COMMAND -h' for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs netjet with the command-line arguments args (without the program name) and
// returns the exit code. The proxy serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	return c.run(ctx, args)
}

// cli is one run of netjet.
type cli struct {
	stdout, stderr io.Writer
	// listening, when set, is told the proxy's address once it accepts connections: that
	// is how a caller that asked for port 0 learns the port.
	listening func(net.Addr)
}

func (c *cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "proxy":
		return c.proxy(ctx, args[1:])
	case "headers":
		return c.headers(args[1:])
	case "version":
		if len(args) > 1 {
			fmt.Fprintln(c.stderr, "netjet version: takes no arguments")
			return exitUsage
		}
		fmt.Fprintln(c.stdout, "netjet", version(), runtime.Version())
		return exitOK
	case "-h", "-help", "--help", "help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(c.stderr, "netjet: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// version returns the module version netjet was built from: a tag for go install
// ...@version, "(devel)" for a build from a checkout.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}

// parseFlags parses args into fs. Asked for with -h, the command's usage goes to stdout and
// the run ends with exitOK; a bad flag goes to stderr with the usage, and the run ends with
// exitUsage. done reports whether the run ends here, with code.
func (c *cli) parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	fs.SetOutput(c.stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = c.stdout.Write(out.Bytes())
		return exitOK, true
	case err != nil:
		_, _ = c.stderr.Write(out.Bytes())
		return exitUsage, true
	}
	return exitOK, false
}

// usageError reports a command line that cannot work and returns exitUsage.
func (c *cli) usageError(command, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "netjet %s: %s\nRun 'netjet %s -h' for usage.\n", command, fmt.Sprintf(format, args...), command)
	return exitUsage
}
