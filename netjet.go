// Package netjet is net/http middleware that tells the browser what a page needs before the
// browser has read the page.
//
// It reads each HTML response on its way out, finds the stylesheets, scripts and images the
// page will ask for, and adds Link headers such as
//
//	Link: </app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script
//
// so that a browser or a CDN starts fetching them while the HTML is still arriving. The body
// is sent exactly as the handler wrote it. Pages seen before (same path, same ETag) are not
// parsed again: their links come from an LRU cache and the body streams straight through. A
// page without an ETag is remembered by a hash of its body, so an unchanged one is not
// parsed again either.
//
// Wrap any http.Handler:
//
//	p, err := netjet.New(netjet.Options{})
//	if err != nil { ... }
//	http.ListenAndServe(":8080", p.Handler(mux))
//
// or add it to a chain, as with chi's r.Use(netjet.Middleware(netjet.Options{})).
//
// With Options.EarlyHints, netjet also learns which render-blocking links (stylesheets,
// blocking scripts) each route's last two pages shared, and sends them in a 103 Early Hints
// response before the handler runs, so that the browser fetches while the server is still
// building the page. A link only one response had, such as a per-user URL, is never hinted.
//
// # What it reads, and what it leaves alone
//
// Only GET and HEAD responses with an HTML Content-Type (or none, when the body sniffs as
// HTML the way net/http sniffs it) and a status that renders a page (2xx but 204 and 206,
// 4xx, 5xx) are read. Everything else passes straight through, unbuffered. A partial
// response (Content-Range) is not read either. A body already compressed with gzip or
// deflate is read through a decoded copy, at most MaxBufferBytes of it, and sent as it was;
// other encodings pass through. Placing netjet inside compression middleware saves it the
// decoding.
//
// While it looks for links, netjet holds the body back, up to Options.MaxBufferBytes. When
// the handler flushes, or the body outgrows that buffer, the header goes out with the links
// found so far and the rest of the body streams. A page that has to be parsed anyway (an
// ETag not seen before, or the cache off) is read as it arrives, and streams as soon as no
// later element can change its links.
package netjet

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/netjet-go/netjet/internal/htmlscan"
	"github.com/netjet-go/netjet/internal/urlref"
)

// Preloader adds Link preload headers to HTML responses. Create one with New; it is safe
// for concurrent use, and its cache is shared by every handler it wraps.
type Preloader struct {
	opts  Options
	attrs string // Options.Attributes as link parameters: "; nopush"
	cache *pageCache
	hints *routeHints // nil without Options.EarlyHints
	// collectLimit is how many links one kind may collect: enough for any result the caps allow.
	collectLimit int
	parsed       atomic.Uint64
	cacheHits    atomic.Uint64
}

// Stats counts what a Preloader has done since New.
type Stats struct {
	// Parsed counts the responses whose body netjet read for links.
	Parsed uint64
	// CacheHits counts the responses whose links came from the cache instead: by path and
	// ETag, or, for a page without an ETag, by path and a hash of its body.
	CacheHits uint64
}

// Stats returns the counts so far.
func (p *Preloader) Stats() Stats {
	return Stats{Parsed: p.parsed.Load(), CacheHits: p.cacheHits.Load()}
}

