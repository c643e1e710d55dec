// Package urlref resolves URI references the way RFC 3986 section 5.2 does,
// without decoding or re-encoding anything.
//
// net/url normalises escapes and some characters while parsing and
// re-serialising, so the URL it produces can differ from the one a browser
// would fetch for the same markup. Here every component is sliced out of the
// input and glued back together verbatim; only dot segments are removed.
package urlref

import (
	"bytes"
	"strings"
)

// Resolve resolves the URI reference ref against base the way RFC 3986
// section 5.2 does (merge paths, remove dot segments), working on the strings
// as written: it never decodes or re-encodes percent escapes or any other
// character (unlike net/url, which rewrites some characters and would make a
// browser see another URL).
//
// base may itself be relative: an absolute URL ("https://cdn.example/x/"), a
// network-path reference ("//cdn/x"), or a path-absolute reference
// ("/blog/post?q=1"); the result then is as absolute as base allows. The
// fragment of base is dropped and the fragment of ref kept. A ref with a
// scheme is returned as written apart from dot-segment removal in its path.
func Resolve(base, ref string) string {
	r := split(ref)
	if r.hasScheme {
		r.path = removeDotSegments(r.path)
		return r.String()
	}

	b := split(base)
	t := components{
		scheme:    b.scheme,
		hasScheme: b.hasScheme,
		// RFC 3986 5.2.2: the target always takes the fragment of the
		// reference; the fragment of base never carries over.
		fragment:    r.fragment,
		hasFragment: r.hasFragment,
	}
	switch {
	case r.hasAuthority:
		t.authority, t.hasAuthority = r.authority, true
		t.path = removeDotSegments(r.path)
		t.query, t.hasQuery = r.query, r.hasQuery
	case r.path == "":
		t.authority, t.hasAuthority = b.authority, b.hasAuthority
		t.path = b.path
		t.query, t.hasQuery = b.query, b.hasQuery
		if r.hasQuery {
			t.query, t.hasQuery = r.query, true
		}
	default:
		t.authority, t.hasAuthority = b.authority, b.hasAuthority
		if r.path[0] == '/' {
			t.path = removeDotSegments(r.path)
		} else {
			t.path = removeDotSegments(merge(b, r.path))
		}
		t.query, t.hasQuery = r.query, r.hasQuery
	}
	return t.String()
}

// Scheme reports whether ref starts with a URI scheme
// (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"), and returns the scheme
// lower-cased when it does.
func Scheme(ref string) (scheme string, ok bool) {
	n := schemeLen(ref)
	if n == 0 {
		return "", false
	}
	return strings.ToLower(ref[:n]), true
}

// schemeLen returns the length of the scheme that ref starts with (the index
// of its ':'), or 0 when ref has none. A prefix that breaks the scheme grammar,
// such as "1a:b" or "a/b:c", makes the whole string a relative path.
func schemeLen(ref string) int {
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9', c == '+', c == '-', c == '.':
			if i == 0 {
				return 0
			}
		case c == ':':
			return i
		default:
			return 0
		}
	}
	return 0
}

// components holds the five parts of a URI reference as substrings of the
// original. The has* flags keep "undefined" apart from "empty", which
// RFC 3986 treats differently ("http://a?" keeps its '?').
type components struct {
	scheme, authority, path, query, fragment       string
	hasScheme, hasAuthority, hasQuery, hasFragment bool
}

// split breaks s into its components following RFC 3986 appendix B, except
// that a scheme must match the scheme grammar to count as one.
func split(s string) components {
	var c components
	if i := strings.IndexByte(s, '#'); i >= 0 {
		c.fragment, c.hasFragment = s[i+1:], true
		s = s[:i]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		c.query, c.hasQuery = s[i+1:], true
		s = s[:i]
	}
	if n := schemeLen(s); n > 0 {
		c.scheme, c.hasScheme = s[:n], true
		s = s[n+1:]
	}
	if rest, ok := strings.CutPrefix(s, "//"); ok {
		end := strings.IndexByte(rest, '/')
		if end < 0 {
			end = len(rest)
		}
		c.authority, c.hasAuthority = rest[:end], true
		s = rest[end:]
	}
	c.path = s
	return c
}

// String recomposes the components as in RFC 3986 section 5.3.
func (c components) String() string {
	var sb strings.Builder
	sb.Grow(len(c.scheme) + len(c.authority) + len(c.path) + len(c.query) + len(c.fragment) + 7)
	if c.hasScheme {
		sb.WriteString(c.scheme)
		sb.WriteByte(':')
	}
	switch {
	case c.hasAuthority:
		sb.WriteString("//")
		sb.WriteString(c.authority)
	case strings.HasPrefix(c.path, "//"):
		// Dot removal can turn "/.//evil.example" into "//evil.example",
		// which would read back as an authority. "/." keeps it a path, as
		// the WHATWG URL serializer does (RFC 3986 section 3.3).
		sb.WriteString("/.")
	case !c.hasScheme && schemeLen(c.path) > 0:
		// Likewise "./a:b" must not become the scheme "a"
		// (RFC 3986 section 4.2).
		sb.WriteString("./")
	}
	sb.WriteString(c.path)
	if c.hasQuery {
		sb.WriteByte('?')
		sb.WriteString(c.query)
	}
	if c.hasFragment {
		sb.WriteByte('#')
		sb.WriteString(c.fragment)
	}
	return sb.String()
}

// merge implements RFC 3986 section 5.2.3.
func merge(base components, refPath string) string {
	if base.hasAuthority && base.path == "" {
		// "https://cdn.example" + "a.js" must give "/a.js", not "a.js",
		// or the path would run into the authority.
		return "/" + refPath
	}
	i := strings.LastIndexByte(base.path, '/')
	return base.path[:i+1] + refPath
}

// removeDotSegments implements RFC 3986 section 5.2.4 step by step, with
// input being the unprocessed rest of path and out the output buffer.
func removeDotSegments(path string) string {
	if !strings.Contains(path, ".") {
		return path // no dot segment possible; skip the copy
	}
	in := path
	out := make([]byte, 0, len(path))
	for in != "" {
		switch {
		// A: drop a leading "../" or "./".
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		// B: "/./" or a final "/." becomes "/".
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		// C: "/../" or a final "/.." becomes "/" and pops the last output
		// segment; at the root there is nothing to pop, so "/.." stays "/".
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			out = popSegment(out)
		case in == "/..":
			in = "/"
			out = popSegment(out)
		// D: a lone "." or ".." is dropped.
		case in == "." || in == "..":
			in = ""
		// E: move the first segment, with its leading '/', to the output.
		default:
			end := strings.IndexByte(in[1:], '/') + 1
			if end == 0 {
				end = len(in)
			}
			out = append(out, in[:end]...)
			in = in[end:]
		}
	}
	return string(out)
}

// popSegment removes the last segment of out and the '/' before it, if any.
func popSegment(out []byte) []byte {
	i := bytes.LastIndexByte(out, '/')
	if i < 0 {
		return out[:0]
	}
	return out[:i]
}
