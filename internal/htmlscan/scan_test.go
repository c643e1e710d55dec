package htmlscan

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// corpusDir holds real pages shared by the project's tests; it is not part of the module.
const corpusDir = "../../../shared/corpus/pages"

// tag is one reported tag, as both tokenizers must report it.
type tag struct {
	Type  TokenType
	Name  string
	Attrs [][2]string
}

func (t tag) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %q", t.Type, t.Name)
	for _, a := range t.Attrs {
		fmt.Fprintf(&b, " %q=%q", a[0], a[1])
	}
	return b.String()
}

// foreignDepth is the rule both sides follow for foreign content, inside <svg> and <math>,
// as a caller tracking it would: CDATA sections are allowed, and start tags open no raw
// text.
type foreignDepth int

func (d *foreignDepth) update(t tag) bool {
	switch {
	case t.Name != "svg" && t.Name != "math":
	case t.Type == StartTag:
		*d++
	case t.Type == EndTag && *d > 0:
		*d--
	}
	return *d > 0
}

// referenceTags returns the tags golang.org/x/net/html's Tokenizer finds in doc.
func referenceTags(doc []byte) []tag {
	z := html.NewTokenizer(bytes.NewReader(doc))
	var depth foreignDepth
	var tags []tag
	for {
		var t tag
		switch z.Next() {
		case html.ErrorToken:
			return tags
		case html.StartTagToken:
			t.Type = StartTag
		case html.SelfClosingTagToken:
			t.Type = SelfClosingTag
		case html.EndTagToken:
			t.Type = EndTag
		default:
			continue
		}
		name, more := z.TagName()
		t.Name = string(name)
		for more {
			var k, v []byte
			k, v, more = z.TagAttr()
			t.Attrs = append(t.Attrs, [2]string{string(k), string(v)})
		}
		tags = append(tags, t)
		foreign := depth.update(t)
		z.AllowCDATA(foreign)
		if foreign && t.Type != EndTag {
			z.NextIsNotRawText()
		}
	}
}

// scannedTags returns the tags s finds in doc.
func scannedTags(s *Scanner, doc []byte) []tag {
	return scannedTagsInPieces(s, doc, nil, nil)
}

// scannedTagsInPieces returns the tags s finds in doc when it arrives in pieces: s scans
// doc[:cuts[0]], is extended to doc[:cuts[1]] and so on, and finally to doc. The cuts must
// not decrease. With names, s reports only those, and svg and math, outside foreign content,
// and every tag inside, as a caller tracking foreign content would (it needs to see every
// tag there).
func scannedTagsInPieces(s *Scanner, doc []byte, cuts []int, names []string) []tag {
	tags, _ := scanInPieces(s, doc, cuts, names, false)
	return tags
}

// scanInPieces returns what scannedTagsInPieces does, and the Offset after each piece, in
// doc. With rebase, s holds only the bytes from Offset on: after each piece they are moved
// to the front of a buffer of the test's own, overwriting those before them, the next
// piece is appended to them, and s goes on with Rebase instead of Extend.
func scanInPieces(s *Scanner, doc []byte, cuts []int, names []string, rebase bool) ([]tag, []int) {
	var set *TagSet
	if names != nil {
		set = NewTagSet(append([]string{"svg", "math"}, names...)...)
	}
	var depth foreignDepth
	var tags []tag
	var offsets []int
	var kept []byte // with rebase, doc[base:end]
	base, end := 0, 0
	for i := 0; i <= len(cuts); i++ {
		prefix := doc
		if i < len(cuts) {
			prefix = doc[:cuts[i]]
		}
		switch {
		case rebase:
			off := s.Offset()
			if i == 0 {
				off = 0
			}
			n := copy(kept, kept[off:])
			base += off
			kept = append(kept[:n], prefix[end:]...)
			end = len(prefix)
			if i == 0 {
				s.Reset(kept)
				s.Only(set)
			} else {
				s.Rebase(kept)
			}
		case i == 0:
			s.Reset(prefix)
			s.Only(set)
		default:
			s.Extend(prefix)
		}
		for tt := s.Next(); tt != EOF; tt = s.Next() {
			t := tag{Type: tt, Name: string(s.TagName())}
			for k, v, ok := s.NextAttr(); ok; k, v, ok = s.NextAttr() {
				t.Attrs = append(t.Attrs, [2]string{string(k), string(v)})
			}
			tags = append(tags, t)
			foreign := depth.update(t)
			s.AllowCDATA(foreign)
			if foreign && tt != EndTag {
				s.NextIsNotRawText()
			}
			if foreign {
				s.Only(nil)
			} else {
				s.Only(set)
			}
		}
		if s.Next() != EOF {
			panic("Next found a tag after EOF")
		}
		offsets = append(offsets, base+s.Offset())
	}
	return tags, offsets
}

