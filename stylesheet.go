package netjet

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tdewolff/parse/v2"
	"github.com/tdewolff/parse/v2/css"
)

// A stylesheet names files that a page's first render waits for: the stylesheets it @imports
// and the fonts of its @font-face rules. Those of the site's own origin pass through netjet,
// which learns them from the requests browsers make for them (late.go). Those of another
// origin, a font service or a CDN, never do: what netjet can do for them is have the browser
// open the connection early, with a preconnect to their origin, learned from the stylesheet's
// body as it passes.
const (
	maxSheetBytes   = 64 << 10 // the start of a stylesheet read for the origins it names
	maxSheetOrigins = 4        // origins taken from one stylesheet
)

// readsSheet reports whether a response is a stylesheet that a browser asked for as one, to be
// read for the origins it names: a 200 to a GET with Sec-Fetch-Dest style, of type text/css,
// not compressed.
func readsSheet(r *http.Request, status int, contentType string, h http.Header) bool {
	return status == http.StatusOK && r.Method == http.MethodGet &&
		first(r.Header["Sec-Fetch-Dest"]) == "style" &&
		strings.EqualFold(mediaType(contentType), "text/css") && h["Content-Encoding"] == nil
}

// sheetOrigins returns preconnects to the origins, other than the stylesheet's own, of the
// stylesheets sheet @imports and of the first source of each of its @font-face rules, in the
// order they first appear, at most maxSheetOrigins. A font is fetched in CORS mode, on a
// connection of its own: its origin's preconnect carries crossorigin. overTLS and host are
// the stylesheet's: over TLS, an http: origin (mixed content, which browsers block) is left
// out. Anything written with escapes is left out too: fewer links, never a wrong one.
func sheetOrigins(sheet []byte, overTLS bool, host string) []Link {
	var out []Link
	add := func(raw []byte, font bool) {
		origin, ok := otherOrigin(raw, overTLS, host)
		if !ok {
			return
		}
		for _, l := range out {
			if l.URL == origin {
				return
			}
		}
		l := Link{URL: origin, Rel: "preconnect", Kind: Hints, class: classHint, inBody: true, late: true}
		if font {
			l.CrossOrigin = "anonymous"
		}
		out = append(out, l)
	}
	// The lexer appends a NUL to its input: it gets a copy, not the caller's bytes.
	lx := css.NewLexer(parse.NewInputBytes(append(make([]byte, 0, len(sheet)+1), sheet...)))
	var (
		depth         int  // blocks open
		importsClosed bool // a rule with a block came first: browsers ignore later @imports
		importing     bool // in an @import, before its URL
		fontRule      bool // after @font-face, before its block
		fontFace      int  // the depth of the @font-face block being read, or 0
		fontTaken     bool // that block's first source has been read
		urlCall       bool // after url(, whose argument is a string
	)
	for len(out) < maxSheetOrigins {
		tt, data := lx.Next()
		var (
			isURL, ok bool
			u         []byte
		)
		switch tt {
		case css.ErrorToken:
			return out // the end, or what the lexer cannot read further
		case css.WhitespaceToken, css.CommentToken:
			continue
		case css.AtKeywordToken:
			name := strings.ToLower(string(data[1:]))
			importing = name == "import" && depth == 0 && !importsClosed
			fontRule = name == "font-face"
		case css.LeftBraceToken:
			if depth == 0 {
				importsClosed = true
			}
			depth++
			if fontRule && fontFace == 0 {
				fontFace, fontTaken = depth, false
			}
			importing, fontRule = false, false
		case css.RightBraceToken:
			if depth == fontFace {
				fontFace = 0
			}
			depth = max(depth-1, 0)
			importing, fontRule = false, false
		case css.SemicolonToken:
			importing, fontRule = false, false
		case css.FunctionToken:
			if strings.EqualFold(string(data), "url(") {
				urlCall = true
				continue
			}
		case css.URLToken:
			isURL = true
			u, ok = unquotedURL(data)
		case css.StringToken:
			// @import takes a bare string; elsewhere a string is a URL only inside url().
			isURL = urlCall || importing
			u, ok = unquoted(data)
		}
		urlCall = false
		switch {
		case !isURL:
		case importing:
			importing = false // an @import has one URL; what follows is its conditions
			if ok {
				add(u, false)
			}
		case fontFace > 0 && !fontTaken:
			fontTaken = true // a browser fetches the first source it can use: the first, mostly
			if ok {
				add(u, true)
			}
		}
	}
	return out
}

// unquotedURL returns the URL of a url(...) token, quoted or not, refusing one with escapes.
func unquotedURL(tok []byte) ([]byte, bool) {
	if len(tok) < 5 || !strings.EqualFold(string(tok[:4]), "url(") || tok[len(tok)-1] != ')' {
		return nil, false
	}
	u := bytes.Trim(tok[4:len(tok)-1], cssSpace)
	if len(u) > 0 && (u[0] == '"' || u[0] == '\'') {
		return unquoted(u)
	}
	return u, len(u) > 0 && bytes.IndexByte(u, '\\') < 0
}

// cssSpace is CSS's whitespace.
const cssSpace = " \t\n\r\f"

// unquoted returns the text of a quoted string token, refusing one with escapes.
func unquoted(tok []byte) ([]byte, bool) {
	if len(tok) < 2 || tok[0] != tok[len(tok)-1] || bytes.IndexByte(tok, '\\') >= 0 {
		return nil, false
	}
	return tok[1 : len(tok)-1], true
}

// otherOrigin returns the origin ("https://fonts.example.com", "https://[::1]:8443") of an
// absolute or scheme-relative URL when it is another origin than host's, over the scheme
// the stylesheet came by. A host name must be letters, digits, dots and hyphens (IDNs in
// their ASCII form), so that nothing but an origin can come out of a hostile stylesheet.
func otherOrigin(raw []byte, overTLS bool, host string) (string, bool) {
	own := "http"
	if overTLS {
		own = "https"
	}
	s := string(raw)
	if strings.HasPrefix(s, "//") {
		s = own + ":" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && (scheme != "http" || overTLS) {
		return "", false
	}
	origin, ok := originOf(scheme, u.Host)
	if !ok {
		return "", false
	}
	if self, ok := originOf(own, host); ok && self == origin {
		return "", false
	}
	return origin, true
}

// originOf returns scheme://host[:port] in its one spelling: the host in lower case, without
// the scheme's default port.
func originOf(scheme, hostport string) (string, bool) {
	u := url.URL{Host: hostport}
	name, port := strings.ToLower(u.Hostname()), u.Port()
	if name == "" || len(name) > 253 || !validHostName(name) {
		return "", false
	}
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	if port == "443" && scheme == "https" || port == "80" && scheme == "http" {
		port = ""
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "", false
		}
		name += ":" + port
	}
	return scheme + "://" + name, true
}

// validHostName reports whether name (lower case) is a DNS name or an IP address: letters,
// digits, dots and hyphens, or the hex digits, colons and dots of an IPv6 literal.
func validHostName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == ':') {
			return false
		}
	}
	return name[0] != '.' && name[0] != '-'
}
