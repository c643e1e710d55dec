package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// builtSite is the output of a static site generator.
var builtSite = map[string]string{
	"index.html": `<!doctype html><html><head>
<link rel="stylesheet" href="/css/site.css">
<script src="/js/app.js"></script>
</head><body><img src="hero.jpg" alt=""></body></html>`,
	// No <base>: a relative URL stays relative, and resolves against /blog/ as the page's do.
	"blog/index.html": `<!doctype html><link rel=stylesheet href=blog.css><script type=module src=/js/blog.js></script>`,
	// A relative <base> resolves against the page's URL path.
	"about.html":      `<!doctype html><base href="static/"><link rel=stylesheet href=about.css>`,
	"docs/guide.htm":  `<!DOCTYPE html><BASE HREF="../assets/"><LINK REL=STYLESHEET HREF=guide.css>`,
	"with space.html": `<link rel=stylesheet href=/space.css>`,
	"plain.html":      `<!doctype html><p>No stylesheet, no script, no image.</p>`,
	"notes.txt":       `<link rel=stylesheet href=/txt.css>`,
	"feed.xml":        `<link rel="stylesheet" href="/xml.css"/>`,
	"css/site.css":    `body { background: url(/bg.png) }`,
}

// builtSiteHeaders is builtSite's _headers for Cloudflare Pages: every link an absolute path,
// and each page at the path Pages serves it at. plain.html shares no link with the others:
// no /* rule.
const builtSiteHeaders = `/
  Link: </css/site.css>; rel=preload; as=style
  Link: </js/app.js>; rel=preload; as=script
  Link: </hero.jpg>; rel=preload; as=image

/about
  Link: </static/about.css>; rel=preload; as=style

/blog/
  Link: </blog/blog.css>; rel=preload; as=style
  Link: </js/blog.js>; rel=modulepreload; fetchpriority=low

/docs/guide.htm
  Link: </assets/guide.css>; rel=preload; as=style

/with%20space
  Link: </space.css>; rel=preload; as=style
`

func TestHeaders(t *testing.T) {
	site := t.TempDir()
	writeFiles(t, site, builtSite)

	r := runNetjet(t, "headers", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, builtSiteHeaders, r.stdout)
	assert.Empty(t, r.stderr)

	r = runNetjet(t, "headers", "-host", "cloudflare", site)
	assert.Equal(t, builtSiteHeaders, r.stdout, "cloudflare is the default")

	out := filepath.Join(t.TempDir(), "_headers")
	r = runNetjet(t, "headers", "-o", out, site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, builtSiteHeaders, string(written))
}

// Netlify serves about.html at /about and at /about.html, and blog/index.html at /blog/ and
// at /blog/index.html: a rule at each. Of several rules that match, Netlify keeps the last
// one's Link: no /* rule, every page's rule has all of its links.
func TestHeadersNetlify(t *testing.T) {
	site := t.TempDir()
	writeFiles(t, site, map[string]string{
		"index.html":      `<link rel=stylesheet href=/site.css><script src=index.js></script>`,
		"about.html":      `<link rel=stylesheet href=site.css>`,
		"blog/index.html": `<link rel=stylesheet href=../site.css><link rel=stylesheet href=blog.css>`,
	})
	r := runNetjet(t, "headers", "-host", "netlify", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, `/
  Link: </site.css>; rel=preload; as=style
  Link: </index.js>; rel=preload; as=script

/index.html
  Link: </site.css>; rel=preload; as=style
  Link: </index.js>; rel=preload; as=script

/about
  Link: </site.css>; rel=preload; as=style

/about.html
  Link: </site.css>; rel=preload; as=style

/blog/
  Link: </site.css>; rel=preload; as=style
  Link: </blog/blog.css>; rel=preload; as=style

/blog/index.html
  Link: </site.css>; rel=preload; as=style
  Link: </blog/blog.css>; rel=preload; as=style
`, r.stdout)
	assert.Empty(t, r.stderr)
}

