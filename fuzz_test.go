package netjet_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/http/httpguts"

	"github.com/netjet-go/netjet"
)

// FuzzLinks feeds any document, whole and cut at any point, through Links with the default
// caps and with none. A cut stands for what the middleware reads when a handler flushes or the
// body outgrows the buffer.
func FuzzLinks(f *testing.F) {
	capped := mustPreloader(f, netjet.Options{})
	all := mustPreloader(f, uncapped)
	f.Fuzz(func(t *testing.T, doc []byte, cut uint) {
		const docURL = "/blog/post"
		full := all.Links(doc, docURL)
		checkLinks(t, full, noCaps)
		checkLinks(t, capped.Links(doc, docURL), defaultCaps)

		prefix := doc[:cut%uint(len(doc)+1)]
		cutCapped, cutAll := capped.Links(prefix, docURL), all.Links(prefix, docURL)
		checkLinks(t, cutCapped, defaultCaps)
		checkLinks(t, cutAll, noCaps)
		fullURLs := map[string]bool{}
		for _, l := range full {
			fullURLs[l.URL] = true
		}
		for _, l := range slices.Concat(cutCapped, cutAll) {
			require.True(t, fullURLs[l.URL], "a cut at %d preloads %q, which the whole document does not", len(prefix), l.URL)
		}

		// A Link built by hand from any strings is still safe to send, as String promises.
		half := len(prefix) / 2
		l := netjet.Link{
			URL: string(prefix), Rel: string(doc[:half]), As: string(prefix[half:]), CrossOrigin: string(doc[half:]),
			Type: string(prefix[:half]), Media: string(doc), Integrity: string(prefix[half:]),
			FetchPriority: string(doc[:half]), ReferrerPolicy: string(prefix), ImageSrcset: string(doc[half:]),
			ImageSizes: string(prefix[:half]),
		}
		s := l.String()
		lvs, err := parseLinkHeader(s)
		require.NoError(t, err, "Link.String() of a hand-built link = %q", s)
		require.Len(t, lvs, 1)
		require.True(t, httpguts.ValidHeaderFieldValue(s), "%q", s)
	})
}

// A fuzzed handler's choices. FuzzMiddleware decodes them from its arguments.
var (
	scriptStatuses = []int{http.StatusOK, http.StatusNoContent, http.StatusNotModified, http.StatusNotFound,
		http.StatusInternalServerError}
	// scriptContentTypes: "" leaves Content-Type unset (net/http sniffs); "nil" sets a nil entry,
	// which tells net/http not to sniff.
	scriptContentTypes = []string{"text/html", "TEXT/HTML; charset=utf-8", "application/xhtml+xml", "application/json", "", "nil"}
)

const (
	flagHead         = 1 << iota // a HEAD request, else GET
	flagETag                     // an ETag derived from the response, so the cache is right to reuse links
	flagLength                   // Content-Length set, and correct
	flagEarlyHints               // a 103 before anything else
	flagWriteHeader              // WriteHeader(200) called, else left to the first Write
	flagOwnLink                  // the handler sets a Link header of its own
	flagFlushAtStart             // a Flush before the first Write
)

// handlerOwnLink is the Link header a scripted handler sets with flagOwnLink.
const handlerOwnLink = "</own.css>; rel=preload; as=style"

// handlerScript is what one scripted response does; the server looks it up by the request's
// scriptHeader, so that one server pair serves a whole fuzz run.
type handlerScript struct {
	status      int
	contentType string
	flags       uint8
	etag        string
	writes      []int // sizes; the rest of the body goes in one last write
	flushAfter  []bool
	body        []byte
}

// decodeScript builds a script from fuzz arguments. Each byte of writes is one Write: its low
// six bits plus one are the size, times 64 with bit 6; bit 7 flushes after it.
func decodeScript(status, contentType, flags uint8, writes, body []byte) *handlerScript {
	s := &handlerScript{
		status:      scriptStatuses[int(status)%len(scriptStatuses)],
		contentType: scriptContentTypes[int(contentType)%len(scriptContentTypes)],
		flags:       flags,
		body:        body,
	}
	left := len(body)
	for _, b := range writes {
		if left == 0 {
			break
		}
		n := int(b&0x3f) + 1
		if b&0x40 != 0 {
			n *= 64
		}
		n = min(n, left)
		left -= n
		s.writes = append(s.writes, n)
		s.flushAfter = append(s.flushAfter, b&0x80 != 0)
	}
	if left > 0 {
		s.writes = append(s.writes, left)
		s.flushAfter = append(s.flushAfter, false)
	}
	if flags&flagETag != 0 {
		sum := sha256.Sum256(append([]byte(s.contentType+"\x00"), body...))
		s.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
	}
	return s
}

