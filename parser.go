package netjet

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"

	"github.com/netjet-go/netjet/internal/urlref"
)

// Link is one preload link: a value of the Link response header (RFC 8288).
type Link struct {
	// URL is the target as it goes between < and >: resolved against the document's first
	// <base href>, with controls, spaces, quotes, angle brackets and non-ASCII percent-encoded.
	// Without a <base>, a relative URL stays relative: a Link header resolves against the
	// response's URL, as the document does.
	URL string
	// Rel is "preload", "modulepreload" or "preconnect".
	Rel string
	// As is the destination of a preload: "style", "script", "image", "font", "fetch", ...
	As string
	// CrossOrigin is "", "anonymous" (written as a bare crossorigin) or "use-credentials".
	CrossOrigin string
	// Type, Media, Integrity, FetchPriority, ReferrerPolicy, ImageSrcset and ImageSizes carry
	// the element's attributes of the same meaning; empty ones are left out.
	Type, Media, Integrity, FetchPriority, ReferrerPolicy, ImageSrcset, ImageSizes string
	// Kind says which option selected the link.
	Kind Kind
}

// String returns the link as one Link header value, e.g. `</app.css>; rel=preload; as=style`.
// It is always safe to send: a parameter that could break the header is left out. It does not
// include Options.Attributes.
func (l Link) String() string {
	return string(l.appendTo(make([]byte, 0, 64)))
}

func (l Link) appendTo(b []byte) []byte {
	b = append(b, '<')
	b = appendEscapedURL(b, l.URL)
	b = append(b, '>')
	b = appendTokenParam(b, "rel", l.Rel)
	b = appendTokenParam(b, "as", l.As)
	b = appendQuotedParam(b, "type", l.Type)
	switch l.CrossOrigin {
	case "":
	case "anonymous":
		b = append(b, "; crossorigin"...)
	default:
		b = appendTokenParam(b, "crossorigin", l.CrossOrigin)
	}
	b = appendQuotedParam(b, "integrity", l.Integrity)
	b = appendTokenParam(b, "fetchpriority", l.FetchPriority)
	b = appendTokenParam(b, "referrerpolicy", l.ReferrerPolicy)
	b = appendQuotedParam(b, "media", l.Media)
	b = appendQuotedParam(b, "imagesrcset", l.ImageSrcset)
	b = appendQuotedParam(b, "imagesizes", l.ImageSizes)
	return b
}

func appendTokenParam(b []byte, name, value string) []byte {
	if !isToken(value) {
		return b
	}
	b = append(b, "; "...)
	b = append(b, name...)
	b = append(b, '=')
	return append(b, value...)
}

func appendQuotedParam(b []byte, name, value string) []byte {
	if value == "" || !isQuotable(value) {
		return b
	}
	b = append(b, "; "...)
	b = append(b, name...)
	b = append(b, '=', '"')
	for i := 0; i < len(value); i++ {
		if c := value[i]; c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, value[i])
	}
	return append(b, '"')
}