func TestHeadersFlags(t *testing.T) {
	site := t.TempDir()
	writeFiles(t, site, builtSite)

	r := runNetjet(t, "headers", "-base-url", "/site", "-kinds", "styles,scripts", "-max-links", "1",
		"-attributes", `nopush, title="a,b"`, site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, `/site/
  Link: </css/site.css>; rel=preload; as=style; nopush; title="a,b"

/site/about
  Link: </site/static/about.css>; rel=preload; as=style; nopush; title="a,b"

/site/blog/
  Link: </site/blog/blog.css>; rel=preload; as=style; nopush; title="a,b"

/site/docs/guide.htm
  Link: </site/assets/guide.css>; rel=preload; as=style; nopush; title="a,b"

/site/with%20space
  Link: </space.css>; rel=preload; as=style; nopush; title="a,b"
`, r.stdout)

	// The byte cap holds for the whole value as written, absolute paths and parameters
	// included: </blog/blog.css>; rel=preload; as=style is 39 bytes, where netjet's own
	// form, <blog.css>, is 33; </static/about.css>; rel=preload; as=style is 42, where
	// netjet's, after <base href>, has the origin (62).
	r = runNetjet(t, "headers", "-max-header-bytes", "38", "-kinds", "styles,scripts", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "/\n  Link: </css/site.css>; rel=preload; as=style\n\n"), r.stdout)
	assert.NotContains(t, r.stdout, "/blog/")
	assert.NotContains(t, r.stdout, "/about")
	r = runNetjet(t, "headers", "-max-header-bytes", "42", "-kinds", "styles,scripts", site)
	assert.Contains(t, r.stdout, "\n/about\n  Link: </static/about.css>; rel=preload; as=style\n")
	// Then </js/blog.js>; rel=modulepreload; fetchpriority=low, 51 bytes, after ", ".
	assert.Contains(t, r.stdout, "\n/blog/\n  Link: </blog/blog.css>; rel=preload; as=style\n\n")
	r = runNetjet(t, "headers", "-max-header-bytes", "92", "-kinds", "styles,scripts", site)
	assert.Contains(t, r.stdout, "\n/blog/\n  Link: </blog/blog.css>; rel=preload; as=style\n  Link: </js/blog.js>; rel=modulepreload; fetchpriority=low\n")

	// A link that does not fit is skipped, and a later one that does is kept.
	skip := t.TempDir()
	writeFiles(t, skip, map[string]string{
		"index.html": `<link rel=stylesheet href=/a-long-stylesheet-name.css><link rel=stylesheet href=/s.css>`,
	})
	r = runNetjet(t, "headers", "-max-header-bytes", "40", skip)
	assert.Equal(t, "/\n  Link: </s.css>; rel=preload; as=style\n", r.stdout)

	// -max-images 0: no image, not the default two.
	r = runNetjet(t, "headers", "-max-images", "0", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "/\n  Link: </css/site.css>; rel=preload; as=style\n  Link: </js/app.js>; rel=preload; as=script\n\n"), r.stdout)
	assert.NotContains(t, r.stdout, "hero.jpg")
	r = runNetjet(t, "headers", "-max-links", "0", site)
	assert.Equal(t, exitUsage, r.code)
	assert.Equal(t, "netjet headers: -max-links 0 would add no links: want 1 or more, or a negative number for no limit\n"+
		"Run 'netjet headers -h' for usage.\n", r.stderr)

	// With an origin, links to it are paths too, and links to others stay URLs.
	writeFiles(t, site, map[string]string{
		"cdn.html": `<link rel=stylesheet href=https://example.com/docs/a.css><link rel=stylesheet href=//cdn.example/b.css>`,
	})
	r = runNetjet(t, "headers", "-base-url", "https://example.com/docs/", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "\n/docs/cdn\n  Link: </docs/a.css>; rel=preload; as=style\n  Link: <https://cdn.example/b.css>; rel=preload; as=style\n")
}

