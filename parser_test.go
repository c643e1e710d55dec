package netjet

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkTest is one row of the extraction spec (../shared/docs/preload-rules.md): a document,
// the options, and the exact Link values it gives, in order.
type linkTest struct {
	name   string
	doc    string
	opts   Options
	docURL string
	want   []string
}

// runLinkTests checks every row through the public API: Preloader.Links and Link.String.
func runLinkTests(t *testing.T, tests []linkTest) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.want, linkValues(p.Links([]byte(tt.doc), tt.docURL)))
		})
	}
}

// numbered formats format with every index in [from, to), e.g. numbered("<img src=/%d.png>", 0, 3).
func numbered(format string, from, to int) []string {
	var s []string
	for i := from; i < to; i++ {
		s = append(s, fmt.Sprintf(format, i))
	}
	return s
}

func concat(parts ...[]string) []string {
	var all []string
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

const (
	styleLink  = "</app.css>; rel=preload; as=style"
	scriptLink = "</app.js>; rel=preload; as=script"
	moduleLink = "</app.mjs>; rel=modulepreload"
	// low is what the preload of a script that runs after parsing (defer, module) carries.
	low       = "; fetchpriority=low"
	imageLink = "</hero.jpg>; rel=preload; as=image"
)

func TestLinksStylesheets(t *testing.T) {
	runLinkTests(t, []linkTest{
		{name: "stylesheet", doc: `<link rel=stylesheet href=/app.css>`, want: []string{styleLink}},
		{name: "rel is a case-insensitive token list", doc: `<link rel=" icon	StyleSheet " href=/app.css>`, want: []string{styleLink}},
		// Browsers split rel on ASCII white space only: "x\u00a0stylesheet" is one unknown token.
		{name: "rel is not split on non-ASCII space", doc: "<link rel=\"x\u00a0stylesheet\" href=/app.css>"},
		{
			name: "crossorigin, integrity, fetchpriority and referrerpolicy are kept",
			doc:  `<link rel=stylesheet href=/app.css crossorigin integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K" fetchpriority=HIGH referrerpolicy=no-referrer>`,
			want: []string{`</app.css>; rel=preload; as=style; crossorigin; integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K"; fetchpriority=high; referrerpolicy=no-referrer`},
		},
		{name: "crossorigin use-credentials", doc: `<link rel=stylesheet href=/app.css crossorigin=USE-CREDENTIALS>`, want: []string{styleLink + "; crossorigin=use-credentials"}},
		{name: "an invalid crossorigin means anonymous", doc: `<link rel=stylesheet href=/app.css crossorigin=bogus>`, want: []string{styleLink + "; crossorigin"}},
		{name: "invalid fetchpriority and referrerpolicy are left out", doc: `<link rel=stylesheet href=/app.css fetchpriority=urgent referrerpolicy=bogus>`, want: []string{styleLink}},
		{name: "alternate stylesheet is skipped", doc: `<link rel="Alternate stylesheet" href=/app.css>`},
		{name: "disabled stylesheet is skipped", doc: `<link rel=stylesheet href=/app.css disabled>`},
		{name: "print stylesheet is skipped", doc: `<link rel=stylesheet href=/app.css media=" Print ">`},
		{name: "another media query goes out as media", doc: `<link rel=stylesheet href=/app.css media="screen and (min-width: 600px)">`, want: []string{styleLink + `; media="screen and (min-width: 600px)"`}},
		{name: "media=all is the default and left out", doc: `<link rel=stylesheet href=/app.css media=ALL>`, want: []string{styleLink}},
		{name: "text/css in any case", doc: `<link rel=stylesheet href=/app.css type=" Text/CSS ">`, want: []string{styleLink}},
		{name: "a non-CSS type is skipped", doc: `<link rel=stylesheet href=/app.less type=text/less>`},
		{name: "no href", doc: `<link rel=stylesheet><link rel=stylesheet href="">`},
	})
}

func TestLinksScripts(t *testing.T) {
	runLinkTests(t, []linkTest{
		{name: "classic script", doc: `<script src=/app.js></script>`, want: []string{scriptLink}},
		{
			name: "crossorigin, integrity, fetchpriority and referrerpolicy are kept",
			doc:  `<script src=/app.js crossorigin=use-credentials integrity="sha256-abc=" fetchpriority=low referrerpolicy=origin></script>`,
			want: []string{scriptLink + `; crossorigin=use-credentials; integrity="sha256-abc="; fetchpriority=low; referrerpolicy=origin`},
		},
		{name: "JavaScript MIME types", doc: `<script src=/app.js type=text/javascript></script><script src=/b.js type=" Application/ECMAScript "></script>`, want: []string{scriptLink, "</b.js>; rel=preload; as=script"}},
		// Browsers match the type exactly: with parameters it is a data block, never run.
		{name: "a type with parameters is not JavaScript", doc: `<script src=/app.js type="text/javascript; charset=utf-8"></script>`},
		{name: "module", doc: `<script type=module src=/app.mjs></script>`, want: []string{moduleLink + low}},
		// A module is fetched in CORS mode with or without crossorigin: anonymous adds nothing.
		// A module is fetched in CORS mode anyway: the bare crossorigin changes nothing, and is
		// kept as the page wrote it.
		{name: "module with crossorigin", doc: `<script type=MODULE src=/app.mjs crossorigin></script>`, want: []string{moduleLink + "; crossorigin" + low}},
		{name: "module with crossorigin=use-credentials", doc: `<script type=module src=/app.mjs crossorigin=use-credentials></script>`, want: []string{moduleLink + "; crossorigin=use-credentials" + low}},
		{name: "module with integrity", doc: `<script type=module src=/app.mjs integrity="sha384-abc"></script>`, want: []string{moduleLink + `; integrity="sha384-abc"` + low}},
		// nomodule concerns classic scripts only: browsers run a module that carries it.
		{name: "module with nomodule", doc: `<script type=module nomodule src=/app.mjs></script>`, want: []string{moduleLink + low}},
		{name: "nomodule", doc: `<script nomodule src=/legacy.js></script>`},
		{name: "async", doc: `<script async src=/a.js></script><script async="" type=module src=/b.mjs></script>`},
		{name: "importmap, JSON and template types", doc: `<script type=importmap src=/map.json></script><script type=application/json src=/d.json></script><script type=text/template src=/t.html></script>`},
		{name: "inline", doc: `<script>var s = "/x.js"</script><script src=""></script>`},
		// A deferred or module script's preload would be fetched as urgently as a blocking
		// script, sharing the connection with what holds back the first render.
		{name: "defer", doc: `<script defer src=/app.js></script>`, want: []string{scriptLink + low}},
		{name: "the page's own priority is kept", doc: `<script defer src=/app.js fetchpriority=high></script><script type=module src=/app.mjs fetchpriority=auto></script>`, want: []string{scriptLink + "; fetchpriority=high", moduleLink}},
	})
}

func TestLinksImages(t *testing.T) {
	runLinkTests(t, []linkTest{
		{name: "eager image", doc: `<img src=/hero.jpg alt="">`, want: []string{imageLink}},
		{name: "loading=eager", doc: `<img src=/hero.jpg loading=eager>`, want: []string{imageLink}},
		{
			name: "crossorigin, fetchpriority, referrerpolicy",
			doc:  `<img src=/hero.jpg crossorigin fetchpriority=high referrerpolicy=no-referrer>`,
			want: []string{imageLink + "; crossorigin; fetchpriority=high; referrerpolicy=no-referrer"},
		},
		{
			name: "srcset and sizes",
			doc:  `<img src=/s.jpg srcset="/s.jpg 480w, /l.jpg 1080w" sizes="(max-width: 600px) 480px, 800px">`,
			want: []string{`</s.jpg>; rel=preload; as=image; imagesrcset="/s.jpg 480w, /l.jpg 1080w"; imagesizes="(max-width: 600px) 480px, 800px"`},
		},
		{name: "sizes without srcset means nothing", doc: `<img src=/hero.jpg sizes=50vw>`, want: []string{imageLink}},
		{name: "a srcset over several lines survives", doc: "<img src=/a.jpg srcset=\"/a.jpg 1x,\n      /b.jpg 2x\n\">", want: []string{`</a.jpg>; rel=preload; as=image; imagesrcset="/a.jpg 1x, /b.jpg 2x"`}},
		{name: "srcset of white space and commas is none", doc: `<img src=/hero.jpg srcset=" , ," sizes=50vw>`, want: []string{imageLink}},
		{
			name: "srcset candidates split as HTML splits them",
			doc:  "<img src=/a.jpg srcset=\"/a.jpg,,\t/b.jpg  2x ,/c.jpg (x, y) 3x\">",
			want: []string{`</a.jpg>; rel=preload; as=image; imagesrcset="/a.jpg, /b.jpg 2x, /c.jpg (x, y) 3x"`},
		},
		// A Link needs a URL, and "<>" would be the page itself to a browser without imagesrcset.
		{name: "srcset without src", doc: `<img srcset="/s.jpg 1x, /l.jpg 2x">`},
		{name: "lazy", doc: `<img src=/a.jpg loading=lazy><img src=/b.jpg loading=" LAZY ">`},
		{name: "fetchpriority=low", doc: `<img src=/a.jpg fetchpriority=low>`},
		{name: "picture with a source", doc: `<picture><source srcset=/a.webp type=image/webp><img src=/a.jpg></picture><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "picture without a source", doc: `<picture><img src=/hero.jpg></picture>`, want: []string{imageLink}},
		// The browser considers only the <source>s before the <img>.
		{name: "picture with a source after the img", doc: `<picture><img src=/hero.jpg><source srcset=/a.webp></picture>`, want: []string{imageLink}},
		{name: "a source outside picture", doc: `<video><source src=/v.mp4></video><img src=/hero.jpg>`, want: []string{imageLink}},
		// The HTML parser renames an <image> start tag to <img>.
		{name: "image outside svg is img", doc: `<image src=/hero.jpg>`, want: []string{imageLink}},
	})
}

func TestLinksUnfetchableURLs(t *testing.T) {
	runLinkTests(t, []linkTest{
		{name: "data", doc: `<img src="data:image/png;base64,iVBORw0KGgo="><img src=" DATA:,x">`},
		{name: "blob, javascript, about, mailto", doc: `<img src=blob:https://example.com/1><script src="javascript:void(0)"></script><img src=about:blank><img src=mailto:a@example.com>`},
		{name: "empty and white space", doc: `<img src=""><img src=" &#9; ">`},
		{name: "fragment only", doc: `<img src="#top">`},
		{name: "backslash", doc: `<img src="/img\hero.jpg"><img src="\\cdn.example\a.jpg">`},
		{name: "http and https absolute", doc: `<img src=HTTPS://cdn.example/a.jpg><img src=http://cdn.example/b.jpg>`, want: []string{"<HTTPS://cdn.example/a.jpg>; rel=preload; as=image", "<http://cdn.example/b.jpg>; rel=preload; as=image"}},
		{name: "scheme-relative", doc: `<img src=//cdn.example/a.jpg>`, want: []string{"<//cdn.example/a.jpg>; rel=preload; as=image"}},
		{name: "relative path stays relative", doc: `<img src=img/a.jpg>`, docURL: "/blog/post", want: []string{"<img/a.jpg>; rel=preload; as=image"}},
	})
}

func TestLinksAuthorHints(t *testing.T) {
	runLinkTests(t, []linkTest{
		{name: "preload", doc: `<link rel=preload as=style href=/app.css>`, want: []string{styleLink}},
		{name: "as is case-insensitive", doc: `<link rel=PRELOAD as=" Script " href=/app.js>`, want: []string{scriptLink}},
		{name: "preload without a valid as", doc: `<link rel=preload href=/a.css><link rel=preload as="" href=/b.css><link rel=preload as=stylesheet href=/c.css>`},
		{name: "font gets crossorigin", doc: `<link rel=preload href=/f.woff2 as=font type=font/woff2>`, want: []string{`</f.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin`}},
		{name: "font keeps use-credentials", doc: `<link rel=preload href=/f.woff2 as=font crossorigin=use-credentials>`, want: []string{`</f.woff2>; rel=preload; as=font; crossorigin=use-credentials`}},
		{
			name: "every attribute copied",
			doc:  `<link rel=preload as=image href=/a.jpg imagesrcset="/a.jpg 1x, /a2.jpg 2x" imagesizes=100vw media="(max-width: 600px)" fetchpriority=high referrerpolicy=origin integrity=sha256-x crossorigin>`,
			want: []string{`</a.jpg>; rel=preload; as=image; crossorigin; integrity="sha256-x"; fetchpriority=high; referrerpolicy=origin; media="(max-width: 600px)"; imagesrcset="/a.jpg 1x, /a2.jpg 2x"; imagesizes="100vw"`},
		},
		{name: "fetch", doc: `<link rel=preload as=fetch href=/api/data crossorigin>`, want: []string{"</api/data>; rel=preload; as=fetch; crossorigin"}},
		{name: "modulepreload", doc: `<link rel=modulepreload href=/app.mjs>`, want: []string{moduleLink}},
		{name: "modulepreload copied faithfully", doc: `<link rel=modulepreload href=/app.mjs crossorigin>`, want: []string{moduleLink + "; crossorigin"}},
		{name: "preconnect", doc: `<link rel=preconnect href=https://cdn.example crossorigin>`, want: []string{"<https://cdn.example>; rel=preconnect; crossorigin"}},
		{name: "other rels", doc: `<link rel=prefetch href=/a.js><link rel=dns-prefetch href=//cdn.example><link rel=icon href=/favicon.ico><link rel=canonical href=/page>`},
		{name: "preload without href", doc: `<link rel=preload as=image imagesrcset="/a.jpg 1x">`},
		// HTML compares as ASCII case-insensitively: U+212A KELVIN SIGN is no "k".
		{name: "as is ASCII case-insensitive only", doc: `<link rel=preload as="trac&#x212A;" href=/t.vtt><link rel=preload as=TRACK href=/u.vtt>`, want: []string{"</u.vtt>; rel=preload; as=track"}},
	})
}

func TestLinksEscaping(t *testing.T) {
	img := func(u string) []string { return []string{"<" + u + ">; rel=preload; as=image"} }
	runLinkTests(t, []linkTest{
		{name: "&amp; is decoded", doc: `<img src="/a.jpg?w=1&amp;h=2">`, want: img("/a.jpg?w=1&h=2")},
		// In an attribute, HTML leaves a legacy reference followed by "=" alone.
		{name: "&copy= stays as written", doc: `<img src="/a.jpg?a=1&copy=2">`, want: img("/a.jpg?a=1&copy=2")},
		{name: "non-ASCII as UTF-8", doc: `<img src="/café.jpg?q=&eacute;">`, want: img("/caf%C3%A9.jpg?q=%C3%A9")},
		{name: "space, quote and angle brackets", doc: `<img src="/a b&quot;&lt;&gt;.jpg">`, want: img("/a%20b%22%3C%3E.jpg")},
		{name: "DEL", doc: `<img src="/a&#127;.jpg">`, want: img("/a%7F.jpg")},
		{name: "leading and trailing white space and controls dropped", doc: "<img src=\" &#9;&#1;/hero.jpg&#10;&#31; \">", want: []string{imageLink}},
		{name: "TAB, CR and LF inside dropped", doc: "<img src=\"/he&#9;ro\n.j&#13;pg\">", want: []string{imageLink}},
		{name: "%, comma, semicolon, bar, caret, quote left alone", doc: `<img src="/a%2Fb,c;d|e^f'g%zz.jpg">`, want: img("/a%2Fb,c;d|e^f'g%zz.jpg")},
		// The HTML tokenizer turns NUL into U+FFFD, in a reference and as a raw byte.
		{name: "NUL becomes U+FFFD", doc: "<img src=\"/a&#0;b\x00c.jpg\">", want: img("/a%EF%BF%BDb%EF%BF%BDc.jpg")},
		{
			name: "quoted parameters escape quote and backslash",
			doc:  `<link rel=preload as=font href=/f.woff2 type='font/woff2; a="b\c"'>`,
			want: []string{`</f.woff2>; rel=preload; as=font; type="font/woff2; a=\"b\\c\""; crossorigin`},
		},
		{name: "a parameter with a control character is left out", doc: `<link rel=stylesheet href=/app.css media="screen&#10;and (color)">`, want: []string{styleLink}},
		{name: "a parameter with non-ASCII is left out", doc: `<link rel=stylesheet href=/app.css integrity="sha384-é">`, want: []string{styleLink}},
		{
			name: "srcset URLs are escaped like the href",
			doc:  `<img src="/é.jpg" srcset="/é.jpg 1x, /&uuml;.jpg 2x">`,
			want: []string{`</%C3%A9.jpg>; rel=preload; as=image; imagesrcset="/%C3%A9.jpg 1x, /%C3%BC.jpg 2x"`},
		},
	})
}

func TestLinksBase(t *testing.T) {
	runLinkTests(t, []linkTest{
		{
			name: "absolute base",
			doc:  `<base href="https://cdn.example/assets/"><link rel=stylesheet href=app.css><script src=/app.js></script><img src=../hero.jpg>`,
			want: []string{
				"<https://cdn.example/assets/app.css>; rel=preload; as=style",
				"<https://cdn.example/app.js>; rel=preload; as=script",
				"<https://cdn.example/hero.jpg>; rel=preload; as=image",
			},
		},
		{name: "the first base counts", doc: `<base href=/one/><base href=/two/><link rel=stylesheet href=app.css>`, want: []string{"</one/app.css>; rel=preload; as=style"}},
		{name: "a base without href does not count", doc: `<base target=_top><base href=/one/><link rel=stylesheet href=app.css>`, want: []string{"</one/app.css>; rel=preload; as=style"}},
		{name: "a relative base resolves against the document", doc: `<base href=static/><link rel=stylesheet href=app.css>`, docURL: "/blog/post", want: []string{"</blog/static/app.css>; rel=preload; as=style"}},
		{name: "a relative base without a document URL", doc: `<base href=/static/><link rel=stylesheet href=app.css>`, want: []string{"</static/app.css>; rel=preload; as=style"}},
		{name: "absolute URLs ignore the base", doc: `<base href=/static/><img src=https://img.example/a.jpg>`, want: []string{"<https://img.example/a.jpg>; rel=preload; as=image"}},
		// Browsers fetch a stylesheet or script when they insert it, before a later <base> is known.
		{name: "a URL before the base is not resolved", doc: `<link rel=stylesheet href=app.css><base href=/static/><script src=app.js></script>`, want: []string{"<app.css>; rel=preload; as=style", "</static/app.js>; rel=preload; as=script"}},
		// Browsers fall back to the document URL for a data: or javascript: base.
		{name: "a base with another scheme is ignored", doc: `<base href="data:text/html,x"><base href=/static/><link rel=stylesheet href=app.css>`, want: []string{"<app.css>; rel=preload; as=style"}},
		{name: "a base in a template is inert", doc: `<template><base href=/t/></template><base href=/static/><link rel=stylesheet href=app.css>`, want: []string{"</static/app.css>; rel=preload; as=style"}},
		{name: "the base href is cleaned like any URL", doc: "<base href=\" /st&#10;atic/ \"><link rel=stylesheet href=app.css>", want: []string{"</static/app.css>; rel=preload; as=style"}},
		{
			name: "srcset resolves against the base too",
			doc:  `<base href=/static/><img src=a.jpg srcset="a.jpg 1x,b.jpg 2x" sizes=50vw>`,
			want: []string{`</static/a.jpg>; rel=preload; as=image; imagesrcset="/static/a.jpg 1x, /static/b.jpg 2x"; imagesizes="50vw"`},
		},
		{
			name: "imagesrcset of an author preload resolves against the base",
			doc:  `<base href=https://cdn.example/><link rel=preload as=image href=a.jpg imagesrcset="a.jpg 400w, b.jpg 800w">`,
			want: []string{`<https://cdn.example/a.jpg>; rel=preload; as=image; imagesrcset="https://cdn.example/a.jpg 400w, https://cdn.example/b.jpg 800w"`},
		},
	})
}

func TestLinksOrderAndDedup(t *testing.T) {
	runLinkTests(t, []linkTest{
		{
			name: "stylesheets, blocking scripts, author hints, module and defer scripts, images",
			doc: `<img src=/hero.jpg><script defer src=/d.js></script><script type=module src=/app.mjs></script>` +
				`<link rel=preconnect href=https://cdn.example><script src=/app.js></script><link rel=stylesheet href=/app.css>` +
				`<link rel=stylesheet href=/b.css>`,
			want: []string{
				styleLink, "</b.css>; rel=preload; as=style", scriptLink, "<https://cdn.example>; rel=preconnect",
				"</d.js>; rel=preload; as=script" + low, moduleLink + low, imageLink,
			},
		},
		{name: "the same URL goes out once", doc: `<link rel=stylesheet href=/app.css><link rel=stylesheet href=/app.css><img src=/hero.jpg><img src=/hero.jpg>`, want: []string{styleLink, imageLink}},
		{
			name: "the first occurrence wins",
			doc:  `<link rel=preload as=image href=/hero.jpg fetchpriority=high><img src=/hero.jpg>`,
			want: []string{imageLink + "; fetchpriority=high"},
		},
		{name: "the same URL however spelled in HTML", doc: `<img src="/a.jpg?w=1&amp;h=2"><img src="/a.jpg?w=1&h=2"><img src=" /a.jpg?w=1&#38;h=2">`, want: []string{"</a.jpg?w=1&h=2>; rel=preload; as=image"}},
		// The header keeps the first spelling: it resolves against the URL the browser sees.
		{name: "the same URL relative to the document", doc: `<link rel=stylesheet href=app.css><link rel=stylesheet href=/blog/app.css><link rel=stylesheet href=../blog/./app.css>`, docURL: "/blog/post", want: []string{"<app.css>; rel=preload; as=style"}},
		{name: "without a document URL a relative URL is another", doc: `<link rel=stylesheet href=app.css><link rel=stylesheet href=/blog/app.css>`, want: []string{"<app.css>; rel=preload; as=style", "</blog/app.css>; rel=preload; as=style"}},
		{name: "the same URL once resolved", doc: `<base href=/s/><link rel=stylesheet href=app.css><link rel=stylesheet href=/s/app.css><link rel=stylesheet href=./app.css>`, want: []string{"</s/app.css>; rel=preload; as=style"}},
		{
			name: "dedup beyond a few dozen links",
			doc:  strings.Join(numbered(`<img src=/%d.jpg fetchpriority=high>`, 0, 40), "") + `<img src=/1.jpg fetchpriority=high><img src=/35.jpg fetchpriority=high>`,
			opts: Options{MaxLinks: -1, MaxHeaderBytes: -1},
			want: numbered("</%d.jpg>; rel=preload; as=image; fetchpriority=high", 0, 40),
		},
	})
}

func TestLinksCaps(t *testing.T) {
	styles := func(from, to int) []string { return numbered("</s%d.css>; rel=preload; as=style", from, to) }
	images := func(from, to int) []string { return numbered("</i%d.jpg>; rel=preload; as=image", from, to) }
	styleDoc := func(n int) string { return strings.Join(numbered(`<link rel=stylesheet href=/s%d.css>`, 0, n), "\n") }
	imageDoc := func(n int) string { return strings.Join(numbered(`<img src=/i%d.jpg>`, 0, n), "\n") }
	runLinkTests(t, []linkTest{
		{name: "10 links by default", doc: styleDoc(12), want: styles(0, 10)},
		{name: "MaxLinks", doc: styleDoc(12), opts: Options{MaxLinks: 3}, want: styles(0, 3)},
		{name: "stylesheets first when the cap bites", doc: imageDoc(1) + `<script src=/app.js></script>` + styleDoc(10), want: styles(0, 10)},
		{name: "2 images by default", doc: imageDoc(4), want: images(0, 2)},
		{name: "MaxImages", doc: imageDoc(4), opts: Options{MaxImages: 3}, want: images(0, 3)},
		{
			name: "fetchpriority=high images come on top of MaxImages",
			doc:  imageDoc(3) + `<img src=/hero.jpg fetchpriority=high>` + `<img src=/more.jpg>`,
			want: concat(images(0, 2), []string{imageLink + "; fetchpriority=high"}),
		},
		{
			name: "fetchpriority=high images still count towards MaxLinks",
			doc:  styleDoc(8) + strings.Join(numbered(`<img src=/h%d.jpg fetchpriority=high>`, 0, 5), ""),
			want: concat(styles(0, 8), numbered("</h%d.jpg>; rel=preload; as=image; fetchpriority=high", 0, 2)),
		},
		{name: "negative MaxLinks: no limit", doc: styleDoc(25), opts: Options{MaxLinks: -1, MaxHeaderBytes: -1}, want: styles(0, 25)},
		{name: "negative MaxImages: no limit", doc: imageDoc(12), opts: Options{MaxImages: -1, MaxLinks: -1}, want: images(0, 12)},
		{name: "MaxImages within MaxLinks", doc: imageDoc(12), opts: Options{MaxImages: -1}, want: images(0, 10)},
		// Each value of s0-s9 takes 32 bytes, s10 on 33, plus ", " between: 28 links take 968 bytes, 29 take 1003.
		{name: "1000 bytes by default", doc: styleDoc(40), opts: Options{MaxLinks: -1}, want: styles(0, 28)},
		{name: "MaxHeaderBytes fits two links exactly", doc: styleDoc(3), opts: Options{MaxHeaderBytes: 66}, want: styles(0, 2)},
		{name: "never cut inside a link", doc: styleDoc(3), opts: Options{MaxHeaderBytes: 65}, want: styles(0, 1)},
		{name: "a first link too long for MaxHeaderBytes", doc: styleDoc(3), opts: Options{MaxHeaderBytes: 31}},
		// Attributes go into every value, so they count; Link.String leaves them out.
		{name: "MaxHeaderBytes counts Attributes", doc: styleDoc(3), opts: Options{MaxHeaderBytes: 81, Attributes: []string{"nopush"}}, want: styles(0, 1)},
		{name: "negative MaxHeaderBytes: no limit", doc: styleDoc(60), opts: Options{MaxLinks: -1, MaxHeaderBytes: -1}, want: styles(0, 60)},
	})
}

func TestLinksKinds(t *testing.T) {
	doc := `<img src=/hero.jpg><script type=module src=/app.mjs></script><link rel=preconnect href=https://cdn.example>` +
		`<script src=/app.js></script><link rel=stylesheet href=/app.css>`
	runLinkTests(t, []linkTest{
		{name: "all by default", doc: doc, want: []string{styleLink, scriptLink, "<https://cdn.example>; rel=preconnect", moduleLink + low, imageLink}},
		{name: "Styles", doc: doc, opts: Options{Kinds: Styles}, want: []string{styleLink}},
		{name: "Scripts", doc: doc, opts: Options{Kinds: Scripts}, want: []string{scriptLink, moduleLink + low}},
		{name: "Images", doc: doc, opts: Options{Kinds: Images}, want: []string{imageLink}},
		{name: "Hints", doc: doc, opts: Options{Kinds: Hints}, want: []string{"<https://cdn.example>; rel=preconnect"}},
		{name: "Styles|Images", doc: doc, opts: Options{Kinds: Styles | Images}, want: []string{styleLink, imageLink}},
		// The stylesheet is not collected, so the hint for the same URL may go out.
		{name: "a kind left out does not claim its URL", doc: `<link rel=stylesheet href=/app.css><link rel=preload as=style href=/app.css>`, opts: Options{Kinds: Hints}, want: []string{styleLink}},
	})
}

// TestLinksTokenizer covers what a regular expression gets wrong: the elements a browser never
// fetches, or fetches although they look hidden (wrapper pitfall 21).
func TestLinksTokenizer(t *testing.T) {
	runLinkTests(t, []linkTest{
		{name: "noscript", doc: `<noscript><img src=/a.jpg><link rel=stylesheet href=/a.css></noscript><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "template", doc: `<template><img src=/a.jpg><script src=/a.js></script></template><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "nested template", doc: `<template><template></template><img src=/a.jpg></template><img src=/hero.jpg>`, want: []string{imageLink}},
		// The slash of <template/> means nothing in HTML: it opens a template.
		{name: "self-closing template", doc: `<template/><img src=/a.jpg></template><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "svg in a template", doc: `<template><svg><title><!--</title></template><img src=/a.jpg>--></title></svg></template><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "tags in script strings", doc: `<script>document.write('<img src="/a.jpg">'); var s = "<link rel=stylesheet href=/a.css>";</script><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "</script> in a string ends the script", doc: `<script>var s = "</script><img src=/hero.jpg>";</script>`, want: []string{imageLink}},
		{name: "escaped script data", doc: `<script><!--<script></script><img src=/a.jpg></script><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "comment", doc: `<!-- <img src=/a.jpg> --><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "abruptly closed comments", doc: `<!--><img src=/hero.jpg><!---><img src=/b.jpg>`, opts: Options{MaxImages: -1}, want: []string{imageLink, "</b.jpg>; rel=preload; as=image"}},
		{name: "comment closed by --!>", doc: `<!-- x --!><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "unterminated comment", doc: `<img src=/hero.jpg><!-- <img src=/a.jpg>`, want: []string{imageLink}},
		{name: "downlevel-hidden conditional comment", doc: `<!--[if lt IE 9]><script src=/html5shiv.js></script><link rel=stylesheet href=/ie.css><![endif]-->`},
		{name: "downlevel-revealed conditional comment", doc: `<![if !IE]><link rel=stylesheet href=/app.css><![endif]>`, want: []string{styleLink}},
		{name: "valid downlevel-revealed conditional comment", doc: `<!--[if !IE]><!--><link rel=stylesheet href=/app.css><!--<![endif]-->`, want: []string{styleLink}},
		{name: "svg image", doc: `<svg><image href=/a.jpg src=/b.jpg /><script src=/s.js></script><link rel=stylesheet href=/a.css></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "math", doc: `<math><mi><img src=/a.jpg></mi></math><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "img breaks out of svg", doc: `<svg><g><img src=/hero.jpg><image src=/b.jpg>`, opts: Options{MaxImages: -1}, want: []string{imageLink, "</b.jpg>; rel=preload; as=image"}},
		{name: "other HTML tags break out of svg", doc: `<svg><p><link rel=stylesheet href=/app.css>`, want: []string{styleLink}},
		{name: "svg link is not an HTML link", doc: `<svg><link rel=stylesheet href=/a.css></svg><link rel=stylesheet href=/app.css>`, want: []string{styleLink}},
		{name: "self-closing svg opens nothing", doc: `<svg/><link rel=stylesheet href=/app.css>`, want: []string{styleLink}},
		{name: "</svg> closes an unclosed svg title", doc: `<svg><title>Logo</svg><link rel=stylesheet href=/app.css>`, want: []string{styleLink}},
		{name: "an HTML title in foreignObject closes nothing", doc: `<svg><foreignObject><title>t</title><img src=/a.jpg></foreignObject></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "</template> closes the svg in it", doc: `<template><svg><g></template><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "an end tag does not reach out of a template", doc: `<svg><foreignObject><template></svg><img src=/a.jpg></template></foreignObject></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "mtext holds HTML, inside math", doc: `<math><mtext><img src=/a.jpg><style><img src=/b.jpg></style></mtext></math><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "nested svg", doc: `<svg><svg></svg><image src=/a.jpg></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		// The rules skip all of <svg>, though browsers fetch an <img> in a <foreignObject>.
		{name: "img in foreignObject", doc: `<svg><foreignObject><img src=/a.jpg><div></div></foreignObject><image src=/b.jpg></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "img in an svg in foreignObject", doc: `<svg><foreignObject><svg><img src=/a.jpg></svg></foreignObject></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "svg title", doc: `<svg><title>Logo</title><desc>A logo</desc></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "svg title holds markup, not text", doc: `<svg><title><!--</title><img src=/a.jpg>--></title></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "svg style holds markup, not text", doc: `<svg><style><!--</style><img src=/a.jpg>--></style></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "img breaks out of svg style", doc: `<svg><style><img src=/hero.jpg></style></svg>`, want: []string{imageLink}},
		{name: "CDATA in svg", doc: `<svg><![CDATA[<img src=/a.jpg>]]></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "CDATA in svg script", doc: `<svg><script><![CDATA[</script><img src=/a.jpg>]]></script></svg><img src=/hero.jpg>`, want: []string{imageLink}},
		// Outside foreign content <![CDATA[ starts a bogus comment, which the first > ends.
		{name: "CDATA outside svg", doc: `<![CDATA[<img src=/a.jpg>]]><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "unquoted attributes", doc: `<link rel=stylesheet href=/app.css><img src=/hero.jpg alt=x>`, want: []string{styleLink, imageLink}},
		{name: "upper-case names", doc: `<LINK REL=STYLESHEET HREF="/app.css"><SCRIPT SRC=/app.js TYPE=TEXT/JAVASCRIPT></SCRIPT><IMG SRC=/hero.jpg>`, want: []string{styleLink, scriptLink, imageLink}},
		{name: "duplicate attributes: the first wins", doc: `<img src=/hero.jpg src=/b.jpg LOADING=eager loading=lazy><link rel=stylesheet rel=preload href=/app.css href=/b.css>`, want: []string{styleLink, imageLink}},
		{name: "duplicate type: the first wins", doc: `<script type=module type=text/javascript src=/app.mjs></script>`, want: []string{moduleLink + low}},
		{name: "slash between attributes", doc: `<img/src=/hero.jpg>`, want: []string{imageLink}},
		{name: "unquoted value takes a trailing slash", doc: `<img src=/hero.jpg/>`, want: []string{"</hero.jpg/>; rel=preload; as=image"}},
		{name: "attribute without value", doc: `<img src><img src=/hero.jpg>`, want: []string{imageLink}},
		{name: "unterminated quoted value", doc: `<link rel=stylesheet href=/app.css><img src="/hero.jp`, want: []string{styleLink}},
		{name: "unterminated unquoted value", doc: `<img src=/hero.jpg`},
		{name: "unterminated tag", doc: `<img src="/hero.jpg"`},
		{name: "plaintext", doc: `<link rel=stylesheet href=/app.css><plaintext><img src=/hero.jpg></plaintext><img src=/b.jpg>`, want: []string{styleLink}},
		{name: "raw text elements", doc: `<title><img src=/a.jpg></title><textarea><img src=/b.jpg></textarea><xmp><img src=/c.jpg></xmp><style><img src=/d.jpg></style><iframe><img src=/e.jpg></iframe><noembed><img src=/f.jpg></noembed><noframes><img src=/g.jpg></noframes><img src=/hero.jpg>`, want: []string{imageLink}},
	})
}

// TestLinkStringHostile builds a Link by hand from values no page should have: whatever goes
// in, the value stays one printable-ASCII header value with one <URL>.
func TestLinkStringHostile(t *testing.T) {
	l := Link{
		URL:            "/a\r\nSet-Cookie: x=1\x00<b>\"c\" é\x7f",
		Rel:            "preload\r\n",
		As:             "style",
		Type:           "text/css\x00",
		CrossOrigin:    "use-credentials\nX: y",
		Media:          "screen\r\nX-Injected: 1",
		Integrity:      "sha384-é",
		FetchPriority:  "high>",
		ReferrerPolicy: "no-referrer, <x>",
		ImageSrcset:    `a.jpg 1x, "b".jpg 2x`,
		ImageSizes:     `(width > 600px) 50vw\`,
	}
	s := l.String()
	assert.Equal(t, `</a%0D%0ASet-Cookie:%20x=1%00%3Cb%3E%22c%22%20%C3%A9%7F>; as=style; imagesrcset="a.jpg 1x, \"b\".jpg 2x"; imagesizes="(width > 600px) 50vw\\"`, s)
	assertSafeLinkValue(t, s)
}

// assertSafeLinkValue checks that v is printable ASCII, and that its angle brackets outside
// quoted strings are balanced, one pair per link: RFC 8288 allows < and > inside quotes, where
// media queries use them.
func assertSafeLinkValue(t *testing.T, v string) {
	t.Helper()
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' || c > '~' {
			t.Fatalf("byte %#x at %d in %q", c, i, v)
		}
	}
	open, quoted := false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"' && !open:
			quoted = !quoted
		case quoted:
		case c == '<':
			require.False(t, open, "nested < at %d in %q", i, v)
			open = true
		case c == '>':
			require.True(t, open, "stray > at %d in %q", i, v)
			open = false
		}
	}
	require.False(t, open || quoted, "unterminated URL or quoted string in %q", v)
}

// TestLinksCorpusWithinCaps runs the default caps over real pages (wrapper pitfall 19).
func TestLinksCorpusWithinCaps(t *testing.T) {
	p, err := New(Options{})
	require.NoError(t, err)
	for _, name := range corpusPages(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc := readCorpusPage(t, name)
			links := p.Links(doc, "/"+name)
			header := strings.Join(linkValues(links), ", ")
			assert.LessOrEqual(t, len(header), DefaultMaxHeaderBytes)
			assert.LessOrEqual(t, len(links), DefaultMaxLinks)
			images := 0
			for _, l := range links {
				// MaxImages caps the <img> elements; the author's own image preloads are hints.
				if l.Kind == Images && l.FetchPriority != "high" {
					images++
				}
			}
			assert.LessOrEqual(t, images, DefaultMaxImages)
			if header != "" {
				assertSafeLinkValue(t, header)
			}
			assert.Equal(t, links, p.Links(doc, "/"+name), "not deterministic")
		})
	}
}

// TestLinksCutAtEveryOffset feeds prefixes of a page, as a body cut short by a flush or the
// buffer limit would be: no prefix may panic, or yield a link the whole page does not have,
// such as a truncated URL. Without caps, a prefix's links are the first links of the page.
func TestLinksCutAtEveryOffset(t *testing.T) {
	p, err := New(Options{MaxLinks: -1, MaxImages: -1, MaxHeaderBytes: -1})
	require.NoError(t, err)
	for _, tc := range []struct {
		page      string
		cutsUntil int // cut in the first cutsUntil bytes; 0: the whole page
		step      int // one cut every step bytes, to stay well under a second
		minLinks  int // links before cutsUntil: there must be something to cut
	}{
		// A relative <base>, then images resolved against it: no cut may lose the base alone.
		{page: "base-url-base-element-relative.html", step: 1, minLinks: 4},
		// The head of a real page: stylesheets, scripts, comments, inline scripts full of markup.
		{page: "iab-1.html", cutsUntil: 6 << 10, step: 3, minLinks: 5},
	} {
		t.Run(tc.page, func(t *testing.T) {
			page := readCorpusPage(t, tc.page)
			const docURL = "/news/lean"
			whole := map[string]bool{}
			for _, v := range linkValues(p.Links(page, docURL)) {
				whole[v] = true
			}
			cutsUntil := tc.cutsUntil
			if cutsUntil == 0 {
				cutsUntil = len(page)
			}
			require.GreaterOrEqual(t, len(p.Links(page[:cutsUntil], docURL)), tc.minLinks)
			start := time.Now()
			for i := 0; i <= cutsUntil; i += tc.step {
				for _, v := range linkValues(p.Links(page[:i], docURL)) {
					if !whole[v] {
						t.Fatalf("cut at %d gives %s, which the whole page does not have", i, v)
					}
				}
			}
			t.Logf("%d cuts in %v", cutsUntil/tc.step+1, time.Since(start))
		})
	}
}

// TestLinksDeepNestingStaysLinear feeds 100,000 open SVG integration points and as many end
// tags that match none of them: searching all the open elements for each would take minutes.
func TestLinksDeepNestingStaysLinear(t *testing.T) {
	const depth = 100_000
	doc := "<math><mi><template>" + strings.Repeat("<svg><foreignObject>", depth) + strings.Repeat("</math>", depth) +
		strings.Repeat("</foreignObject></svg>", depth) + "</template></mi></math><img src=/hero.jpg>"
	p, err := New(Options{})
	require.NoError(t, err)
	start := time.Now()
	links := p.Links([]byte(doc), "")
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Equal(t, []string{imageLink}, linkValues(links))
}

// TestCollectorSkipsALinkThatCannotFit: given Options.MaxHeaderBytes as maxURLBytes, the
// collector leaves out a URL or srcset longer than any header before copying it, and goes on
// with the next links. That is only quicker: the links are those the header cap gives, which
// Links shows without the hint.
func TestCollectorSkipsALinkThatCannotFit(t *testing.T) {
	long := "/" + strings.Repeat("a", 1000)
	high := func(u string) string { return "<" + u + ">; rel=preload; as=image; fetchpriority=high" }
	for _, tt := range []linkTest{
		{
			name: "the links after a URL too long",
			doc:  `<img src=/a.jpg fetchpriority=high><img src=` + long + `><img src=/b.jpg fetchpriority=high><link rel=stylesheet href=/app.css>`,
			want: []string{styleLink, high("/a.jpg"), high("/b.jpg")},
		},
		{name: "a srcset too long", doc: `<img src=/hero.jpg srcset="` + long + ` 2x"><script src=/app.js></script>`, want: []string{scriptLink}},
		{
			name: "an imagesrcset too long",
			doc:  `<link rel=preload as=image href=/hero.jpg imagesrcset="` + long + ` 2x"><link rel=preconnect href=https://cdn.example>`,
			want: []string{"<https://cdn.example>; rel=preconnect"},
		},
		{
			name: "white space cleaning drops does not count",
			doc:  "<img src=\"\n" + strings.Repeat("\t", 2000) + "/hero.jpg\"><img src=/b.jpg srcset=\"/b.jpg" + strings.Repeat(" ", 2000) + "2x\">",
			want: []string{imageLink, `</b.jpg>; rel=preload; as=image; imagesrcset="/b.jpg 2x"`},
		},
		{
			name: "an image over MaxImages is no link and cuts nothing",
			doc:  `<img src=/a.jpg><img src=/b.jpg><img src=` + long + `><img src=/h.jpg fetchpriority=high>`,
			want: []string{"</a.jpg>; rel=preload; as=image", "</b.jpg>; rel=preload; as=image", high("/h.jpg")},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCollector(allKinds, DefaultMaxLinks, DefaultMaxImages, "")
			c.maxURLBytes = DefaultMaxHeaderBytes
			c.extract([]byte(tt.doc))
			assert.Equal(t, tt.want, linkValues(c.links()), "collector")

			p, err := New(Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, linkValues(p.Links([]byte(tt.doc), "")), "Links")
		})
	}
}

// TestLinksDocumentURLRewritesNoLink pins that docURL, whichever form it takes, resolves a
// relative base but leaves relative links relative: the browser resolves them against the URL
// it sees, which a proxy may spell otherwise.
func TestLinksDocumentURLRewritesNoLink(t *testing.T) {
	p, err := New(Options{})
	require.NoError(t, err)
	for _, docURL := range []string{"", "/", "/blog/post?x=1", "https://example.com/blog/post"} {
		assert.Equal(t, []string{"<app.css>; rel=preload; as=style"},
			linkValues(p.Links([]byte(`<link rel=stylesheet href=app.css>`), docURL)), docURL)
	}
	assert.Equal(t, []string{"<https://example.com/blog/static/app.css>; rel=preload; as=style"},
		linkValues(p.Links([]byte(`<base href=static/><link rel=stylesheet href=app.css>`), "https://example.com/blog/post")))
}
