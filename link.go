package netjet

import (
	"errors"
	"net/http"
	"strings"

	"github.com/netjet-go/netjet/internal/urlref"
)

// render writes every link as a header value, all of them in one string.
func (p *Preloader) render(links []Link) *pageLinks {
	pl := &pageLinks{links: links, ends: make([]int, len(links))}
	if p.hints != nil {
		pl.hints = hintLinks(links) // the 103 has its own byte budget: routeHints.render caps it
	}
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
		if p.opts.MaxHeaderBytes < 0 || len(b) <= p.opts.MaxHeaderBytes {
			pl.fit = i + 1
		}
	}
	pl.all = string(b)
	return pl
}

// addLinks appends the page's links to the Link header h already has, leaving out URLs it
// names and stopping before the first link that would take the value over MaxHeaderBytes.
// docURL is the request's path: the URLs of both resolve against it.
func (p *Preloader) addLinks(h http.Header, pl *pageLinks, docURL string) {
	existing := h["Link"]
	if len(existing) == 0 {
		if pl.fit > 0 {
			h["Link"] = []string{pl.header()}
		}
		return
	}
	used := 2 * (len(existing) - 1)
	for _, v := range existing {
		used += len(v)
	}
	var b []byte
	for i := range pl.links {
		if linkHeaderHasURL(existing, pl.links[i].URL, docURL) {
			continue
		}
		v := pl.value(i)
		if p.opts.MaxHeaderBytes >= 0 && used+2+len(v) > p.opts.MaxHeaderBytes {
			break
		}
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, v...)
		used += 2 + len(v)
	}
	if len(b) > 0 {
		h["Link"] = append(existing[:len(existing):len(existing)], string(b))
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
	fit   int    // how many links fit within MaxHeaderBytes when the response has no Link
	hints []Link // the links a 103 may carry, with Options.EarlyHints
}

// value returns links[i] as a header value.
func (pl *pageLinks) value(i int) string {
	start := 0
	if i > 0 {
		start = pl.ends[i-1] + len(", ")
	}
	return pl.all[start:pl.ends[i]]
}

// header returns the Link value for a response without one of its own.
func (pl *pageLinks) header() string {
	if pl.fit == 0 {
		return ""
	}
	return pl.all[:pl.ends[pl.fit-1]]
}