// Static hosts serve over HTTPS: a page's http: stylesheets and scripts are blocked there as
// mixed content, and must not be preloaded. Images are not blocked.
func TestHeadersHTTPSView(t *testing.T) {
	site := t.TempDir()
	writeFiles(t, site, map[string]string{
		"index.html": `<link rel=stylesheet href=http://cdn.example/a.css><script src=http://cdn.example/b.js></script>` +
			`<link rel=stylesheet href=https://cdn.example/c.css><img src=http://cdn.example/d.png>`,
	})
	r := runNetjet(t, "headers", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "/\n  Link: <https://cdn.example/c.css>; rel=preload; as=style\n  Link: <http://cdn.example/d.png>; rel=preload; as=image\n", r.stdout)
}

// The links every page shares go once into /*, resolved to one absolute path from however
// each page spells them; a page with no other link has no rule of its own.
func TestHeadersSharedRule(t *testing.T) {
	site := t.TempDir()
	writeFiles(t, site, map[string]string{
		"index.html":         `<link rel=stylesheet href=_static/site.css><script src=_static/app.js></script><img src=hero.png>`,
		"guide/index.html":   `<link rel=stylesheet href=../_static/site.css><script src=../_static/app.js></script>`,
		"guide/install.html": `<link rel=stylesheet href=../_static/site.css><script src=/_static/app.js></script><link rel=stylesheet href=../_static/pygments.css>`,
		"404.html":           `<link rel=stylesheet href=/_static/site.css><script src=/_static/app.js></script>`,
	})
	r := runNetjet(t, "headers", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, `/*
  Link: </_static/site.css>; rel=preload; as=style
  Link: </_static/app.js>; rel=preload; as=script

/
  Link: </hero.png>; rel=preload; as=image

/guide/install
  Link: </_static/pygments.css>; rel=preload; as=style
`, r.stdout)
	assert.NotContains(t, r.stdout, "../")
}

func TestHeadersLeavesOutPatternPaths(t *testing.T) {
	site := t.TempDir()
	writeFiles(t, site, map[string]string{
		"a*b.html":   `<link rel=stylesheet href=/a.css>`,
		"c:d.html":   `<link rel=stylesheet href=/c.css>`,
		"index.html": `<link rel=stylesheet href=/i.css>`,
	})
	r := runNetjet(t, "headers", site)
	assert.Equal(t, exitOK, r.code)
	assert.Equal(t, "/\n  Link: </i.css>; rel=preload; as=style\n", r.stdout)
	assert.Contains(t, r.stderr, "a*b.html left out: its URL path /a*b would be read as a pattern")
	assert.Contains(t, r.stderr, "c:d.html left out: its URL path /c:d would be read as a pattern")
}

func TestHeadersErrors(t *testing.T) {
	site := t.TempDir()
	writeFiles(t, site, builtSite)
	empty := t.TempDir()
	file := filepath.Join(site, "index.html")

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no directory", nil, exitUsage, "netjet headers: want one directory, got 0 arguments"},
		{"two directories", []string{site, site}, exitUsage, "netjet headers: want one directory, got 2 arguments"},
		{"relative base", []string{"-base-url", "docs", site}, exitUsage, `netjet headers: -base-url "docs": want a URL path starting with /, or an https URL`},
		{"http base", []string{"-base-url", "http://example.com/", site}, exitUsage,
			`netjet headers: -base-url "http://example.com/": static hosts serve over HTTPS: want an https URL`},
		{"base with query", []string{"-base-url", "/docs/?v=1", site}, exitUsage, `netjet headers: -base-url "/docs/?v=1": want no query and no fragment`},
		{"unknown host", []string{"-host", "vercel", site}, exitUsage, `invalid value "vercel" for flag -host: want cloudflare or netlify`},
		{"no rules", []string{"-max-rules", "0", site}, exitUsage, "netjet headers: -max-rules 0 would write no rule"},
		{"bad option", []string{"-max-header-bytes", "10", "-attributes", "x=\"\x01\"", site}, exitUsage,
			`netjet headers: -attributes[0]`},
		{"serving flag", []string{"-push", site}, exitUsage, "flag provided but not defined: -push"},
		{"missing", []string{filepath.Join(site, "nope")}, exitFailure, "netjet headers: stat " + filepath.Join(site, "nope") + ": no such file or directory"},
		{"a file", []string{file}, exitFailure, "netjet headers: " + file + ": not a directory"},
		{"unwritable output", []string{"-o", filepath.Join(site, "nope", "_headers"), site}, exitFailure,
			"netjet headers: open " + filepath.Join(site, "nope", "_headers") + ": no such file or directory"},
		{"no HTML", []string{empty}, exitOK, "netjet headers: warning: no *.html or *.htm file in " + empty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runNetjet(t, append([]string{"headers"}, tt.args...)...)
			assert.Equal(t, tt.code, r.code)
			assert.Contains(t, r.stderr, tt.stderr)
			assert.Empty(t, r.stdout)
		})
	}
}

