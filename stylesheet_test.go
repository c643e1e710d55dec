package netjet

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSheetOrigins(t *testing.T) {
	const (
		fonts  = `<https://fonts.example.net>; rel=preconnect; crossorigin`
		cdn    = `<https://cdn.example.net>; rel=preconnect`
		google = `@import url(https://fonts.googleapis.com/css2?family=Inter);`
	)
	tests := []struct {
		name, sheet string
		overTLS     bool
		want        []string
	}{
		{"google fonts", google + ` body { font-family: Inter }`, true,
			[]string{`<https://fonts.googleapis.com>; rel=preconnect`}},
		{"font face", `@font-face { font-family: F; src: url(https://fonts.example.net/f.woff2) format("woff2"); }`, true,
			[]string{fonts}},
		{"quoted, upper case", `@FONT-FACE { src: URL( "https://FONTS.example.net:443/f.woff2" ) }`, true, []string{fonts}},
		{"import as a string, then a font", `@import "https://cdn.example.net/x.css" screen; @font-face { src: url('https://fonts.example.net/f.woff2') }`, true,
			[]string{cdn, fonts}},
		{"import with layer and supports", `@charset "utf-8"; @layer base; @import url("//cdn.example.net/x.css") layer(base) supports(display: grid);`, true,
			[]string{cdn}},
		{"font face inside media", `@media screen { @font-face { src: local(F), url(https://fonts.example.net/f.woff2) } }`, true,
			[]string{fonts}},
		{"only a font face's first source", `@font-face { src: url(https://fonts.example.net/f.woff2), url(https://old.example.net/f.ttf) }`, true,
			[]string{fonts}},
		{"one origin, once", `@font-face { src: url(https://fonts.example.net/a.woff2) } @font-face { src: url(https://fonts.example.net/b.woff2) }`, true,
			[]string{fonts}},
		{"a port of its own", `@import url(https://cdn.example.net:8443/x.css);`, true, []string{`<https://cdn.example.net:8443>; rel=preconnect`}},
		{"IPv6", `@import url(https://[2001:DB8::1]/x.css);`, true, []string{`<https://[2001:db8::1]>; rel=preconnect`}},
		{"http over plain HTTP", `@import url(http://cdn.example.net/x.css);`, false, []string{`<http://cdn.example.net>; rel=preconnect`}},
		{"at most four", `@font-face{src:url(https://a.example/f)} @font-face{src:url(https://b.example/f)} @font-face{src:url(https://c.example/f)}` +
			`@font-face{src:url(https://d.example/f)} @font-face{src:url(https://e.example/f)}`, true, []string{
			`<https://a.example>; rel=preconnect; crossorigin`, `<https://b.example>; rel=preconnect; crossorigin`,
			`<https://c.example>; rel=preconnect; crossorigin`, `<https://d.example>; rel=preconnect; crossorigin`}},

		// Left out.
		{"the stylesheet's own origin", `@import url(https://www.example.com/x.css); @font-face { src: url(//www.example.com/f.woff2) }`, true, nil},
		{"relative URLs", `@import "x.css"; @font-face { src: url(/f.woff2) }`, true, nil},
		{"a background image", `.hero { background: url(https://img.example.net/hero.jpg) }`, true, nil},
		{"mixed content", `@import url(http://cdn.example.net/x.css);`, true, nil},
		{"an import after a rule", `body { color: red } @import url(https://cdn.example.net/x.css);`, true, nil},
		{"an import in a block", `@media print { @import url(https://cdn.example.net/x.css); }`, true, nil},
		{"comments", `/* @import url(https://cdn.example.net/x.css); */ @font-face { /* src: url(https://fonts.example.net/f.woff2) */ }`, true, nil},
		{"a string outside url()", `@font-face { font-family: "https://fonts.example.net/f.woff2" }`, true, nil},
		{"escapes", `@import url(https://cdn\.example.net/x.css); @font-face { src: url("https://fonts.example.net\2f f.woff2") }`, true, nil},
		{"hostile hosts", `@import url("https://a>b.example/x.css"); @font-face { src: url("https://a,b.example/f") }` +
			`@font-face { src: url("https://user@fonts.example.net/f") } @font-face { src: url("https://%41.example/f") }` +
			`@font-face { src: url("https://x.example:99999/f") } @font-face { src: url("javascript:alert(1)") }`, true, nil},
		{"not CSS", "\x00\xff<html>{{{{", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, linkValues(sheetOrigins([]byte(tt.sheet), tt.overTLS, "www.example.com")))
		})
	}
}

func TestReadsSheet(t *testing.T) {
	req := func(method, dest string) *http.Request {
		r := httptest.NewRequest(method, "/site.css", nil)
		if dest != "" {
			r.Header.Set("Sec-Fetch-Dest", dest)
		}
		return r
	}
	plain := http.Header{}
	assert.True(t, readsSheet(req(http.MethodGet, "style"), 200, "text/css; charset=utf-8", plain))
	assert.True(t, readsSheet(req(http.MethodGet, "style"), 200, " TEXT/CSS", plain))
	assert.False(t, readsSheet(req(http.MethodGet, ""), 200, "text/css", plain), "not asked for as a stylesheet")
	assert.False(t, readsSheet(req(http.MethodGet, "script"), 200, "text/css", plain))
	assert.False(t, readsSheet(req(http.MethodHead, "style"), 200, "text/css", plain))
	assert.False(t, readsSheet(req(http.MethodGet, "style"), 404, "text/css", plain))
	assert.False(t, readsSheet(req(http.MethodGet, "style"), 200, "text/plain", plain))
	assert.False(t, readsSheet(req(http.MethodGet, "style"), 200, "text/css", http.Header{"Content-Encoding": {"gzip"}}))
}

// FuzzSheetOrigins checks that whatever a stylesheet holds, what comes out is at most
// maxSheetOrigins preconnects, each to one well-formed origin other than the stylesheet's.
func FuzzSheetOrigins(f *testing.F) {
	for _, s := range []string{
		`@import url(https://fonts.googleapis.com/css2?family=Inter);`,
		`@font-face { font-family: F; src: url("https://fonts.example.net/f.woff2") format("woff2"); }`,
		`@media screen { @font-face { src: local(F), url(//cdn.example.net:8443/f.woff2) } }`,
		`@import "https://[2001:db8::1]/x.css"; a { b: url(https://x.example/y) }`,
	} {
		f.Add([]byte(s), true)
	}
	origin := regexp.MustCompile(`^https?://([a-z0-9][a-z0-9.-]*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$`)
	f.Fuzz(func(t *testing.T, sheet []byte, overTLS bool) {
		links := sheetOrigins(sheet, overTLS, "www.example.com")
		if len(links) > maxSheetOrigins {
			t.Fatalf("%d origins", len(links))
		}
		for _, l := range links {
			if !origin.MatchString(l.URL) || l.Rel != "preconnect" || strings.HasSuffix(l.URL, "://www.example.com") {
				t.Fatalf("not another origin's preconnect: %q", l.String())
			}
			if overTLS && strings.HasPrefix(l.URL, "http:") {
				t.Fatalf("mixed content: %q", l.URL)
			}
		}
	})
}
