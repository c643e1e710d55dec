package main

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/netjet-go/netjet"
	"golang.org/x/net/html"
)

const headersUsage = `Usage: netjet headers [-host cloudflare|netlify] [-base-url URL] [-o FILE] [flags] DIR

Reads the HTML files (*.html, *.htm) under DIR, a site's build output, and prints a
_headers file for a static host, Cloudflare Pages or Netlify. For Cloudflare, the links
every page shares go into one rule for all paths (/*), then each page with links of its
own has a rule with them. Netlify keeps one matching rule's Link, not all of them: each
page's rule has all of its links.

  /*
    Link: </_static/site.css>; rel=preload; as=style

  /blog/
    Link: </blog/blog.js>; rel=preload; as=script

A page's rule is at the path the host serves it at. With -host cloudflare, DIR/about.html
is /about and DIR/blog/index.html is /blog/ (Pages redirects /about.html and
/blog/index.html there). With -host netlify, which serves both forms, each page has a
rule at each. A .htm file keeps its name.

Every link is an absolute path from the site's root, or a URL of another origin, as a
browser resolves it on the page served over HTTPS: http: stylesheets and scripts, which
HTTPS pages may not load, are left out.

Cloudflare Pages reads at most 100 rules and lines of at most 2,000 characters: past
-max-rules, the pages most linked from other pages (the site's root first) keep their
rules, and a link too long for a line is left out. What is left out is listed on
standard error. If the site has a _headers file of its own, add the output to it, and
count its rules in -max-rules.

Flags:
`

// Limits of Cloudflare Pages' _headers file.
const (
	cloudflareMaxRules = 100
	cloudflareMaxLine  = 2000
)

// siteOrigin is the origin pages are read under when -base-url gives a path only: links to it
// are written as paths, so the name never shows.
const siteOrigin = "https://site.invalid"

// A staticHost is where the _headers file goes; the hosts differ in the paths they serve a
// page at and in the limits of the file.
type staticHost string

const (
	cloudflare staticHost = "cloudflare"
	netlify    staticHost = "netlify"
)

// page is one HTML file of the site.
type page struct {
	file    string   // its name under DIR
	paths   []string // the URL paths of its rule, canonical first, percent-encoded
	served  []string // every decoded URL path the host serves it at, for links between pages
	links   []string // its Link values
	anchors []string // decoded same-origin paths of its <a href>
	inbound int      // how many other pages link to it
	root    bool     // the site's root page
}