// appendEscapedURL percent-encodes only what cannot stand inside <...> in a header: controls,
// space, `"`, `<`, `>`, DEL and non-ASCII bytes. Everything else, `%` included, is left as
// written, because a browser that sees another spelling sees another URL and fetches twice.
// Escaping an escaped URL changes nothing.
func appendEscapedURL(b []byte, u string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' {
			b = append(b, '%', hex[c>>4], hex[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

// The order links go out in: what blocks rendering first, images last.
type linkClass uint8

const (
	classStyle          linkClass = iota // stylesheets
	classBlockingScript                  // classic scripts without defer
	classHint                            // the author's own preload, modulepreload, preconnect
	classLaterScript                     // module and defer scripts
	classImage                           // images
	numClasses
)

// The attributes the extraction reads; every other one is ignored.
type attrID uint8

const (
	attrHref attrID = iota
	attrSrc
	attrRel
	attrAs
	attrType
	attrCrossOrigin
	attrIntegrity
	attrFetchPriority
	attrReferrerPolicy
	attrMedia
	attrSrcset
	attrSizes
	attrImageSrcset
	attrImageSizes
	attrLoading
	attrAsync
	attrDefer
	attrNoModule
	attrDisabled
	numAttrs
)

var attrIDs = map[string]attrID{
	"href": attrHref, "src": attrSrc, "rel": attrRel, "as": attrAs, "type": attrType,
	"crossorigin": attrCrossOrigin, "integrity": attrIntegrity, "fetchpriority": attrFetchPriority,
	"referrerpolicy": attrReferrerPolicy, "media": attrMedia, "srcset": attrSrcset, "sizes": attrSizes,
	"imagesrcset": attrImageSrcset, "imagesizes": attrImageSizes, "loading": attrLoading,
	"async": attrAsync, "defer": attrDefer, "nomodule": attrNoModule, "disabled": attrDisabled,
}

// element holds the attributes of one start tag that the extraction reads. As in HTML, the
// first of duplicate attributes counts.
type element struct {
	has  uint32
	vals [numAttrs][]byte
}

func (e *element) set(id attrID, v []byte) {
	if e.has&(1<<id) == 0 {
		e.has |= 1 << id
		e.vals[id] = v
	}
}

func (e *element) present(id attrID) bool { return e.has&(1<<id) != 0 }

// lower returns the attribute trimmed of ASCII white space and lower-cased, for enumerated
// attributes such as rel, as, type and loading.
func (e *element) lower(id attrID) string {
	return strings.ToLower(strings.Trim(string(e.vals[id]), " \t\n\f\r"))
}

// str returns the attribute as written.
func (e *element) str(id attrID) string { return string(e.vals[id]) }

// The elements the extraction looks at.
type tagID uint8

const (
	tagOther tagID = iota
	tagLink
	tagScript
	tagImg
	tagImage // <image> is <img> in HTML, and an SVG element in SVG
	tagBase
	tagPicture
	tagSource
	tagTemplate
	tagSVG
	tagMath
	tagBreakout // an HTML start tag that ends SVG or MathML content
)

func lookupTag(name []byte) tagID {
	switch string(name) {
	case "link":
		return tagLink
	case "script":
		return tagScript
	case "img":
		return tagImg
	case "image":
		return tagImage
	case "base":
		return tagBase
	case "picture":
		return tagPicture
	case "source":
		return tagSource
	case "template":
		return tagTemplate
	case "svg":
		return tagSVG
	case "math":
		return tagMath
	case "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt",
		"em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "li", "listing",
		"menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong",
		"strike", "sub", "sup", "table", "tt", "u", "ul", "var":
		return tagBreakout
	}
	return tagOther
}

// collector turns a document's elements, in document order, into preload links. It is shared
// by every tokenizer, so that they can differ only in how they find the tags.
type collector struct {
	kinds     Kind
	maxLinks  int // per class; negative: no limit
	maxImages int // images without fetchpriority=high; negative: no limit
	docURL    string

	base      string // the first <base href>, resolved against docURL
	baseSeen  bool
	haveBase  bool
	template  int // depth of <template> elements: their content is inert
	foreign   int // depth of <svg> and <math> elements
	inPicture bool
	sources   bool // the current <picture> has a <source>: its <img> may not be the one fetched

	classes    [numClasses][]Link
	images     int // collected images without fetchpriority=high
	highImages int
	count      int
	seen       map[string]struct{} // URLs collected, once count outgrows a linear search
}

func newCollector(kinds Kind, maxLinks, maxImages int, docURL string) *collector {
	return &collector{kinds: kinds, maxLinks: maxLinks, maxImages: maxImages, docURL: docURL}
}

// done reports whether no later element can change the result: the stylesheets alone fill
// the link cap, or every kind has all the links it may have.
func (c *collector) done() bool {
	if c.maxLinks < 0 {
		return false
	}
	if len(c.classes[classStyle]) >= c.maxLinks {
		return true
	}
	for cl := classStyle; cl < numClasses; cl++ {
		if !c.classFull(cl) {
			return false
		}
	}
	return true
}

func (c *collector) classFull(cl linkClass) bool {
	if c.kinds&classKind[cl] == 0 {
		return true
	}
	if cl == classImage {
		return !c.room(cl, true) && !c.room(cl, false)
	}
	return !c.room(cl, false)
}

// room reports whether the class takes another link; high is for images with fetchpriority=high,
// which MaxImages does not count.
func (c *collector) room(cl linkClass, high bool) bool {
	switch {
	case cl != classImage:
		return c.maxLinks < 0 || len(c.classes[cl]) < c.maxLinks
	case high:
		return c.maxLinks < 0 || c.highImages < c.maxLinks
	default:
		return (c.maxImages < 0 || c.images < c.maxImages) && (c.maxLinks < 0 || c.images < c.maxLinks)
	}
}

var classKind = [numClasses]Kind{Styles, Scripts, Hints, Scripts, Images}

// start handles a start tag.
func (c *collector) start(tag tagID, e *element, selfClosing bool) {
	if c.foreign > 0 {
		switch tag {
		case tagSVG, tagMath:
			if !selfClosing {
				c.foreign++
			}
			return
		case tagImg, tagBreakout:
			c.foreign = 0 // the HTML parser leaves foreign content here
		default:
			return
		}
	}
	if c.template > 0 {
		if tag == tagTemplate {
			c.template++
		}
		return
	}
	switch tag {
	case tagTemplate:
		c.template++ // <template/> opens a template too: the slash means nothing in HTML
	case tagSVG, tagMath:
		if !selfClosing {
			c.foreign++
		}
	case tagBase:
		c.baseElement(e)
	case tagLink:
		c.linkElement(e)
	case tagScript:
		c.scriptElement(e)
	case tagImg, tagImage:
		c.imgElement(e)
	case tagPicture:
		c.inPicture, c.sources = true, false
	case tagSource:
		if c.inPicture {
			c.sources = true
		}
	}
}

// end handles an end tag.
func (c *collector) end(tag tagID) {
	switch {
	case c.foreign > 0:
		if tag == tagSVG || tag == tagMath {
			c.foreign--
		}
	case c.template > 0:
		if tag == tagTemplate {
			c.template--
		}
	case tag == tagPicture:
		c.inPicture, c.sources = false, false
	}
}

func (c *collector) baseElement(e *element) {
	if c.baseSeen || !e.present(attrHref) {
		return
	}
	c.baseSeen = true
	href, ok := cleanURL(e.vals[attrHref])
	if !ok {
		return
	}
	if c.docURL != "" {
		href = urlref.Resolve(c.docURL, href)
	}
	c.base, c.haveBase = href, true
}

func (c *collector) linkElement(e *element) {
	rel := e.lower(attrRel)
	switch {
	case hasToken(rel, "stylesheet"):
		if c.kinds&Styles == 0 || hasToken(rel, "alternate") || e.present(attrDisabled) {
			return
		}
		media := strings.TrimSpace(e.str(attrMedia))
		if strings.EqualFold(media, "print") {
			return
		}
		if strings.EqualFold(media, "all") {
			media = ""
		}
		if t := e.lower(attrType); t != "" && t != "text/css" {
			return
		}
		c.add(classStyle, e.vals[attrHref], Link{
			Rel: "preload", As: "style", Media: media,
			CrossOrigin: crossOrigin(e), Integrity: e.str(attrIntegrity),
			FetchPriority: fetchPriority(e), ReferrerPolicy: referrerPolicy(e), Kind: Styles,
		})
	case c.kinds&Hints == 0:
	case hasToken(rel, "preload"):
		as := e.lower(attrAs)
		if !preloadDestinations[as] {
			return // a preload without a valid as is not fetched by browsers
		}
		l := Link{
			Rel: "preload", As: as, Type: e.str(attrType), Media: e.str(attrMedia),
			CrossOrigin: crossOrigin(e), Integrity: e.str(attrIntegrity),
			FetchPriority: fetchPriority(e), ReferrerPolicy: referrerPolicy(e),
			ImageSrcset: e.str(attrImageSrcset), ImageSizes: e.str(attrImageSizes), Kind: Hints,
		}
		if as == "font" && l.CrossOrigin == "" {
			l.CrossOrigin = "anonymous" // fonts are always fetched in CORS mode
		}
		c.add(classHint, e.vals[attrHref], l)
	case hasToken(rel, "modulepreload"):
		c.add(classHint, e.vals[attrHref], Link{
			Rel: "modulepreload", CrossOrigin: crossOrigin(e), Integrity: e.str(attrIntegrity),
			FetchPriority: fetchPriority(e), ReferrerPolicy: referrerPolicy(e), Kind: Hints,
		})
	case hasToken(rel, "preconnect"):
		c.add(classHint, e.vals[attrHref], Link{Rel: "preconnect", CrossOrigin: crossOrigin(e), Kind: Hints})
	}
}

func (c *collector) scriptElement(e *element) {
	if c.kinds&Scripts == 0 || e.present(attrAsync) {
		return
	}
	t := e.lower(attrType)
	l := Link{
		CrossOrigin: crossOrigin(e), Integrity: e.str(attrIntegrity),
		FetchPriority: fetchPriority(e), ReferrerPolicy: referrerPolicy(e), Kind: Scripts,
	}
	switch {
	case t == "module":
		// as=script would not match the module fetch, and the script would download twice.
		l.Rel = "modulepreload"
		c.add(classLaterScript, e.vals[attrSrc], l)
	case (t == "" || javaScriptTypes[t]) && !e.present(attrNoModule):
		l.Rel, l.As = "preload", "script"
		class := classBlockingScript
		if e.present(attrDefer) {
			class = classLaterScript
		}
		c.add(class, e.vals[attrSrc], l)
	}
}

func (c *collector) imgElement(e *element) {
	if c.kinds&Images == 0 || (c.inPicture && c.sources) || e.lower(attrLoading) == "lazy" {
		return
	}
	prio := fetchPriority(e)
	if prio == "low" {
		return
	}
	c.add(classImage, e.vals[attrSrc], Link{
		Rel: "preload", As: "image", CrossOrigin: crossOrigin(e), FetchPriority: prio,
		ReferrerPolicy: referrerPolicy(e), ImageSrcset: e.str(attrSrcset), ImageSizes: e.str(attrSizes),
		Kind: Images,
	})
}

// add appends a link to its class unless its URL is unusable, already collected, or the
// class is full. The first occurrence of a URL wins.
func (c *collector) add(class linkClass, rawURL []byte, l Link) {
	high := class == classImage && l.FetchPriority == "high"
	if !c.room(class, high) {
		return
	}
	u, ok := c.resolve(rawURL)
	if !ok || c.collected(u) {
		return
	}
	l.URL = u
	c.classes[class] = append(c.classes[class], l)
	switch {
	case high:
		c.highImages++
	case class == classImage:
		c.images++
	}
}

// collected reports whether u was collected before, and remembers it.
func (c *collector) collected(u string) bool {
	const linearMax = 32
	if c.seen == nil {
		for _, ls := range c.classes {
			for i := range ls {
				if ls[i].URL == u {
					return true
				}
			}
		}
		c.count++
		if c.count > linearMax {
			c.seen = make(map[string]struct{}, 2*linearMax)
			for _, ls := range c.classes {
				for i := range ls {
					c.seen[ls[i].URL] = struct{}{}
				}
			}
			c.seen[u] = struct{}{}
		}
		return false
	}
	if _, ok := c.seen[u]; ok {
		return true
	}
	c.seen[u] = struct{}{}
	return false
}

// resolve returns the URL to preload for an attribute value, or false when there is nothing a
// browser would fetch.
func (c *collector) resolve(raw []byte) (string, bool) {
	u, ok := cleanURL(raw)
	if !ok {
		return "", false
	}
	if c.haveBase {
		u = urlref.Resolve(c.base, u)
	}
	var b []byte
	b = appendEscapedURL(b, u)
	return string(b), true
}

// cleanURL strips what browsers strip from a URL attribute (leading and trailing C0 controls
// and spaces, every tab and newline), and rejects URLs there is nothing to fetch for: empty,
// fragment-only, other schemes than http and https (data:, blob:, javascript:, about:), or
// a backslash, which browsers and servers do not agree on.
func cleanURL(raw []byte) (string, bool) {
	raw = bytes.TrimFunc(raw, func(r rune) bool { return r <= ' ' })
	if len(raw) == 0 || raw[0] == '#' || bytes.IndexByte(raw, '\\') >= 0 {
		return "", false
	}
	var u string
	if bytes.ContainsAny(raw, "\t\n\r") {
		u = string(bytes.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, raw))
	} else {
		u = string(raw)
	}
	if scheme, ok := urlref.Scheme(u); ok && scheme != "http" && scheme != "https" {
		return "", false
	}
	return u, true
}

// links returns the collected links in the order they go out, at most maxLinks of them.
func (c *collector) links() []Link {
	n := 0
	for _, ls := range c.classes {
		n += len(ls)
	}
	if c.maxLinks >= 0 && n > c.maxLinks {
		n = c.maxLinks
	}
	out := make([]Link, 0, n)
	for _, ls := range c.classes {
		for _, l := range ls {
			if len(out) == n {
				return out
			}
			out = append(out, l)
		}
	}
	return out
}

// extract runs the reference tokenizer, golang.org/x/net/html's, over doc.
func (c *collector) extract(doc []byte) {
	z := html.NewTokenizer(bytes.NewReader(doc))
	var e element
	for !c.done() {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			name, more := z.TagName()
			tag := lookupTag(name)
			if tag == tagOther {
				continue
			}
			e = element{}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				if id, ok := attrIDs[string(k)]; ok {
					e.set(id, v)
				}
			}
			c.start(tag, &e, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.end(lookupTag(name))
		}
		// CDATA sections exist only in SVG and MathML; elsewhere <![CDATA[ is a comment.
		z.AllowCDATA(c.foreign > 0)
	}
}

// hasToken reports whether the space-separated list s holds tok.
func hasToken(s, tok string) bool {
	for _, f := range strings.Fields(s) {
		if f == tok {
			return true
		}
	}
	return false
}

// crossOrigin returns the CORS mode of an element's crossorigin attribute: an empty or
// invalid value means anonymous, as in HTML.
func crossOrigin(e *element) string {
	if !e.present(attrCrossOrigin) {
		return ""
	}
	if e.lower(attrCrossOrigin) == "use-credentials" {
		return "use-credentials"
	}
	return "anonymous"
}

func fetchPriority(e *element) string {
	switch p := e.lower(attrFetchPriority); p {
	case "high", "low":
		return p
	}
	return ""
}

func referrerPolicy(e *element) string {
	p := e.lower(attrReferrerPolicy)
	if referrerPolicies[p] {
		return p
	}
	return ""
}

var referrerPolicies = map[string]bool{
	"no-referrer": true, "no-referrer-when-downgrade": true, "same-origin": true, "origin": true,
	"strict-origin": true, "origin-when-cross-origin": true, "strict-origin-when-cross-origin": true,
	"unsafe-url": true,
}

// preloadDestinations are the as values that make a <link rel=preload> fetch something.
var preloadDestinations = map[string]bool{
	"audio": true, "document": true, "embed": true, "fetch": true, "font": true, "image": true,
	"object": true, "script": true, "style": true, "track": true, "video": true, "worker": true,
}

// javaScriptTypes are the type values of a classic script (the HTML standard's JavaScript
// MIME type essences).
var javaScriptTypes = map[string]bool{
	"application/ecmascript": true, "application/javascript": true, "application/x-ecmascript": true,
	"application/x-javascript": true, "text/ecmascript": true, "text/javascript": true,
	"text/javascript1.0": true, "text/javascript1.1": true, "text/javascript1.2": true,
	"text/javascript1.3": true, "text/javascript1.4": true, "text/javascript1.5": true,
	"text/jscript": true, "text/livescript": true, "text/x-ecmascript": true, "text/x-javascript": true,
}