// New returns a Preloader for opts, or an error naming the first invalid field.
func New(opts Options) (*Preloader, error) {
	o, err := opts.validated()
	if err != nil {
		return nil, err
	}
	p := &Preloader{opts: o, cache: newPageCache(o.CacheSize), hints: newRouteHints(o), collectLimit: o.MaxLinks}
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
		if r.Method == http.MethodGet {
			p.hints.send(rw, r)
		}
		w := &preloadWriter{rw: rw, p: p, req: r, contentLength: -1}
		// On a panic the buffer is dropped, never sent: the recoverer outside can still
		// answer 500, and nothing half-written goes out as a 200.
		defer w.releaseBuffer()
		next.ServeHTTP(w, r)
		w.finish()
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
	pl := p.parse(doc, docURL, scheme == "https")
	return pl.links[:pl.fit]
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

// scanners keeps scanners, and the scratch space they grew, from one parse to the next.
var scanners = sync.Pool{New: func() any { return new(htmlscan.Scanner) }}

func getScanner() *htmlscan.Scanner { return scanners.Get().(*htmlscan.Scanner) }

func putScanner(s *htmlscan.Scanner) {
	s.Reset(nil) // let go of the body
	scanners.Put(s)
}

// render writes every link as a header value, all of them in one string.
func (p *Preloader) render(links []Link) *pageLinks {
	pl := &pageLinks{links: links, ends: make([]int, len(links))}
	if p.hints != nil {
		pl.hints = hintLinks(links) // the 103 has its own byte budget: routeHints.render caps it
	}
	size := 0
	for i := range links {
		size += len(links[i].URL) + 48 + len(p.attrs) // "<>; rel=preload; as=script; fetchpriority=low, "
	}
	b := make([]byte, 0, size)
	for i := range links {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = links[i].appendTo(b)
		b = append(b, p.attrs...)
		pl.ends[i] = len(b)
		if p.opts.MaxHeaderBytes < 0 || len(b) <= p.opts.MaxHeaderBytes {
			pl.fit = i + 1
		}
	}
	pl.all = string(b)
	return pl
}

// addLinks appends the page's links to the Link header h already has, leaving out URLs it
// names and stopping before the first link that would take the value over MaxHeaderBytes.
// docURL is the request's path: the URLs of both resolve against it.
func (p *Preloader) addLinks(h http.Header, pl *pageLinks, docURL string) {
	existing := h["Link"]
	if len(existing) == 0 {
		if pl.fit > 0 {
			h["Link"] = []string{pl.header()}
		}
		return
	}
	used := 2 * (len(existing) - 1)
	for _, v := range existing {
		used += len(v)
	}
	var b []byte
	for i := range pl.links {
		if linkHeaderHasURL(existing, pl.links[i].URL, docURL) {
			continue
		}
		v := pl.value(i)
		if p.opts.MaxHeaderBytes >= 0 && used+2+len(v) > p.opts.MaxHeaderBytes {
			break
		}
		if len(b) > 0 {
			b = append(b, ", "...)
		}
		b = append(b, v...)
		used += 2 + len(v)
	}
	if len(b) > 0 {
		h["Link"] = append(existing[:len(existing):len(existing)], string(b))
	}
}

// linkHeaderHasURL reports whether a Link header already names url as a link target,
// <url>, however it is spelled: both are resolved against docURL. A <...> inside a quoted
// parameter, such as imagesrcset="</a.css> 2x", is no target.
func linkHeaderHasURL(values []string, url, docURL string) bool {
	url = urlref.Resolve(docURL, url)
	for _, v := range values {
		inQuote := false
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case inQuote && c == '\\':
				i++ // the escaped character cannot end the quoted string
			case inQuote:
				inQuote = c != '"'
			case c == '"':
				inQuote = true
			case c == '<':
				target, _, closed := strings.Cut(v[i+1:], ">")
				if closed && urlref.Resolve(docURL, target) == url {
					return true
				}
				i += len(target) + 1
			}
		}
	}
	return false
}

// writerState is where a response stands.
type writerState uint8

const (
	stateIdle      writerState = iota // no final status yet
	stateBuffering                    // holding the body back to find links
	statePassing                      // status sent (or left to net/http): bytes go straight through
	stateHijacked                     // the handler took the connection
)

