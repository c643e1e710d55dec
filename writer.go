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
	stateIdle     writerState = iota // no final status yet
	stateHead                        // holding the start of the body back while its head is read
	statePassing                     // status sent (or left to net/http): bytes go straight through
	stateHijacked                    // the handler took the connection
)

// preloadWriter is the ResponseWriter the handler writes to. For an HTML response it holds the
// status and the start of the body back until it has read the page's head (or
// Options.MaxBufferBytes of it, or the handler flushes), sends the header with the head's links
// and those the route has taught, and from then on passes every write straight through. When
// the page is to be learned from, it goes on reading the body as it passes.
type preloadWriter struct {
	rw    http.ResponseWriter
	p     *Preloader
	req   *http.Request
	visit visit
	state writerState
	// sniff: no Content-Type, and no decision yet: decide on the body, as net/http would.
	sniff bool
	// whole: the body is read to its end, for the page cache or the route to learn from.
	whole         bool
	status        int
	contentLength int64 // the handler's Content-Length, or -1
	written       int64 // body bytes passed on
	key           uint64
	encoding      string // "gzip" or "deflate" when the body is compressed
	held          *[]byte
	// heldHeader is the header as it was when the status was held back: what net/http sends,
	// as it ignores later changes but for trailers.
	heldHeader http.Header
	page       *pageReader // reads the body for links; nil once nothing more is to be learned
	// sheet is the start of a stylesheet's body, kept to read the origins it names
	// (stylesheet.go); nil for any other response.
	sheet *[]byte
}

// pageReader reads a page for links as it arrives: its head while the header waits, and, when
// the whole body is read, the rest as it passes.
type pageReader struct {
	p       *Preloader
	docURL  string
	overTLS bool
	// untilHead: only the head is read (the collector is made at the first read).
	untilHead bool
	c         *collector
	s         *htmlscan.Scanner
	// headKey names the page in the head cache; known is its head's links, once the body
	// is known to begin with the head read before.
	headKey uint64
	known   *headEntry
	// tail holds the bytes that passed since the scanner last read to its end, from where it
	// resumes: the scanner may need to read them again when a tag was cut off.
	tail    []byte
	scanned int // len(tail) when the scanner last read it
}

// maxTail bounds what a page being learned from keeps of a construct that has not ended (a long
// comment, an unclosed script): past it, the page is not learned from.
const maxTail = 1 << 20

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
		w.state = stateHead
		w.heldHeader = w.rw.Header().Clone()
		return
	}
	w.state = statePassing
	w.rw.WriteHeader(code)
}

// begin decides what to do with the response now that its status and header are known. It adds
// links at once and returns false when the body may stream: the page was seen before, or the
// request is a HEAD. It returns true when the head of the body must be read first.
func (w *preloadWriter) begin() bool {
	h := w.rw.Header()
	if !statusHasPage(w.status) || h["Content-Range"] != nil {
		return false
	}
	ct, hasType := h["Content-Type"]
	if hasType && (len(ct) == 0 || !isHTML(ct[0])) {
		if len(ct) > 0 && w.p.late != nil && readsSheet(w.req, w.status, ct[0], h) {
			sheet := make([]byte, 0, 4<<10)
			w.sheet = &sheet
		}
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
	w.key = w.p.cache.key(w.req, h, w.status, w.visit)
	if pl, ok := w.p.cache.get(w.key); ok {
		w.p.stats.cacheHits.Add(1)
		if w.req.Method == http.MethodGet && pl.taught.Swap(w.visit.caller) != w.visit.caller {
			w.learn(pl)
		}
		if late := w.p.late.links(w.req, w.visit, pl.links); len(late) > 0 {
			pl = w.p.render(w.p.merge(pl.links, true, late))
		}
		w.useLinks(pl)
		return false
	}
	if w.req.Method == http.MethodHead {
		// No body to read: what the route taught is all there is, and the caller's own last
		// GET of it, which it may see again.
		if st := w.p.learner.state(w.visit, false); st != nil {
			links := w.p.merge(st.last(w.visit), false, st.links(w.visit))
			if len(links) > 0 {
				w.useLinks(w.p.render(w.p.withLate(w.req, w.visit, links)))
			}
		}
		return false
	}
	w.sniff = !hasType
	if cl := h["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
			w.contentLength = n
		}
	}
	w.held = getBuffer()
	if w.encoding == "" {
		w.page = &pageReader{p: w.p, docURL: w.req.URL.EscapedPath(), overTLS: w.req.TLS != nil}
		// A page is read to its end to be cached (by its ETag), or for the route to learn from.
		// Then the header takes the links of all the body held when it goes out, which costs
		// no wait; otherwise reading stops at the end of the head.
		w.whole = w.status == http.StatusOK && (w.key != 0 || w.p.learner.wantsWholeBody(w.visit))
		// An error page teaches nothing, and is rare: all of it held is read.
		w.page.untilHead = !w.whole && w.status == http.StatusOK
		if w.page.untilHead {
			w.page.headKey = w.p.heads.key(w.req)
		}
	}
	return true
}

