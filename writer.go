package netjet

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/netjet-go/netjet/internal/htmlscan"
)

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

// sniffLen is how much of a body net/http looks at to guess its Content-Type.
const sniffLen = 512

func sniffsAsHTML(body []byte) bool {
	return isHTML(http.DetectContentType(body))
}