func TestPagePaths(t *testing.T) {
	tests := []struct {
		host            staticHost
		base, rel, want string // want: the rule's paths, space-separated
	}{
		{cloudflare, "/", "index.html", "/"},
		{netlify, "/", "index.html", "/ /index.html"},
		{cloudflare, "/", "blog/index.html", "/blog/"},
		{netlify, "/", "blog/index.html", "/blog/ /blog/index.html"},
		{cloudflare, "/", "blog/post.html", "/blog/post"},
		{netlify, "/", "blog/post.html", "/blog/post /blog/post.html"},
		{cloudflare, "/", "index.htm", "/index.htm"},
		{netlify, "/", "page.htm", "/page.htm"},
		{cloudflare, "/docs/", "index.html", "/docs/"},
		{cloudflare, "/", "a b.html", "/a%20b"},
		{cloudflare, "/", "a(1)!*'.html", "/a(1)!*'"},
		{cloudflare, "/", "100%.html", "/100%25"},
		{cloudflare, "/", "q?#.html", "/q%3F%23"},
		{cloudflare, "/", "café.html", "/caf%C3%A9"},
		{cloudflare, "/", `"<{}>` + "`.html", "/%22%3C%7B%7D%3E%60"},
	}
	for _, tt := range tests {
		s := &siteReader{host: tt.host, base: tt.base}
		assert.Equal(t, tt.want, strings.Join(s.newPage(tt.rel).paths, " "), "%s: %s + %s", tt.host, tt.base, tt.rel)
	}
}

// checkPagesHeaders checks a _headers file against what Cloudflare Pages reads: at most 100
// rules, lines of at most 2,000 characters, rules at paths Pages serves (never at an .html
// URL, which it redirects), and links that resolve the same at every path a rule matches.
func checkPagesHeaders(t *testing.T, file string) {
	t.Helper()
	rules := 0
	for line := range strings.Lines(file) {
		line = strings.TrimSuffix(line, "\n")
		assert.LessOrEqual(t, len(line), cloudflareMaxLine, "line %.60q...", line)
		switch {
		case line == "":
		case strings.HasPrefix(line, "/"):
			rules++
			assert.False(t, strings.HasSuffix(line, ".html"), "rule at %s: Pages redirects it", line)
			assert.LessOrEqual(t, strings.Count(line, "*"), 1, "one splat a rule: %s", line)
		case strings.HasPrefix(line, "  Link: <"):
			target, _, _ := strings.Cut(strings.TrimPrefix(line, "  Link: <"), ">")
			assert.True(t, strings.HasPrefix(target, "/") || strings.HasPrefix(target, "https://"),
				"link target %q: a _headers link must be absolute", target)
		default:
			t.Errorf("line %q is neither a rule's path nor an indented Link", line)
		}
	}
	assert.LessOrEqual(t, rules, cloudflareMaxRules, "rules")
}