func (w *preloadWriter) Write(b []byte) (int, error) {
	if w.state == stateIdle {
		w.WriteHeader(http.StatusOK)
	}
	switch w.state {
	case stateHead:
		return w.holdWrite(b)
	case stateHijacked:
		return 0, http.ErrHijacked
	}
	n, err := w.rw.Write(b)
	w.passed(b[:n])
	return n, err
}

// holdWrite adds b to the start of the body held back, and sends the header once the head has
// been read.
func (w *preloadWriter) holdWrite(b []byte) (int, error) {
	if w.contentLength >= 0 && w.written+int64(len(*w.held)+len(b)) > w.contentLength {
		// More than the handler declared: the server underneath answers that, as it would
		// without netjet.
		if err := w.sendHeld(false); err != nil {
			return 0, err
		}
		n, err := w.rw.Write(b)
		return n, err
	}
	if room := w.p.opts.MaxBufferBytes - len(*w.held); len(b) > room {
		if len(*w.held) == 0 && w.page != nil && w.page.s == nil {
			// The page starts with a write larger than what may be held: it is all in
			// hand, and is read where it is, with no wait and no copy.
			if err := w.send(b, false); err != nil {
				return 0, err
			}
			n, err := w.rw.Write(b)
			w.written += int64(n)
			return n, err
		}
		// Fill the buffer before sending it: a page written in one large Write has its
		// head at its start.
		*w.held = append(*w.held, b[:room]...)
		if err := w.sendHeld(false); err != nil {
			return 0, err
		}
		n, err := w.rw.Write(b[room:])
		w.passed(b[room : room+n])
		return room + n, err
	}
	*w.held = append(*w.held, b...)
	held := *w.held
	if w.sniff && len(held) >= sniffLen {
		// net/http decides on the first 512 bytes, once; so does netjet.
		if !sniffsAsHTML(held) {
			return len(b), w.sendHeld(false)
		}
		w.sniff = false
	}
	if len(held) >= w.p.opts.MaxBufferBytes || w.headRead(held) {
		return len(b), w.sendHeld(false)
	}
	return len(b), nil
}

// headRead reads the body held so far and reports whether its head has been read: its links
// that block the first render are known.
func (w *preloadWriter) headRead(held []byte) bool {
	pr := w.page
	if pr == nil {
		return false // compressed: read when the header goes out
	}
	if pr.s == nil && pr.headKey != 0 {
		if e, same := w.p.heads.get(pr.headKey, held); same {
			pr.known = e
			return true
		} else if e != nil && len(held) < e.n {
			return false // the head seen before cannot end sooner than it did: wait for it
		}
	}
	if pr.s != nil && len(held)-pr.scanned < pr.scanned-pr.s.Offset() {
		// Reading again only once the new bytes are as many as those the last read left
		// unfinished (a long inline script, say) keeps the work linear.
		return false
	}
	pr.read(held)
	return pr.c.headDone || pr.c.done()
}

