package netjet

import (
	"bytes"

	"golang.org/x/net/html"
)

// extract runs the reference tokenizer, golang.org/x/net/html's, over doc.
func (c *collector) extract(doc []byte) {
	z := html.NewTokenizer(bytes.NewReader(doc))
	var e element
	for !c.done() {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			if c.inForeignContent() {
				z.NextIsNotRawText() // an SVG <style> or <title> holds markup, which may end the <svg>
			}
			name, more := z.TagName()
			c.headStart(name)
			tag := lookupTag(name)
			if tag == tagOther {
				continue
			}
			e = element{}
			for more {
				var k, v []byte
				k, v, more = z.TagAttr()
				if id, ok := attrIDs[string(k)]; ok {
					e.set(id, v)
				}
			}
			c.start(tag, &e, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.headEnd(name)
			c.end(lookupTag(name))
		}
		// CDATA sections exist only in SVG and MathML; elsewhere <![CDATA[ is a comment.
		z.AllowCDATA(len(c.open) > 0 && !c.inTemplate())
	}
}
