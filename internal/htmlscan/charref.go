package htmlscan

import (
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// appendCharRef decodes the character reference at v[i], which is '&', the way the Tokenizer
// does in an attribute value, appends the result to b and returns the index after the
// reference. When there is no reference, it appends the '&' alone.
func appendCharRef(b, v []byte, i int) ([]byte, int) {
	s := v[i:]
	if len(s) > 2 && s[1] == '#' {
		if r, n := numericCharRef(s); n > 0 {
			return utf8.AppendRune(b, r), i + n
		}
		return append(b, '&'), i + 1
	}
	n := 1
	for n < len(s) && isAlnum(s[n]) {
		n++
	}
	if n < len(s) && s[n] == ';' {
		n++
	}
	name := s[1:n]
	// In an attribute value, "&amp=" is text: it is how URLs with a query write "&amp=".
	if len(name) == 0 || name[len(name)-1] != ';' && n < len(s) && s[n] == '=' {
		return append(b, '&'), i + 1
	}
	if text, ok := namedRefs.lookup(name); ok {
		return append(b, text...), i + n
	}
	return append(b, '&'), i + 1
}

// numericCharRef decodes the reference "&#..." at the start of s and returns the character
// and the length of the reference, or 0 when it has no digits.
func numericCharRef(s []byte) (rune, int) {
	i, base := 2, rune(10)
	if s[i] == 'x' || s[i] == 'X' {
		i, base = i+1, 16
	}
	digits := i
	var r rune
	for ; i < len(s); i++ {
		d := digitValue(s[i])
		if d >= base {
			break
		}
		if r <= utf8.MaxRune { // stops growing once out of range, so it cannot overflow
			r = r*base + d
		}
	}
	if i == digits {
		return 0, 0
	}
	if i < len(s) && s[i] == ';' {
		i++
	}
	switch {
	case 0x80 <= r && r <= 0x9f:
		r = windows1252[r-0x80]
	case r == 0 || 0xd800 <= r && r <= 0xdfff || r > utf8.MaxRune:
		r = utf8.RuneError
	}
	return r, i
}

// digitValue returns the value of a hexadecimal digit, or 16.
func digitValue(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c|0x20 && c|0x20 <= 'f':
		return rune(c|0x20-'a') + 10
	}
	return 16
}

func isAlnum(c byte) bool { return isLetter(c) || '0' <= c && c <= '9' }

// windows1252 is what HTML makes of the references &#x80; to &#x9f;: the characters
// Windows-1252 has at those bytes, for pages that were written in it.
var windows1252 = [32]rune{
	'\u20ac', '\u0081', '\u201a', '\u0192', '\u201e', '\u2026', '\u2020', '\u2021',
	'\u02c6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008d', '\u017d', '\u008f',
	'\u0090', '\u2018', '\u2019', '\u201c', '\u201d', '\u2022', '\u2013', '\u2014',
	'\u02dc', '\u2122', '\u0161', '\u203a', '\u0153', '\u009d', '\u017e', '\u0178',
}

// namedRefs remembers what the Tokenizer makes of named character references. The Tokenizer
// itself answers for each name the first time it is seen, so the two cannot disagree, and
// no copy of HTML's table of 2,231 names has to be kept in step with it.
var namedRefs = namedRefCache{decoded: make(map[string]string)}

// maxUnknownRefs bounds the names remembered as not being references, which a document
// can make up without end.
const maxUnknownRefs = 4096

type namedRefCache struct {
	mu      sync.RWMutex
	decoded map[string]string // name (with its ';', if any) -> text, "" for no reference
	unknown int
}

// lookup returns the text of the named reference "&" + name in an attribute value, where
// name is letters and digits with perhaps a final ';', and whether it is one.
func (c *namedRefCache) lookup(name []byte) (string, bool) {
	c.mu.RLock()
	text, ok := c.decoded[string(name)]
	c.mu.RUnlock()
	if ok {
		return text, text != ""
	}
	text = decodeWithTokenizer(string(name))
	c.mu.Lock()
	if text != "" || c.unknown < maxUnknownRefs {
		if _, ok := c.decoded[string(name)]; !ok && text == "" {
			c.unknown++
		}
		c.decoded[string(name)] = text
	}
	c.mu.Unlock()
	return text, text != ""
}

// decodeWithTokenizer returns the Tokenizer's decoding of the value "&" + name, or "" when
// it leaves it as it is. Nothing follows the name in that value, so an '=' after it
// (handled by the caller) cannot change the answer.
func decodeWithTokenizer(name string) string {
	z := html.NewTokenizer(strings.NewReader(`<a v="&` + name + `">`))
	z.Next()
	_, val, _ := z.TagAttr()
	if string(val) == "&"+name {
		return ""
	}
	return string(val)
}
