package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeSite writes files (path: content) under a new directory and returns it.
func writeSite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func TestStaticSitePagesAreItsHTMLFilesOnly(t *testing.T) {
	dir := writeSite(t, map[string]string{
		"index.html":     `<link rel=stylesheet href=a.css><img src=img/x.png>`,
		"blog/post.html": `<script src=/app.js></script>`,
		"a.css":          "body{}",
		"app.js":         "1",
		"img/x.png":      "\x89PNG\r\n\x1a\n",
		"notes.htm":      "<p>not a page",
	})
	_, pages, err := loadStaticSite(dir, 0)
	require.NoError(t, err)
	var names, paths []string
	for _, p := range pages {
		names = append(names, p.name)
		paths = append(paths, p.path)
	}
	assert.ElementsMatch(t, []string{"index", "blog/post"}, names)
	assert.ElementsMatch(t, []string{"/index.html", "/blog/post.html"}, paths)
	for _, p := range pages {
		if p.name == "index" {
			assert.Equal(t, resources{sheets: 1, images: 1}, p.loads)
		}
	}
}

func TestStaticSiteServesItsFilesAsTheyAre(t *testing.T) {
	dir := writeSite(t, map[string]string{
		"index.html":        "<title>home</title>",
		"css/a.css":         "body { color: red }",
		"fonts/f.woff2":     "wOF2 and the rest",
		"img/hero.jpg":      "\xff\xd8\xff a jpeg",
		"data/unknown.blob": "%PDF-1.4 a document",
	})
	s, _, err := loadStaticSite(dir, time.Millisecond)
	require.NoError(t, err)
	h := s.handler([]variant{{"none", nil}, {"links", nil}})

	get := func(url string, header ...string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, url, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Result()
	}
	for _, c := range []struct{ path, body, contentType string }{
		{"/css/a.css", "body { color: red }", "text/css; charset=utf-8"},
		{"/fonts/f.woff2", "wOF2 and the rest", "font/woff2"},
		{"/img/hero.jpg", "\xff\xd8\xff a jpeg", "image/jpeg"},
		{"/data/unknown.blob", "%PDF-1.4 a document", "application/pdf"},
	} {
		// The browser's Sec-Fetch-Dest would pick a synthetic body if the file were not used.
		resp := get("https://none.speedtest.test"+c.path, "Sec-Fetch-Dest", "style")
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, c.path)
		assert.Equal(t, c.body, string(body), c.path)
		assert.Equal(t, c.contentType, resp.Header.Get("Content-Type"), c.path)
		assert.Equal(t, "public, max-age=31536000", resp.Header.Get("Cache-Control"), c.path)
		etag := resp.Header.Get("ETag")
		assert.NotEmpty(t, etag, c.path)
		assert.Equal(t, http.StatusNotModified, get("https://none.speedtest.test"+c.path, "If-None-Match", etag).StatusCode, c.path)
	}

	// On another host, a third party such as a font service or a CDN: the same files, readable
	// from any origin, as fonts must be.
	resp := get("https://fonts.example.net/fonts/f.woff2", "Sec-Fetch-Dest", "font")
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "wOF2 and the rest", string(body))
	assert.Equal(t, "font/woff2", resp.Header.Get("Content-Type"))
	assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))

	resp = get("https://links.speedtest.test/index.html")
	body, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "<title>home</title>", string(body))
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), "a page is not cached as its files are")
}

func TestTwoPagesOfOneNameAreRefused(t *testing.T) {
	dir := writeSite(t, map[string]string{"demo.html": "<title>another demo</title>"})
	_, err := loadPageSets(config{pages: 1, demoDir: demoDir, corpusDir: t.TempDir(), siteDir: dir, progress: io.Discard})
	assert.ErrorContains(t, err, `two pages named "demo"`)
}

// references are the URLs a page or a stylesheet names: src and href attributes, url() and
// @import.
var references = regexp.MustCompile(`(?:src|href)="([^"#]+)"|url\(["']?([^"')]+)["']?\)`)

