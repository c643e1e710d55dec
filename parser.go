package netjet

import (
	"bytes"
	"slices"
	"strings"
	"sync"

	"github.com/netjet-go/netjet/internal/htmlscan"
	"github.com/netjet-go/netjet/internal/urlref"
)

// scanners keeps scanners, and the scratch space they grew, from one parse to the next.
var scanners = sync.Pool{New: func() any { return new(htmlscan.Scanner) }}

func getScanner() *htmlscan.Scanner { return scanners.Get().(*htmlscan.Scanner) }

func putScanner(s *htmlscan.Scanner) {
	s.Reset(nil) // let go of the body
	scanners.Put(s)
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

// asciiSpace is white space to HTML. Other spaces, such as U+00A0, are content.
const asciiSpace = " \t\n\f\r"

// lower returns the attribute trimmed of ASCII white space and ASCII lower-cased, for
// enumerated attributes such as rel, as, type and loading. HTML compares them ASCII
// case-insensitively: the Kelvin sign is no "k" to a browser, as strings.ToLower would make it.
func (e *element) lower(id attrID) string {
	v := bytes.Trim(e.vals[id], asciiSpace)
	if len(v) == 0 {
		return ""
	}
	var stack [48]byte // enumerated values are short: lower them without allocating
	var b []byte
	if len(v) <= len(stack) {
		b = stack[:len(v)]
	} else {
		b = make([]byte, len(v))
	}
	for i, c := range v {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	if known, ok := enumeratedValues[string(b)]; ok {
		return known // the usual value: no string to allocate
	}
	return string(b)
}

// enumeratedValues are the values of enumerated attributes that pages use most, each mapped
// to itself, so that lower can return them without allocating.
var enumeratedValues = func() map[string]string {
	m := map[string]string{}
	for _, set := range []map[string]bool{preloadDestinations, javaScriptTypes, referrerPolicies} {
		for v := range set {
			m[v] = v
		}
	}
	for _, v := range []string{
		"stylesheet", "preload", "modulepreload", "preconnect", "dns-prefetch", "prefetch", "icon",
		"shortcut icon", "apple-touch-icon", "alternate", "canonical", "manifest", "alternate stylesheet",
		"module", "text/css", "importmap", "application/ld+json", "application/json", "speculationrules",
		"lazy", "eager", "anonymous", "use-credentials", "high", "low", "auto", "all", "screen", "print",
	} {
		m[v] = v
	}
	return m
}()

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
	tagBreakout // an HTML start tag that ends SVG or MathML content

	// The elements whose content is not the document's own: collector.open holds them.
	tagTemplate
	tagSVG
	tagMath
	// SVG's HTML integration points: their content is HTML again, though still inside <svg>.
	tagForeignObject
	tagDesc
	tagTitle // in HTML, the document's title, which matters to nobody here
	// MathML's text integration points, likewise.
	tagMI
	tagMO
	tagMN
	tagMS
	tagMText
)

// hasLinkAttrs reports whether the collector reads the attributes of the element.
func (t tagID) hasLinkAttrs() bool {
	return t == tagLink || t == tagScript || t == tagImg || t == tagImage || t == tagBase
}

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
	case "foreignobject":
		return tagForeignObject
	case "desc":
		return tagDesc
	case "title":
		return tagTitle
	case "mi":
		return tagMI
	case "mo":
		return tagMO
	case "mn":
		return tagMN
	case "ms":
		return tagMS
	case "mtext":
		return tagMText
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
	// maxURLBytes is Options.MaxHeaderBytes: a link with a longer URL or srcset can never go
	// out. 0 or negative: no limit.
	maxURLBytes int
	docURL      string

	base     string // the first <base href>, resolved against docURL
	baseSeen bool
	haveBase bool
	// open holds the open elements whose content is skipped, innermost last: <template>
	// (inert), <svg> and <math> (foreign content), and their integration points such as
	// <foreignObject> (HTML again, but still inside <svg>). Only the innermost decides how
	// the next tag is read.
	open      []tagID
	inPicture bool
	sources   bool // the current <picture> has a <source>: its <img> may not be the one fetched

	found      []Link          // the links collected, in document order
	counts     [numClasses]int // how many of found are of each class
	images     int             // collected images without fetchpriority=high
	highImages int
	// The URLs collected, resolved against docURL, so that one URL spelled two ways
	// ("app.css" and "/blog/app.css" in /blog/post) goes out once: keys while few, then seen.
	keys []string
	seen map[string]struct{}

	final bool // see done

	// untilHead stops scanTags once the head has been read: headDone.
	untilHead bool
	// headDone says the document's head is over: </head> or the first element that opens
	// the body. The links that block the first render are in the head.
	headDone bool

	// overTLS says the page goes out over TLS (or is an https: document): links that
	// browsers block there as mixed content are left out before they take a place.
	overTLS bool

	// Room for the links of most pages, allocated with the collector.
	foundSpace [12]Link
	keySpace   [12]string
}

