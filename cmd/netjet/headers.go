package main

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netjet-go/netjet"
)

const headersUsage = `Usage: netjet headers [-o FILE] [-base-url PATH] [flags] DIR

Reads the HTML files (*.html, *.htm) under DIR, a site's build output, and prints a
_headers file, as Cloudflare Pages and Netlify read it: for each page with links, the
page's URL path, then one Link line a link.

  /blog/
    Link: </blog/style.css>; rel=preload; as=style
    Link: </app.js>; rel=preload; as=script

DIR/index.html is the page /, DIR/blog/index.html the page /blog/, and DIR/about.html
the page /about.html. If the site has a _headers file of its own, add the output to it.

Flags:
`

// cloudflareMaxRules is how many rules Cloudflare Pages reads from a _headers file.
const cloudflareMaxRules = 100

// pageRule is the _headers rule of one page.
type pageRule struct {
	path  string   // the URL path the page is served at
	links []string // Link values
}

// headers runs netjet headers.
func (c *cli) headers(args []string) int {
	fs := flag.NewFlagSet("netjet headers", flag.ContinueOnError)
	output := fs.String("o", "", "write to `file` instead of standard output")
	baseURL := fs.String("base-url", "/", "URL `path` the site is served under")
	var opts optionFlags
	opts.addLinkFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), headersUsage)
		fs.PrintDefaults()
	}
	if code, done := c.parseFlags(fs, args); done {
		return code
	}
	if fs.NArg() != 1 {
		return c.usageError("headers", "want one directory, got %d arguments", fs.NArg())
	}
	if !strings.HasPrefix(*baseURL, "/") {
		return c.usageError("headers", "-base-url %q: want a URL path starting with /", *baseURL)
	}
	base := *baseURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	options := opts.options()
	preloader, err := netjet.New(options)
	if err != nil {
		return c.usageError("headers", "invalid flags: %v", err)
	}
	dir := fs.Arg(0)
	rules, pages, err := c.siteRules(dir, base, preloader, options.Attributes)
	if err != nil {
		fmt.Fprintf(c.stderr, "netjet headers: %v\n", err)
		return exitFailure
	}
	if pages == 0 {
		fmt.Fprintf(c.stderr, "netjet headers: warning: no *.html or *.htm file in %s\n", dir)
	}
	if len(rules) > cloudflareMaxRules {
		fmt.Fprintf(c.stderr, "netjet headers: warning: %d rules: Cloudflare Pages reads the first %d only\n",
			len(rules), cloudflareMaxRules)
	}
	out := formatRules(rules)
	if *output == "" {
		if _, err := c.stdout.Write(out); err != nil {
			fmt.Fprintf(c.stderr, "netjet headers: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	if err := os.WriteFile(*output, out, 0o644); err != nil {
		fmt.Fprintf(c.stderr, "netjet headers: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// siteRules returns the rules of the pages under dir that have links, sorted by path, and
// how many pages it read.
func (c *cli) siteRules(dir, base string, preloader *netjet.Preloader, attributes []string) ([]pageRule, int, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, 0, err
	}
	if !info.IsDir() {
		return nil, 0, fmt.Errorf("%s: not a directory", dir)
	}
	var params string
	for _, a := range attributes {
		params += "; " + a // Link.String leaves Options.Attributes out
	}
	var rules []pageRule
	pages := 0
	err = filepath.WalkDir(dir, func(name string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() || !isHTMLFile(name) {
			return err
		}
		rel, err := filepath.Rel(dir, name)
		if err != nil {
			return err
		}
		urlPath := pagePath(base, filepath.ToSlash(rel))
		if strings.ContainsAny(urlPath, "*:") {
			// Both hosts read * and :name in a rule's path as patterns, not as characters.
			fmt.Fprintf(c.stderr, "netjet headers: warning: %s left out: its URL path %s would be read as a pattern\n", name, urlPath)
			return nil
		}
		doc, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		pages++
		links := preloader.Links(doc, urlPath)
		if len(links) == 0 {
			return nil
		}
		rule := pageRule{path: urlPath, links: make([]string, len(links))}
		for i, l := range links {
			rule.links[i] = l.String() + params
		}
		rules = append(rules, rule)
		return nil
	})
	slices.SortFunc(rules, func(a, b pageRule) int { return cmp.Compare(a.path, b.path) })
	return rules, pages, err
}

// formatRules writes rules in the _headers format. Each link gets a Link line of its own:
// Cloudflare Pages and Netlify both join the values of a header that a rule repeats with
// ", ", which makes one Link header of them, and a line per link keeps every line within
// Cloudflare's 2,000 characters a line.
func formatRules(rules []pageRule) []byte {
	var b bytes.Buffer
	for i, r := range rules {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.path)
		b.WriteByte('\n')
		for _, l := range r.links {
			b.WriteString("  Link: ")
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

func isHTMLFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".html" || ext == ".htm"
}

// pagePath returns the URL path a static host serves the file rel (a slash-separated path
// under the site's root) at, as a browser requests it: an index.html is served at its
// directory's path.
func pagePath(base, rel string) string {
	if dir, file := path.Split(rel); file == "index.html" {
		rel = dir
	}
	return escapePath(base + rel)
}

// escapePath percent-encodes a file's path the way a browser's request encodes it (the URL
// standard's path percent-encode set), and % itself, which in a file name is a character and
// not an escape. url.URL.EscapedPath would escape more, such as ( ) * and !, which browsers
// send as they are.
func escapePath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"#%<>?`{}", c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