// onlySets are the sets the tests give Scanner.Only, with and without raw text elements.
var onlySets = [][]string{
	{"a", "b", "p", "link"},
	{"script", "style", "title", "textarea", "a", "img"},
	{"plaintext", "xmp", "iframe", "noscript", "noembed", "noframes", "c"},
}

// scannedTagsOnly returns the tags s finds in doc when it reports only names (see
// scannedTagsInPieces).
func scannedTagsOnly(s *Scanner, doc []byte, names []string) []tag {
	return scannedTagsInPieces(s, doc, nil, names)
}

// onlyTags returns the tags of all that scannedTagsOnly must report.
func onlyTags(all []tag, names []string) []tag {
	var depth foreignDepth
	var tags []tag
	for _, t := range all {
		if depth > 0 || t.Name == "svg" || t.Name == "math" || slices.Contains(names, t.Name) {
			tags = append(tags, t)
		}
		depth.update(t)
	}
	return tags
}

// diffTags returns where two tag streams first differ, or "".
func diffTags(want, got []tag) string {
	for i := range min(len(want), len(got)) {
		if want[i].String() != got[i].String() {
			return fmt.Sprintf("tag %d: x/net %s, htmlscan %s", i, want[i], got[i])
		}
	}
	if len(want) != len(got) {
		return fmt.Sprintf("x/net finds %d tags, htmlscan %d", len(want), len(got))
	}
	return ""
}

// requireSameTags checks the tags s finds in doc against the Tokenizer's, and those it
// reports with each of onlySets.
func requireSameTags(t *testing.T, s *Scanner, doc []byte) {
	t.Helper()
	before := bytes.Clone(doc)
	want, got := referenceTags(doc), scannedTags(s, doc)
	require.Empty(t, diffTags(want, got), "document %q", doc)
	for _, names := range onlySets {
		require.Empty(t, diffTags(onlyTags(want, names), scannedTagsOnly(s, doc, names)), "only %v in %q", names, doc)
	}
	require.Equal(t, before, doc, "the scanner modified the document")
}