// preloadWriter is the ResponseWriter the handler writes to. It holds the status and body of
// an HTML response back until it has the links, then sends them exactly as written.
type preloadWriter struct {
	rw            http.ResponseWriter
	p             *Preloader
	req           *http.Request
	state         writerState
	status        int
	sniff         bool  // no Content-Type, and no decision yet: decide on the body, as net/http would
	contentLength int64 // the handler's Content-Length, or -1
	key           pageKey
	encoding      string // "gzip" or "deflate" when the body is compressed
	buf           *[]byte
	large         []byte // a body's own buffer once it outgrows what the pool keeps: see appendBody
	// heldHeader is the header as it was when the status was held back: what net/http
	// sends, as it ignores later changes but for trailers.
	heldHeader http.Header
	// arriving reads the body for links as the handler writes it, when it is sure to be
	// parsed: once the links can no longer change, the rest of the body need not wait.
	arriving *arrivingBody
}

// arrivingBody is a body being read for links while it arrives.
type arrivingBody struct {
	c       *collector
	s       *htmlscan.Scanner
	scanned int // the body's length when s last read it
}

// minArrivingScan is how much of a body arrives before netjet starts reading it: a small page
// is read once, whole, at the end.
const minArrivingScan = 4 << 10

func (w *preloadWriter) Header() http.Header { return w.rw.Header() }

// Unwrap lets http.ResponseController reach the features netjet does not touch, such as
// SetWriteDeadline and EnableFullDuplex.
func (w *preloadWriter) Unwrap() http.ResponseWriter { return w.rw }

func (w *preloadWriter) WriteHeader(code int) {
	if w.state != stateIdle {
		return // like net/http, the first status wins; no "superfluous" log blames netjet
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.rw.WriteHeader(code) // informational: the client gets it now; the final status is to come
		return
	}
	w.status = code
	if w.begin() {
		w.state = stateBuffering
		w.heldHeader = maps.Clone(w.rw.Header())
		return
	}
	w.state = statePassing
	w.rw.WriteHeader(code)
}

// begin decides what to do with the response now that its status and header are known. It
// adds cached links at once and returns false when the body may stream, or returns true
// when the body must be read first.
func (w *preloadWriter) begin() bool {
	h := w.rw.Header()
	if !statusHasPage(w.status) || h["Content-Range"] != nil {
		return false
	}
	ct, hasType := h["Content-Type"]
	if hasType && (len(ct) == 0 || !isHTML(ct[0])) {
		return false // nil Content-Type: the handler asked net/http not to sniff
	}
	if ce := h["Content-Encoding"]; ce != nil {
		// A compressed body is read through a decoded copy. Other encodings pass through,
		// and so does a compressed body without a Content-Type: it never sniffs as HTML.
		w.encoding = decodableEncoding(ce)
		if w.encoding == "" || !hasType {
			return false
		}
	}
	// The key names the page once it has an ETag (or, later, its body's hash).
	w.key = pageKey{path: w.req.URL.Path, overTLS: w.req.TLS != nil}
	if etag := h["Etag"]; len(etag) > 0 {
		w.key.etag = etagKey(etag[0])
	}
	if pl, ok := w.p.cache.get(w.key); ok {
		w.p.cacheHits.Add(1)
		w.useLinks(pl)
		return false
	}
	if w.req.Method == http.MethodHead {
		return false // no body to read: links come from the cache or not at all
	}
	w.sniff = !hasType
	if cl := h["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
			w.contentLength = n
		}
	}
	w.buf = getBuffer(w.contentLength, w.p.opts.MaxBufferBytes)
	// A page without an ETag may still be found in the cache by its body's hash, once it is
	// complete: reading it as it arrives would waste the parse a cache hit saves.
	if w.encoding == "" && (w.key.etag != "" || w.p.cache == nil) {
		w.arriving = &arrivingBody{c: w.p.newCollector(w.req.URL.EscapedPath(), w.key.overTLS)}
	}
	return true
}

func (w *preloadWriter) Write(b []byte) (int, error) {
	if w.state == stateIdle {
		w.WriteHeader(http.StatusOK)
	}
	switch w.state {
	case stateBuffering:
		return w.bufferWrite(b)
	case stateHijacked:
		return 0, http.ErrHijacked
	}
	return w.rw.Write(b)
}