// read reads doc, the body so far (or, once the header is out, the bytes that passed since
// the scanner's Offset), from where the last read stopped.
func (pr *pageReader) read(doc []byte) {
	if pr.c == nil {
		pr.c = pr.p.newCollector(pr.docURL, pr.overTLS)
		pr.c.untilHead = pr.untilHead
	}
	if pr.s == nil {
		pr.s = getScanner()
		pr.s.Reset(doc)
	} else {
		pr.s.Extend(doc)
	}
	pr.c.scanTags(pr.s)
	pr.scanned = len(doc)
}

// sendHeld sends the status, the header with the links found so far and those the route has
// taught, and the body held back. From then on the body streams. complete says the handler has
// returned: the body held is the whole page.
func (w *preloadWriter) sendHeld(complete bool) error {
	held := *w.held
	if err := w.send(held, complete); err != nil {
		return err
	}
	var err error
	if len(held) > 0 {
		var n int
		n, err = w.rw.Write(held)
		w.written += int64(n)
	}
	putBuffer(w.held)
	w.held = nil
	return err
}

// send sends the status and the header with the links of doc, the start of the body, and
// those the route has taught.
func (w *preloadWriter) send(doc []byte, complete bool) error {
	w.state = statePassing
	h := w.rw.Header()
	later := w.restoreHeldHeader(h)
	if w.sniff && !sniffsAsHTML(doc) {
		w.stopReading()
	} else {
		w.p.stats.parsed.Add(1)
		head, headRead, known := w.headLinks(doc, complete)
		w.useLinks(w.p.pageLinks(w.req, w.visit, head, headRead || complete, known))
	}
	w.rw.WriteHeader(w.status)
	if later != nil {
		// net/http has its copy of the header; it reads trailer values from the map later.
		clear(h)
		maps.Copy(h, later)
	}
	return nil
}

// decodeFactor bounds the decoded copy of a compressed body's start: so many times what may be
// held, as HTML compresses several times over.
const decodeFactor = 8

// pageLinks returns the links of a response: those of its head, and those its route taught
// the caller. A head read before (known) keeps the last result made from it, which holds as
// long as the route has taught nothing new and no stylesheet has taught late resources.
func (p *Preloader) pageLinks(r *http.Request, v visit, head []Link, headRead bool, known *headEntry) *pageLinks {
	st := p.learner.state(v, false)
	if known != nil && p.late.none() {
		if m := known.last.Load(); m != nil && m.route == st && m.caller == v.caller {
			return m.pl
		}
	}
	links := p.merge(head, headRead, st.links(v))
	late := p.late.links(r, v, links)
	if len(late) > 0 {
		return p.render(p.merge(links, true, late))
	}
	pl := p.render(links)
	if known != nil {
		known.last.Store(&headLinks{route: st, caller: v.caller, pl: pl})
	}
	return pl
}

// headLinks returns the links of the start of the body, and whether its whole head was read.
// When the whole body is to be read, it keeps what the scanner will read on once the body
// passes.
func (w *preloadWriter) headLinks(doc []byte, complete bool) ([]Link, bool, *headEntry) {
	if w.page == nil {
		// A compressed body: the start held is decoded and read whole. When it is the whole
		// page, its links are the page's, as for a page read to its end.
		limit := decodeFactor * w.p.opts.MaxBufferBytes
		decoded := decodeBody(w.encoding, doc, limit)
		defer putBuffer(decoded)
		c := w.p.newCollector(w.req.URL.EscapedPath(), w.req.TLS != nil)
		s := getScanner()
		c.scan(s, *decoded)
		putScanner(s)
		links := c.links()
		if complete && len(*decoded) < limit && w.status == http.StatusOK {
			pl := w.p.render(links)
			w.p.stats.learned.Add(1)
			w.p.cache.add(w.key, pl)
			w.learn(pl)
		}
		return links, c.headDone, nil
	}
	pr := w.page
	if pr.known == nil && pr.s == nil && pr.headKey != 0 {
		if e, same := w.p.heads.get(pr.headKey, doc); same {
			pr.known = e
		}
	}
	if known := pr.known; known != nil {
		w.stopReading()
		return known.links, true, known
	}
	if pr.s == nil || pr.scanned < len(doc) {
		pr.read(doc)
	}
	links, headRead := pr.c.links(), pr.c.headDone
	if !w.whole {
		if headRead && pr.untilHead {
			// The scan stopped right after the element that ended the head.
			w.p.heads.add(pr.headKey, doc, pr.s.Offset(), links)
		}
		w.stopReading()
		return links, headRead, nil
	}
	if pr.c.done() {
		w.complete() // no later element can change the links
		return links, headRead, nil
	}
	pr.tail = append(pr.tail[:0], doc[pr.s.Offset():]...)
	pr.s.Rebase(pr.tail) // doc is not ours to keep
	pr.scanned = len(pr.tail)
	return links, headRead, nil
}

