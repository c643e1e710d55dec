package netjet

// LinksOverTLS returns the links the middleware adds to a response sent over TLS to a request
// for docURL, a path: Links, with TLS known apart from the document's URL, as the middleware
// knows it from the request. For the tests of package netjet_test.
func (p *Preloader) LinksOverTLS(doc []byte, docURL string) []Link {
	return p.parse(doc, docURL, true).sent
}
