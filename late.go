package netjet

import (
	"hash/maphash"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/netjet-go/netjet/internal/urlref"
)

// What a page's HTML cannot name is what its stylesheets name: the stylesheets they @import,
// the fonts of their @font-face rules, the images of their backgrounds. A browser finds those
// one round trip (or more) after the stylesheet, and asks for them with Sec-Fetch-Dest style,
// font or image and the stylesheet as Referer. netjet learns them from those requests, when
// they pass through the same Preloader as the pages: only what browsers actually fetched for a
// stylesheet, never every face a font family declares.
//
// What one client's requests taught reaches another client under the rule of learn.go: the
// requests of three distinct clients for the same resource with the same stylesheet as Referer,
// or the caller's own earlier request. A resource is always of the site's own origin: it is a
// request the site served.
const (
	maxSheetResources = 8 // late resources remembered per stylesheet
	maxImportDepth    = 3 // @import levels followed
)

// lateResources remembers, per stylesheet, the resources browsers fetched because of it. A nil
// *lateResources learns nothing.
type lateResources struct {
	sheets *lru.TwoQueueCache[uint64, *sheetState]
	seed   maphash.Seed
	any    atomic.Bool // a stylesheet has taught something: asked on every response, without a lock
}

// sheetState is what one stylesheet has taught. It is replaced, never changed.
type sheetState struct {
	resources []lateResource // the latest first
	origins   []lateResource // preconnects to the other origins its body named (stylesheet.go)
}

// lateResource is one resource fetched because of a stylesheet, or one origin its body named,
// and who fetched it (or got a body naming it).
type lateResource struct {
	link    Link
	clients []uint64 // distinct clients, at most the link's quorum
	callers []uint64 // the latest callers, at most routeWindow
}

func newLateResources(o Options) *lateResources {
	if o.Routes < 0 {
		return nil
	}
	sheets, err := lru.New2Q[uint64, *sheetState](max(o.Routes/4, 64))
	if err != nil {
		panic(err)
	}
	return &lateResources{sheets: sheets, seed: maphash.MakeSeed()}
}

// key names a stylesheet by the origin it was served from and its path and query.
func (lr *lateResources) key(overTLS bool, host, pathAndQuery string) uint64 {
	var h maphash.Hash
	h.SetSeed(lr.seed)
	if overTLS {
		h.WriteString("https ")
	} else {
		h.WriteString("http ")
	}
	h.WriteString(host)
	h.WriteByte(0)
	h.WriteString(pathAndQuery)
	return h.Sum64()
}

// observe learns from a request that a browser made because of a stylesheet, once its response
// is known: a 200 to a GET with Sec-Fetch-Dest style, font or image and, as Referer, a
// stylesheet of the same origin (a path ending in .css).
func (lr *lateResources) observe(r *http.Request, v visit, status int, h http.Header) {
	if lr == nil || r.Method != http.MethodGet || status != http.StatusOK {
		return
	}
	dest := first(r.Header["Sec-Fetch-Dest"]) // net/http canonicalizes the keys it reads
	if dest != "style" && dest != "font" && dest != "image" {
		return
	}
	ref, err := url.Parse(first(r.Header["Referer"]))
	if err != nil || ref.Host != r.Host || !strings.HasSuffix(ref.Path, ".css") ||
		(ref.Scheme == "https") != (r.TLS != nil) {
		return
	}
	l := Link{URL: r.URL.RequestURI(), Rel: "preload", As: dest, inBody: true, late: true}
	switch dest {
	case "style":
		l.class = classStyle
	case "font":
		// A font is always fetched in CORS mode: a preload without crossorigin would be
		// fetched again.
		l.class, l.CrossOrigin = classHint, "anonymous"
		if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "font/") {
			l.Type = mt
		}
	case "image":
		l.class = classImage
	}
	if len(l.URL) > 512 {
		return // a path that long is no stylesheet's resource worth hinting
	}
	key := lr.key(r.TLS != nil, r.Host, ref.RequestURI())
	prev, _ := lr.sheets.Peek(key)
	st := &sheetState{}
	found := false
	if prev != nil {
		st.origins = prev.origins
		for _, res := range prev.resources {
			if res.link != l {
				st.resources = append(st.resources, res)
				continue
			}
			found = true
			if slices.Contains(res.clients, v.client) && slices.Contains(res.callers, v.caller) {
				lr.peek(key) // nothing new: only mark the stylesheet as used
				return
			}
			st.resources = append([]lateResource{res.seenBy(v)}, st.resources...)
		}
	}
	if !found {
		st.resources = append([]lateResource{lateResource{link: l}.seenBy(v)}, st.resources...)
	}
	st.resources = st.resources[:min(len(st.resources), maxSheetResources)]
	lr.store(key, st)
}

