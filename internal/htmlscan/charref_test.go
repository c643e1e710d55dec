package htmlscan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLongUnknownRefsLeaveNoMemory scans pages that each hold one long made-up reference, as
// an attacker would send them, and checks that the heap does not keep them once the
// scanners are gone.
func TestLongUnknownRefsLeaveNoMemory(t *testing.T) {
	const pages, nameLen = 100, 256 << 10
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	scan := func(page int) {
		doc := make([]byte, 0, nameLen+64)
		doc = fmt.Appendf(doc, `<img alt="&%d`, page)
		for len(doc) < nameLen {
			doc = append(doc, 'a')
		}
		doc = append(doc, `;">`...)
		var s Scanner
		s.Reset(doc)
		require.Equal(t, StartTag, s.Next())
		_, val, ok := s.NextAttr()
		require.True(t, ok)
		require.Equal(t, doc[len(`<img alt="`):len(doc)-2], val)
	}
	scan(-1) // whatever a first scan sets up once
	start := heap()
	for page := range pages {
		scan(page)
	}
	end := heap()
	var grown uint64
	if end > start {
		grown = end - start
	}
	// The pages hold 25 MiB of names; keeping them is what this guards against.
	require.Less(t, grown, uint64(2<<20), "the heap grew by %d bytes", grown)
}

// refNameEndings are what may follow a name in an attribute value: nothing, ';', '=' (which
// keeps a name without ';' from being decoded), letters and digits (which the name then
// takes in: no prefix of it is decoded), and the other bytes, which end it.
var refNameEndings = []string{"", ";", "=", ";=", "x", "9", ";x", "&", " ", "#", "\u00e9"}

// TestCharRefNameLengths checks against the Tokenizer names of every length from 1 to well
// past the longest reference, known names and names made longer by one byte, so that the
// length beyond which the scanner answers without asking the Tokenizer is checked on both
// sides.
func TestCharRefNameLengths(t *testing.T) {
	bases := []string{
		"CounterClockwiseContourIntegral", // the longest name, 32 bytes with its ';'
		"ClockwiseContourIntegral", "DoubleLongLeftRightArrow", "NotSquareSupersetEqual", "amp", "AMP",
		"notin", "nGt", "frac34", "middot", "zzzzzzzzzz",
	}
	var names []string
	for _, b := range bases {
		for n := 1; n <= len(b); n++ {
			names = append(names, b[:n])
		}
		names = append(names, b+"x", b+"1", strings.Repeat(b, 3))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for n := 1; n <= 2*maxRefName+2; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = alnum[rng.IntN(len(alnum))]
		}
		names = append(names, string(b))
	}
	var s Scanner
	for _, name := range names {
		var doc bytes.Buffer
		for _, end := range refNameEndings {
			fmt.Fprintf(&doc, `<a v="&%s%s" w='x&%s%s' u=&%s%s>`, name, end, name, end, name, end)
		}
		requireSameTags(t, &s, doc.Bytes())
	}
}

// TestLongestRefName checks the bound namedRef relies on: the longest name the Tokenizer
// decodes in an attribute value is maxRefName bytes long with its ';', and a letter more
// makes it no reference at all.
func TestLongestRefName(t *testing.T) {
	name := "CounterClockwiseContourIntegral;"
	require.Len(t, name, maxRefName)
	var s Scanner
	for _, tc := range []struct{ value, want string }{
		{"&" + name, "\u2233"},
		{"&" + name[:len(name)-1] + "x;", "&" + name[:len(name)-1] + "x;"},
		{"&amp" + strings.Repeat("p", maxRefName) + ";", "&amp" + strings.Repeat("p", maxRefName) + ";"},
	} {
		doc := []byte(`<a v="` + tc.value + `">`)
		require.Equal(t, []tag{{StartTag, "a", [][2]string{{"v", tc.want}}}}, referenceTags(doc))
		requireSameTags(t, &s, doc)
	}
}

// TestUnknownRefsNotKeptProcessWide scans pages full of names that are no references, long
// and short, each with a Scanner of its own: nothing of them may stay behind in what the
// process keeps, which a stream of such pages would otherwise fill.
func TestUnknownRefsNotKeptProcessWide(t *testing.T) {
	before := knownRefCount()
	for page := range 50 {
		var doc bytes.Buffer
		doc.WriteString(`<img alt="`)
		for i := range 200 {
			fmt.Fprintf(&doc, "&q%dx%d; &zz%d_%d", page, i, page, i) // at most 12 bytes each
		}
		fmt.Fprintf(&doc, "&%s%d;\">", strings.Repeat("a", 40), page)
		var s Scanner
		require.Empty(t, diffTags(referenceTags(doc.Bytes()), scannedTags(&s, doc.Bytes())))
	}
	require.Equal(t, before, knownRefCount(), "names that are no references were kept")

	// The names that are references are kept, each once, whatever the case of ';' and '='.
	var s Scanner
	doc := []byte(`<a v="&amp;&lt;&lt&notin;&nGt;&AMP;&amp=" w="&amp;&lt;&notin;">`)
	require.Empty(t, diffTags(referenceTags(doc), scannedTags(&s, doc)))
	require.LessOrEqual(t, knownRefCount(), before+6)
	require.LessOrEqual(t, knownRefCount(), maxKnownRefs)
}

// BenchmarkHostileRefsParallel scans, on every goroutine at once, pages made of names that
// are no references, all different, which each Scanner must ask the Tokenizer about. Run
// with -cpu 1,2,...: when the time per page does not fall as goroutines are added, the
// scanners wait on each other.
func BenchmarkHostileRefsParallel(b *testing.B) {
	pages := make([][]byte, 16)
	size := 0
	for p := range pages {
		doc := []byte(`<img alt="`)
		for i := range 1000 {
			doc = fmt.Appendf(doc, "&n%dp%d;", i, p)
		}
		pages[p] = append(doc, `">`...)
		size += len(pages[p])
	}
	b.SetBytes(int64(size / len(pages)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var s Scanner
		for p := 0; pb.Next(); p++ {
			s.Reset(pages[p%len(pages)])
			for tt := s.Next(); tt != EOF; tt = s.Next() {
				for _, _, ok := s.NextAttr(); ok; _, _, ok = s.NextAttr() {
				}
			}
		}
	})
}