// trickyDocs are small documents on the edges of the Tokenizer's rules, with the tags it
// reports when want is not nil.
var trickyDocs = []struct {
	name string
	doc  string
	want []tag // nil: only compare with x/net
}{
	{"plain", `<p class=x>hi</p>`, []tag{{StartTag, "p", [][2]string{{"class", "x"}}}, {EndTag, "p", nil}}},
	{"upper case", `<DIV ID="A" Class=B></Div>`, []tag{{StartTag, "div", [][2]string{{"id", "A"}, {"class", "B"}}}, {EndTag, "div", nil}}},
	{"self-closing", `<br/><img src=a /><link href="b"/>`, []tag{
		{SelfClosingTag, "br", nil}, {SelfClosingTag, "img", [][2]string{{"src", "a"}}},
		{SelfClosingTag, "link", [][2]string{{"href", "b"}}}}},
	{"slash in unquoted value", `<a href=x/><a href=/>`, []tag{
		{StartTag, "a", [][2]string{{"href", "x/"}}}, {StartTag, "a", [][2]string{{"href", "/"}}}}},
	{"slash value of a repeated key", `<a href=x href=y/>`, []tag{{SelfClosingTag, "a", [][2]string{{"href", "x"}}}}},
	{"slash value, repeated key in other case", `<a HREF=x href=y/ >`, nil},
	{"slashes between attributes", `<a / b/c / d=e/ f / >`, nil},
	{"attribute without value", `<input disabled checked=checked>`, []tag{{StartTag, "input", [][2]string{{"disabled", ""}, {"checked", "checked"}}}}},
	{"spaces around =", "<a b = c d\t=\n'e' f= \"g\">", []tag{{StartTag, "a", [][2]string{{"b", "c"}, {"d", "e"}, {"f", "g"}}}}},
	{"= before key", `<a =b c==d e=>`, []tag{{StartTag, "a", [][2]string{{"=b", ""}, {"c", "=d"}, {"e", ""}}}}},
	{"quotes in keys and unquoted values", `<a b"c=d'e f=g"h>`, nil},
	{"> inside quotes", `<a title="x>y" href='>'>`, []tag{{StartTag, "a", [][2]string{{"title", "x>y"}, {"href", ">"}}}}},
	{"duplicate attributes", `<a x=1 X=2 y=3 x=4>`, []tag{{StartTag, "a", [][2]string{{"x", "1"}, {"y", "3"}}}}},
	{"many attributes with repeats", `<a a0 a1 a2 a3 a4 a5 a6 a7 a8 a9 b0 b1 b2 b3 b4 b5 b6 b7 A3=x b1 c0 b0 c0 c1>`, nil},
	{"character references", `<a href="?a=1&amp;b=2&lt&gt;&amp=x&ampx&notit;&notin;&#39;&#x27&#X41;&#0;&#128;&#x110000;&#55296;&nGt;&fjlig;&">`, nil},
	{"character references unquoted", `<a b=&amp;c&#38 d=&quot e=&quot=>`, nil},
	{"numeric references", "<a b='&#;&#x;&#xg;&#65a&#x41g&#9999999999;&#x80&#x81&#x9F&#x8D&#13;'>", nil},
	{"newlines in values", "<a b='x\r\ny\rz\r\r\nw' c=\"\r\" d=\r>", []tag{{StartTag, "a", [][2]string{{"b", "x\ny\nz\n\nw"}, {"c", "\n"}, {"d", ""}}}}},
	{"NUL bytes", "<a\x00b c\x00D='e\x00f&amp;'></A\x00>", []tag{
		{StartTag, "a\ufffdb", [][2]string{{"c\ufffdd", "e\ufffdf&"}}}, {EndTag, "a\ufffd", nil}}},
	{"NUL in key vs U+FFFD", "<a k\x00=1 k\ufffd=2>", nil},
	{"end tag with attributes", `</a b=">" c>`, []tag{{EndTag, "a", nil}}},
	{"end tag self-closing", `</br/>`, []tag{{EndTag, "br", nil}}},
	{"</ not followed by a letter", `</ a><a></3><b></><c></`, []tag{{StartTag, "a", nil}, {StartTag, "b", nil}, {StartTag, "c", nil}}},
	{"< in text", `a < b <3 <<p>`, []tag{{StartTag, "p", nil}}},
	{"comments", `<!--<a>--><!-- -- > <b> --><c><!--x--!><d><!--x--!-><e>-->`, nil},
	{"short comments", `<!--><a><!---><b><!----><c><!-- -><d>--><e>`, nil},
	{"comment --!", `<!-- --!x> <a> --!><b><!----!-!><c>--!><d>`, nil},
	{"bogus comments", `<?xml version="1.0"?><a><!x><b><! ><!><c><!-x><d>`, nil},
	{"doctype", `<!DOCTYPE html><a><!doctype><b><!DOCTYPEhtml x><c>`, nil},
	{"CDATA outside foreign content", `<![CDATA[<a>]]><b>`, nil},
	{"CDATA inside svg", `<svg><![CDATA[<a>]]><b>]]></svg><![CDATA[<c>]]><d>`, []tag{
		{StartTag, "svg", nil}, {StartTag, "b", nil}, {EndTag, "svg", nil}, {StartTag, "d", nil}}},
	{"CDATA in math, nested", `<math><svg></svg><![CDATA[<a>]]]><b></math><![CDATA[x>]]>`, nil},
	{"script", `<script>if (a<b && c</d) x="</scrip"</script><p>`, []tag{{StartTag, "script", nil}, {EndTag, "script", nil}, {StartTag, "p", nil}}},
	{"script end tag case and delimiter", `<script></SCRIPT ><a><script></script/><b><script></scriptx></script>`, nil},
	{"script escaped", `<script><!--<a></script><b>`, nil},
	{"script double escaped", `<script><!--<script></script><a>--></script><b>`, nil},
	{"script double escaped closed", `<script><!--<script>x</script>y</script><a>`, nil},
	{"script escape exits", `<script><!-- x --> </script><a>`, nil},
	{"script escaped less-than", `<script><!--<1</script><a><script><!--<!--<p>--><</script><b>`, nil},
	{"script escape start cut", `<script><!x</script><a><script><!-x</script><b>`, nil},
	{"script double escape start mismatch", `<script><!--<scripX</script><a><script><!--<scripts</script><b>`, nil},
	{"script double escaped end mismatch", `<script><!--<script> </scrip> </scriptx> -<- --<--> </script><a>`, nil},
	{"self-closing script is raw", `<script/><a></script><b>`, nil},
	{"style", `<style>a<b>{}</style ><i>`, nil},
	{"textarea and title", `<textarea><a></textarea><title><b></TITLE><c>`, nil},
	{"raw text elements", `<xmp><a></xmp><iframe><b></iframe><noembed><c></noembed><noframes><d></noframes><noscript><e></noscript><f>`, nil},
	{"raw end tag mismatch", `<style></styl></stylex><</style><a>`, nil},
	{"plaintext", `<plaintext><a></plaintext><b>`, []tag{{StartTag, "plaintext", nil}}},
	{"no raw text in foreign content", `<svg><style><a></style><title/><b></svg><style><c></style>`, []tag{
		{StartTag, "svg", nil}, {StartTag, "style", nil}, {StartTag, "a", nil}, {EndTag, "style", nil},
		{SelfClosingTag, "title", nil}, {StartTag, "b", nil}, {EndTag, "svg", nil}, {StartTag, "style", nil},
		{EndTag, "style", nil}}},
	{"unterminated start tag", `<a><b c="d>`, []tag{{StartTag, "a", nil}}},
	{"unterminated end tag", `<a></b`, []tag{{StartTag, "a", nil}}},
	{"unterminated name", `<a><bcd`, []tag{{StartTag, "a", nil}}},
	{"unterminated unquoted value", `<a><b c=d`, []tag{{StartTag, "a", nil}}},
	{"unterminated after slash", `<a><b /`, []tag{{StartTag, "a", nil}}},
	{"tag ends at the last byte", `<a><b>`, []tag{{StartTag, "a", nil}, {StartTag, "b", nil}}},
	{"unterminated comment", `<a><!-- <b>`, []tag{{StartTag, "a", nil}}},
	{"unterminated script", `<script><!--<script></script><a>`, nil},
	{"empty", ``, nil},
	{"only <", `<`, nil},
	{"only </", `</`, nil},
	{"only <!", `<!`, nil},
	{"only <!-", `<!-`, nil},
	{"markup declaration cut", `<a><!>`, nil},
	{"vertical tab is not space", "<a\vb c\vd=e\vf>", nil},
	{"form feed is space", "<a\fb\fc=d\fe>", nil},
}