// observeSheet learns from the body of a stylesheet that a browser asked for, as served to v:
// the other origins it named (sheetOrigins). As for a route's links, an origin reaches other
// clients once the latest bodies served to a quorum of distinct clients all named it: an
// origin a body no longer names loses v's client and caller.
func (lr *lateResources) observeSheet(r *http.Request, v visit, origins []Link) {
	if lr == nil {
		return
	}
	key := lr.key(r.TLS != nil, r.Host, r.URL.RequestURI())
	prev, _ := lr.sheets.Peek(key)
	if prev == nil && len(origins) == 0 {
		return
	}
	st := &sheetState{}
	changed := false
	if prev != nil {
		st.resources = prev.resources
		for _, res := range prev.origins {
			switch named := slices.Contains(origins, res.link); {
			case named && slices.Contains(res.clients, v.client) && slices.Contains(res.callers, v.caller):
			case named:
				res, changed = res.seenBy(v), true
			case slices.Contains(res.clients, v.client) || slices.Contains(res.callers, v.caller):
				res, changed = res.notSeenBy(v), true
				if len(res.clients) == 0 && len(res.callers) == 0 {
					continue
				}
			}
			st.origins = append(st.origins, res)
		}
	}
	for _, l := range origins {
		if !slices.ContainsFunc(st.origins, func(res lateResource) bool { return res.link == l }) {
			st.origins = append(st.origins, lateResource{link: l}.seenBy(v))
			changed = true
		}
	}
	if !changed {
		lr.peek(key) // nothing new: only mark the stylesheet as used
		return
	}
	st.origins = st.origins[:min(len(st.origins), maxSheetOrigins)]
	lr.store(key, st)
}

// store puts a stylesheet's new state in place of the old.
func (lr *lateResources) store(key uint64, st *sheetState) {
	if !st.shared() {
		// Replacing a stylesheet in the 2Q cache counts as asking for it again: see peek.
		lr.sheets.Remove(key)
	}
	lr.sheets.Add(key, st)
	lr.any.Store(true)
}

// peek returns a stylesheet's state. Only a stylesheet with a resource that a quorum of
// distinct clients fetched counts as asked for again: an attacker with fewer addresses than a
// quorum, fetching for made-up stylesheets again and again, must not move them among those a
// flood cannot evict.
func (lr *lateResources) peek(key uint64) (*sheetState, bool) {
	st, ok := lr.sheets.Peek(key)
	if ok && st.shared() {
		lr.sheets.Get(key)
	}
	return st, ok
}

// shared reports whether a stylesheet has a resource that may be told to any client.
func (st *sheetState) shared() bool {
	return slices.ContainsFunc(st.resources, lateResource.shared) || slices.ContainsFunc(st.origins, lateResource.shared)
}

// shared reports whether res may be told to any client: a quorum of distinct clients had it.
func (res lateResource) shared() bool { return len(res.clients) >= quorum(res.link) }

// first returns the first of a header's values, or "".
func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// seenBy returns res with v's client and caller among those who fetched it.
func (res lateResource) seenBy(v visit) lateResource {
	if !slices.Contains(res.clients, v.client) && len(res.clients) < quorum(res.link) {
		res.clients = append(slices.Clip(res.clients), v.client)
	}
	if !slices.Contains(res.callers, v.caller) {
		res.callers = append([]uint64{v.caller}, res.callers[:min(len(res.callers), routeWindow-1)]...)
	}
	return res
}

// notSeenBy returns res without v's client and caller.
func (res lateResource) notSeenBy(v visit) lateResource {
	res.clients = slices.DeleteFunc(slices.Clone(res.clients), func(c uint64) bool { return c == v.client })
	res.callers = slices.DeleteFunc(slices.Clone(res.callers), func(c uint64) bool { return c == v.caller })
	return res
}

// none reports whether no stylesheet has taught anything yet.
func (lr *lateResources) none() bool { return lr == nil || !lr.any.Load() }

// links returns the late resources of the same-origin stylesheets among links that v may be
// told of, following @imports, without the URLs links has already.
func (lr *lateResources) links(r *http.Request, v visit, links []Link) []Link {
	if lr.none() {
		return nil
	}
	var out []Link
	sheets := links
	for depth := 0; depth < maxImportDepth && len(sheets) > 0; depth++ {
		var imports []Link
		for _, sheet := range sheets {
			if sheet.As != "style" || !isSameOrigin(sheet.URL) {
				continue
			}
			st, ok := lr.peek(lr.key(r.TLS != nil, r.Host, urlref.Resolve(r.URL.EscapedPath(), sheet.URL)))
			if !ok {
				continue
			}
			for _, list := range [2][]lateResource{st.origins, st.resources} {
				for _, res := range list {
					if !res.shared() && !slices.Contains(res.callers, v.caller) {
						continue
					}
					if hasURL(links, res.link.URL) || hasURL(out, res.link.URL) {
						continue
					}
					out = append(out, res.link)
					if res.link.As == "style" {
						imports = append(imports, res.link)
					}
				}
			}
		}
		sheets = imports
	}
	return out
}

// withLate returns links with the late resources of its stylesheets that v may be told of.
func (p *Preloader) withLate(r *http.Request, v visit, links []Link) []Link {
	if late := p.late.links(r, v, links); len(late) > 0 {
		return p.merge(links, true, late)
	}
	return links
}
