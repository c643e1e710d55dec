package main

import (
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

const builtSiteHeaders = `/
  Link: </css/site.css>; rel=preload; as=style
  Link: </js/app.js>; rel=preload; as=script
  Link: <hero.jpg>; rel=preload; as=image

/about.html
  Link: </static/about.css>; rel=preload; as=style

/blog/
  Link: <blog.css>; rel=preload; as=style
  Link: </js/blog.js>; rel=modulepreload; fetchpriority=low

/docs/guide.htm
  Link: </assets/guide.css>; rel=preload; as=style

/with%20space.html
  Link: </space.css>; rel=preload; as=style
`

func TestHeaders(t *testing.T) {
	site := t.TempDir()
	writeFiles(t, site, builtSite)

	r := runNetjet(t, "headers", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, builtSiteHeaders, r.stdout)
	assert.Empty(t, r.stderr)

	out := filepath.Join(t.TempDir(), "_headers")
	r = runNetjet(t, "headers", "-o", out, site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, builtSiteHeaders, string(written))
}

func TestHeadersFlags(t *testing.T) {
	site := t.TempDir()
	writeFiles(t, site, builtSite)

	r := runNetjet(t, "headers", "-base-url", "/site", "-kinds", "styles,scripts", "-max-links", "1",
		"-attributes", `nopush, title="a,b"`, site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, `/site/
  Link: </css/site.css>; rel=preload; as=style; nopush; title="a,b"

/site/about.html
  Link: </site/static/about.css>; rel=preload; as=style; nopush; title="a,b"

/site/blog/
  Link: <blog.css>; rel=preload; as=style; nopush; title="a,b"

/site/docs/guide.htm
  Link: </site/assets/guide.css>; rel=preload; as=style; nopush; title="a,b"

/site/with%20space.html
  Link: </space.css>; rel=preload; as=style; nopush; title="a,b"
`, r.stdout)

	// The byte cap holds for the whole value, parameters included: the second link would
	// take it from 45 to 87 bytes.
	r = runNetjet(t, "headers", "-max-header-bytes", "60", "-kinds", "styles,scripts", site)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "/\n  Link: </css/site.css>; rel=preload; as=style\n\n/about.html\n"), r.stdout)
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
	assert.Contains(t, r.stderr, "a*b.html left out: its URL path /a*b.html would be read as a pattern")
	assert.Contains(t, r.stderr, "c:d.html left out: its URL path /c:d.html would be read as a pattern")
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
		{"relative base", []string{"-base-url", "docs", site}, exitUsage, `netjet headers: -base-url "docs": want a URL path starting with /`},
		{"bad option", []string{"-max-header-bytes", "10", "-attributes", "x=\"\x01\"", site}, exitUsage,
			`netjet headers: invalid flags: netjet: Options.Attributes[0]`},
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

func TestHeadersWarnsPastCloudflareRuleLimit(t *testing.T) {
	site := t.TempDir()
	pages := map[string]string{}
	for i := range cloudflareMaxRules + 1 {
		pages[filepath.Join("p", strings.Repeat("x", i+1)+".html")] = `<script src=/app.js></script>`
	}
	writeFiles(t, site, pages)
	r := runNetjet(t, "headers", site)
	assert.Equal(t, exitOK, r.code)
	assert.Equal(t, cloudflareMaxRules+1, strings.Count(r.stdout, "  Link: </app.js>; rel=preload; as=script\n"))
	assert.Equal(t, "netjet headers: warning: 101 rules: Cloudflare Pages reads the first 100 only\n", r.stderr)
}

func TestPagePath(t *testing.T) {
	tests := []struct{ base, rel, want string }{
		{"/", "index.html", "/"},
		{"/", "blog/index.html", "/blog/"},
		{"/", "blog/post.html", "/blog/post.html"},
		{"/", "index.htm", "/index.htm"},
		{"/docs/", "index.html", "/docs/"},
		{"/", "a b.html", "/a%20b.html"},
		{"/", "a(1)!*'.html", "/a(1)!*'.html"},
		{"/", "100%.html", "/100%25.html"},
		{"/", "q?#.html", "/q%3F%23.html"},
		{"/", "café.html", "/caf%C3%A9.html"},
		{"/", `"<{}>` + "`.html", "/%22%3C%7B%7D%3E%60.html"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, pagePath(tt.base, tt.rel), "%s + %s", tt.base, tt.rel)
	}
}