func TestTricky(t *testing.T) {
	var s Scanner
	for _, tc := range trickyDocs {
		t.Run(tc.name, func(t *testing.T) {
			requireSameTags(t, &s, []byte(tc.doc))
			if tc.want != nil {
				require.Equal(t, tc.want, scannedTags(&s, []byte(tc.doc)))
			}
		})
	}
}

// TestValueAliasing checks that a tag's names and values stay valid while its other
// attributes are read, as callers collect them before using them.
func TestValueAliasing(t *testing.T) {
	var s Scanner
	s.Reset([]byte(`<IMG SRC="a&amp;b" Alt='C&lt;' title=plain data-x="&#x41;">`))
	require.Equal(t, StartTag, s.Next())
	name := s.TagName()
	var vals [][]byte
	for _, v, ok := s.NextAttr(); ok; _, v, ok = s.NextAttr() {
		vals = append(vals, v)
	}
	require.Equal(t, "img", string(name))
	require.Equal(t, []string{"a&b", "C<", "plain", "A"},
		[]string{string(vals[0]), string(vals[1]), string(vals[2]), string(vals[3])})
}

func TestNoAllocations(t *testing.T) {
	doc := []byte(`<!doctype html><html><head><link rel=stylesheet href="/a.css"><script src=/b.js></script>` +
		`<style>p<b{}</style></head><body><!-- c --><IMG SRC="x&amp;y.png" alt="a\r\nb"><p>text</p></body></html>`)
	var s Scanner
	set := NewTagSet("link", "img", "p")
	walk := func() {
		s.Reset(doc)
		for tt := s.Next(); tt != EOF; tt = s.Next() {
			s.TagName()
			for _, _, ok := s.NextAttr(); ok; _, _, ok = s.NextAttr() {
			}
		}
	}
	walk() // warms the scratch buffer and the character reference cache
	require.Zero(t, testing.AllocsPerRun(100, walk))
	walkOnly := func() {
		s.Reset(doc)
		s.Only(set)
		for tt := s.Next(); tt != EOF; tt = s.Next() {
			s.TagName()
			for _, _, ok := s.NextAttr(); ok; _, _, ok = s.NextAttr() {
			}
		}
	}
	require.Zero(t, testing.AllocsPerRun(100, walkOnly))
}

func TestCorpus(t *testing.T) {
	pages := corpusPages(t)
	var s Scanner
	for _, p := range pages {
		doc, err := os.ReadFile(p)
		require.NoError(t, err)
		requireSameTags(t, &s, doc)
	}
}