// A site of more than 100 pages: Pages reads 100 rules, so the /* rule, the root, and the
// pages most linked from others keep theirs, whatever their names; the others are named on
// stderr.
func TestHeadersCloudflareRuleLimit(t *testing.T) {
	site := t.TempDir()
	pages := map[string]string{}
	const head = `<!doctype html><link rel=stylesheet href=/_static/site.css>`
	// Every page links to p/140 to p/149, spelled the ways pages spell links; the others
	// form a chain, each linked from one page.
	popular := `<a href=/p/140>a</a><a href="../p/141.html">b</a><a href=https://example.com/p/142#x>c</a>` +
		`<a href=/p/143?q>d</a><a href=/p/144/>e</a><a href=/p/145.html>f</a><a href=/p/146>g</a>` +
		`<a href=/p/147>h</a><a href=/p/148>i</a><a href=/p/149>j</a><a href=https://other.example/p/000>k</a>`
	pages["index.html"] = head + `<script src=/js/index.js></script><a href=p/000.html>first</a>` + popular
	for i := range 150 {
		body := head + fmt.Sprintf(`<script src=../js/p%03d.js></script>`, i) + popular
		if i < 139 {
			body += fmt.Sprintf(`<a href=%03d>next</a>`, i+1)
		}
		pages[fmt.Sprintf("p/%03d.html", i)] = body
	}
	writeFiles(t, site, pages)

	r := runNetjet(t, "headers", "-base-url", "https://example.com/", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	checkPagesHeaders(t, r.stdout)
	assert.Equal(t, cloudflareMaxRules, strings.Count(r.stdout, "\n/")+1, "rules:\n%s", r.stdout)
	assert.True(t, strings.HasPrefix(r.stdout, "/*\n  Link: </_static/site.css>; rel=preload; as=style\n\n/\n  Link: </js/index.js>; rel=preload; as=script\n\n"), r.stdout)
	// /* and / are 2 rules, p/140 to p/149 10 more: 88 of the chain, by name, fill the rest.
	for i := range 150 {
		rule := fmt.Sprintf("\n/p/%03d\n  Link: </js/p%03d.js>; rel=preload; as=script\n", i, i)
		if i < 88 || i >= 140 {
			assert.Contains(t, r.stdout, rule)
		} else {
			assert.NotContains(t, r.stdout, rule)
			assert.Contains(t, r.stderr, fmt.Sprintf("\n  /p/%03d (p/%03d.html, linked from 1 pages)", i, i))
		}
	}
	assert.True(t, strings.HasPrefix(r.stderr, "netjet headers: warning: 152 rules, more than -max-rules 100: "+
		"the rules of the 52 pages least linked from other pages are left out:\n  /p/088 (p/088.html, linked from 1 pages)\n"), r.stderr)

	// The user's own rules count: -max-rules leaves room for them.
	r = runNetjet(t, "headers", "-max-rules", "12", site)
	assert.Equal(t, 12, strings.Count(r.stdout, "\n/")+1)
	assert.Contains(t, r.stdout, "\n/p/140\n")
	assert.Contains(t, r.stdout, "\n/p/149\n")

	// Netlify has no such limit: every page, at both of its paths.
	r = runNetjet(t, "headers", "-host", "netlify", site)
	assert.Empty(t, r.stderr)
	assert.Equal(t, 2*151, strings.Count(r.stdout, "\n/")+1)
}

// Pages reads lines of at most 2,000 characters: a longer link is left out, and named.
func TestHeadersCloudflareLineLimit(t *testing.T) {
	site := t.TempDir()
	long := "/" + strings.Repeat("x", 2000) + ".css"
	writeFiles(t, site, map[string]string{
		"index.html": `<link rel=stylesheet href=` + long + `><link rel=stylesheet href=/short.css>`,
	})
	r := runNetjet(t, "headers", "-max-header-bytes", "-1", site)
	assert.Equal(t, exitOK, r.code)
	assert.Equal(t, "/\n  Link: </short.css>; rel=preload; as=style\n", r.stdout)
	assert.Equal(t, "netjet headers: warning: /: a Link line of 2038 characters left out, past the 2000 of a line: "+
		"<"+long[:79]+"...\n", r.stderr)
	checkPagesHeaders(t, r.stdout)

	r = runNetjet(t, "headers", "-host", "netlify", "-max-header-bytes", "-1", site)
	assert.Contains(t, r.stdout, "  Link: <"+long+">; rel=preload; as=style\n", "Netlify documents no line limit")
}