func newCollector(kinds Kind, maxLinks, maxImages int, docURL string) *collector {
	c := &collector{kinds: kinds, maxLinks: maxLinks, maxImages: maxImages, docURL: docURL}
	c.found, c.keys = c.foundSpace[:0], c.keySpace[:0]
	return c
}

// done reports whether no later element can change the result. It is asked after every tag,
// and its answer changes only when a link is collected: finished keeps it.
func (c *collector) done() bool { return c.final }

// isDone works out done's answer: the stylesheets alone fill the link cap, or every kind
// has all the links it may have.
func (c *collector) isDone() bool {
	if c.maxLinks < 0 {
		return false
	}
	if c.counts[classStyle] >= c.maxLinks {
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
		return c.maxLinks < 0 || c.counts[cl] < c.maxLinks
	case high:
		return c.maxLinks < 0 || c.highImages < c.maxLinks
	default:
		return (c.maxImages < 0 || c.images < c.maxImages) && (c.maxLinks < 0 || c.images < c.maxLinks)
	}
}

var classKind = [numClasses]Kind{Styles, Scripts, Hints, Scripts, Images}

// inForeignContent reports whether the innermost open element is <svg> or <math>: the next
// tag is an SVG or MathML element, in which <script>, <style> and <title> hold markup, not
// raw text, and <![CDATA[ starts a CDATA section.
func (c *collector) inForeignContent() bool {
	if len(c.open) == 0 {
		return false
	}
	top := c.open[len(c.open)-1]
	return top == tagSVG || top == tagMath
}

// inTemplate reports whether the innermost open element is a <template>.
func (c *collector) inTemplate() bool {
	return len(c.open) > 0 && c.open[len(c.open)-1] == tagTemplate
}