// TestCorpusPrefixes cuts the small pages at every byte (pages up to 16 KiB at every 7th), to
// check what is reported of a document that ends inside a tag, comment, script or character
// reference.
func TestCorpusPrefixes(t *testing.T) {
	pages := corpusPages(t)
	var s Scanner
	cuts := 0
	for _, p := range pages {
		doc, err := os.ReadFile(p)
		require.NoError(t, err)
		step := 1
		switch {
		case len(doc) > 16<<10, len(doc) > 4<<10 && testing.Short():
			continue
		case len(doc) > 4<<10:
			step = 7
		}
		for n := 0; n <= len(doc); n += step {
			requireSameTags(t, &s, doc[:n])
			cuts++
		}
	}
	require.Greater(t, cuts, 10000)
}

// soupPieces are the bits of HTML whose combinations the tokenizer states depend on; random
// sequences of them reach states that byte-level fuzzing finds only slowly.
var soupPieces = []string{
	"<", "</", "<!", "<!--", "-->", "--!>", "-", "--", "!", ">", "/>", "/", "?", " ", "\n", "\r",
	"\t", "\f", "\v", "\x00", "=", "'", "\"", "a", "B", "x1", "href", "HREF", "src",
	"<a", "<A", "<svg", "<math", "</svg", "</math", "<![CDATA[", "]]>", "]", "<!DOCTYPE",
	"<script", "</script", "</SCRIPT", "script", "<style", "</style", "<title", "</title",
	"<textarea", "</textarea", "<xmp", "</xmp", "<iframe", "</iframe", "<noscript",
	"</noscript", "<noembed", "<noframes", "<plaintext", "&", "&amp;", "&amp", "&lt", "&#",
	"&#x", "&#39;", "&#x80;", "&#0;", "&notin;", "&notit;", "&nGt;", "&ampx", "&amp=", ";",
	"9", "\u00e9", "\ufffd",
}

func TestRandomSoup(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s Scanner
	var doc []byte
	for range 30000 {
		doc = doc[:0]
		for range 1 + rng.IntN(40) {
			doc = append(doc, soupPieces[rng.IntN(len(soupPieces))]...)
		}
		want := referenceTags(doc)
		if d := diffTags(want, scannedTags(&s, doc)); d != "" {
			t.Fatalf("%s in %q", d, doc)
		}
		names := onlySets[rng.IntN(len(onlySets))]
		if d := diffTags(onlyTags(want, names), scannedTagsOnly(&s, doc, names)); d != "" {
			t.Fatalf("only %v: %s in %q", names, d, doc)
		}
	}
}

// TestCharRefNames checks named references of every shape, each name first unseen and then
// cached, against the Tokenizer.
func TestCharRefNames(t *testing.T) {
	names := []string{"amp", "AMP", "lt", "gt", "quot", "nbsp", "copy", "reg", "hellip", "notin",
		"notit", "not", "nGt", "fjlig", "CounterClockwiseContourIntegral", "ampx", "am", "a", "1",
		"x41", "zzz", strings.Repeat("amp", 40)}
	var s Scanner
	for _, name := range names {
		for _, suffix := range []string{"", ";", "=", ";=", "x", "&", " "} {
			doc := []byte(`<a v="&` + name + suffix + `" w=&` + name + suffix + `>`)
			requireSameTags(t, &s, doc)
			requireSameTags(t, &s, doc)
		}
	}
}

// TestNumericCharRefs checks numeric references to every character of the first planes
// and around the surrogates and the end of Unicode, and ones too large for a rune.
func TestNumericCharRefs(t *testing.T) {
	var s Scanner
	ranges := [][2]int{{0, 0x3000}, {0xd7f0, 0xe010}, {0xfff0, 0x10010}, {0x10fff0, 0x110010}}
	for _, r := range ranges {
		for _, format := range []string{"&#%d;", "&#x%x;", "&#X%X", "&#%d"} {
			doc := []byte(`<a v="`)
			for c := r[0]; c < r[1]; c++ {
				doc = fmt.Appendf(doc, format+" ", c)
			}
			requireSameTags(t, &s, append(doc, `">`...))
		}
	}
	requireSameTags(t, &s, []byte(`<a v="&#x10FFFF0; &#11141110; &#99999999999999999999; &#xFFFFFFFFFFFFFFFFF1;">`))
}

// TestCharRefsConcurrently decodes references from several goroutines, for the race
// detector: the names known to be references are shared.
func TestCharRefsConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s Scanner
			for i := range 200 {
				doc := fmt.Appendf(nil, `<a v="&amp;&x%d_%d;&notin;&nbsp">`, g, i)
				if d := diffTags(referenceTags(doc), scannedTags(&s, doc)); d != "" {
					t.Errorf("%s in %q", d, doc)
				}
			}
		}()
	}
	wg.Wait()
}

