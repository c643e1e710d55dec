// Package htmlscan finds the tags of an HTML document exactly as the Tokenizer of
// golang.org/x/net/html reports them, several times faster.
//
// It reports start, self-closing and end tags with the same names, attributes and values as
// the Tokenizer, in the same order, and nothing else: text, comments, doctypes, CDATA
// sections and the raw text of script, style, textarea, title and the like are skipped
// without building tokens. Attributes are only located while Next looks for the end of a
// tag; their keys and values are decoded when NextAttr asks for them. The document, held
// in memory (whole, or from where the scan resumes with Rebase), is never modified and
// never copied; names and values are rewritten into a scratch buffer only when they differ
// from the bytes as written (upper case, NUL, '\r', character references), so a walk over
// a document allocates nothing.
//
// A caller that needs only some elements names them with Only, and Next skips the other
// tags without returning them; a caller that receives the document in pieces scans what it
// has and continues with Extend as more arrives, or with Rebase, keeping only the bytes
// from Offset on.
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
	"encoding/binary"
	"hash/maphash"
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
type attr struct {
	key, val span
	keyCased bool // the key holds upper case or NUL: TagName and NextAttr must rewrite it
}

// Scanner walks the tags of one document. The zero value scans an empty document.
type Scanner struct {
	doc []byte
	// pos is where the next token starts: after the last tag read, or 0. Next moves it only
	// past a whole tag, so that Extend can read again, whole, what the old end of the
	// document cut off. It is the only index into doc that outlives a call to Next, besides
	// those of the current tag, which is what lets Rebase drop the bytes before it.
	pos int

	// rawTag is the raw text element (see rawNames) that the last start tag opened: the next
	// Next skips its text up to the matching end tag. rawNone otherwise. Like pos, it changes
	// only when a tag is read (or by NextIsNotRawText).
	rawTag     uint8
	allowCDATA bool
	ended      bool    // Next returned EOF: until Extend or Rebase, it returns EOF again at once
	only       *TagSet // the names Next reports, or nil for all

	tt        TokenType
	name      span
	nameCased bool              // the name holds upper case or NUL
	attrs     []attr            // the current start tag's attributes, without empty keys
	nextAttr  int               // the index in attrs of the attribute NextAttr looks at next
	keyBits   uint64            // a bit per length and first byte of the keys NextAttr passed
	keySet    []int             // the keys NextAttr passed in a tag with many, hashed (index+1)
	keyBuf    []byte            // a key lower-cased for hashing
	refs      *[64]refMemoEntry // the named references met last
	scratch   []byte            // rewritten names and values of the current tag

	// refTokenizer decodes the names refs and knownRefs do not know. It is the Scanner's
	// own, kept by Reset, so that scanners never share one and wait for each other.
	refTokenizer *referenceTokenizer
}

// Reset makes s scan doc from its beginning, reusing s's buffers. doc is read, never
// modified, and must not be modified while s scans it.
func (s *Scanner) Reset(doc []byte) {
	*s = Scanner{
		doc: doc, attrs: s.attrs[:0], scratch: s.scratch[:0], keySet: s.keySet, keyBuf: s.keyBuf, refs: s.refs,
		refTokenizer: s.refTokenizer,
	}
}

// Extend continues the scan over doc, which begins with the bytes scanned so far (usually
// the same buffer, grown): for a caller that scans a document as it arrives. Next resumes
// after the last tag it read (reported, or skipped as Only asks), so that scanning a
// document in growing prefixes reports exactly the tags one scan of the whole document
// reports: a tag, comment or raw text cut off at the old end is read again, whole, from the
// longer document. What the caller told the scanner after the last tag, with AllowCDATA,
// NextIsNotRawText and Only, still holds. The current tag, if Next has not returned EOF
// yet, stays readable.
//
// Each Extend reads again the bytes from Offset to the old end. A caller that extends at
// every write can make that quadratic (think of a long script arriving a byte at a time);
// one that extends only once the document has at least doubled since the last Reset or
// Extend, or once the new bytes are at least as many as those past Offset, keeps the total
// work linear in the document's length.
func (s *Scanner) Extend(doc []byte) {
	s.doc, s.ended = doc, false
}

// Offset returns the index in the document where Next resumes: after the last tag it read,
// or 0 before the first. The bytes from Offset to the end of the document are
// those that Extend reads again, and the first bytes of the document Rebase takes.
func (s *Scanner) Offset() int { return s.pos }