func (w *preloadWriter) bufferWrite(b []byte) (int, error) {
	buf := *w.buf
	if w.contentLength >= 0 && int64(len(buf)+len(b)) > w.contentLength {
		return 0, http.ErrContentLength // what net/http answers, so the handler sees the same
	}
	if room := w.p.opts.MaxBufferBytes - len(buf); len(b) > room {
		// Fill the buffer before sending it: a page written in one large Write has its
		// links at its start, and they would be lost with an empty buffer.
		w.appendBody(b[:room])
		if err := w.sendBuffered(false); err != nil {
			return 0, err
		}
		n, err := w.rw.Write(b[room:])
		return room + n, err
	}
	w.appendBody(b)
	if w.sniff && len(*w.buf) >= sniffLen {
		// net/http decides on the first 512 bytes, once; so does netjet, not on every write.
		if sniffsAsHTML(*w.buf) {
			w.sniff = false
		} else if err := w.sendBuffered(false); err != nil {
			return 0, err
		}
	}
	if a := w.arriving; w.state == stateBuffering && a != nil && len(*w.buf) >= max(2*a.scanned, minArrivingScan) {
		// Reading again only once the body has doubled keeps the work linear: each read
		// goes over the new bytes and what the last one left unfinished.
		if a.read(*w.buf) {
			if err := w.sendBuffered(false); err != nil {
				return 0, err
			}
		}
	}
	return len(b), nil
}

// appendBody adds b to the body held back. A body that outgrows the largest buffer the pool
// keeps moves to a buffer of its own, and the pooled one goes back at once: otherwise it
// would be lost with the large one, and the pool would make a new one for a later request.
func (w *preloadWriter) appendBody(b []byte) {
	buf := *w.buf
	if n := len(buf) + len(b); n > cap(buf) && n > maxPooledBuffer && cap(buf) <= maxPooledBuffer {
		w.large = append(make([]byte, 0, max(n, 2*cap(buf))), buf...)
		putBuffer(w.buf)
		w.buf, buf = &w.large, w.large
	}
	*w.buf = append(buf, b...)
}

// read reads the body that has arrived so far and reports whether its links are final.
func (a *arrivingBody) read(body []byte) bool {
	if a.s == nil {
		a.s = getScanner()
		a.c.scan(a.s, body)
	} else {
		a.s.Extend(body)
		a.c.scanTags(a.s)
	}
	a.scanned = len(body)
	// The handler's next write may move the body to a larger array: the scanner must not
	// keep the old one alive until then. The next read gives it the body again.
	a.s.Extend(nil)
	return a.c.done()
}

// sendBuffered sends the status, the header with the links found in the buffered body, and
// that body. complete says the handler has returned: only then are the links the page's own,
// and worth remembering.
func (w *preloadWriter) sendBuffered(complete bool) error {
	buf := *w.buf
	w.state = statePassing
	h := w.rw.Header()
	later := w.restoreHeldHeader(h)
	if !w.sniff || sniffsAsHTML(buf) {
		w.useLinks(w.bufferedLinks(buf, complete))
	}
	w.rw.WriteHeader(w.status)
	if later != nil {
		// net/http has its copy of the header; it reads trailer values from the map later.
		clear(h)
		maps.Copy(h, later)
	}
	var err error
	if len(buf) > 0 {
		_, err = w.rw.Write(buf)
	}
	w.releaseBuffer()
	return err
}

