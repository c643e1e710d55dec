package htmlscan

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// BenchmarkScan and BenchmarkXNetTokenizer do the full work of a tag walk on both sides:
// every tag's name, every attribute of every start tag, and the CDATA rule of foreign
// content. BenchmarkSpeedup also measures the walk of parser.go's reference loop, which
// reads the attributes of the tags its lookupTag knows, and a walk that reads those of the
// elements with URLs to preload only, in which the scanner skips the other tags (outside
// foreign content) as the middleware has it do.

// attrFilter says whose attributes a walk reads.
type attrFilter func(name []byte) bool

// preloadSet is what the scanner's walk with preloadTag gives Scanner.Only, as the
// middleware does: the elements with URLs to preload, and svg and math, inside which the
// walk widens it to every tag to follow foreign content.
var preloadSet = NewTagSet("link", "script", "img", "image", "base", "source", "svg", "math")

// tagSets are the sets walks give Scanner.Only, by filter: with no set, every tag is reported.
var tagSets = map[string]*TagSet{"preload-tags": preloadSet}

func everyTag([]byte) bool { return true }

// extractTag reports whether parser.go's lookupTag knows the tag, so that its reference loop
// reads the tag's attributes.
func extractTag(name []byte) bool {
	switch string(name) {
	case "link", "script", "img", "image", "base", "picture", "source", "template", "svg", "math",
		"b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt",
		"em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "li", "listing",
		"menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong",
		"strike", "sub", "sup", "table", "tt", "u", "ul", "var":
		return true
	}
	return false
}

func preloadTag(name []byte) bool {
	switch string(name) {
	case "link", "script", "img", "image", "base", "source":
		return true
	}
	return false
}

// walkScanner walks doc's tags with s and returns how many attributes it read. With a set,
// the scanner skips the tags not in it outside foreign content.
func walkScanner(s *Scanner, doc []byte, attrsOf attrFilter, set *TagSet) int {
	n, foreign := 0, 0
	s.Reset(doc)
	s.Only(set)
	for tt := s.Next(); tt != EOF; tt = s.Next() {
		name := s.TagName()
		if tt != EndTag && attrsOf(name) {
			for _, _, ok := s.NextAttr(); ok; _, _, ok = s.NextAttr() {
				n++
			}
		}
		foreign = updateForeign(foreign, tt == StartTag, tt == EndTag, name)
		s.AllowCDATA(foreign > 0)
		if foreign > 0 {
			s.Only(nil)
		} else {
			s.Only(set)
		}
	}
	return n
}

// walkTokenizer walks doc's tags with x/net/html's Tokenizer as the reference extraction does.
func walkTokenizer(doc []byte, attrsOf attrFilter) int {
	n, foreign := 0, 0
	z := html.NewTokenizer(bytes.NewReader(doc))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return n
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, more := z.TagName()
			if !attrsOf(name) {
				more = false
			}
			for more {
				_, _, more = z.TagAttr()
				n++
			}
			foreign = updateForeign(foreign, tt == html.StartTagToken, tt == html.EndTagToken, name)
		}
		z.AllowCDATA(foreign > 0)
	}
}

func updateForeign(depth int, start, end bool, name []byte) int {
	if string(name) != "svg" && string(name) != "math" {
		return depth
	}
	switch {
	case start:
		return depth + 1
	case end && depth > 0:
		return depth - 1
	}
	return depth
}

// benchDocs returns the median corpus page and the whole corpus.
func benchDocs(b *testing.B) map[string][][]byte {
	docs := benchDocsFor()
	if docs == nil {
		b.Skip("no corpus at " + corpusDir)
	}
	return docs
}

func benchDocsFor() map[string][][]byte {
	pages, _ := filepath.Glob(filepath.Join(corpusDir, "*.html"))
	if len(pages) == 0 {
		return nil
	}
	docs := map[string][][]byte{}
	for _, p := range pages {
		doc, err := os.ReadFile(p)
		if err != nil {
			panic(err)
		}
		docs["corpus"] = append(docs["corpus"], doc)
		if filepath.Base(p) == "iab-1.html" {
			docs["median"] = [][]byte{doc}
		}
	}
	return docs
}