func (s *handlerScript) serve(w http.ResponseWriter) {
	if s.flags&flagEarlyHints != 0 {
		w.WriteHeader(http.StatusEarlyHints)
	}
	h := w.Header()
	switch s.contentType {
	case "":
	case "nil":
		h["Content-Type"] = nil
	default:
		h.Set("Content-Type", s.contentType)
	}
	if s.etag != "" {
		h.Set("ETag", s.etag)
	}
	if s.flags&flagLength != 0 {
		h.Set("Content-Length", strconv.Itoa(len(s.body)))
	}
	if s.flags&flagOwnLink != 0 {
		h.Set("Link", handlerOwnLink)
	}
	if s.status != http.StatusOK || s.flags&flagWriteHeader != 0 {
		w.WriteHeader(s.status)
	}
	if s.flags&flagFlushAtStart != 0 {
		w.(http.Flusher).Flush()
	}
	off := 0
	for i, n := range s.writes {
		_, _ = w.Write(s.body[off : off+n]) // 204, 304 and HEAD refuse bodies: as the plain server
		off += n
		if s.flushAfter[i] {
			w.(http.Flusher).Flush()
		}
	}
}

// mayAddLinks reports whether netjet may touch the Link header of this response at all.
func (s *handlerScript) mayAddLinks() bool {
	switch s.status {
	case http.StatusNoContent, http.StatusNotModified:
		return false
	}
	return s.contentType != "nil" && s.contentType != "application/json"
}

// scriptHeader names the request header that carries a script's key.
const scriptHeader = "X-Handler-Script"

// scriptedServers serves handler scripts straight and behind netjet, on real servers, and
// fetches each script from all of them with a real client.
type scriptedServers struct {
	scripts sync.Map // key -> *handlerScript
	next    atomic.Int64
	plain   *httptest.Server
	netjet  map[string]*scriptedMiddleware
}

type scriptedMiddleware struct {
	srv       *httptest.Server
	opts      netjet.Options
	maxBuffer int
	caps      linkCaps
	// links computes every link of a document for this middleware's options, without caps.
	links *netjet.Preloader
}

func newScriptedServers(tb testing.TB, variants map[string]netjet.Options) *scriptedServers {
	ss := &scriptedServers{netjet: map[string]*scriptedMiddleware{}}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := ss.scripts.Load(r.Header.Get(scriptHeader))
		if !ok {
			http.Error(w, "no such script", http.StatusTeapot)
			return
		}
		s.(*handlerScript).serve(w)
	})
	ss.plain = httptest.NewServer(handler)
	tb.Cleanup(ss.plain.Close)
	for name, opts := range variants {
		m := &scriptedMiddleware{opts: opts, maxBuffer: opts.MaxBufferBytes, caps: linkCaps{opts.MaxLinks, opts.MaxImages, opts.MaxHeaderBytes}}
		if m.maxBuffer == 0 {
			m.maxBuffer = netjet.DefaultMaxBufferBytes
		}
		if opts.MaxLinks == 0 {
			m.caps = defaultCaps
		}
		links := opts
		links.CacheSize, links.MaxLinks, links.MaxImages, links.MaxHeaderBytes = -1, -1, -1, -1
		m.links = mustPreloader(tb, links)
		m.srv = httptest.NewServer(mustPreloader(tb, opts).Handler(handler))
		tb.Cleanup(m.srv.Close)
		ss.netjet[name] = m
	}
	return ss
}

// fetched is what a client saw of one response.
type fetched struct {
	status           int
	informational    []int
	header           http.Header
	transferEncoding []string
	body             []byte
	bodyErr          error
}

func (ss *scriptedServers) fetch(t *testing.T, srv *httptest.Server, key, method string) fetched {
	// Each script has a page of its own: a route learns nothing from another script's pages.
	t.Helper()
	var got fetched
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
		mu.Lock()
		defer mu.Unlock()
		got.informational = append(got.informational, code)
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), method, srv.URL+"/page/"+key, nil)
	require.NoError(t, err)
	req.Header.Set(scriptHeader, key)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got.body, got.bodyErr = io.ReadAll(resp.Body)
	mu.Lock()
	defer mu.Unlock()
	got.status, got.header, got.transferEncoding = resp.StatusCode, resp.Header, resp.TransferEncoding
	return got
}

