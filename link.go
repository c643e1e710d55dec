package netjet

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/netjet-go/netjet/internal/urlref"
)

// render writes every link as a header value, all of them in one string.
func (p *Preloader) render(links []Link) *pageLinks {
	pl := &pageLinks{links: links, ends: make([]int, len(links))}
	size := 0
	for i := range links {
		size += len(links[i].URL) + 48 + len(p.attrs) // "<>; rel=preload; as=script; fetchpriority=low, "
	}
	b := make([]byte, 0, size)
	for i := range links {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = links[i].appendTo(b)
		b = append(b, p.attrs...)
		pl.ends[i] = len(b)
	}
	pl.all = string(b)
	pl.header, pl.sent = p.fitLinks(pl, 0, nil, "")
	return pl
}

// fitLinks returns the Link value of the page's links that fit in MaxHeaderBytes after used
// bytes of the handler's own Link values, and the links it names. A link that does not fit is
// left out, and the next ones still tried; a link whose URL the handler's Link names already
// (resolved against docURL) is left out too.
func (p *Preloader) fitLinks(pl *pageLinks, used int, existing []string, docURL string) (string, []Link) {
	var b []byte
	var sent []Link
	prefix := true // so far, every link is in: the value is a prefix of pl.all
	for i := range pl.links {
		v := pl.value(i)
		if existing != nil && linkHeaderHasURL(existing, pl.links[i].URL, docURL) ||
			p.opts.MaxHeaderBytes >= 0 && used+len(v) > p.opts.MaxHeaderBytes {
			if prefix {
				prefix = false
				b = append(b, pl.all[:max(0, pl.endOf(len(sent)-1))]...)
				sent = slices.Clip(pl.links[:len(sent)])
			}
			continue
		}
		used += len(v) + len(", ")
		if prefix {
			sent = pl.links[:i+1]
			continue
		}
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, v...)
		sent = append(sent, pl.links[i])
	}
	if prefix {
		return pl.all[:max(0, pl.endOf(len(sent)-1))], sent
	}
	return string(b), sent
}

// merge returns the links of a page's head followed by those its route taught, as one list in
// the order links go out, within the caps. Once the whole head has been read, it is the only
// word on what the head holds: of the learned links, only those of the body are added.
// Learned links whose URL the head has are left out.
func (p *Preloader) merge(head []Link, headRead bool, learned []Link) []Link {
	if !slices.ContainsFunc(learned, func(l Link) bool { return (l.inBody || !headRead) && !hasURL(head, l.URL) }) {
		return head // nothing to add: the usual case once a route has learned a page
	}
	c := p.newCollector("", false)
	// An image a stylesheet names is found by a browser only once the stylesheet has
	// arrived and the page is laid out; the page's own images, by its preload scanner
	// at once. The first take the image cap first. Unless the page marks an image of
	// its own as the one that matters (fetchpriority=high), a stylesheet's image is
	// taken for the page's largest paint, a banner drawn as a background: at the
	// image's own low priority it would come after every other file, however early it
	// was asked for.
	authorHigh := slices.ContainsFunc(head, isHighImage) ||
		slices.ContainsFunc(learned, func(l Link) bool { return !l.late && isHighImage(l) })
	for _, l := range learned {
		if isLateImage(l) {
			if !authorHigh {
				l.FetchPriority = "high"
			}
			c.addLink(l)
		}
	}
	for _, l := range head {
		c.addLink(l)
	}
	for _, l := range learned {
		if (l.inBody || !headRead) && !isLateImage(l) {
			c.addLink(l)
		}
	}
	return c.links()
}

// isHighImage reports whether l is an image marked fetchpriority=high.
func isHighImage(l Link) bool { return l.class == classImage && l.FetchPriority == "high" }

// isLateImage reports whether l is an image that a stylesheet names (see late.go).
func isLateImage(l Link) bool { return l.late && l.class == classImage }

// hasURL reports whether links has one to url.
func hasURL(links []Link, url string) bool {
	return slices.ContainsFunc(links, func(l Link) bool { return l.URL == url })
}

// addLinks appends the page's links to the Link header h already has, leaving out URLs it
// names and links that would take the value over MaxHeaderBytes. docURL is the request's
// path: the URLs of both resolve against it.
func (p *Preloader) addLinks(h http.Header, pl *pageLinks, docURL string) {
	existing := h["Link"]
	if len(existing) == 0 {
		if pl.header != "" {
			h["Link"] = []string{pl.header}
		}
		return
	}
	used := 2 * len(existing)
	for _, v := range existing {
		used += len(v)
	}
	if v, _ := p.fitLinks(pl, used, existing, docURL); v != "" {
		h["Link"] = append(existing[:len(existing):len(existing)], v)
	}
}

// linkHeaderHasURL reports whether a Link header already names url as a link target,
// <url>, however it is spelled: both are resolved against docURL. A <...> inside a quoted
// parameter, such as imagesrcset="</a.css> 2x", is no target.
func linkHeaderHasURL(values []string, url, docURL string) bool {
	url = urlref.Resolve(docURL, url)
	for _, v := range values {
		inQuote := false
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case inQuote && c == '\\':
				i++ // the escaped character cannot end the quoted string
			case inQuote:
				inQuote = c != '"'
			case c == '"':
				inQuote = true
			case c == '<':
				target, _, closed := strings.Cut(v[i+1:], ">")
				if closed && urlref.Resolve(docURL, target) == url {
					return true
				}
				i += len(target) + 1
			}
		}
	}
	return false
}

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

	class linkClass // where the link goes in the order; whether it blocks rendering
	// inBody: the element came after the document's head, where a page read up to its head
	// does not show it.
	inBody bool
	// late: no element of the page names it; a stylesheet does (see late.go).
	late bool
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

// checkAttribute accepts a link parameter as RFC 8288 writes it: a token, or token=value where
// value is a token or a quoted string. Anything else could break the header it is appended to.
func checkAttribute(a string) error {
	name, value, hasValue := strings.Cut(a, "=")
	if !isToken(name) {
		return errors.New("the name must be a token (letters, digits and !#$%&'*+-.^_`|~)")
	}
	if !hasValue || isToken(value) {
		return nil
	}
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' && isQuotable(value[1:len(value)-1]) &&
		!strings.ContainsAny(value[1:len(value)-1], `"\`) {
		return nil
	}
	return errors.New("the value must be a token or a quoted string of printable ASCII")
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isQuotable reports whether s can go inside a quoted string once `"` and `\` are escaped:
// printable ASCII and spaces only, so that no header can be split or dropped.
func isQuotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' {
			return false
		}
	}
	return true
}

// pageLinks is what netjet knows about one version of a page, ready to send.
type pageLinks struct {
	links []Link // in the order they go out, within MaxLinks
	all   string // every link as a header value, Options.Attributes included, joined by ", "
	ends  []int  // where links[i]'s value ends in all
	// header is the Link value for a response without one of its own: the links that fit
	// within MaxHeaderBytes; sent are those links.
	header string
	sent   []Link
	// taught is the caller that last taught its route these links from the page cache: the
	// same caller's next hit teaches nothing new.
	taught atomic.Uint64
}

// value returns links[i] as a header value.
func (pl *pageLinks) value(i int) string {
	start := 0
	if i > 0 {
		start = pl.ends[i-1] + len(", ")
	}
	return pl.all[start:pl.ends[i]]
}

// endOf returns where links[i]'s value ends in all, or -1 before the first.
func (pl *pageLinks) endOf(i int) int {
	if i < 0 {
		return -1
	}
	return pl.ends[i]
}
