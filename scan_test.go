package netjet

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet/internal/htmlscan"
)

// The middleware finds tags with htmlscan; x/net/html's tokenizer is the reference. These
// tests hold the two to the very same links, with every cap off so that nothing hides a
// difference.

func linksBoth(doc []byte, docURL string) (reference, fast []Link) {
	ref := newCollector(allKinds, -1, -1, docURL)
	ref.extract(doc)
	fastC := newCollector(allKinds, -1, -1, docURL)
	fastC.scan(new(htmlscan.Scanner), doc)
	return ref.links(), fastC.links()
}

func TestScannerFindsTheReferenceLinksOnTheCorpus(t *testing.T) {
	for _, page := range corpusPages(t) {
		doc := readCorpusPage(t, page)
		reference, fast := linksBoth(doc, "/page")
		require.Equal(t, reference, fast, page)
		// Cut short, as a body past MaxBufferBytes is.
		for _, n := range []int{len(doc) / 3, len(doc) / 2, len(doc) - 1} {
			reference, fast := linksBoth(doc[:n], "/page")
			require.Equal(t, reference, fast, "%s cut at %d", page, n)
		}
	}
}

func TestScannerFindsTheReferenceLinksOnTrickyDocuments(t *testing.T) {
	for _, doc := range []string{
		`<svg><style><!--</style><img src=/a.png>--></style></svg><img src=/b.png>`,
		`<svg><title><link rel=stylesheet href=/in-svg.css></title></svg><link rel=stylesheet href=/out.css>`,
		`<math><mi><img src=/mi.png></mi></math><script src=/after.js></script>`,
		`<svg><![CDATA[</svg><img src=/cdata.png>]]></svg><img src=/real.png>`,
		`<![CDATA[<img src=/comment.png>]]><img src=/real.png>`,
		`<template><svg><img src=/t.png></svg></template><img src=/x.png>`,
		`<script><!--<script></script><img src=/escaped.png>--></script><img src=/real.png>`,
		`<noscript><img src=/ns.png></noscript><plaintext><img src=/pt.png>`,
		`<IMG SRC="/a&amp;b.png" src=/dup.png><img src="/cut.pn`,
		// The scanner skips the tags that cannot matter; these are the ones that close or open
		// what is open, after which an <img> matters again, or which make <style> markup.
		`<math><mtext><img src=/in-mtext.png></mtext><img src=/after-mtext.png></math>`,
		`<math><mi></mi><mo></mo><mn></mn><ms></ms><img src=/after-mi.png></math>`,
		`<svg><desc></desc><foreignObject></foreignObject><title></title><img src=/after-desc.png>`,
		`<template><template></template><img src=/t.png></template><img src=/after-template.png>`,
		`<svg><foreignObject><math></math><svg></svg></foreignObject><img src=/after-fo.png></svg>`,
		`<template><svg><style></template><img src=/style-is-markup.png>`,
		`<svg><desc><math><style></desc></svg><img src=/style-is-markup.png>`,
		`<picture><source srcset=/s.png><img src=/p.png></picture><img src=/after-picture.png>`,
	} {
		reference, fast := linksBoth([]byte(doc), "/")
		require.Equal(t, reference, fast, doc)
	}
}

func FuzzScannerFindsTheReferenceLinks(f *testing.F) {
	for _, seed := range []string{
		`<link rel=stylesheet href=/a.css><script src=/b.js></script><img src=/c.png>`,
		`<svg><style><!--</style><img src=/a.png>--></style></svg>`,
		`<base href=/x/><template><img src=t.png></template><img src="a b.png" srcset="a.png 1x, b.png 2x">`,
		`<script type=module src=/m.js crossorigin=use-credentials></script><link rel=preload as=font href=/f.woff2>`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		reference, fast := linksBoth(doc, "/dir/page")
		if len(reference) != len(fast) {
			t.Fatalf("reference found %d links, the scanner %d:\n%v\n%v", len(reference), len(fast), reference, fast)
		}
		for i := range reference {
			if reference[i] != fast[i] {
				t.Fatalf("link %d differs:\nreference %v\nscanner   %v", i, reference[i], fast[i])
			}
		}
	})
}