func totalSize(docs [][]byte) int64 {
	var n int64
	for _, d := range docs {
		n += int64(len(d))
	}
	return n
}

var benchSets = []string{"median", "corpus"}

// BenchmarkScan measures the scanner alone, reading every tag's attributes or those of the
// elements with URLs to preload only.
func BenchmarkScan(b *testing.B) {
	all := benchDocs(b)
	for _, set := range benchSets {
		docs := all[set]
		for _, f := range []struct {
			name    string
			attrsOf attrFilter
		}{{"every-attribute", everyTag}, {"preload-tags", preloadTag}} {
			b.Run(set+"/"+f.name, func(b *testing.B) {
				var s Scanner
				b.SetBytes(totalSize(docs))
				b.ReportAllocs()
				for b.Loop() {
					for _, d := range docs {
						walkScanner(&s, d, f.attrsOf, tagSets[f.name])
					}
				}
			})
		}
	}
}

func BenchmarkXNetTokenizer(b *testing.B) {
	all := benchDocs(b)
	for _, set := range benchSets {
		docs := all[set]
		b.Run(set, func(b *testing.B) {
			b.SetBytes(totalSize(docs))
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range docs {
					walkTokenizer(d, everyTag)
				}
			}
		})
	}
}

// BenchmarkSpeedup runs both in one benchmark, alternately, and reports how many times
// faster the scanner is, so that the ratio comes from one run on one machine state. It
// compares the median times of a walk, which a busy machine's interruptions move less than
// the totals: an interruption weighs more on a short walk than on a long one.
func BenchmarkSpeedup(b *testing.B) {
	all := benchDocs(b)
	filters := []struct {
		name    string
		attrsOf attrFilter
	}{{"every-attribute", everyTag}, {"extract-loop", extractTag}, {"preload-tags", preloadTag}}
	for _, set := range benchSets {
		docs := all[set]
		for _, f := range filters {
			b.Run(set+"/"+f.name, func(b *testing.B) {
				var s Scanner
				var scan, tokenize []time.Duration
				for b.Loop() {
					start := time.Now()
					for _, d := range docs {
						walkScanner(&s, d, f.attrsOf, tagSets[f.name])
					}
					mid := time.Now()
					for _, d := range docs {
						walkTokenizer(d, f.attrsOf)
					}
					scan = append(scan, mid.Sub(start))
					tokenize = append(tokenize, time.Since(mid))
				}
				scanTime, tokenizeTime := median(scan), median(tokenize)
				mb := float64(totalSize(docs)) / 1e6
				b.ReportMetric(float64(tokenizeTime)/float64(scanTime), "x-speedup")
				b.ReportMetric(mb/scanTime.Seconds(), "scan-MB/s")
				b.ReportMetric(mb/tokenizeTime.Seconds(), "xnet-MB/s")
			})
		}
	}
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// TestBenchmarkWalksAgree checks that the walks BenchmarkSpeedup compares do the same work:
// they read the same number of attributes of every page.
func TestBenchmarkWalksAgree(t *testing.T) {
	docs := benchDocsFor()
	if docs == nil {
		t.Skip("no corpus at " + corpusDir)
	}
	var s Scanner
	for _, f := range []struct {
		name    string
		attrsOf attrFilter
	}{{"every-attribute", everyTag}, {"extract-loop", extractTag}, {"preload-tags", preloadTag}} {
		total := 0
		for _, d := range docs["corpus"] {
			n := walkTokenizer(d, f.attrsOf)
			require.Equal(t, n, walkScanner(&s, d, f.attrsOf, tagSets[f.name]), f.name)
			total += n
		}
		require.Positive(t, total, f.name)
	}
}
