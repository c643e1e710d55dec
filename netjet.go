package netjet

import (
	"net/http"
	"sync/atomic"

	"github.com/netjet-go/netjet/internal/urlref"
)

// Preloader adds Link preload headers to HTML responses. Create one with New; it is safe
// for concurrent use, and its cache is shared by every handler it wraps.
type Preloader struct {
	opts    Options
	attrs   string // Options.Attributes as link parameters: "; nopush"
	cache   *pageCache
	heads   *headCache     // nil when Options.CacheSize is negative
	learner *learner       // nil when Options.Routes is negative
	late    *lateResources // likewise
	// collectLimit is how many links one kind may collect: enough for any result the caps allow.
	collectLimit int
	stats        counters
}

// counters are the Preloader's Stats as they are counted.
type counters struct {
	parsed, learned, cacheHits, earlyHints                                                      atomic.Uint64
	noEarlyHintsNotNavigation, noEarlyHintsProtocol, noEarlyHintsWriter, noEarlyHintsNotLearned atomic.Uint64
}

// Stats counts what a Preloader has done since New.
type Stats struct {
	// Parsed counts the responses whose body netjet read for links: its head at least.
	Parsed uint64
	// Learned counts the responses read to their end, for the page cache or for their
	// route to learn from.
	Learned uint64
	// CacheHits counts the responses whose links came from the page cache instead: a page
	// version seen before, by its ETag.
	CacheHits uint64
	// EarlyHints counts the 103 Early Hints responses sent.
	EarlyHints uint64
	// NoEarlyHints counts, with Options.EarlyHints, the GET and HEAD requests that got no 103,
	// by reason.
	NoEarlyHints NoEarlyHints
}

// NoEarlyHints counts why requests got no 103 Early Hints response.
type NoEarlyHints struct {
	// NotNavigation: not a GET with Sec-Fetch-Mode: navigate. Browsers use a 103 only for
	// the page they navigate to.
	NotNavigation uint64
	// Protocol: HTTP/1.0, or HTTP/1.1 without Options.EarlyHintsHTTP1.
	Protocol uint64
	// Writer: the ResponseWriter netjet was given is not known to pass a 1xx on as
	// informational (http.TimeoutHandler's, say): it could take the 103 for the final status.
	Writer uint64
	// NotLearned: the route has taught no links to hint yet. See Options.Routes.
	NotLearned uint64
}

// Stats returns the counts so far.
func (p *Preloader) Stats() Stats {
	c := &p.stats
	return Stats{
		Parsed: c.parsed.Load(), Learned: c.learned.Load(), CacheHits: c.cacheHits.Load(),
		EarlyHints: c.earlyHints.Load(),
		NoEarlyHints: NoEarlyHints{
			NotNavigation: c.noEarlyHintsNotNavigation.Load(), Protocol: c.noEarlyHintsProtocol.Load(),
			Writer: c.noEarlyHintsWriter.Load(), NotLearned: c.noEarlyHintsNotLearned.Load(),
		},
	}
}

// New returns a Preloader for opts, or an error naming the first invalid field.
func New(opts Options) (*Preloader, error) {
	o, err := opts.validated()
	if err != nil {
		return nil, err
	}
	p := &Preloader{opts: o, cache: newPageCache(o.CacheSize), heads: newHeadCache(o.CacheSize), learner: newLearner(o), late: newLateResources(o), collectLimit: o.MaxLinks}
	for _, a := range o.Attributes {
		p.attrs += "; " + a
	}
	if p.collectLimit < 0 && o.MaxHeaderBytes >= 0 {
		// The shortest link value, "<x>; rel=preconnect", takes 19 bytes.
		p.collectLimit = o.MaxHeaderBytes/16 + 1
	}
	return p, nil
}

// Middleware returns New(opts).Handler, for routers that take func(http.Handler) http.Handler,
// such as chi's r.Use. It panics on invalid options, as it is meant for program start-up.
func Middleware(opts Options) func(http.Handler) http.Handler {
	p, err := New(opts)
	if err != nil {
		panic(err)
	}
	return p.Handler
}

// Handler returns next with Link preload headers added to its HTML responses.
func (p *Preloader) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(rw, r)
			return
		}
		v := p.learner.visit(r)
		if p.opts.EarlyHints {
			p.sendEarlyHints(rw, r, v)
		}
		w := &preloadWriter{rw: rw, p: p, req: r, visit: v, contentLength: -1}
		defer w.release()
		next.ServeHTTP(w, r)
		w.finish()
		p.late.observe(r, v, w.status, rw.Header())
		if w.sheet != nil {
			p.late.observeSheet(r, v, sheetOrigins(*w.sheet, r.TLS != nil, r.Host))
		}
	})
}

// Links returns the links netjet would add to a response whose body is doc, in order and
// within the caps, as for a response that had no Link header of its own. docURL is the
// document's URL (a path such as "/blog/post" will do): a relative <base href> resolves
// against it, and URLs that it resolves to the same place ("app.css" and "/blog/app.css")
// count as one. It may be empty. For an https: docURL, the http: URLs that browsers block on
// an HTTPS page as mixed content (stylesheets, scripts, fonts; not images or preconnects) are
// left out, as the middleware leaves them out of a response sent over TLS.
func (p *Preloader) Links(doc []byte, docURL string) []Link {
	scheme, _ := urlref.Scheme(docURL)
	return p.parse(doc, docURL, scheme == "https").sent
}

// parse extracts the links of doc and renders them as header values.
func (p *Preloader) parse(doc []byte, docURL string, overTLS bool) *pageLinks {
	c := p.newCollector(docURL, overTLS)
	s := getScanner()
	c.scan(s, doc)
	putScanner(s)
	return p.render(c.links())
}

// newCollector returns a collector for a document at docURL that goes out over TLS or not.
func (p *Preloader) newCollector(docURL string, overTLS bool) *collector {
	c := newCollector(p.opts.Kinds, p.collectLimit, p.opts.MaxImages, docURL)
	c.maxURLBytes, c.overTLS = p.opts.MaxHeaderBytes, overTLS
	return c
}
