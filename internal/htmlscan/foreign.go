package htmlscan

// NextIsNotRawText tells the scanner that the start tag just returned opens no raw text, as
// the Tokenizer's method of the same name does: in SVG and MathML content, <style>, <title>
// and <script> hold markup.
func (s *Scanner) NextIsNotRawText() { s.rawTag = "" }