// passed reads a part of the body that went out, when the whole body is read, and keeps the
// start of a stylesheet's.
func (w *preloadWriter) passed(b []byte) {
	w.written += int64(len(b))
	if sh := w.sheet; sh != nil {
		*sh = append(*sh, b[:min(len(b), maxSheetBytes-len(*sh))]...)
	}
	for w.page != nil && w.whole && len(b) > 0 {
		// A large write is read a part at a time, so that what the tail keeps stays bounded.
		pr := w.page
		part := b[:min(len(b), tailPart)]
		b = b[len(part):]
		if len(pr.tail)+len(part) > maxTail {
			if w.readTail(); w.page == nil {
				return
			}
			if len(pr.tail)+len(part) > maxTail {
				w.stopReading() // one construct longer than maxTail: learn nothing from this page
				return
			}
		}
		pr.tail = append(pr.tail, part...)
		if len(pr.tail) >= 2*pr.scanned {
			// As in headRead: read again once the unfinished bytes have doubled.
			w.readTail()
		}
	}
}

// tailPart is the most of one write added to the tail before it is read.
const tailPart = 64 << 10

// readTail reads the bytes that passed since the last read, and forgets those the scanner will
// not read again.
func (w *preloadWriter) readTail() {
	pr := w.page
	pr.read(pr.tail)
	if pr.c.done() {
		w.complete()
		return
	}
	n := copy(pr.tail, pr.tail[pr.s.Offset():])
	pr.tail = pr.tail[:n]
	pr.s.Rebase(pr.tail)
	pr.scanned = n
}

// complete puts the links of a page read to its end to use: the page cache keeps them, and the
// route learns from them.
func (w *preloadWriter) complete() {
	pl := w.p.render(w.page.c.links())
	w.stopReading()
	w.p.stats.learned.Add(1)
	w.p.cache.add(w.key, pl)
	w.learn(pl)
}

// learn records the links of a complete page with the route.
func (w *preloadWriter) learn(pl *pageLinks) {
	if w.req.Method == http.MethodGet && w.status == http.StatusOK {
		w.p.learner.record(w.visit, pl.links, w.p.opts.MaxHeaderBytes)
	}
}

// stopReading gives up reading the body: nothing more is to be learned from it.
func (w *preloadWriter) stopReading() {
	if pr := w.page; pr != nil {
		if pr.s != nil {
			putScanner(pr.s)
		}
		w.page = nil
	}
	w.whole = false
}

// restoreHeldHeader makes h the header it was when the status was held back, and returns h as
// the handler left it, or nil when the handler has not changed it since.
func (w *preloadWriter) restoreHeldHeader(h http.Header) http.Header {
	if equalHeader(h, w.heldHeader) {
		return nil
	}
	later := maps.Clone(h)
	clear(h)
	maps.Copy(h, w.heldHeader)
	return later
}

// equalHeader reports whether a and b hold the same values under the same keys.
func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if av[i] != bv[i] {
				return false
			}
		}
	}
	return true
}

