package htmlscan

import "bytes"

// The raw text elements, as Scanner.rawTag holds them: a small number rather than the name,
// as it is set for every start tag, and a string would cost a write barrier while the
// garbage collector runs.
const (
	rawNone uint8 = iota
	rawPlaintext
	rawScript
	rawStyle
	rawTitle
	rawXMP
	rawIframe
	rawNoembed
	rawTextarea
	rawNoframes
	rawNoscript
)

// rawNames are the names of the raw text elements, by number.
var rawNames = [...]string{
	rawPlaintext: "plaintext", rawScript: "script", rawStyle: "style", rawTitle: "title", rawXMP: "xmp",
	rawIframe: "iframe", rawNoembed: "noembed", rawTextarea: "textarea", rawNoframes: "noframes",
	rawNoscript: "noscript",
}

// rawTextTag returns the element whose text the Tokenizer reads as raw text (or RCDATA) when
// a start tag is named name: up to its end tag, nothing in it is a tag. It returns rawNone
// for the other elements.
func rawTextTag(name []byte) uint8 {
	var t uint8
	switch len(name) {
	case 3:
		t = rawXMP
	case 5:
		t = rawStyle
		if lowerASCII(name[0]) == 't' {
			t = rawTitle
		}
	case 6:
		t = rawScript
		if lowerASCII(name[0]) == 'i' {
			t = rawIframe
		}
	case 7:
		t = rawNoembed
	case 8:
		switch lowerASCII(name[0]) {
		case 't':
			t = rawTextarea
		case 'n':
			t = rawNoframes
			if lowerASCII(name[2]) == 's' {
				t = rawNoscript
			}
		}
	case 9:
		t = rawPlaintext
	}
	if t == rawNone || !equalLower(name, rawNames[t]) {
		return rawNone
	}
	return t
}

// equalLower reports whether b lower-cased equals the lower-case s.
func equalLower(b []byte, s string) bool {
	for i := range b {
		if lowerASCII(b[i]) != s[i] {
			return false
		}
	}
	return true
}

// skipRawText returns the index of the "</tag" that ends the raw text starting at doc[i], or
// len(doc).
func skipRawText(doc []byte, i int, tag string) int {
	for {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			return len(doc)
		}
		i += j + 1
		if i >= len(doc) {
			return len(doc)
		}
		if doc[i] != '/' {
			continue
		}
		matched, next := matchTagName(doc, i+1, tag)
		if matched {
			return i - 1
		}
		if next < 0 {
			return len(doc)
		}
		i = next
	}
}

// matchTagName reports whether doc[i:] starts with tag, in any case, followed by white space,
// '/' or '>', as the name of a raw text element's end tag must be. Otherwise it returns the
// index of the first byte that does not match, or -1 when the document ends first.
func matchTagName(doc []byte, i int, tag string) (bool, int) {
	for k := 0; k < len(tag); k++ {
		if i+k >= len(doc) {
			return false, -1
		}
		if lowerASCII(doc[i+k]) != tag[k] {
			return false, i + k
		}
	}
	i += len(tag)
	if i >= len(doc) {
		return false, -1
	}
	if byteClass[doc[i]]&nameEnd == 0 {
		return false, i
	}
	return true, i
}

// The states of script data (HTML's "script data" tokenizer states, as the Tokenizer
// implements them): "<!--" escapes the text, and a "<script" inside escaped text escapes it
// once more, so that its "</script>" does not end the element.
const (
	scriptData = iota
	scriptEscaped
	scriptEscapedDash
	scriptEscapedDashDash
	scriptEscapedLessThan
	scriptDoubleEscaped
	scriptDoubleEscapedDash
	scriptDoubleEscapedDashDash
	scriptDoubleEscapedLessThan
)

// skipScript returns the index of the "</script" that ends the script text starting at
// doc[i], or len(doc).
func skipScript(doc []byte, i int) int {
	const tag = "script"
	state := scriptData
	for {
		if state == scriptData {
			j := bytes.IndexByte(doc[i:], '<')
			if j < 0 {
				return len(doc)
			}
			i += j + 1
			if i >= len(doc) {
				return len(doc)
			}
			switch doc[i] {
			case '/':
				matched, next := matchTagName(doc, i+1, tag)
				if matched {
					return i - 1
				}
				if next < 0 {
					return len(doc)
				}
				i = next
			case '!':
				// "<!--" escapes; anything else after "<!" is read again as script data.
				if i+1 >= len(doc) {
					return len(doc)
				}
				if doc[i+1] != '-' {
					i++
					continue
				}
				if i+2 >= len(doc) {
					return len(doc)
				}
				if doc[i+2] != '-' {
					i += 2
					continue
				}
				i += 3
				state = scriptEscapedDashDash
			}
			continue
		}
		if i >= len(doc) {
			return len(doc)
		}
		c := doc[i]
		switch state {
		case scriptEscaped, scriptEscapedDash, scriptEscapedDashDash:
			i++
			switch {
			case c == '-':
				state = min(state+1, scriptEscapedDashDash)
			case c == '<':
				state = scriptEscapedLessThan
			case c == '>' && state == scriptEscapedDashDash:
				state = scriptData
			default:
				state = scriptEscaped
			}
		case scriptEscapedLessThan:
			switch {
			case c == '/':
				matched, next := matchTagName(doc, i+1, tag)
				if matched {
					return i - 1
				}
				if next < 0 {
					return len(doc)
				}
				i, state = next, scriptEscaped
			case isLetter(c):
				matched, next := matchTagName(doc, i, tag)
				if next < 0 {
					return len(doc)
				}
				if matched {
					i, state = next+1, scriptDoubleEscaped
				} else {
					i, state = next, scriptEscaped
				}
			default:
				// The Tokenizer reads this byte again as plain script data, not escaped.
				state = scriptData
			}
		case scriptDoubleEscaped, scriptDoubleEscapedDash, scriptDoubleEscapedDashDash:
			i++
			switch {
			case c == '-':
				state = min(state+1, scriptDoubleEscapedDashDash)
			case c == '<':
				state = scriptDoubleEscapedLessThan
			case c == '>' && state == scriptDoubleEscapedDashDash:
				state = scriptData
			default:
				state = scriptDoubleEscaped
			}
		case scriptDoubleEscapedLessThan:
			if c != '/' {
				state = scriptDoubleEscaped
				continue
			}
			matched, next := matchTagName(doc, i+1, tag)
			switch {
			case matched:
				i, state = next+1, scriptEscaped
			case next < 0:
				return len(doc)
			default:
				i, state = next, scriptDoubleEscaped
			}
		}
	}
}