// start handles a start tag.
func (c *collector) start(tag tagID, e *element, selfClosing bool) {
	if c.inForeignContent() && !c.foreignStart(tag, selfClosing) {
		return
	}
	switch tag {
	case tagTemplate:
		c.open = append(c.open, tag) // <template/> opens a template too: the slash means nothing in HTML
		return
	case tagSVG, tagMath:
		if !selfClosing {
			c.open = append(c.open, tag)
		}
		return
	}
	if len(c.open) > 0 {
		return
	}
	switch tag {
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

// foreignStart handles a start tag in SVG or MathML content, and reports whether the tag
// ended that content and is to be handled as HTML.
func (c *collector) foreignStart(tag tagID, selfClosing bool) bool {
	root := c.open[len(c.open)-1]
	switch {
	case tag == tagImg || tag == tagBreakout:
		// The HTML parser closes SVG and MathML elements up to the nearest HTML content.
		for c.inForeignContent() {
			c.open = c.open[:len(c.open)-1]
		}
		return true
	case selfClosing:
	case tag == tagSVG || tag == tagMath,
		root == tagSVG && (tag == tagForeignObject || tag == tagDesc || tag == tagTitle),
		root == tagMath && tag >= tagMI && tag <= tagMText:
		c.open = append(c.open, tag)
	}
	return false
}

// maxEndTagSearch bounds how far down the open elements an end tag looks for its element, so
// that hostile nesting costs linear time. An end tag given up on leaves content skipped.
const maxEndTagSearch = 64

// end handles an end tag. Like the HTML parser, it closes the innermost open element of its
// name, and everything inside it, but nothing outside the innermost template.
func (c *collector) end(tag tagID) {
	if tag >= tagTemplate {
		for i := len(c.open) - 1; i >= 0 && i >= len(c.open)-maxEndTagSearch; i-- {
			if c.open[i] == tag {
				c.open = c.open[:i]
				return
			}
			if c.open[i] == tagTemplate {
				return
			}
		}
		return
	}
	if tag == tagPicture && len(c.open) == 0 {
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
		media := string(bytes.Trim(e.vals[attrMedia], asciiSpace))
		switch e.lower(attrMedia) {
		case "print":
			return
		case "all":
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
		if c.tooLong(e.vals[attrImageSrcset]) {
			return
		}
		l := Link{
			Rel: "preload", As: as, Type: e.str(attrType), Media: e.str(attrMedia),
			CrossOrigin: crossOrigin(e), Integrity: e.str(attrIntegrity),
			FetchPriority: fetchPriority(e), ReferrerPolicy: referrerPolicy(e),
			ImageSrcset: c.srcset(e.vals[attrImageSrcset]), ImageSizes: e.str(attrImageSizes), Kind: Hints,
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
		// crossorigin is carried as written: a module is fetched in CORS mode anyway, so a bare
		// crossorigin changes nothing, but it keeps the header saying what the page says.
		l.Rel = "modulepreload"
		c.add(classLaterScript, e.vals[attrSrc], laterScript(l, e))
	case (t == "" || javaScriptTypes[t]) && !e.present(attrNoModule):
		l.Rel, l.As = "preload", "script"
		if e.present(attrDefer) {
			c.add(classLaterScript, e.vals[attrSrc], laterScript(l, e))
			return
		}
		c.add(classBlockingScript, e.vals[attrSrc], l)
	}
}

// laterScript gives the preload of a script that runs after the document is parsed (defer,
// module) a low priority, unless the page gave it one. A preload is fetched at the priority
// of its destination, which for as=script is that of a blocking script: the browser would
// start a deferred script at once and share the connection between it and the stylesheets
// and blocking scripts that hold back the first render. At low priority it waits, as the
// browser lets its own deferred scripts wait. A fetchpriority the page wrote, even auto, is
// the page's choice and stays.
func laterScript(l Link, e *element) Link {
	if !e.present(attrFetchPriority) {
		l.FetchPriority = "low"
	}
	return l
}

func (c *collector) imgElement(e *element) {
	if c.kinds&Images == 0 || (c.inPicture && c.sources) || e.lower(attrLoading) == "lazy" {
		return
	}
	prio := fetchPriority(e)
	if prio == "low" || c.tooLong(e.vals[attrSrcset]) {
		return
	}
	l := Link{
		Rel: "preload", As: "image", CrossOrigin: crossOrigin(e), FetchPriority: prio,
		ReferrerPolicy: referrerPolicy(e), ImageSrcset: c.srcset(e.vals[attrSrcset]), Kind: Images,
	}
	if l.ImageSrcset != "" {
		l.ImageSizes = e.str(attrSizes) // sizes means nothing without srcset
	}
	c.add(classImage, e.vals[attrSrc], l)
}

// add appends a link to its class unless its URL is unusable, already collected, or the
// class is full. The first occurrence of a URL wins.
func (c *collector) add(class linkClass, rawURL []byte, l Link) {
	high := class == classImage && l.FetchPriority == "high"
	if !c.room(class, high) || c.tooLong(rawURL) {
		return
	}
	u, ok := c.resolve(rawURL)
	if !ok || c.overTLS && blockedOverHTTPS(u, l.Rel, l.As) {
		return
	}
	l.URL, l.class = u, class
	c.keep(l, high)
}

// addLink adds a link found earlier, whose URL is resolved and checked already, as add would.
func (c *collector) addLink(l Link) {
	// A stylesheet's image is marked high by netjet, not by the page: it takes its place
	// under the cap.
	if high := isHighImage(l) && !l.late; c.room(l.class, high) {
		c.keep(l, high)
	}
}

// keep collects l unless its URL is collected already.
func (c *collector) keep(l Link, high bool) {
	if c.collected(c.dedupKey(l.URL)) {
		return
	}
	l.inBody = l.inBody || c.headDone
	c.found = append(c.found, l)
	c.counts[l.class]++
	switch {
	case high:
		c.highImages++
	case l.class == classImage:
		c.images++
	}
	c.final = c.isDone()
}

// blockedOverHTTPS reports whether a browser refuses a link to url with rel and as on a page
// served over HTTPS. An http: URL there is mixed content: blocked for stylesheets, scripts,
// fonts and fetches (the preload would only log an error, and a hint would waste the 103),
// but upgraded to https for images, audio and video, so those preloads still match; a
// preconnect fetches nothing.
func blockedOverHTTPS(url, rel, as string) bool {
	if scheme, _ := urlref.Scheme(url); scheme != "http" {
		return false
	}
	switch rel {
	case "preconnect", "dns-prefetch":
		return false
	case "preload":
		return as != "image" && as != "audio" && as != "video"
	}
	return true
}

// tooLong reports whether attribute v, a URL or a srcset, makes a link longer than any header
// may be: such a link is left out. Seeing this before v is copied, resolved and escaped saves a
// megabyte attribute from being copied only to be dropped.
func (c *collector) tooLong(v []byte) bool {
	if c.maxURLBytes <= 0 || len(v) <= c.maxURLBytes {
		return false
	}
	kept := 0 // the bytes no cleaning removes: the header needs at least as many
	for _, b := range v {
		if b > ' ' {
			kept++
		}
	}
	return kept > c.maxURLBytes
}

// dedupKey returns the URL u names, as far as the document's URL tells. The link itself
// keeps u as it is: the header resolves it against the response's URL, which a proxy in
// front may spell otherwise than docURL.
func (c *collector) dedupKey(u string) string {
	if c.docURL == "" || isResolved(u) {
		return u
	}
	return urlref.Resolve(c.docURL, u)
}

// isResolved reports whether resolving u against any http URL gives u itself: an absolute
// http(s) URL or an absolute path, without dot segments or a fragment. Most page URLs are.
func isResolved(u string) bool {
	switch {
	case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"):
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
	default:
		return false
	}
	return !strings.Contains(u, "/.") && !strings.Contains(u, "#")
}

// collected reports whether key was collected before, and remembers it.
func (c *collector) collected(key string) bool {
	const linearMax = 32 // a small page needs no map
	if c.seen == nil {
		if slices.Contains(c.keys, key) {
			return true
		}
		c.keys = append(c.keys, key)
		if len(c.keys) > linearMax {
			c.seen = make(map[string]struct{}, 2*linearMax)
			for _, k := range c.keys {
				c.seen[k] = struct{}{}
			}
			c.keys = nil
		}
		return false
	}
	if _, ok := c.seen[key]; ok {
		return true
	}
	c.seen[key] = struct{}{}
	return false
}

// resolve returns the URL to preload for an attribute value, or false when there is nothing a
// browser would fetch.
func (c *collector) resolve(raw []byte) (string, bool) {
	u, ok := cleanURL(raw)
	if !ok {
		return "", false
	}
	if !c.haveBase && !needsEscape(u) {
		return u, true // the usual URL, as written: no second copy
	}
	return string(c.appendResolved(make([]byte, 0, len(u)+16), u)), true
}

// needsEscape reports whether appendEscapedURL would change u.
func needsEscape(u string) bool {
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' {
			return true
		}
	}
	return false
}

func isC0OrSpace(r rune) bool { return r <= ' ' }

// appendResolved appends u resolved against the base and escaped for the header.
func (c *collector) appendResolved(b []byte, u string) []byte {
	if c.haveBase {
		u = urlref.Resolve(c.base, u)
	}
	return appendEscapedURL(b, u)
}

// srcset rewrites a srcset attribute for imagesrcset: every candidate's URL is resolved and
// escaped as the element's own URL is, because the header's URLs resolve against the
// response, not the <base>, and a browser must pick the very file the element will. The
// candidates are split as the HTML standard's srcset parser splits them.
func (c *collector) srcset(raw []byte) string {
	s := string(raw)
	var b []byte
	for {
		s = strings.TrimLeft(s, asciiSpace+",")
		if s == "" {
			break
		}
		end := strings.IndexAny(s, asciiSpace)
		if end < 0 {
			end = len(s)
		}
		u, descriptors := s[:end], ""
		s = s[end:]
		if trimmed := strings.TrimRight(u, ","); len(trimmed) < len(u) {
			u = trimmed // a URL ending in commas has no descriptors
		} else {
			descriptors, s = cutCandidate(s)
		}
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = c.appendResolved(b, u)
		if descriptors = strings.Trim(descriptors, asciiSpace); descriptors != "" {
			b = append(b, ' ')
			b = append(b, descriptors...)
		}
	}
	return string(b)
}

// cutCandidate splits the descriptors of one srcset candidate from the candidates after it,
// at the first comma outside parentheses.
func cutCandidate(s string) (descriptors, rest string) {
	inParens := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			inParens = true
		case ')':
			inParens = false
		case ',':
			if !inParens {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// cleanURL strips what browsers strip from a URL attribute (leading and trailing C0 controls
// and spaces, every tab and newline), and rejects URLs there is nothing to fetch for: empty,
// fragment-only, other schemes than http and https (data:, blob:, javascript:, about:), or
// a backslash, which browsers and servers do not agree on.
func cleanURL(raw []byte) (string, bool) {
	raw = bytes.TrimFunc(raw, isC0OrSpace)
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
	n := len(c.found)
	if c.maxLinks >= 0 && n > c.maxLinks {
		n = c.maxLinks
	}
	out := make([]Link, 0, n)
	for cl := range numClasses {
		for i := 0; i < len(c.found) && c.counts[cl] > 0; i++ {
			if len(out) == n {
				return out
			}
			if c.found[i].class == cl {
				out = append(out, c.found[i])
			}
		}
	}
	return out
}

// scan finds the tags of doc with s, which reports exactly the tags that x/net/html's
// tokenizer reports (see extract, the reference this must match), many times faster.
func (c *collector) scan(s *htmlscan.Scanner, doc []byte) {
	s.Reset(doc)
	c.scanTags(s)
}

// scanTags collects from the tags s finds until it reaches the end of its document or the
// links can no longer change. For a document that arrives in pieces, Extend s and call it
// again: it picks up where it stopped.
func (c *collector) scanTags(s *htmlscan.Scanner) {
	var e element
	for !c.done() && !(c.untilHead && c.headDone) {
		// The scanner skips, at less cost, the tags that start and end would do nothing
		// with: most of them.
		switch {
		case len(c.open) == 0 && !c.headDone:
			s.Only(nil) // any tag may end the head
		case len(c.open) == 0:
			s.Only(outerTags)
		case c.inForeignContent():
			s.Only(nil) // any HTML start tag may end SVG or MathML content
		default:
			s.Only(nestedTags)
		}
		tt := s.Next()
		switch tt {
		case htmlscan.EOF:
			return
		case htmlscan.StartTag, htmlscan.SelfClosingTag:
			if c.inForeignContent() {
				s.NextIsNotRawText() // an SVG <style> or <title> holds markup, which may end the <svg>
			}
			name := s.TagName()
			c.headStart(name)
			tag := lookupTag(name)
			if tag == tagOther {
				continue
			}
			if tag.hasLinkAttrs() { // the attributes of <div>, <svg> and the like matter to no link
				e = element{}
				for k, v, ok := s.NextAttr(); ok; k, v, ok = s.NextAttr() {
					if id, ok := attrIDs[string(k)]; ok {
						e.set(id, v)
					}
				}
			}
			c.start(tag, &e, tt == htmlscan.SelfClosingTag)
		case htmlscan.EndTag:
			name := s.TagName()
			c.headEnd(name)
			c.end(lookupTag(name))
		}
		// CDATA sections exist only in SVG and MathML; elsewhere <![CDATA[ is a comment.
		s.AllowCDATA(len(c.open) > 0 && !c.inTemplate())
	}
}

// headStart notes the start tag of an element: one that may not stand in a document's head
// opens the body, as a parser would have it.
func (c *collector) headStart(name []byte) {
	if c.headDone || len(c.open) > 0 {
		return
	}
	switch string(name) {
	case "html", "head", "base", "basefont", "bgsound", "link", "meta", "noframes", "noscript",
		"script", "style", "template", "title":
	default:
		c.headDone = true
	}
}

// headEnd notes an end tag: </head>, and those a parser takes as its end.
func (c *collector) headEnd(name []byte) {
	if c.headDone || len(c.open) > 0 {
		return
	}
	switch string(name) {
	case "head", "body", "html", "br":
		c.headDone = true
	}
}

// outerTags are the tags that matter to the collector when no element is open: see start
// and end, which do nothing with the others then. nestedTags are those that matter inside a
// <template> or an SVG or MathML integration point: the ones that open or close what
// collector.open holds.
var (
	outerTags = htmlscan.NewTagSet("link", "script", "img", "image", "base", "picture", "source",
		"template", "svg", "math")
	nestedTags = htmlscan.NewTagSet("template", "svg", "math", "foreignobject", "desc", "title",
		"mi", "mo", "mn", "ms", "mtext")
)

// hasToken reports whether the list s, separated by ASCII white space as HTML separates
// tokens, holds tok.
func hasToken(s, tok string) bool {
	for {
		s = strings.TrimLeft(s, asciiSpace)
		end := strings.IndexAny(s, asciiSpace)
		if end < 0 {
			return s == tok
		}
		if s[:end] == tok {
			return true
		}
		s = s[end:]
	}
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
