package netjet

import (
	"hash/maphash"
	"net/http"
	"strings"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
)

// pageCache remembers the links of pages seen before, so that a page whose version is known
// (by its ETag) is not read again. A nil *pageCache remembers nothing.
//
// It is keyed as an HTTP cache would key the response: host, path and query as sent, the
// ETag, whether it went over TLS (mixed content is left out there), and the request headers
// its Vary names; a response marked private or no-store is one caller's own, and is keyed by
// the caller too. A 2Q cache: a flood of pages asked for once cannot evict those asked for
// often.
type pageCache struct {
	lru  *lru.TwoQueueCache[uint64, *pageLinks]
	seed maphash.Seed
}

func newPageCache(size int) *pageCache {
	if size < 0 {
		return nil
	}
	c, err := lru.New2Q[uint64, *pageLinks](size)
	if err != nil {
		panic(err) // only for size <= 0, which validated Options never give
	}
	return &pageCache{lru: c, seed: maphash.MakeSeed()}
}

// key returns the key of the response to r with header h, or 0 when it is not to be cached:
// no ETag, a status other than 200, or a Vary of "*". The key is a hash seeded per process:
// the URL and headers a client sends cost no memory here, and cannot be made to collide.
func (c *pageCache) key(r *http.Request, h http.Header, status int, v visit) uint64 {
	etag := h["Etag"]
	if c == nil || status != http.StatusOK || len(etag) == 0 || etag[0] == "" {
		return 0
	}
	var k maphash.Hash
	k.SetSeed(c.seed)
	field := func(s string) {
		k.WriteString(s)
		k.WriteByte(0)
	}
	if r.TLS != nil {
		field("https")
	} else {
		field("http")
	}
	field(r.Host)
	field(r.URL.EscapedPath())
	field(r.URL.RawQuery)
	// W/"x" and "x" name the same representation for what netjet reads from it.
	field(strings.TrimPrefix(strings.TrimSpace(etag[0]), "W/"))
	for _, vary := range h["Vary"] {
		for name := range strings.SplitSeq(vary, ",") {
			name = strings.TrimSpace(name)
			if name == "*" {
				return 0
			}
			field(strings.ToLower(name))
			for _, value := range r.Header.Values(name) {
				field(value)
			}
		}
	}
	if isPrivate(h) {
		if v.caller == 0 {
			return 0 // no learner to tell callers apart (Options.Routes < 0): not cached
		}
		var b [8]byte
		for i := range b {
			b[i] = byte(v.caller >> (8 * i))
		}
		k.Write(b[:])
	}
	return k.Sum64() | 1 // never 0, which means "not cached"
}

func (c *pageCache) get(k uint64) (*pageLinks, bool) {
	if c == nil || k == 0 {
		return nil, false
	}
	return c.lru.Get(k)
}

func (c *pageCache) add(k uint64, pl *pageLinks) {
	if c == nil || k == 0 {
		return
	}
	c.lru.Add(k, pl)
}

// isPrivate reports whether a response is meant for one user only.
func isPrivate(h http.Header) bool {
	for _, v := range h["Cache-Control"] {
		for d := range strings.SplitSeq(v, ",") {
			d, _, _ = strings.Cut(strings.TrimSpace(d), "=")
			if strings.EqualFold(d, "private") || strings.EqualFold(d, "no-store") {
				return true
			}
		}
	}
	return false
}

// headCache remembers, per page URL, the links of the last head netjet read to its end: a
// response whose body starts with the very same bytes has the very same head links, and the
// head is not read again. It needs no ETag: the bytes are compared, by a hash seeded per
// process, so no client can make one head pass for another. A nil *headCache remembers
// nothing.
type headCache struct {
	lru  *lru.TwoQueueCache[uint64, *headEntry]
	seed maphash.Seed
}

// headEntry is a head read before: its first n bytes hash to sum, and hold links.
type headEntry struct {
	n     int
	sum   uint64
	links []Link
	// last is the Link header last made from this head, and what it was made with.
	last atomic.Pointer[headLinks]
}

// headLinks is a page's links made from a head and what a route taught one caller.
type headLinks struct {
	route  *routeState
	caller uint64
	pl     *pageLinks
}

func newHeadCache(size int) *headCache {
	if size < 0 {
		return nil
	}
	c, err := lru.New2Q[uint64, *headEntry](size)
	if err != nil {
		panic(err)
	}
	return &headCache{lru: c, seed: maphash.MakeSeed()}
}

// key names the page a response is for: host, path and query as sent, over TLS or not.
func (c *headCache) key(r *http.Request) uint64 {
	if c == nil {
		return 0
	}
	var h maphash.Hash
	h.SetSeed(c.seed)
	if r.TLS != nil {
		h.WriteString("https\x00")
	}
	h.WriteString(r.Host)
	h.WriteByte(0)
	h.WriteString(r.URL.EscapedPath())
	h.WriteByte('?')
	h.WriteString(r.URL.RawQuery)
	return h.Sum64() | 1
}

// get returns the page's last head, if any, and whether doc begins with it; doc shorter
// than the head can tell neither.
func (c *headCache) get(key uint64, doc []byte) (e *headEntry, same bool) {
	if c == nil {
		return nil, false
	}
	e, ok := c.lru.Peek(key)
	if !ok || len(doc) < e.n {
		return e, false
	}
	if maphash.Bytes(c.seed, doc[:e.n]) != e.sum {
		return e, false
	}
	c.lru.Get(key)
	return e, true
}

// add remembers that the first n bytes of doc are a head with links.
func (c *headCache) add(key uint64, doc []byte, n int, links []Link) {
	if c == nil {
		return
	}
	c.lru.Add(key, &headEntry{n: n, sum: maphash.Bytes(c.seed, doc[:n]), links: links})
}
