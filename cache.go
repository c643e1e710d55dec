package netjet

import (
	"hash/maphash"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
)

// pageKey names one version of one page. netjet 1.4 keyed on the ETag alone, so two pages
// that shared an ETag shared their links; the path is part of the key here.
// A page without an ETag is named by a hash of its body instead.
type pageKey struct {
	path string
	etag string // without the W/ of a weak ETag: both name the same representation for this
	sum  uint64 // the body's hash, for a page without an ETag
	// overTLS: the links of a page sent over TLS leave out mixed content (see
	// blockedOverHTTPS), so a page served over both has two entries.
	overTLS bool
}

// named reports whether the key names a version of a page: by ETag, or by the body's hash.
func (k pageKey) named() bool { return k.etag != "" || k.sum != 0 }

// pageCache remembers the links of pages seen before. A nil *pageCache remembers nothing.
type pageCache struct {
	lru  *lru.Cache[pageKey, *pageLinks]
	seed maphash.Seed
}

func newPageCache(size int) *pageCache {
	if size < 0 {
		return nil
	}
	c, err := lru.New[pageKey, *pageLinks](size)
	if err != nil {
		panic(err) // only for size <= 0, which validated Options never give
	}
	return &pageCache{lru: c, seed: maphash.MakeSeed()}
}

func (c *pageCache) get(k pageKey) (*pageLinks, bool) {
	if c == nil || !k.named() {
		return nil, false
	}
	return c.lru.Get(k)
}

func (c *pageCache) add(k pageKey, pl *pageLinks) {
	if c == nil || !k.named() {
		return
	}
	c.lru.Add(k, pl)
}

// sum hashes a body, to name a page without an ETag; 0 when there is no cache to look in.
// The hash is seeded per process, so a page cannot be written to collide with another.
func (c *pageCache) sum(body []byte) uint64 {
	if c == nil {
		return 0
	}
	return maphash.Bytes(c.seed, body) | 1 // never 0, which means "no hash"
}

// etagKey returns the part of an ETag header that identifies the representation.
func etagKey(etag string) string {
	return strings.TrimPrefix(strings.TrimSpace(etag), "W/")
}
