// Package htmlscan finds the tags of an HTML document exactly as the Tokenizer of
// golang.org/x/net/html reports them, several times faster.
//
// It reports start, self-closing and end tags with the same names, attributes and values as
// the Tokenizer, and nothing else: text, comments, doctypes, CDATA sections and the raw text
// of script, style, textarea, title and the like are skipped without building tokens, and a
// tag's attributes are parsed only when NextAttr asks for them. The document is never
// modified and never copied; names and values are rewritten into a scratch buffer only when
// they must differ from the bytes as written (upper case, NUL, '\r', character references).
//
// A Scanner is not safe for concurrent use; use one per goroutine and Reset it to reuse it.
//
//	var s htmlscan.Scanner
//	s.Reset(doc)
//	for tt := s.Next(); tt != htmlscan.EOF; tt = s.Next() {
//		name := s.TagName()
//		for key, val, ok := s.NextAttr(); ok; key, val, ok = s.NextAttr() {
//			...
//		}
//	}
package htmlscan

import (
	"bytes"
)

// TokenType is the kind of tag Next found.
type TokenType uint8

const (
	// EOF means the document has no more tags. A tag cut off by the end of the document is
	// not reported, as the Tokenizer does not report it.
	EOF TokenType = iota
	// StartTag is a tag like <a href=x>.
	StartTag
	// SelfClosingTag is a start tag ending in "/>", like <br/>. As in the Tokenizer, a
	// slash that ends an unquoted attribute value (<a href=x/>) does not count.
	SelfClosingTag
	// EndTag is a tag like </a>. End tags have no attributes.
	EndTag
)

// String returns the name of the token type.
func (t TokenType) String() string {
	switch t {
	case StartTag:
		return "StartTag"
	case SelfClosingTag:
		return "SelfClosingTag"
	case EndTag:
		return "EndTag"
	}
	return "EOF"
}

// span is the byte range doc[start:end].
type span struct{ start, end int }

// attr is one attribute's key and value as written in the document.
type attr struct{ key, val span }

// Scanner walks the tags of one document. The zero value scans an empty document.
type Scanner struct {
	doc []byte
	pos int // where the next token starts

	// rawTag is the raw text element (lower case) that the last start tag opened: the next
	// Next skips its text up to the matching end tag. Empty otherwise.
	rawTag     string
	allowCDATA bool

	tt      TokenType
	name    span
	attrPos int // where NextAttr reads the next attribute
	tagEnd  int // the index of the current tag's '>'

	keys    []span // keys NextAttr returned for the current tag, to drop repeats
	scratch []byte // rewritten names and values of the current tag
}

// Reset makes s scan doc from its beginning, reusing s's buffers. doc is read, never
// modified, and must not be modified while s scans it.
func (s *Scanner) Reset(doc []byte) {
	*s = Scanner{doc: doc, keys: s.keys[:0], scratch: s.scratch[:0]}
}

// AllowCDATA sets whether <![CDATA[...]]> is a CDATA section, whose text may contain '<'
// without opening tags, or a bogus comment ending at the first '>'. The default is false.
// CDATA sections exist only in SVG and MathML content, which only the caller can tell,
// so call it after each tag as the Tokenizer's caller would call Tokenizer.AllowCDATA.
func (s *Scanner) AllowCDATA(allow bool) {
	s.allowCDATA = allow
}

// Next finds the next tag and returns its type, or EOF when there is none. It invalidates
// the slices returned for the previous tag.
func (s *Scanner) Next() TokenType {
	s.scratch = s.scratch[:0]
	s.keys = s.keys[:0]
	doc := s.doc
	i := s.pos
	switch s.rawTag {
	case "":
	case "plaintext":
		i = len(doc)
	case "script":
		i = skipScript(doc, i)
	default:
		i = skipRawText(doc, i, s.rawTag)
	}
	s.rawTag = ""
	for {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 || i+j+1 >= len(doc) {
			break
		}
		i += j
		switch c := doc[i+1]; {
		case isLetter(c):
			if s.readTag(i+1, StartTag) {
				return s.tt
			}
			return s.eof()
		case c == '/':
			if i+2 >= len(doc) {
				return s.eof()
			}
			switch c := doc[i+2]; {
			case isLetter(c):
				if s.readTag(i+2, EndTag) {
					return s.tt
				}
				return s.eof()
			case c == '>':
				i += 3 // "</>" is nothing at all
			default:
				i = skipPastGT(doc, i+2) // a bogus comment: "</ x>", "</3>"
			}
		case c == '!':
			i = s.skipMarkupDeclaration(i + 2)
		case c == '?':
			i = skipPastGT(doc, i+1) // a bogus comment: "<?xml ...?>"
		default:
			i++ // a '<' in text
		}
	}
	return s.eof()
}

func (s *Scanner) eof() TokenType {
	s.pos = len(s.doc)
	s.tt = EOF
	s.attrPos, s.tagEnd = 0, 0
	return EOF
}