// TestLateSiteIsWhole checks that every file the late site's page and stylesheets name is in
// the site, and that it is what the benchmark relies on: fonts that only an imported
// stylesheet declares, and a hero image that only a stylesheet names, of a real weight.
func TestLateSiteIsWhole(t *testing.T) {
	s, pages, err := loadStaticSite(lateSite, 0)
	require.NoError(t, err)
	require.Len(t, pages, 1)
	assert.Equal(t, "index", pages[0].name)

	named := map[string]bool{}
	var walk func(from string, body []byte)
	walk = func(from string, body []byte) {
		for _, m := range references.FindAllSubmatch(body, -1) {
			ref := string(m[1]) + string(m[2])
			target := path.Join(path.Dir(from), ref)
			if named[target] || path.Ext(target) == ".woff" {
				continue // the WOFF fallbacks are left out: a browser that reads WOFF2 skips them
			}
			named[target] = true
			if f, ok := s.files[target]; ok {
				if path.Ext(target) == ".css" {
					walk(target, f.body)
				}
			} else {
				assert.Contains(t, s.pages, target, "%s names %s, which the site lacks", from, ref)
			}
		}
	}
	walk(pages[0].path, pages[0].body)

	var fonts []string
	for p := range named {
		if path.Ext(p) == ".woff2" {
			fonts = append(fonts, p)
		}
	}
	assert.Len(t, fonts, 3, "Inter 400 and 700, Merriweather 700")
	for _, f := range fonts {
		assert.Equal(t, "wOF2", string(s.files[f].body[:4]), f)
		assert.NotContains(t, string(pages[0].body), path.Base(f), "the page itself does not name the fonts")
	}
	assert.NotContains(t, string(pages[0].body), "hero.jpg", "only the stylesheet names the hero")
	site := string(s.files["/css/site.css"].body)
	assert.Contains(t, site, `url("../img/hero.jpg")`)
	assert.Equal(t, 3, strings.Count(site, "@import"), "the font stylesheets come behind @import")
	hero := s.files["/img/hero.jpg"].body
	assert.True(t, bytes.HasPrefix(hero, []byte{0xff, 0xd8, 0xff}), "a JPEG")
	assert.InDelta(t, 150<<10, len(hero), 50<<10, "a hero of a typical weight")

	for _, license := range []string{"/vendor/inter/LICENSE", "/vendor/merriweather/LICENSE", "/vendor/normalize.css/LICENSE.md"} {
		assert.Contains(t, s.files, license)
	}
}

// TestWebfontsSiteIsWhole checks that every file the webfonts site's pages and stylesheets name,
// on whatever host, is in the site, and that each page's fonts come from another origin: named
// by the site's stylesheet (cdn), or only by a font service's stylesheet it imports (service).
func TestWebfontsSiteIsWhole(t *testing.T) {
	s, pages, err := loadStaticSite("../sites/webfonts", 0)
	require.NoError(t, err)
	hosts := map[string][]string{} // page: the hosts of the fonts it gets
	for _, p := range pages {
		var walk func(from string, body []byte)
		walk = func(from string, body []byte) {
			for _, m := range references.FindAllSubmatch(body, -1) {
				ref := string(m[1]) + string(m[2])
				target, host := path.Join(path.Dir(from), ref), ""
				if rest, ok := strings.CutPrefix(ref, "https://"); ok {
					host, target, _ = strings.Cut(rest, "/")
					target = "/" + target
				}
				f, ok := s.files[target]
				if !assert.True(t, ok, "%s names %s, which the site lacks", from, ref) {
					continue
				}
				switch path.Ext(target) {
				case ".css":
					walk(target, f.body)
				case ".woff2":
					assert.Equal(t, "wOF2", string(f.body[:4]), target)
					hosts[p.name] = append(hosts[p.name], host)
				}
			}
		}
		walk(p.path, p.body)
	}
	assert.Equal(t, map[string][]string{
		"cdn":     {"cdn.example.net", "cdn.example.net"},
		"service": {"fonts-files.example.net", "fonts-files.example.net"},
	}, hosts)
	assert.Contains(t, string(s.files["/css/service.css"].body), `@import url("https://fonts-api.example.net/`)
}