// Rebase continues the scan over doc, which begins with the bytes of the document from
// Offset on, followed by any that arrived since: for a caller that scans a long document as
// it passes and keeps only what the scanner may still need. The bytes before Offset are
// never read again, so the caller may drop or overwrite them; Next then reports exactly the
// tags it would have reported with the whole document (as Extend has it). Indexes are in
// doc from then on: Offset returns 0 until Next reads a tag, and a caller wanting positions
// in the whole document adds the old Offset. What the caller told the scanner after the last
// tag, with AllowCDATA, NextIsNotRawText and Only, still holds. The current tag lies before
// Offset, so it is dropped: TagName returns nil and NextAttr reports no attribute, and the
// slices returned for it are invalid.
//
// Offset stays put while no tag is complete, so what the caller must keep does not shrink
// inside a long construct: an unclosed comment, script, style or other raw text element,
// a tag with an unclosed quote, or the rest of a document after <plaintext>, all keep their
// bytes from the Offset before them. A caller that must bound its memory has to bound what
// it keeps, and stop scanning (or give up the tags after it) when the bound is reached.
func (s *Scanner) Rebase(doc []byte) {
	s.doc, s.ended, s.pos = doc, false, 0
	s.tt, s.attrs, s.nextAttr, s.scratch = EOF, s.attrs[:0], 0, s.scratch[:0]
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
	s.attrs, s.nextAttr, s.keyBits = s.attrs[:0], 0, 0
	if s.ended {
		return EOF
	}
	doc := s.doc
	i := s.afterTag()
	for {
		if i < len(doc) && doc[i] != '<' { // tags often follow one another: no search then
			j := bytes.IndexByte(doc[i:], '<')
			if j < 0 {
				break
			}
			i += j
		}
		if i+1 >= len(doc) {
			break
		}
		switch c := doc[i+1]; {
		case isLetter(c):
			switch s.readTag(i+1, StartTag) {
			case tagReported:
				return s.tt
			case tagCut:
				return s.eof()
			}
			i = s.afterTag()
		case c == '/':
			if i+2 >= len(doc) {
				return s.eof()
			}
			switch c := doc[i+2]; {
			case isLetter(c):
				switch s.readTag(i+2, EndTag) {
				case tagReported:
					return s.tt
				case tagCut:
					return s.eof()
				}
				i = s.pos // an end tag opens no raw text
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

// What readTag found.
const (
	tagCut      = iota // no tag: the document ends first
	tagReported        // a tag for the caller
	tagSkipped         // a tag whose name is not in the set given to Only
)

// afterTag returns where the text after the last tag read starts: after the raw text it
// opened, if any.
func (s *Scanner) afterTag() int {
	if s.rawTag == rawNone {
		return s.pos
	}
	return s.skipRaw()
}

// skipRaw returns the index after the raw text that the last tag read opened.
func (s *Scanner) skipRaw() int {
	switch s.rawTag {
	case rawPlaintext:
		return len(s.doc)
	case rawScript:
		return skipScript(s.doc, s.pos)
	}
	return skipRawText(s.doc, s.pos, rawNames[s.rawTag])
}

// eof ends the scan, leaving pos and rawTag as the last tag read left them for Extend.
func (s *Scanner) eof() TokenType {
	s.ended = true
	s.tt = EOF
	s.attrs = s.attrs[:0]
	return EOF
}

// readTag reads the tag whose name starts at doc[start]: tagCut when the document ends
// first, tagSkipped when its name is not in the set given to Only. It keeps the attributes
// of the start tags it reports for NextAttr.
func (s *Scanner) readTag(start int, tt TokenType) int {
	doc := s.doc
	n := start + 1
	cased := byteClass[doc[start]]
	for ; n < len(doc); n++ {
		c := byteClass[doc[n]]
		if c&nameEnd != 0 {
			break
		}
		cased |= c
	}
	if n >= len(doc) {
		return tagCut
	}
	// The attributes, read as the Tokenizer reads them. End tags have attributes too, which
	// the Tokenizer drops; reading them still matters, as a quoted value may hold a '>'.
	i := n
	for {
		if i = skipSpace(doc, i); i >= len(doc) {
			return tagCut
		}
		c := doc[i]
		if c == '>' {
			break
		}
		if c == '/' {
			i++ // an attribute with an empty key, which the Tokenizer drops
			continue
		}
		keyStart, keyCased := i, byteClass[c] // the first byte is the key's even when it is '='
		for i++; i < len(doc); i++ {
			c := byteClass[doc[i]]
			if c&keyEnd != 0 {
				break
			}
			keyCased |= c
		}
		if i >= len(doc) {
			return tagCut
		}
		a := attr{key: span{keyStart, i}, val: span{i, i}, keyCased: keyCased&foldable != 0}
		if i = skipSpace(doc, i); i >= len(doc) {
			return tagCut
		}
		switch doc[i] {
		case '/':
			i++
		case '=':
			if i = skipSpace(doc, i+1); i >= len(doc) {
				return tagCut
			}
			switch q := doc[i]; q {
			case '>':
			case '"', '\'':
				j := bytes.IndexByte(doc[i+1:], q)
				if j < 0 {
					return tagCut
				}
				a.val = span{i + 1, i + 1 + j}
				i += j + 2
			default:
				a.val.start = i
				for i++; i < len(doc) && byteClass[doc[i]]&unquotedEnd == 0; i++ {
				}
				if i >= len(doc) {
					return tagCut
				}
				a.val.end = i
			}
		}
		if tt == StartTag {
			s.attrs = append(s.attrs, a)
		}
	}
	s.pos = i + 1
	if s.only != nil {
		if name := doc[start:n]; !s.only.mayHave(name) || !s.only.has(name) {
			s.attrs = s.attrs[:0]
			s.rawTag = rawNone
			if tt == StartTag {
				s.rawTag = rawTextTag(name)
			}
			return tagSkipped
		}
	}
	s.tt, s.name, s.nameCased = tt, span{start, n}, cased&foldable != 0
	if tt == EndTag {
		s.rawTag = rawNone
		return tagReported
	}
	// As in the Tokenizer, "/>" makes a tag self-closing unless the slash ends the value of
	// the last attribute (<a href=x/>), and that attribute counts only if its key is new.
	if doc[i-1] == '/' {
		s.tt = SelfClosingTag
		if last := len(s.attrs) - 1; last >= 0 && s.attrs[last].val.end == i && !s.repeatedBefore(last) {
			s.tt = StartTag
		}
	}
	s.rawTag = rawTextTag(doc[start:n])
	return tagReported
}

// TagName returns the current tag's name, lower-cased, with NUL bytes as U+FFFD. The slice
// is valid until the next call to Next or Reset and must not be modified.
func (s *Scanner) TagName() []byte {
	if s.tt == EOF {
		return nil
	}
	return s.lower(s.name, s.nameCased)
}

// NextAttr returns the current start tag's next attribute: its key lower-cased and its value
// with "\r\n" and "\r" as "\n" and character references decoded, both with NUL bytes as
// U+FFFD. As in the Tokenizer, an attribute whose key repeats an earlier one is skipped. ok
// is false when the tag has no more attributes, and for end tags. The slices are valid until
// the next call to Next or Reset and must not be modified.
func (s *Scanner) NextAttr() (key, val []byte, ok bool) {
	for s.nextAttr < len(s.attrs) {
		k := s.nextAttr
		s.nextAttr++
		if s.passedKey(k) {
			continue
		}
		a := &s.attrs[k]
		return s.lower(a.key, a.keyCased), s.value(a.val), true
	}
	return nil, nil, false
}

// fewAttrs is the number of attributes up to which passedKey compares keys one by one.
const fewAttrs = 16

// passedKey reports whether the key of attrs[k] equals, ignoring ASCII case, the key of an
// attribute NextAttr passed before, as it passes them in order.
func (s *Scanner) passedKey(k int) bool {
	key := s.doc[s.attrs[k].key.start:s.attrs[k].key.end]
	if k < fewAttrs {
		// Comparing keys only when they may be equal keeps the usual tag cheap.
		bit := uint64(1) << ((len(key) + int(lowerASCII(key[0]))) & 63)
		if s.keyBits&bit == 0 {
			s.keyBits |= bit
			return false
		}
		return s.repeatedBefore(k)
	}
	// A tag can have any number of attributes: a hash set keeps it linear. Its hash is
	// seeded, so that a document cannot choose keys that collide.
	if k == fewAttrs {
		size := 1
		for size < 2*len(s.attrs) {
			size *= 2
		}
		if cap(s.keySet) < size {
			s.keySet = make([]int, size)
		}
		s.keySet = s.keySet[:size]
		clear(s.keySet)
		for j := range k {
			s.addKey(j)
		}
	}
	return !s.addKey(k)
}

var keySeed = maphash.MakeSeed()

// addKey adds the key of attrs[k] to keySet and reports whether it was not there yet.
func (s *Scanner) addKey(k int) bool {
	key := s.attrs[k].key
	s.keyBuf = s.keyBuf[:0]
	for _, c := range s.doc[key.start:key.end] {
		s.keyBuf = append(s.keyBuf, lowerASCII(c))
	}
	mask := len(s.keySet) - 1
	for i := int(maphash.Bytes(keySeed, s.keyBuf)) & mask; ; i = (i + 1) & mask {
		j := s.keySet[i]
		if j == 0 {
			s.keySet[i] = k + 1
			return true
		}
		other := s.attrs[j-1].key
		if other.end-other.start == len(s.keyBuf) && equalFold(s.doc[other.start:other.end], s.keyBuf) {
			return false
		}
	}
}

// repeatedBefore reports whether the key of attrs[k] equals the key of an earlier
// attribute, ignoring ASCII case.
func (s *Scanner) repeatedBefore(k int) bool {
	key := s.doc[s.attrs[k].key.start:s.attrs[k].key.end]
	for _, a := range s.attrs[:k] {
		if a.key.end-a.key.start == len(key) && equalFold(s.doc[a.key.start:a.key.end], key) {
			return true
		}
	}
	return false
}

func equalFold(a, b []byte) bool {
	for i := range a {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// lower returns doc[sp] lower-cased with NUL as U+FFFD: the document itself unless cased
// says that changes something, else a copy in the scratch buffer.
func (s *Scanner) lower(sp span, cased bool) []byte {
	b := s.doc[sp.start:sp.end:sp.end]
	if !cased {
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
	// Values with references have many (URLs, JSON): when '\r' and NUL are absent, as they
	// nearly always are, the next byte to rewrite is the next '&'.
	next := indexValueSpecial
	if bytes.IndexByte(v[i:], '\r') < 0 && bytes.IndexByte(v[i:], 0) < 0 {
		next = indexAmpersand
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
			b, i = s.appendCharRef(b, v, i)
		default:
			j := next(v[i:])
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

func indexAmpersand(v []byte) int { return bytes.IndexByte(v, '&') }

// indexValueSpecial returns the index of the first byte of v that value rewrites, or -1.
func indexValueSpecial(v []byte) int {
	if len(v) >= 32 {
		// Most values have none of the three bytes: three vectorised searches are faster.
		i := bytes.IndexByte(v, '&')
		if i < 0 {
			i = len(v)
		}
		if j := bytes.IndexByte(v[:i], '\r'); j >= 0 {
			i = j
		}
		if j := bytes.IndexByte(v[:i], 0); j >= 0 {
			i = j
		}
		if i == len(v) {
			return -1
		}
		return i
	}
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := binary.LittleEndian.Uint64(v[i:])
		if hasZeroByte(w) || hasZeroByte(w^(ones*'\r')) || hasZeroByte(w^(ones*'&')) {
			break
		}
	}
	for ; i < len(v); i++ {
		if byteClass[v[i]]&valueSpecial != 0 {
			return i
		}
	}
	return -1
}

const ones = 0x0101010101010101

// hasZeroByte reports whether one of the eight bytes of w is zero.
func hasZeroByte(w uint64) bool { return (w-ones)&^w&(ones*0x80) != 0 }

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
	i := start
	for i < len(doc) && doc[i] == '-' {
		i++
	}
	if i < len(doc) && doc[i] == '>' {
		return i + 1
	}
	for {
		j := bytes.IndexByte(doc[i:], '>')
		if j < 0 {
			return len(doc)
		}
		gt := i + j
		if text := doc[start:gt]; bytes.HasSuffix(text, []byte("--")) || bytes.HasSuffix(text, []byte("--!")) {
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
	foldable                 // what lower rewrites: 'A' to 'Z', NUL
)

var byteClass = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\f\r") {
		t[c] |= space | nameEnd | keyEnd | unquotedEnd
	}
	t['/'] |= nameEnd | keyEnd
	t['>'] |= nameEnd | keyEnd | unquotedEnd
	t['='] |= keyEnd
	for c := 'A'; c <= 'Z'; c++ {
		t[c] |= foldable
	}
	t[0] |= valueSpecial | foldable
	t['\r'] |= valueSpecial
	t['&'] |= valueSpecial
	return t
}()

// NextIsNotRawText tells the scanner that the start tag just returned opens no raw text, as
// the Tokenizer's method of the same name does: in SVG and MathML content, <style>, <title>
// and <script> hold markup.
func (s *Scanner) NextIsNotRawText() { s.rawTag = rawNone }