// readTag reads the tag whose name starts at doc[start] and reports whether it ends before
// the document does.
func (s *Scanner) readTag(start int, tt TokenType) bool {
	doc := s.doc
	n := start + 1
	for n < len(doc) && byteClass[doc[n]]&nameEnd == 0 {
		n++
	}
	if n >= len(doc) {
		return false
	}
	// Attributes are parsed here only to find the '>' that ends the tag: a quoted value
	// may hold one. NextAttr parses them again, only for the tags the caller asks about.
	i := n
	var last attr
	for {
		i = skipSpace(doc, i)
		if i >= len(doc) {
			return false
		}
		if doc[i] == '>' {
			break
		}
		if last, i = readAttr(doc, i); i < 0 {
			return false
		}
	}
	s.tt, s.name, s.tagEnd, s.pos = tt, span{start, n}, i, i+1
	if tt == EndTag {
		s.attrPos = i
		return true
	}
	s.attrPos = n
	if doc[i-1] == '/' && !s.lastValueHoldsSlash(last, i) {
		s.tt = SelfClosingTag
	}
	s.rawTag = rawTextTag(doc[start:n])
	return true
}

// lastValueHoldsSlash reports whether the '/' before the '>' at gt belongs to the value of
// the tag's last attribute (<a href=x/>), which makes the tag not self-closing. As in the
// Tokenizer, that attribute counts only when it is the first with its name.
func (s *Scanner) lastValueHoldsSlash(last attr, gt int) bool {
	if last.val.end != gt || last.key.start == last.key.end {
		return false
	}
	for i := s.attrPos; ; {
		i = skipSpace(s.doc, i)
		if i == last.key.start {
			return true
		}
		var a attr
		a, i = readAttr(s.doc, i)
		if s.sameKey(a.key, last.key) {
			return false
		}
	}
}

// readAttr reads the attribute starting at doc[i], which is neither white space nor '>',
// and returns it with the index after it, or -1 when the document ends first. A '/' there
// reads as an attribute with an empty key, which the Tokenizer drops.
func readAttr(doc []byte, i int) (attr, int) {
	var a attr
	a.key.start = i
	if doc[i] == '/' {
		a.key.end, a.val = i, span{i, i}
		return a, i + 1
	}
	i++ // the first byte belongs to the key even when it is '='
	for i < len(doc) && byteClass[doc[i]]&keyEnd == 0 {
		i++
	}
	if i >= len(doc) {
		return a, -1
	}
	a.key.end, a.val = i, span{i, i}
	if i = skipSpace(doc, i); i >= len(doc) {
		return a, -1
	}
	switch doc[i] {
	case '/':
		return a, i + 1
	case '=':
	default:
		return a, i // a key without a value
	}
	if i = skipSpace(doc, i+1); i >= len(doc) {
		return a, -1
	}
	switch q := doc[i]; q {
	case '>':
		return a, i
	case '"', '\'':
		j := bytes.IndexByte(doc[i+1:], q)
		if j < 0 {
			return a, -1
		}
		a.val = span{i + 1, i + 1 + j}
		return a, i + 2 + j
	}
	a.val.start = i
	for i++; i < len(doc) && byteClass[doc[i]]&unquotedEnd == 0; i++ {
	}
	if i >= len(doc) {
		return a, -1
	}
	a.val.end = i
	if doc[i] != '>' {
		i++ // the white space ending the value
	}
	return a, i
}

// TagName returns the current tag's name, lower-cased, with NUL bytes as U+FFFD. The slice
// is valid until the next call to Next or Reset and must not be modified.
func (s *Scanner) TagName() []byte {
	if s.tt == EOF {
		return nil
	}
	return s.lower(s.name)
}

// NextAttr returns the current start tag's next attribute: its key lower-cased and its value
// with "\r\n" and "\r" as "\n" and character references decoded, both with NUL bytes as
// U+FFFD. As in the Tokenizer, an attribute whose key repeats an earlier one is skipped. ok
// is false when the tag has no more attributes, and for end tags. The slices are valid until
// the next call to Next or Reset and must not be modified.
func (s *Scanner) NextAttr() (key, val []byte, ok bool) {
	for s.attrPos < s.tagEnd {
		i := skipSpace(s.doc, s.attrPos)
		if i >= s.tagEnd {
			s.attrPos = s.tagEnd
			break
		}
		var a attr
		a, s.attrPos = readAttr(s.doc, i)
		if a.key.start == a.key.end || s.repeated(a.key) {
			continue
		}
		s.keys = append(s.keys, a.key)
		return s.lower(a.key), s.value(a.val), true
	}
	return nil, nil, false
}

// repeated reports whether key equals, ignoring ASCII case, a key NextAttr returned for the
// current tag.
func (s *Scanner) repeated(key span) bool {
	for _, k := range s.keys {
		if s.sameKey(k, key) {
			return true
		}
	}
	return false
}