// check serves s from every server and compares each netjet response with the plain one.
func (ss *scriptedServers) check(t *testing.T, s *handlerScript) {
	key := strconv.FormatInt(ss.next.Add(1), 10)
	ss.scripts.Store(key, s)
	defer ss.scripts.Delete(key)
	method := http.MethodGet
	if s.flags&flagHead != 0 {
		method = http.MethodHead
	}
	want := ss.fetch(t, ss.plain, key, method)
	for name, m := range ss.netjet {
		got := ss.fetch(t, m.srv, key, method)
		require.Equal(t, want.status, got.status, "%s: status", name)
		require.Equal(t, want.informational, got.informational, "%s: 1xx responses", name)
		require.Equal(t, want.bodyErr == nil, got.bodyErr == nil, "%s: body error %v, plain server's %v", name, got.bodyErr, want.bodyErr)
		require.True(t, bytes.Equal(want.body, got.body), "%s: body differs: %d bytes, plain server sent %d", name, len(got.body), len(want.body))
		require.Equal(t, want.transferEncoding, got.transferEncoding, "%s: Transfer-Encoding", name)
		require.Equal(t, withoutLinkAndDate(want.header), withoutLinkAndDate(got.header), "%s: header", name)
		t.Run(name, func(t *testing.T) { m.checkLink(t, s, "/page/"+key, method, want.header["Link"], got.header["Link"]) })
	}
}

func withoutLinkAndDate(h http.Header) http.Header {
	h = h.Clone()
	delete(h, "Link")
	delete(h, "Date")
	return h
}

// checkLink asserts that netjet's Link header is the handler's own, then at most one value
// of its own, within the caps, that names only links of the page: the header may go out at
// any point of the body, and the page is read as far as it is in hand.
func (m *scriptedMiddleware) checkLink(t *testing.T, s *handlerScript, path, method string, plain, got []string) {
	t.Helper()
	if !s.mayAddLinks() {
		require.Equal(t, plain, got, "netjet must not touch the Link header of this response")
		return
	}
	require.GreaterOrEqual(t, len(got), len(plain))
	require.True(t, slices.Equal(plain, got[:len(plain)]), "the handler's own Link values %q come first, unchanged: %q", plain, got)
	added := got[len(plain):]
	require.LessOrEqual(t, len(added), 1, "netjet adds one Link value: %q", added)
	var urls []string
	for _, v := range got {
		urls = append(urls, checkLinkHeaderValue(t, v)...)
	}
	for i, u := range urls {
		require.NotContains(t, urls[:i], u, "URL %q twice in Link %q", u, got)
	}
	if m.caps.headerBytes >= 0 {
		require.LessOrEqual(t, len(strings.Join(got, ", ")), m.caps.headerBytes, "Link %q", got)
	}

	if len(added) == 0 {
		return
	}
	own := joinLinks(m.links.Links(s.body, path))
	for _, u := range checkLinkHeaderValue(t, added[0]) {
		require.True(t, strings.Contains(own, "<"+u+">"), "added URL %q is not among the page's links %q", u, own)
	}
}

// FuzzMiddleware serves scripted handlers behind netjet and behind nothing, over real
// connections: the client must see the same status, 1xx responses, header (but Link and
// Date) and body byte for byte, and a Link header that is valid and holds the page's links.
func FuzzMiddleware(f *testing.F) {
	ss := newScriptedServers(f, map[string]netjet.Options{
		"default": {},
		// A tiny buffer without a cache: every long page overflows, so the header goes out
		// mid-document, and the expected links are exactly those of what went out first.
		"small-buffer": {MaxBufferBytes: 100, CacheSize: -1, MaxLinks: -1, MaxImages: -1, MaxHeaderBytes: -1},
		// Read as it arrives, and final after two stylesheets: the header may go out before
		// the handler is done, with links that must be those of the whole page.
		"final-early": {Kinds: netjet.Styles, CacheSize: -1, MaxLinks: 2, MaxImages: 2, MaxHeaderBytes: 1000},
	})
	f.Fuzz(func(t *testing.T, status, contentType, flags uint8, writes, body []byte) {
		s := decodeScript(status, contentType, flags, writes, body)
		ss.check(t, s)
	})
}