// useLinks puts a page's links to use, just before the status goes out: in the header, and as
// pushes.
func (w *preloadWriter) useLinks(pl *pageLinks) {
	h := w.rw.Header()
	w.p.push(w.rw, w.req, pl)
	w.p.addLinks(h, pl, w.req.URL.EscapedPath())
}

// finish sends what is still held back once the handler has returned, and learns from a page
// read to its end.
func (w *preloadWriter) finish() {
	switch w.state {
	case stateIdle:
		if w.req.Method == http.MethodHead {
			// net/http answers 200 for a handler that wrote nothing: a HEAD gets the links a
			// GET would.
			w.WriteHeader(http.StatusOK)
		}
	case stateHead:
		_ = w.sendHeld(true) // the client went away; nobody is left to tell
	}
	if w.page != nil && w.whole {
		w.page.read(w.page.tail)
		if w.page != nil {
			w.complete()
		}
	}
}

// release returns the buffers a response holds. On a panic the held body is dropped, never
// sent: the recoverer outside can still answer 500, and nothing half-written goes out as a 200.
func (w *preloadWriter) release() {
	if w.held != nil {
		putBuffer(w.held)
		w.held = nil
	}
	w.stopReading()
	w.sheet = nil
}

// FlushError sends the status, the links found so far and the body written so far, then
// flushes. http.ResponseController calls it first, so a flush never bypasses the held body.
func (w *preloadWriter) FlushError() error {
	if w.state == stateIdle {
		w.WriteHeader(http.StatusOK) // as net/http does for a flush before any write
	}
	switch w.state {
	case stateHead:
		if err := w.sendHeld(false); err != nil {
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
	hj, ok := unwrapTo[http.Hijacker](w.rw)
	if !ok {
		return nil, nil, fmt.Errorf("netjet: %T cannot hijack: %w", w.rw, http.ErrNotSupported)
	}
	if w.state == stateHead {
		if err := w.sendHeld(false); err != nil {
			return nil, nil, err
		}
	}
	w.stopReading()
	conn, brw, err := hj.Hijack()
	if err == nil {
		w.state = stateHijacked
	}
	return conn, brw, err
}

// Push lets handlers push through netjet when the connection supports it.
func (w *preloadWriter) Push(target string, opts *http.PushOptions) error {
	if pusher, ok := unwrapTo[http.Pusher](w.rw); ok {
		return pusher.Push(target, opts)
	}
	return http.ErrNotSupported
}

// unwrapTo finds a T beneath rw the way http.ResponseController does, through the Unwrap
// methods of outer middleware, so that netjet never hides a feature that an outer wrapper
// lets through.
func unwrapTo[T any](rw http.ResponseWriter) (T, bool) {
	for {
		if t, ok := rw.(T); ok {
			return t, true
		}
		u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			var zero T
			return zero, false
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
	if rf, ok := w.rw.(io.ReaderFrom); ok && w.state == statePassing && w.page == nil && w.sheet == nil {
		n, err := rf.ReadFrom(src)
		w.written += n
		return n, err
	}
	return io.Copy(writerOnly{w}, src)
}

// writerOnly hides ReadFrom from io.Copy, which would otherwise call it again.
type writerOnly struct{ io.Writer }

// statusHasPage reports whether a response with this status renders a body a browser would
// load sub-resources for: netjet adds links to error pages too.
func statusHasPage(code int) bool {
	return code >= 200 && code < 300 && code != http.StatusNoContent && code != http.StatusPartialContent ||
		code >= 400 && code < 600
}

// isHTML reports whether a Content-Type is HTML or XHTML, in any case and with any parameters.
func isHTML(contentType string) bool {
	mt := mediaType(contentType)
	return strings.EqualFold(mt, "text/html") || strings.EqualFold(mt, "application/xhtml+xml")
}

// mediaType returns a Content-Type without its parameters, as written (not lower-cased).
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.TrimSpace(mt)
}

// sniffLen is how much of a body net/http looks at to guess its Content-Type.
const sniffLen = 512

func sniffsAsHTML(body []byte) bool {
	return isHTML(http.DetectContentType(body))
}