// bufferedLinks returns the links of the buffered body. A complete page of 200 is remembered:
// by its ETag, or, without one, by a hash of its bytes, so that a dynamic page that has not
// changed is not parsed again.
func (w *preloadWriter) bufferedLinks(buf []byte, complete bool) *pageLinks {
	if a := w.arriving; a != nil {
		// The links of a page whose links can no longer change are its own, complete or not.
		final := a.read(buf) || complete
		pl := w.p.render(a.c.links())
		w.p.parsed.Add(1)
		if final && w.status == http.StatusOK {
			w.p.cache.add(w.key, pl)
		}
		return pl
	}
	remember := complete && w.status == http.StatusOK
	if remember && w.key.etag == "" {
		w.key.sum = w.p.cache.sum(buf)
		if pl, ok := w.p.cache.get(w.key); ok {
			w.p.cacheHits.Add(1)
			return pl
		}
	}
	doc := buf
	if w.encoding != "" {
		decoded := decodeBody(w.encoding, buf, w.p.opts.MaxBufferBytes)
		defer putBuffer(decoded)
		doc = *decoded
	}
	pl := w.p.parse(doc, w.req.URL.EscapedPath(), w.key.overTLS)
	w.p.parsed.Add(1)
	if remember {
		w.p.cache.add(w.key, pl)
	}
	return pl
}

// restoreHeldHeader makes h the header it was when the status was held back, and returns
// h as the handler left it, or nil when the handler has not changed it since.
func (w *preloadWriter) restoreHeldHeader(h http.Header) http.Header {
	if sameHeader(h, w.heldHeader) {
		return nil
	}
	later := maps.Clone(h)
	clear(h)
	maps.Copy(h, w.heldHeader)
	return later
}

// sameHeader reports whether a and b hold the very same value slices under the same keys: a
// shallow copy of a header stays the same until a value is set, added or deleted.
func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || len(av) != len(bv) || len(av) > 0 && &av[0] != &bv[0] {
			return false
		}
	}
	return true
}

// useLinks puts a page's links to use, just before the status goes out: in the header, in
// the route's Early Hints, and as pushes.
func (w *preloadWriter) useLinks(pl *pageLinks) {
	h := w.rw.Header()
	w.p.hints.learn(w.req, w.status, h, pl)
	w.p.push(w.rw, w.req, pl)
	w.p.addLinks(h, pl, w.req.URL.EscapedPath())
}

// finish sends what is still held back once the handler has returned.
func (w *preloadWriter) finish() {
	if w.state == stateBuffering {
		_ = w.sendBuffered(true) // the client went away; nobody is left to tell
	}
}

func (w *preloadWriter) releaseBuffer() {
	if w.buf != nil {
		putBuffer(w.buf)
		w.buf = nil
	}
	if w.arriving != nil && w.arriving.s != nil {
		putScanner(w.arriving.s)
		w.arriving.s = nil
	}
}

// FlushError sends the status, the links found so far and the body written so far, then
// flushes. http.ResponseController calls it first, so a flush never bypasses the buffer.
func (w *preloadWriter) FlushError() error {
	if w.state == stateIdle {
		w.WriteHeader(http.StatusOK) // as net/http does for a flush before any write
	}
	switch w.state {
	case stateBuffering:
		if err := w.sendBuffered(false); err != nil {
			return err
		}
	case stateHijacked:
		return http.ErrHijacked
	}
	return http.NewResponseController(w.rw).Flush()
}

// Flush is FlushError for callers of http.Flusher.
func (w *preloadWriter) Flush() { _ = w.FlushError() }

// Hijack hands the connection to the handler. As net/http does, a status and body written
// before it are sent first; nothing is written after it.
func (w *preloadWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := hijacker(w.rw)
	if !ok {
		return nil, nil, fmt.Errorf("netjet: %T cannot hijack: %w", w.rw, http.ErrNotSupported)
	}
	if w.state == stateBuffering {
		if err := w.sendBuffered(false); err != nil {
			return nil, nil, err
		}
	}
	conn, brw, err := hj.Hijack()
	if err == nil {
		w.state = stateHijacked
	}
	return conn, brw, err
}

