package htmlscan

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// appendCharRef decodes the character reference at v[i], which is '&', the way the Tokenizer
// does in an attribute value, appends the result to b and returns the index after the
// reference. When there is no reference, it appends the '&' alone.
func (s *Scanner) appendCharRef(b, v []byte, i int) ([]byte, int) {
	ref := v[i:]
	if len(ref) > 2 && ref[1] == '#' {
		if r, n := numericCharRef(ref); n > 0 {
			return utf8.AppendRune(b, r), i + n
		}
		return append(b, '&'), i + 1
	}
	n := 1
	for n < len(ref) && isAlnum(ref[n]) {
		n++
	}
	if n < len(ref) && ref[n] == ';' {
		n++
	}
	name := ref[1:n]
	// In an attribute value, "&amp=" is text: it is how URLs with a query write "&amp=".
	if len(name) == 0 || name[len(name)-1] != ';' && n < len(ref) && ref[n] == '=' {
		return append(b, '&'), i + 1
	}
	if text, ok := s.namedRef(name); ok {
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

// namedRef returns the text of the named reference "&" + name in an attribute value, and
// whether it is one. The Scanner remembers the names it met last: a page repeats a few
// (&amp; and &quot; by the thousand), and even the lock-free process-wide lookup costs more.
func (s *Scanner) namedRef(name []byte) (string, bool) {
	// In an attribute value only a whole name is decoded, never a prefix of it, so a name
	// longer than the longest reference is none: it is answered without the Tokenizer, and
	// a page of long made-up names costs nothing to remember.
	if len(name) > maxRefName {
		return "", false
	}
	if s.refs == nil {
		s.refs = new([64]refMemoEntry)
	}
	h := uint(len(name))*7 + uint(name[0])*3 + uint(name[len(name)-1])
	e := &s.refs[h%uint(len(s.refs))]
	if int(e.len) == len(name) && string(e.name[:e.len]) == string(name) {
		return e.text, e.text != ""
	}
	text, ok := s.decodeRef(name)
	e.len = uint8(copy(e.name[:], name))
	e.text = text
	return text, ok
}

// maxRefName is the length of the longest name of a reference, with its ';':
// "CounterClockwiseContourIntegral;".
const maxRefName = 32

// refMemoEntry is a name a Scanner met and its text, "" for no reference.
type refMemoEntry struct {
	len  uint8
	name [maxRefName]byte
	text string
}

// knownRefs holds, for all scanners, the names the Tokenizer decoded and their text
// (name, with its ';' if any -> text). The Tokenizer itself answers for each name the
// first time it is seen, so the two cannot disagree, and no copy of HTML's table of
// names has to be kept in step with it. Only names that are references are stored, so
// it holds at most the table's names however many pages made up others; reading it takes
// no lock, so scanners on other goroutines never wait for each other here.
var knownRefs sync.Map

// knownRefsStored counts the names in knownRefs.
var knownRefsStored atomic.Int32

// maxKnownRefs bounds knownRefs at the size of HTML's table of names, in case a Tokenizer
// ever decoded names outside it: what the process keeps must not depend on the documents.
const maxKnownRefs = 2231

// knownRefCount returns the number of names knownRefs holds.
func knownRefCount() int { return int(knownRefsStored.Load()) }

// decodeRef returns the text of the named reference "&" + name in an attribute value, where
// name is letters and digits with perhaps a final ';', maxRefName bytes at most, and
// whether it is one. A name not known yet is decoded by the Scanner's own Tokenizer.
func (s *Scanner) decodeRef(name []byte) (string, bool) {
	if text, ok := knownRefs.Load(string(name)); ok {
		return text.(string), true
	}
	if s.refTokenizer == nil {
		s.refTokenizer = new(referenceTokenizer)
	}
	text := s.refTokenizer.decode(name)
	if text == "" {
		return "", false
	}
	if knownRefsStored.Add(1) > maxKnownRefs {
		knownRefsStored.Add(-1)
	} else if _, loaded := knownRefs.LoadOrStore(string(name), text); loaded {
		knownRefsStored.Add(-1) // another Scanner stored it first
	}
	return text, true
}

// referenceTokenizer decodes names with one long-lived Tokenizer fed one tag at a time, so
// that a name not seen before costs about what it costs the Tokenizer itself. Each Scanner
// has its own, so that none waits for another's.
type referenceTokenizer struct {
	z    *html.Tokenizer
	feed tagFeed
	tag  []byte
}

// decode returns the Tokenizer's decoding of the attribute value "&" + name, or "" when it
// leaves the value as it is. Nothing follows the name in that value, so an '=' after it
// (which the caller handles) cannot change the answer. name is at most maxRefName bytes
// long, which keeps the long-lived Tokenizer's buffer small.
func (r *referenceTokenizer) decode(name []byte) string {
	r.tag = append(append(append(r.tag[:0], `<a v="&`...), name...), `">`...)
	if r.z == nil {
		r.z = html.NewTokenizer(&r.feed)
	}
	r.feed.pending = r.tag
	if val, ok := firstValue(r.z); ok && len(r.feed.pending) == 0 {
		return decoded(val, name)
	}
	r.z = nil // the tag did not read as expected: never reuse that Tokenizer
	val, _ := firstValue(html.NewTokenizer(bytes.NewReader(r.tag)))
	return decoded(val, name)
}

func firstValue(z *html.Tokenizer) ([]byte, bool) {
	if z.Next() != html.StartTagToken {
		return nil, false
	}
	_, val, _ := z.TagAttr()
	return val, true
}

func decoded(val, name []byte) string {
	if len(val) == len(name)+1 && val[0] == '&' && bytes.Equal(val[1:], name) {
		return ""
	}
	return string(val)
}

// tagFeed hands a Tokenizer the tags to read. The Tokenizer reads past a tag's '>' only
// on its next Next call, by which time the next tag is here.
type tagFeed struct{ pending []byte }

func (f *tagFeed) Read(p []byte) (int, error) {
	if len(f.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}