// TestAdversarialInputsStayLinear checks documents made to be slow: none may take the
// scanner much longer than it takes the Tokenizer, which is linear. (Quadratic work takes
// a hundred times longer on these; the margin is for the race detector and busy machines.)
func TestAdversarialInputsStayLinear(t *testing.T) {
	var manyAttrs, manyRefs bytes.Buffer
	manyAttrs.WriteString("<a")
	manyRefs.WriteString(`<a v="`)
	for i := range 50000 {
		fmt.Fprintf(&manyAttrs, " k%06d=v", i) // same length and first byte: a bloom filter cannot tell
		fmt.Fprintf(&manyRefs, "&r%d;", i)
	}
	manyAttrs.WriteString(">")
	manyRefs.WriteString(`">`)
	docs := map[string][]byte{
		"many attributes": manyAttrs.Bytes(),
		"many names":      manyRefs.Bytes(),
		"dashes and >":    []byte("<!--" + strings.Repeat("-", 50000) + "x" + strings.Repeat(">", 50000)),
		"script states":   []byte("<script>" + strings.Repeat("<!--<script></scrip", 20000)),
		"raw end tags":    []byte("<title>" + strings.Repeat("</titl</title", 20000)),
	}
	var s Scanner
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			require.Empty(t, diffTags(referenceTags(doc), scannedTags(&s, doc)))
			reference := fastest(func() { referenceTags(doc) })
			scanned := fastest(func() { scannedTags(&s, doc) })
			require.Less(t, scanned, 10*reference+100*time.Millisecond)
		})
	}
}

// TestSmallScope runs every sequence of a few pieces through both tokenizers, in the places
// where the Tokenizer has many states: script data, comments, raw text, tags and character
// references. Random documents reach a given sequence of five pieces only by luck.
func TestSmallScope(t *testing.T) {
	scopes := []struct {
		name           string
		prefix, suffix string
		pieces         []string
		maxLen         int
	}{
		{"script", "<script>", "</script><a></script><b>",
			[]string{"<!--", "-->", "<script ", "<script", "</script ", "</script", ">", "-", "<", "/", "!", "x"}, 5},
		{"comment", "<!--", "--><a>--!><b>", []string{"-", "!", ">", "x", "<c>", "--"}, 6},
		{"raw text", "<title>", "<a></title><b>", []string{"</", "title", "TITLE", "</title", ">", " ", "/", "<"}, 5},
		{"tag", "<x", "<a>", []string{"a", "=", "'", "\"", "/", " ", ">", "A"}, 6},
		{"character reference", "<a v='", "'>", []string{"&", "#", "x", "1", "a", "F", ";", "=", "amp", "lt", "\r", "\x00"}, 4},
		{"markup declaration", "<svg>", "<a></svg><b>", []string{"<!", "[CDATA[", "]]", ">", "DOCTYPE", "--", "-", "</svg>", "<svg>"}, 5},
	}
	var s Scanner
	for _, sc := range scopes {
		if testing.Short() {
			sc.maxLen--
		}
		t.Run(sc.name, func(t *testing.T) {
			var doc []byte
			var walk func(depth int)
			walk = func(depth int) {
				full := append(doc[:len(doc):len(doc)], sc.suffix...)
				if d := diffTags(referenceTags(full), scannedTags(&s, full)); d != "" {
					t.Fatalf("%s in %q", d, full)
				}
				if depth == sc.maxLen {
					return
				}
				for _, p := range sc.pieces {
					n := len(doc)
					doc = append(doc, p...)
					walk(depth + 1)
					doc = doc[:n]
				}
			}
			doc = append(doc, sc.prefix...)
			walk(0)
		})
	}
}

// fastest returns the shortest of three runs of f: the one least disturbed by the machine.
func fastest(f func()) time.Duration {
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		f()
		best = min(best, time.Since(start))
	}
	return best
}

func corpusPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(corpusDir, "*.html"))
	require.NoError(t, err)
	if len(pages) == 0 {
		t.Skip("no corpus at " + corpusDir)
	}
	return pages
}

func FuzzScan(f *testing.F) {
	f.Add([]byte(`<a href="x&amp;y" b=c/><script><!--<script></script>--></script><svg><![CDATA[<p>]]></svg>`))
	var s Scanner
	f.Fuzz(func(t *testing.T, doc []byte) {
		before := bytes.Clone(doc)
		want := referenceTags(doc)
		if d := diffTags(want, scannedTags(&s, doc)); d != "" {
			t.Fatalf("%s in %q", d, doc)
		}
		for _, names := range onlySets {
			if d := diffTags(onlyTags(want, names), scannedTagsOnly(&s, doc, names)); d != "" {
				t.Fatalf("only %v: %s in %q", names, d, doc)
			}
		}
		if !bytes.Equal(before, doc) {
			t.Fatal("the scanner modified the document")
		}
	})
}