// headers runs netjet headers.
func (c *cli) headers(args []string) int {
	fs := flag.NewFlagSet("netjet headers", flag.ContinueOnError)
	output := fs.String("o", "", "write to `file` instead of standard output")
	baseURL := fs.String("base-url", "/",
		"`URL` the site is served at: a path such as /docs/, or https://example.com/docs/ to also\n"+
			"write links to that origin as paths")
	host := cloudflare
	fs.Func("host", "static `host` the file is for: cloudflare or netlify (default cloudflare)", func(v string) error {
		switch staticHost(v) {
		case cloudflare, netlify:
			host = staticHost(v)
			return nil
		}
		return fmt.Errorf("want cloudflare or netlify")
	})
	maxRules := fs.Int("max-rules", cloudflareMaxRules,
		"most rules written, the /* rule among them; with -host netlify no limit unless set; negative: no limit")
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
	origin, base, err := parseBaseURL(*baseURL)
	if err != nil {
		return c.usageError("headers", "-base-url %q: %v", *baseURL, err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	limit := *maxRules
	switch {
	case limit == 0:
		return c.usageError("headers", "-max-rules 0 would write no rule: want 1 or more, or a negative number for no limit")
	case limit < 0 || (host == netlify && !set["max-rules"]):
		limit = -1
	}
	options, err := opts.options()
	if err != nil {
		return c.usageError("headers", "%v", err)
	}
	// netjet's byte cap is applied to the links as written, in siteReader.read: netjet would
	// count its own form of them, a relative URL or one with the origin.
	maxBytes := cmp.Or(options.MaxHeaderBytes, netjet.DefaultMaxHeaderBytes)
	options.MaxHeaderBytes = -1
	preloader, err := netjet.New(options)
	if err != nil {
		return c.usageError("headers", "%s", optionError(err))
	}
	var params string
	for _, a := range options.Attributes {
		params += "; " + a // Link.String leaves Options.Attributes out
	}
	site := siteReader{c: c, host: host, origin: origin, base: base, preloader: preloader, params: params,
		maxBytes: maxBytes}
	dir := fs.Arg(0)
	pages, err := site.read(dir)
	if err != nil {
		fmt.Fprintf(c.stderr, "netjet headers: %v\n", err)
		return exitFailure
	}
	if len(pages) == 0 {
		fmt.Fprintf(c.stderr, "netjet headers: warning: no *.html or *.htm file in %s\n", dir)
	}
	out := formatRules(site.rules(pages, limit))
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

// parseBaseURL splits -base-url into the site's origin (siteOrigin when it gives a path only)
// and its path, which ends with a slash.
func parseBaseURL(raw string) (origin, base string, err error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", "", errors.New("want a URL path starting with /, or an https URL")
	case u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/"):
		origin = siteOrigin
	case u.Scheme == "https" && u.Host != "" && u.User == nil:
		origin = "https://" + u.Host
	case u.Scheme == "http":
		return "", "", errors.New("static hosts serve over HTTPS: want an https URL")
	default:
		return "", "", errors.New("want a URL path starting with /, or an https URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", errors.New("want no query and no fragment")
	}
	base = u.EscapedPath()
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return origin, base, nil
}

// siteReader reads a site's pages for one host.
type siteReader struct {
	c         *cli
	host      staticHost
	origin    string // scheme and host, no slash
	base      string // the site's path, percent-encoded, ending with a slash
	preloader *netjet.Preloader
	params    string // Options.Attributes, as link parameters
	maxBytes  int    // most bytes in a page's Link value, a link that does not fit skipped; 0: no limit
}

func (s *siteReader) warn(format string, args ...any) {
	fmt.Fprintf(s.c.stderr, "netjet headers: warning: "+format+"\n", args...)
}

// read reads the HTML pages under dir, sorted by path, and counts the links between them.
func (s *siteReader) read(dir string) ([]*page, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	var pages []*page
	err = filepath.WalkDir(dir, func(name string, entry fs.DirEntry, err error) error {
		if err != nil || entry.IsDir() || !isHTMLFile(name) {
			return err
		}
		rel, err := filepath.Rel(dir, name)
		if err != nil {
			return err
		}
		p := s.newPage(filepath.ToSlash(rel))
		if strings.ContainsAny(p.paths[0], "*:") {
			// Both hosts read * and :name in a rule's path as patterns, not as characters.
			s.warn("%s left out: its URL path %s would be read as a pattern", name, p.paths[0])
			return nil
		}
		doc, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		docURL := s.origin + p.paths[0]
		size := 0
		for _, l := range s.preloader.Links(doc, docURL) {
			l.URL = s.absolute(docURL, l.URL)
			v := l.String() + s.params
			// netjet's cap, lifted in headers, holds for the links as written: a link
			// that does not fit is skipped, and a later one that fits is kept.
			if n := size + len(v) + 2*min(len(p.links), 1); s.maxBytes <= 0 || n <= s.maxBytes {
				p.links = append(p.links, v)
				size = n
			}
		}
		p.anchors = s.anchors(doc, docURL)
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(pages, func(a, b *page) int { return cmp.Compare(a.paths[0], b.paths[0]) })
	s.countInbound(pages)
	return pages, nil
}

// newPage returns the page of the file rel, a slash-separated path under the site's root,
// with the paths the host serves it at.
func (s *siteReader) newPage(rel string) *page {
	p := &page{file: rel}
	dir, file := path.Split(rel)
	var paths []string
	switch {
	case file == "index.html":
		paths = []string{dir}
		if s.host == netlify {
			paths = append(paths, rel)
		}
	case strings.HasSuffix(file, ".html"):
		paths = []string{strings.TrimSuffix(rel, ".html")}
		if s.host == netlify {
			paths = append(paths, rel)
		}
	default:
		paths = []string{rel}
	}
	for _, sp := range paths {
		p.paths = append(p.paths, escapePath(s.base+sp))
	}
	p.root = p.paths[0] == escapePath(s.base)
	// Links between pages name them in any form the host answers, redirects included.
	basePath, _ := url.PathUnescape(s.base)
	p.served = []string{basePath + rel}
	switch {
	case file == "index.html":
		p.served = append(p.served, basePath+dir)
		if d := strings.TrimSuffix(basePath+dir, "/"); d != "" {
			p.served = append(p.served, d)
		}
	case strings.HasSuffix(file, ".html"):
		noExt := basePath + strings.TrimSuffix(rel, ".html")
		p.served = append(p.served, noExt, noExt+"/")
	}
	return p
}

// absolute returns the URL ref of a page at docURL as the page's browser resolves it: a
// path from the site's root for the site's origin, an absolute URL for another. A _headers
// rule applies at paths that are not the page's own (/* at every one), where a relative URL
// would resolve elsewhere.
func (s *siteReader) absolute(docURL, ref string) string {
	base, err := url.Parse(docURL)
	if err != nil {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref // netjet wrote it: no browser resolves it differently than it reads
	}
	u = base.ResolveReference(u)
	if u.Scheme+"://"+u.Host != s.origin {
		return u.String()
	}
	abs := u.EscapedPath()
	if u.RawQuery != "" || u.ForceQuery {
		abs += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		abs += "#" + u.EscapedFragment()
	}
	return abs
}

// anchors returns the decoded paths of the same-origin pages doc links to with <a href>.
func (s *siteReader) anchors(doc []byte, docURL string) []string {
	base, err := url.Parse(docURL)
	if err != nil {
		return nil
	}
	var paths []string
	z := html.NewTokenizer(bytes.NewReader(doc))
	sawBase := false
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return paths
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		isA, isBase := string(name) == "a", string(name) == "base" && !sawBase
		if !hasAttr || (!isA && !isBase) {
			continue
		}
		for {
			key, val, more := z.TagAttr()
			if string(key) == "href" {
				if u, err := base.Parse(strings.TrimSpace(string(val))); err == nil {
					if isBase {
						base, sawBase = u, true
					} else if u.Scheme+"://"+u.Host == s.origin {
						paths = append(paths, u.Path)
					}
				}
				break
			}
			if !more {
				break
			}
		}
	}
}

// countInbound sets each page's inbound: how many other pages link to it.
func (s *siteReader) countInbound(pages []*page) {
	byPath := map[string]*page{}
	for _, p := range pages {
		for _, sp := range p.served {
			if _, taken := byPath[sp]; !taken {
				byPath[sp] = p
			}
		}
	}
	for _, from := range pages {
		seen := map[*page]bool{from: true}
		for _, a := range from.anchors {
			if to := byPath[a]; to != nil && !seen[to] {
				seen[to] = true
				to.inbound++
			}
		}
	}
}

// pageRule is one rule of the _headers file.
type pageRule struct {
	path  string   // a URL path or pattern
	links []string // Link values
}

// rules returns the _headers rules of pages: for Cloudflare the links they all share at
// base+"*", then each page's other links at its paths, at most limit rules (negative: no
// limit).
func (s *siteReader) rules(pages []*page, limit int) []pageRule {
	// Cloudflare Pages joins the values of a header that several matching rules set, in the
	// file's order; Netlify keeps the last rule's value, so a page's own Link would replace
	// the shared one. Netlify, which reads any number of rules, gets each page's links whole.
	var shared []string
	if len(pages) > 1 && s.host == cloudflare {
		shared = pages[0].links
		for _, p := range pages[1:] {
			shared = slices.DeleteFunc(slices.Clone(shared), func(l string) bool { return !slices.Contains(p.links, l) })
		}
	}
	var rules []pageRule
	if shared = s.fitLines(s.base+"*", shared); len(shared) > 0 {
		rules = append(rules, pageRule{path: s.base + "*", links: shared})
	}
	type pageRules struct {
		p     *page
		rules []pageRule
	}
	var candidates []pageRules
	for _, p := range pages {
		own := slices.DeleteFunc(slices.Clone(p.links), func(l string) bool { return slices.Contains(shared, l) })
		if own = s.fitLines(p.paths[0], own); len(own) == 0 {
			continue
		}
		pr := pageRules{p: p}
		for _, rp := range p.paths {
			if s.host == cloudflare && len(rp) > cloudflareMaxLine {
				s.warn("%s left out: its path is longer than the %d characters of a line", p.file, cloudflareMaxLine)
				continue
			}
			pr.rules = append(pr.rules, pageRule{path: rp, links: own})
		}
		if len(pr.rules) > 0 {
			candidates = append(candidates, pr)
		}
	}
	total := len(rules)
	for _, pr := range candidates {
		total += len(pr.rules)
	}
	if limit >= 0 && total > limit {
		// Most important first: the site's root, then the pages most linked from others,
		// then the shallowest; the path settles the rest.
		slices.SortStableFunc(candidates, func(a, b pageRules) int {
			if a.p.root != b.p.root {
				if a.p.root {
					return -1
				}
				return 1
			}
			return cmp.Or(cmp.Compare(b.p.inbound, a.p.inbound),
				cmp.Compare(strings.Count(a.p.paths[0], "/"), strings.Count(b.p.paths[0], "/")),
				cmp.Compare(a.p.paths[0], b.p.paths[0]))
		})
		kept := len(rules)
		var cut int
		for cut = 0; cut < len(candidates) && kept+len(candidates[cut].rules) <= limit; cut++ {
			kept += len(candidates[cut].rules)
		}
		left := candidates[cut:]
		candidates = candidates[:cut]
		var b strings.Builder
		for _, pr := range left {
			fmt.Fprintf(&b, "\n  %s (%s, linked from %d pages)", pr.p.paths[0], pr.p.file, pr.p.inbound)
		}
		s.warn("%d rules, more than -max-rules %d: the rules of the %d pages least linked from other pages are left out:%s",
			total, limit, len(left), b.String())
		slices.SortFunc(candidates, func(a, b pageRules) int { return cmp.Compare(a.p.paths[0], b.p.paths[0]) })
	}
	for _, pr := range candidates {
		rules = append(rules, pr.rules...)
	}
	return rules
}

// linePrefix begins every Link line of a rule.
const linePrefix = "  Link: "

// fitLines returns links without those too long for a line of a Cloudflare _headers file.
func (s *siteReader) fitLines(rulePath string, links []string) []string {
	if s.host != cloudflare {
		return links
	}
	return slices.DeleteFunc(links, func(l string) bool {
		if n := len(linePrefix) + len(l); n > cloudflareMaxLine {
			s.warn("%s: a Link line of %d characters left out, past the %d of a line: %.80s...", rulePath, n, cloudflareMaxLine, l)
			return true
		}
		return false
	})
}

// formatRules writes rules in the _headers format. Each link gets a Link line of its own:
// Cloudflare Pages and Netlify both join the values of a header that a rule repeats with
// ", ", which makes one Link header of them, and a line per link keeps lines short.
// Cloudflare also joins the headers of every rule that matches a request, in the file's
// order: the shared links at /* come first, then the page's own.
func formatRules(rules []pageRule) []byte {
	var b bytes.Buffer
	for i, r := range rules {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.path)
		b.WriteByte('\n')
		for _, l := range r.links {
			b.WriteString(linePrefix)
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
