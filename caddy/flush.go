package netjetcaddy

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// netjet sends a page's header, with the links found so far, as soon as the handler flushes:
// a page that streams its head early keeps doing so. Caddy's reverse_proxy, though, flushes
// every response of unknown length (PHP's, most application servers') right after its
// header, before any of the body has arrived, whatever flush_interval says. Passed on, that
// flush would send each page before netjet has read any of it: no Link header for a page not
// seen before, and Early Hints learned from whichever page happened to lose the race.
//
// So the module holds back a flush that comes while netjet still holds the response, and
// sends it once netjet has let the response go: from then on every write is flushed, as the
// handler asked. A response that netjet does not read (not HTML, not a page) goes out at
// once, and its flushes pass straight through.

// flushGate is what the writers on either side of netjet share about one response.
type flushGate struct {
	released bool // netjet has sent the final status on
	pending  bool // the handler flushed before that
}

// handlerWriter is the writer the handlers after netjet write to. It wraps netjet's own.
type handlerWriter struct {
	http.ResponseWriter // netjet's writer
	gate                *flushGate
}

// FlushError flushes through netjet once netjet has sent the response's status on, and
// otherwise remembers that the handler wants its bytes sent.
func (w *handlerWriter) FlushError() error {
	if !w.gate.released {
		w.gate.pending = true
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush is FlushError for callers of http.Flusher.
func (w *handlerWriter) Flush() { _ = w.FlushError() }

// ReadFrom keeps netjet's fast path for what it does not read.
func (w *handlerWriter) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{w}, src)
}

// Push pushes through netjet.
func (w *handlerWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Hijack hands the connection over through netjet, which sends what it holds first.
func (w *handlerWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach what the writers underneath offer.
func (w *handlerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// clientWriter is the writer netjet writes to: Caddy's, towards the client.
type clientWriter struct {
	http.ResponseWriter // Caddy's writer
	gate                *flushGate
}

func (w *clientWriter) WriteHeader(code int) {
	w.ResponseWriter.WriteHeader(code)
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.gate.released = true
	}
}

func (w *clientWriter) Write(b []byte) (int, error) {
	if !w.gate.released {
		w.gate.released = true // net/http sends 200 on the first write
	}
	n, err := w.ResponseWriter.Write(b)
	if err == nil && w.gate.pending {
		err = http.NewResponseController(w.ResponseWriter).Flush()
	}
	return n, err
}

// ReadFrom keeps the fast path (sendfile) of Caddy's writer, flushing after it if the
// handler had asked to.
func (w *clientWriter) ReadFrom(src io.Reader) (int64, error) {
	w.gate.released = true
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, src)
	}
	if err == nil && w.gate.pending {
		err = http.NewResponseController(w.ResponseWriter).Flush()
	}
	return n, err
}

// FlushError flushes Caddy's writer: netjet flushes only when it has let the response go.
func (w *clientWriter) FlushError() error {
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush is FlushError for callers of http.Flusher.
func (w *clientWriter) Flush() { _ = w.FlushError() }

// Push pushes through Caddy's writer, which knows whether the connection can.
func (w *clientWriter) Push(target string, opts *http.PushOptions) error {
	if p, ok := w.ResponseWriter.(http.Pusher); ok {
		return p.Push(target, opts)
	}
	return http.ErrNotSupported
}

// Unwrap lets http.ResponseController, and netjet, reach what Caddy's writer offers, such
// as Hijack and SetWriteDeadline.
func (w *clientWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writerOnly hides ReadFrom from io.Copy, which would otherwise call it again.
type writerOnly struct{ io.Writer }