func (s *Scanner) sameKey(a, b span) bool {
	if a.end-a.start != b.end-b.start {
		return false
	}
	for i := range a.end - a.start {
		if lowerASCII(s.doc[a.start+i]) != lowerASCII(s.doc[b.start+i]) {
			return false
		}
	}
	return true
}

// lower returns doc[sp] lower-cased with NUL as U+FFFD: the document itself when that changes
// nothing, else a copy in the scratch buffer.
func (s *Scanner) lower(sp span) []byte {
	b := s.doc[sp.start:sp.end:sp.end]
	clean := true
	for _, c := range b {
		if 'A' <= c && c <= 'Z' || c == 0 {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	start := len(s.scratch)
	for _, c := range b {
		if c == 0 {
			s.scratch = append(s.scratch, replacementChar...)
		} else {
			s.scratch = append(s.scratch, lowerASCII(c))
		}
	}
	return s.scratch[start:len(s.scratch):len(s.scratch)]
}

// value returns the attribute value doc[sp] as the Tokenizer does: NUL as U+FFFD, "\r\n" and
// "\r" as "\n", character references decoded. It is the document itself when that changes
// nothing, else a copy in the scratch buffer.
func (s *Scanner) value(sp span) []byte {
	v := s.doc[sp.start:sp.end:sp.end]
	i := indexValueSpecial(v)
	if i < 0 {
		return v
	}
	start := len(s.scratch)
	b := append(s.scratch, v[:i]...)
	for i < len(v) {
		switch c := v[i]; c {
		case 0:
			b = append(b, replacementChar...)
			i++
		case '\r':
			b = append(b, '\n')
			if i++; i < len(v) && v[i] == '\n' {
				i++
			}
		case '&':
			b, i = appendCharRef(b, v, i)
		default:
			j := indexValueSpecial(v[i:])
			if j < 0 {
				j = len(v) - i
			}
			b = append(b, v[i:i+j]...)
			i += j
		}
	}
	s.scratch = b
	return b[start:len(b):len(b)]
}

// indexValueSpecial returns the index of the first byte of v that value rewrites, or -1.
func indexValueSpecial(v []byte) int {
	for i, c := range v {
		if byteClass[c]&valueSpecial != 0 {
			return i
		}
	}
	return -1
}

// skipMarkupDeclaration skips what follows "<!" at doc[i]: a comment, a doctype, a CDATA
// section when allowed, or a bogus comment. It returns the index after it.
func (s *Scanner) skipMarkupDeclaration(i int) int {
	doc := s.doc
	if len(doc)-i < 2 {
		return len(doc)
	}
	if doc[i] == '-' && doc[i+1] == '-' {
		return skipComment(doc, i+2)
	}
	if s.allowCDATA && bytes.HasPrefix(doc[i:], []byte("[CDATA[")) {
		j := bytes.Index(doc[i+len("[CDATA["):], []byte("]]>"))
		if j < 0 {
			return len(doc)
		}
		return i + len("[CDATA[") + j + len("]]>")
	}
	return skipPastGT(doc, i) // a doctype or a bogus comment
}

// skipComment skips the comment text starting at doc[start], after "<!--", and returns the
// index after the comment. As in the Tokenizer, the comment ends at the first '>' that
// follows "--" or "--!" or only dashes: "<!-->" and "<!--->" are whole comments.
func skipComment(doc []byte, start int) int {
	for i := start; ; {
		j := bytes.IndexByte(doc[i:], '>')
		if j < 0 {
			return len(doc)
		}
		gt := i + j
		text := doc[start:gt]
		if len(bytes.TrimLeft(text, "-")) == 0 || bytes.HasSuffix(text, []byte("--")) ||
			bytes.HasSuffix(text, []byte("--!")) {
			return gt + 1
		}
		i = gt + 1
	}
}

// skipPastGT returns the index after the first '>' at or after doc[i], or len(doc).
func skipPastGT(doc []byte, i int) int {
	j := bytes.IndexByte(doc[i:], '>')
	if j < 0 {
		return len(doc)
	}
	return i + j + 1
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) && byteClass[doc[i]]&space != 0 {
		i++
	}
	return i
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

const replacementChar = "\uFFFD"

// Byte classes of the tag grammar.
const (
	space        = 1 << iota // HTML white space: ' ', '\t', '\n', '\f', '\r'
	nameEnd                  // white space, '/', '>'
	keyEnd                   // white space, '/', '>', '='
	unquotedEnd              // white space, '>'
	valueSpecial             // what value rewrites: NUL, '\r', '&'
)

var byteClass = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\f\r") {
		t[c] |= space | nameEnd | keyEnd | unquotedEnd
	}
	t['/'] |= nameEnd | keyEnd
	t['>'] |= nameEnd | keyEnd | unquotedEnd
	t['='] |= keyEnd
	t[0] |= valueSpecial
	t['\r'] |= valueSpecial
	t['&'] |= valueSpecial
	return t
}()
