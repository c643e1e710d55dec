package htmlscan

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRebaseOffset checks what Rebase does to the current tag and to Offset: the tag is
// dropped, and indexes start again at the kept bytes.
func TestRebaseOffset(t *testing.T) {
	doc := []byte(`<a href=x><!-- <b> --><c d=e>`)
	const a = len(`<a href=x>`)
	var s Scanner
	s.Reset(doc[:12])
	require.Equal(t, StartTag, s.Next())
	require.Equal(t, a, s.Offset())
	s.Rebase(doc[a:12])
	require.Nil(t, s.TagName())
	_, _, ok := s.NextAttr()
	require.False(t, ok)
	require.Zero(t, s.Offset())
	require.Equal(t, EOF, s.Next())
	require.Zero(t, s.Offset(), "no tag ended: the comment cut off is kept")

	kept := []byte(string(doc[a:])) // a buffer of its own, as a caller's would be
	s.Rebase(kept)
	require.Equal(t, StartTag, s.Next())
	require.Equal(t, "c", string(s.TagName()))
	key, val, ok := s.NextAttr()
	require.True(t, ok)
	require.Equal(t, "d=e", string(key)+"="+string(val))
	require.Equal(t, len(kept), s.Offset())
	require.Equal(t, EOF, s.Next())

	s.Rebase(nil) // nothing kept, nothing new
	require.Equal(t, EOF, s.Next())
	require.Zero(t, s.Offset())
}

// rebaseCuts returns the ways the tests cut doc into pieces for Rebase: a byte at a time
// and at random points, small and large.
func rebaseCuts(doc []byte, rng *rand.Rand) map[string][]int {
	patterns := map[string][]int{"whole": nil}
	for n := range len(doc) {
		patterns["one byte at a time"] = append(patterns["one byte at a time"], n)
	}
	for _, most := range []int{4, 16} {
		name := fmt.Sprintf("random pieces of up to %d bytes", most)
		for n := rng.IntN(most); n < len(doc); n += 1 + rng.IntN(most) {
			patterns[name] = append(patterns[name], n)
		}
	}
	return patterns
}

// requireSameWhenRebasing checks that scanning doc in the pieces cuts gives, with Rebase,
// the tags the Tokenizer finds in the whole document, and the Offsets Extend gives, with
// every tag reported and with each of onlySets.
func requireSameWhenRebasing(t *testing.T, s *Scanner, doc []byte, cuts []int, what string) {
	t.Helper()
	want := referenceTags(doc)
	for _, names := range append([][]string{nil}, onlySets...) {
		w := want
		if names != nil {
			w = onlyTags(want, names)
		}
		got, offsets := scanInPieces(s, doc, cuts, names, true)
		require.Empty(t, diffTags(w, got), "%s, only %v, cut at %v in %q", what, names, cuts, doc)
		_, extendOffsets := scanInPieces(s, doc, cuts, names, false)
		require.Equal(t, extendOffsets, offsets, "%s, only %v, cut at %v in %q", what, names, cuts, doc)
	}
}

// TestRebase scans the tricky documents, and those cut where resuming is hardest, in
// pieces, keeping only the bytes from Offset on.
func TestRebase(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var s Scanner
	var docs []string
	for _, tc := range trickyDocs {
		docs = append(docs, tc.doc)
	}
	for _, tc := range extendDocs {
		docs = append(docs, tc.doc)
		var cuts []int
		from := 0
		for _, c := range tc.cuts {
			from += strings.Index(tc.doc[from:], c) + len(c)
			cuts = append(cuts, from)
		}
		requireSameWhenRebasing(t, &s, []byte(tc.doc), cuts, tc.name)
	}
	for _, doc := range docs {
		for name, cuts := range rebaseCuts([]byte(doc), rng) {
			requireSameWhenRebasing(t, &s, []byte(doc), cuts, name)
		}
	}
}

// TestRebaseCorpus scans the corpus in random pieces, keeping only the bytes from Offset
// on, as a caller scanning a page while it passes does, and the small pages a byte at a
// time.
func TestRebaseCorpus(t *testing.T) {
	pages := corpusPages(t)
	rng := rand.New(rand.NewPCG(9, 10))
	var s Scanner
	oneByte, maxKept := 0, 0
	for _, p := range pages {
		doc, err := os.ReadFile(p)
		require.NoError(t, err)
		want := referenceTags(doc)
		patterns := map[string][]int{}
		// Every piece reads again what is kept, which small pieces make quadratic on the
		// pages with long scripts: those get only the large pieces.
		if len(doc) <= 64<<10 {
			for n := rng.IntN(64); n < len(doc); n += 1 + rng.IntN(64) {
				patterns["random small pieces"] = append(patterns["random small pieces"], n)
			}
		}
		for n := rng.IntN(4096); n < len(doc); n += 1 + rng.IntN(8192) {
			patterns["random large pieces"] = append(patterns["random large pieces"], n)
		}
		if len(doc) <= 16<<10 && oneByte < 2 {
			oneByte++
			for n := range len(doc) {
				patterns["one byte at a time"] = append(patterns["one byte at a time"], n)
			}
		}
		for name, cuts := range patterns {
			got, offsets := scanInPieces(&s, doc, cuts, nil, true)
			require.Empty(t, diffTags(want, got), "%s, %s", p, name)
			names := onlySets[1] // with raw text elements that Next skips
			got, _ = scanInPieces(&s, doc, cuts, names, true)
			require.Empty(t, diffTags(onlyTags(want, names), got), "%s, %s, only %v", p, name, names)
			for i, off := range offsets[:len(cuts)] {
				maxKept = max(maxKept, cuts[i]-off)
			}
		}
	}
	require.Positive(t, oneByte)
	t.Logf("the most bytes kept after a piece: %d", maxKept)
}