// hijacker finds the Hijacker beneath rw the way http.ResponseController does, through the
// Unwrap methods of outer middleware, so that netjet never hides a connection that an outer
// wrapper lets through. It finds it before any held status is sent: a handler told that
// hijacking is not supported can still answer normally.
func hijacker(rw http.ResponseWriter) (http.Hijacker, bool) {
	for {
		if hj, ok := rw.(http.Hijacker); ok {
			return hj, true
		}
		u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil, false
		}
		rw = u.Unwrap()
	}
}

// ReadFrom keeps the fast path of the writer underneath (sendfile for http.FileServer) for
// responses netjet does not read.
func (w *preloadWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.state == stateIdle {
		w.WriteHeader(http.StatusOK)
	}
	if rf, ok := w.rw.(io.ReaderFrom); ok && w.state == statePassing {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w}, src)
}

// writerOnly hides ReadFrom from io.Copy, which would otherwise call it again.
type writerOnly struct{ io.Writer }

// Push lets handlers push through netjet when the connection supports it.
func (w *preloadWriter) Push(target string, opts *http.PushOptions) error {
	if pusher, ok := w.rw.(http.Pusher); ok {
		return pusher.Push(target, opts)
	}
	return http.ErrNotSupported
}

// statusHasPage reports whether a response with this status renders a body a browser would
// load sub-resources for: netjet adds links to error pages too.
func statusHasPage(code int) bool {
	return code >= 200 && code < 300 && code != http.StatusNoContent && code != http.StatusPartialContent ||
		code >= 400 && code < 600
}

// isHTML reports whether a Content-Type is HTML or XHTML, in any case and with any parameters.
func isHTML(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	return strings.EqualFold(mt, "text/html") || strings.EqualFold(mt, "application/xhtml+xml")
}

// decodableEncoding returns the Content-Encoding netjet can read through, "gzip" or "deflate",
// or "" for any other, or for several.
func decodableEncoding(ce []string) string {
	if len(ce) != 1 {
		return ""
	}
	switch e := strings.ToLower(strings.TrimSpace(ce[0])); e {
	case "gzip", "x-gzip":
		return "gzip"
	case "deflate":
		return "deflate"
	}
	return ""
}

// decodeBody returns a decoded copy of a compressed body, at most limit bytes of it: a
// compression bomb costs no more than the buffer would. A body cut short, or corrupt, gives
// what could be decoded before the cut; the bytes sent are the handler's all the same.
func decodeBody(encoding string, body []byte, limit int) *[]byte {
	out := getBuffer(-1, limit)
	var r io.Reader
	var err error
	switch encoding {
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(body))
	case "deflate":
		// HTTP's deflate is zlib's format, but some servers send raw deflate.
		if r, err = zlib.NewReader(bytes.NewReader(body)); err != nil {
			r, err = flate.NewReader(bytes.NewReader(body)), nil
		}
	}
	if err != nil {
		return out
	}
	var chunk [4096]byte
	for len(*out) < limit {
		n, err := r.Read(chunk[:min(len(chunk), limit-len(*out))])
		*out = append(*out, chunk[:n]...)
		if err != nil {
			break
		}
	}
	return out
}

// sniffLen is how much of a body net/http looks at to guess its Content-Type.
const sniffLen = 512

func sniffsAsHTML(body []byte) bool {
	return isHTML(http.DetectContentType(body))
}

// The buffers that hold bodies back are pooled, but a pool must not keep the rare large one
// alive: those are left to the garbage collector.
const maxPooledBuffer = 256 << 10

var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// getBuffer returns an empty buffer, sized for the body when the handler declared its length.
func getBuffer(contentLength int64, limit int) *[]byte {
	if contentLength > maxPooledBuffer {
		b := make([]byte, 0, min(contentLength, int64(limit)))
		return &b
	}
	return bufferPool.Get().(*[]byte)
}

func putBuffer(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bufferPool.Put(b)
}