// extendDocs are documents with cuts where the Tokenizer's state is hardest to resume:
// inside tags, quoted values, comments, CDATA sections, raw text and script escapes, and
// right after a tag that changes how the next bytes are read.
var extendDocs = []struct {
	name string
	doc  string
	cuts []string // each cut is after the first occurrence of its string after the previous cut
}{
	{"inside a name", `<a><blockquote x=1>`, []string{"<bl"}},
	{"inside a quoted value holding >", `<a title="x>y" href=z><b>`, []string{`"x>`, "y"}},
	{"inside an unquoted value", `<a href=abc><b>`, []string{"ab"}},
	{"before the self-closing slash", `<br/><a href=x/><c/>`, []string{"<br", "x", "<c"}},
	{"after a tag", `<a><b><c>`, []string{"<a>", "<b>"}},
	{"inside a comment", `<a><!-- <b> -- > --><c>`, []string{"<!-", "<b", "--", "> "}},
	{"inside a markup declaration", `<!DOCTYPE html><a><!x><b>`, []string{"<!", "DOC", "<!x"}},
	{"inside CDATA in svg", `<svg><![CDATA[<a>]]><b></svg><![CDATA[<c>]]><d>`, []string{"<![CD", "<a", "]]", "</svg>", "<![CDATA["}},
	{"inside a script", `<script>if (a<b) x="</scrip"</script><p>`, []string{"<script>", "a<", "</scr", "</script"}},
	{"inside an escaped script", `<script><!--<script></script><a>--></script><b>`, []string{"<!-", "-<scr", "</script>", "--", "</script"}},
	{"after a raw text start tag", `<title><a></title><b><style>x</style><c>`, []string{"<title>", "<style>", "x</st"}},
	{"raw text in svg is markup", `<svg><style><a></style></svg><style><b></style><c>`, []string{"<style>", "</svg>", "<style>"}},
	{"plaintext", `<plaintext><a></plaintext>`, []string{"<plaintext>", "<a"}},
	{"inside a character reference", `<a href="?a=1&amp;b=&notin;&#x41;">`, []string{"&am", "&not", "&#x"}},
	{"at < and </", `x < y </ z><a></b>`, []string{"x <", "</", "<a>", "</"}},
	{"no growth", `<a><b`, []string{"<a", "", "<b", ""}}, // "": the same cut again
}

// TestExtend scans extendDocs in pieces, cut where each says.
func TestExtend(t *testing.T) {
	var s Scanner
	for _, tc := range extendDocs {
		t.Run(tc.name, func(t *testing.T) {
			doc := []byte(tc.doc)
			var cuts []int
			from := 0
			for _, c := range tc.cuts {
				i := strings.Index(tc.doc[from:], c)
				require.GreaterOrEqual(t, i, 0, "no %q after %d", c, from)
				from += i + len(c)
				cuts = append(cuts, from)
			}
			want := referenceTags(doc)
			require.Empty(t, diffTags(want, scannedTagsInPieces(&s, doc, cuts, nil)), "cut at %v", cuts)
			for _, names := range onlySets { // cut after tags that Next skips, some of them raw text
				require.Empty(t, diffTags(onlyTags(want, names), scannedTagsInPieces(&s, doc, cuts, names)), "only %v, cut at %v", names, cuts)
			}
			require.NotEmpty(t, want)
		})
	}
}

// TestExtendOffset checks that Offset is where the scan resumes: after the last tag reported,
// not at the old end of the document.
func TestExtendOffset(t *testing.T) {
	doc := []byte(`<a href=x><!-- <b> --><c>`)
	var s Scanner
	s.Reset(doc[:12])
	require.Zero(t, s.Offset())
	require.Equal(t, StartTag, s.Next())
	require.Equal(t, "a", string(s.TagName()))
	require.Equal(t, EOF, s.Next())
	require.Equal(t, len(`<a href=x>`), s.Offset())
	s.Extend(doc)
	require.Equal(t, StartTag, s.Next())
	require.Equal(t, "c", string(s.TagName()))
	require.Equal(t, len(doc), s.Offset())
	require.Equal(t, EOF, s.Next())
}

// TestExtendCorpus scans the corpus in pieces: growing by half (as a caller bounding its
// work does), by fixed blocks, at random points, and the small pages a byte at a time.
func TestExtendCorpus(t *testing.T) {
	pages := corpusPages(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var s Scanner
	oneByte := 0
	for _, p := range pages {
		doc, err := os.ReadFile(p)
		require.NoError(t, err)
		want := referenceTags(doc)
		patterns := map[string][]int{}
		for n := 64; n < len(doc); n += n / 2 {
			patterns["growing by half"] = append(patterns["growing by half"], n)
		}
		for n := 4096; n < len(doc); n += 4096 {
			patterns["4 KiB writes"] = append(patterns["4 KiB writes"], n)
		}
		for n := rng.IntN(512); n < len(doc); n += 1 + rng.IntN(2048) {
			patterns["random writes"] = append(patterns["random writes"], n)
		}
		if len(doc) <= 16<<10 && (oneByte < 2 || !testing.Short() && oneByte < 6) {
			oneByte++
			patterns["one byte at a time"] = make([]int, len(doc))
			for n := range patterns["one byte at a time"] {
				patterns["one byte at a time"][n] = n
			}
		}
		for name, cuts := range patterns {
			require.Empty(t, diffTags(want, scannedTagsInPieces(&s, doc, cuts, nil)), "%s, %s", p, name)
			names := onlySets[0]
			require.Empty(t, diffTags(onlyTags(want, names), scannedTagsInPieces(&s, doc, cuts, names)), "%s, %s, only %v", p, name, names)
		}
	}
	require.Positive(t, oneByte)
}

func FuzzExtend(f *testing.F) {
	f.Add([]byte(`<a href="x&amp;y" b=c/><script><!--<script></script>--></script><svg><![CDATA[<p>]]></svg>`), uint16(7), uint16(30), uint16(31))
	f.Add([]byte(`<title><a></title><b><!-- <c> --><d e='>'>`), uint16(7), uint16(9), uint16(40))
	var s Scanner
	f.Fuzz(func(t *testing.T, doc []byte, a, b, c uint16) {
		cuts := []int{int(a), int(b), int(c)}
		for i := range cuts {
			cuts[i] = min(cuts[i], len(doc))
		}
		slices.Sort(cuts)
		if d := diffTags(scannedTags(&s, doc), scannedTagsInPieces(&s, doc, cuts, nil)); d != "" {
			t.Fatalf("%s in %q cut at %v", d, doc, cuts)
		}
		for _, names := range onlySets {
			if d := diffTags(scannedTagsOnly(&s, doc, names), scannedTagsInPieces(&s, doc, cuts, names)); d != "" {
				t.Fatalf("only %v: %s in %q cut at %v", names, d, doc, cuts)
			}
		}
		for _, names := range append([][]string{nil}, onlySets...) {
			want, extendOffsets := scanInPieces(&s, doc, cuts, names, false)
			got, offsets := scanInPieces(&s, doc, cuts, names, true)
			if d := diffTags(want, got); d != "" {
				t.Fatalf("rebasing, only %v: %s in %q cut at %v", names, d, doc, cuts)
			}
			if !slices.Equal(extendOffsets, offsets) {
				t.Fatalf("rebasing, only %v: offsets %v, extending %v, in %q cut at %v", names, offsets, extendOffsets, doc, cuts)
			}
		}
		if d := diffTags(referenceTags(doc), scannedTags(&s, doc)); d != "" {
			t.Fatalf("%s in %q", d, doc)
		}
	})
}

// TestOnly checks what Only skips on a small document: tags not in the set, start and end,
// but not the raw text a skipped element holds; nil reports every tag again.
func TestOnly(t *testing.T) {
	doc := []byte(`<div><A href=x>a</a><title><a href=y></title><p/><b>b</b><a href=z>`)
	var s Scanner
	s.Reset(doc)
	s.Only(NewTagSet("a", "p"))
	var got []string
	for tt := s.Next(); tt != EOF; tt = s.Next() {
		name := string(s.TagName())
		for k, v, ok := s.NextAttr(); ok; k, v, ok = s.NextAttr() {
			name += " " + string(k) + "=" + string(v)
		}
		got = append(got, tt.String()+" "+name)
		if name == "p" {
			s.Only(nil)
		}
	}
	require.Equal(t, []string{"StartTag a href=x", "EndTag a", "SelfClosingTag p", "StartTag b", "EndTag b", "StartTag a href=z"}, got)
}

func TestNewTagSet(t *testing.T) {
	set := NewTagSet("a", "foreignobject", "h1", "x-y")
	for name, want := range map[string]bool{"a": true, "A": true, "foreignObject": true, "h1": true, "x-y": true,
		"b": false, "ab": false, "foreign": false, "h2": false, "a\x00": false} {
		require.Equal(t, want, set.has([]byte(name)), name)
	}
	for _, bad := range []string{"", "A", "1a", "a b", "a\x00", "\u00e9", strings.Repeat("a", 32)} {
		require.Panics(t, func() { NewTagSet(bad) }, "%q", bad)
	}
}
