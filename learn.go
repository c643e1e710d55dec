package netjet

import (
	"hash/maphash"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
)

// What netjet learns from traffic is the links of each route's recent pages: they fill in what
// the head of a page cannot show when its header goes out (see preloadWriter), and they are
// what a 103 Early Hints response names before the handler runs.
//
// Anyone can send requests, so what one client's responses taught must not steer what another
// client is told. A route keeps the links of its latest complete responses to a few distinct
// clients, one response each. A link goes to a client only when
//
//   - the responses to sameOriginQuorum distinct clients all had it (crossOriginQuorum for a
//     link to another origin, which would send the visitor's browser elsewhere), or
//   - it is that caller's own: the caller's last two responses both had it.
//
// A client is an address as the handler sees it in Request.RemoteAddr (an IPv4 address, or an
// IPv6 /64, which one host usually holds whole); a caller is a client with its credentials
// (its Cookie and Authorization headers), so that two users behind one address never see each
// other's links. An attacker with fewer addresses than a quorum cannot make a link reach anyone
// else; a link in one user's pages only (a per-user URL) never reaches another user.
const (
	routeWindow       = 4 // distinct clients remembered per route: the largest quorum
	sameOriginQuorum  = 3
	crossOriginQuorum = 4
	// sampleEvery: once a route has heard from enough clients, one response in sampleEvery
	// is read to the end to keep its links current; the others are read up to their head.
	sampleEvery = 64
)

// learner remembers what routes taught. A nil *learner learns nothing.
type learner struct {
	// routes is a 2Q cache: a flood of requests for new routes (made-up hosts, paths, queries)
	// passes through its recent queue and cannot evict the routes that are asked for often.
	routes  *lru.TwoQueueCache[uint64, *routeState]
	seed    maphash.Seed
	route   func(*http.Request) string // Options.Route, or nil for host, path and query
	sampled atomic.Uint64
}

// routeState is what one route has taught. It is replaced, never changed, so readers need no lock.
type routeState struct {
	entries   []routeEntry // the latest first, one per client
	shared    []Link       // the links a quorum of clients' responses all had, in the latest's order
	earlyHint string       // shared as a 103's Link value, "" when none
}

// routeEntry is one client's latest complete response of a route.
type routeEntry struct {
	client, caller uint64
	last           []Link
	stable         []Link // the links of last that the caller's response before it had too
}

// visit names a request for the learner: its route and who sent it. A zero route is not learned.
type visit struct {
	route  uint64 // host, path and query as sent, and whether over TLS
	bare   uint64 // the same without the query, for a request with one; else 0
	client uint64
	caller uint64
}

func newLearner(o Options) *learner {
	if o.Routes < 0 {
		return nil
	}
	routes, err := lru.New2Q[uint64, *routeState](o.Routes)
	if err != nil {
		panic(err) // only for a size <= 0, which validated Options never give
	}
	return &learner{routes: routes, seed: maphash.MakeSeed(), route: o.Route}
}

// visit works out who sent r, and to which route. Keys are hashed with a seed of the process's
// own: what a client sends costs no memory here, and cannot be made to collide.
func (l *learner) visit(r *http.Request) visit {
	if l == nil {
		return visit{}
	}
	var v visit
	var h maphash.Hash
	h.SetSeed(l.seed)
	if r.TLS != nil {
		h.WriteString("https ")
	} else {
		h.WriteString("http ")
	}
	if l.route != nil {
		if name := l.route(r); name != "" {
			h.WriteString(name)
			v.route = h.Sum64()
		}
	} else {
		h.WriteString(r.Host)
		h.WriteByte(0)
		h.WriteString(r.URL.EscapedPath())
		v.route = h.Sum64()
		if r.URL.RawQuery != "" {
			// A page may depend on its query: it is learned as its own route. Until it
			// has taught something, the path's route, learned from requests without a
			// query, stands in for its 103.
			v.bare = v.route
			h.WriteByte('?')
			h.WriteString(r.URL.RawQuery)
			v.route = h.Sum64()
		}
	}
	h.Reset()
	writeClientAddr(&h, r.RemoteAddr)
	v.client = h.Sum64()
	for _, name := range [...]string{"Cookie", "Authorization"} {
		h.WriteByte(0)
		for _, value := range r.Header[name] {
			h.WriteString(value)
			h.WriteByte(1)
		}
	}
	v.caller = h.Sum64()
	return v
}

// writeClientAddr writes the part of a remote address that names a client: an IPv4 address,
// or the /64 of an IPv6 address. An address that is no IP (a Unix socket) is taken as it is.
func writeClientAddr(h *maphash.Hash, remoteAddr string) {
	var ip netip.Addr
	if ap, err := netip.ParseAddrPort(remoteAddr); err == nil {
		ip = ap.Addr() // what net/http's servers give: one parse, no copy
	} else {
		host, _, err := net.SplitHostPort(remoteAddr)
		if err != nil {
			host = remoteAddr
		}
		if ip, err = netip.ParseAddr(host); err != nil {
			h.WriteString(host)
			return
		}
	}
	if ip = ip.Unmap(); ip.Is4() {
		b := ip.As4()
		h.Write(b[:])
		return
	}
	b := ip.As16()
	h.Write(b[:8])
}

// state returns what the request's route has taught. For a 103 (bare), it falls back on the
// route without the query while the route with it has taught nothing: the stylesheets of a page
// seldom depend on its query. Its body's links may, and are not taken from another route.
func (l *learner) state(v visit, bare bool) *routeState {
	if l == nil || v.route == 0 {
		return nil
	}
	if st, ok := l.peek(v.route); ok {
		return st
	}
	if bare && v.bare != 0 {
		if st, ok := l.peek(v.bare); ok {
			return st
		}
	}
	return nil
}

// peek returns a route's state. Only a route that has heard from a quorum of distinct clients
// counts as asked for again: one client, or an attacker with fewer addresses than a quorum,
// asking for a made-up route twice must not move it among the routes a flood cannot evict.
func (l *learner) peek(key uint64) (*routeState, bool) {
	st, ok := l.routes.Peek(key)
	if ok && len(st.entries) >= sameOriginQuorum {
		l.routes.Get(key)
	}
	return st, ok
}

// links returns the links v's client may be told for its route: those a quorum of clients
// agreed on, then the caller's own.
func (st *routeState) links(v visit) []Link {
	if st == nil {
		return nil
	}
	own := st.own(v)
	switch {
	case len(own) == 0:
		return st.shared
	case len(st.shared) == 0:
		return own
	}
	out := slices.Clip(st.shared)
	for _, l := range own {
		if !slices.Contains(st.shared, l) {
			out = append(out, l)
		}
	}
	return out
}

// own returns the links the caller's own last two responses of the route had in common.
func (st *routeState) own(v visit) []Link {
	if e := st.entry(v); e != nil {
		return e.stable
	}
	return nil
}

// last returns the links of the caller's own last response of the route: what a HEAD after
// a GET expects to see.
func (st *routeState) last(v visit) []Link {
	if e := st.entry(v); e != nil {
		return e.last
	}
	return nil
}

// entry returns the caller's entry, if the route's latest from its client is the caller's.
func (st *routeState) entry(v visit) *routeEntry {
	for i := range st.entries {
		if e := &st.entries[i]; e.client == v.client {
			if e.caller == v.caller {
				return e
			}
			return nil
		}
	}
	return nil
}

// wantsWholeBody reports whether the response to v is worth reading to its end to learn from:
// the route's first responses to each of its first clients, and a caller's first two (which
// make its own links); after that, one response in sampleEvery, to keep the links current.
func (l *learner) wantsWholeBody(v visit) bool {
	if l == nil || v.route == 0 {
		return false
	}
	st, _ := l.routes.Peek(v.route)
	if st == nil {
		return true
	}
	i := slices.IndexFunc(st.entries, func(e routeEntry) bool { return e.client == v.client })
	switch {
	case i < 0 && len(st.entries) < routeWindow:
		return true
	case i >= 0 && (st.entries[i].caller != v.caller || st.entries[i].stable == nil):
		return true // the caller's own links are not known yet
	}
	return l.sampled.Add(1)%sampleEvery == 0
}

// record learns the links of a complete response to v, a 200 to a GET. hintBytes caps the 103.
func (l *learner) record(v visit, links []Link, hintBytes int) {
	if l == nil || v.route == 0 {
		return
	}
	prev, _ := l.routes.Peek(v.route)
	if prev != nil && len(prev.entries) > 0 {
		if e := &prev.entries[0]; e.client == v.client && e.caller == v.caller && sameLinks(e.last, links) &&
			sameLinks(e.stable, links) {
			l.peek(v.route) // nothing new: only mark the route as used
			return
		}
	}
	entry := routeEntry{client: v.client, caller: v.caller, last: links}
	st := &routeState{entries: make([]routeEntry, 0, routeWindow)}
	st.entries = append(st.entries, entry)
	if prev != nil {
		for _, e := range prev.entries {
			if e.client == v.client {
				if e.caller == v.caller {
					st.entries[0].stable = common(links, e.last)
				}
				continue
			}
			if len(st.entries) < routeWindow {
				st.entries = append(st.entries, e)
			}
		}
	}
	st.shared = st.agreed()
	st.earlyHint = renderEarlyHints(earlyHintLinks(st.shared), hintBytes)
	if len(st.entries) < sameOriginQuorum {
		// Replacing a route in the 2Q cache counts as asking for it again: see peek.
		l.routes.Remove(v.route)
	}
	l.routes.Add(v.route, st)
}

// agreed returns the links of the latest entry that the entries of enough distinct clients
// all had: sameOriginQuorum of them, or crossOriginQuorum for a link to another origin.
func (st *routeState) agreed() []Link {
	var out []Link
	for _, l := range st.entries[0].last {
		q := quorum(l)
		if len(st.entries) < q {
			continue
		}
		all := true
		for _, e := range st.entries[1:q] {
			if !slices.Contains(e.last, l) {
				all = false
				break
			}
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

// quorum returns how many distinct clients must have had l before any client is told of it.
func quorum(l Link) int {
	if isSameOrigin(l.URL) {
		return sameOriginQuorum
	}
	return crossOriginQuorum
}

// isSameOrigin reports whether a link's URL names a resource of the page's own origin: a path,
// or a relative URL. Scheme-relative (//host) and absolute URLs are taken as other origins.
func isSameOrigin(url string) bool {
	if strings.HasPrefix(url, "//") {
		return false
	}
	for i := 0; i < len(url); i++ {
		switch c := url[i]; {
		case c == ':':
			return false // a scheme
		case c == '/', c == '?', c == '#':
			return true
		}
	}
	return true
}

// sameLinks reports whether a and b hold the same links: at once when they are the same slice,
// as the links of one cached page version are each time.
func sameLinks(a, b []Link) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return true
	}
	return slices.Equal(a, b)
}

// common returns the links of cur that prev has too, in cur's order; cur itself when prev has
// them all, so that an unchanged page costs no copy.
func common(cur, prev []Link) []Link {
	for i, l := range cur {
		if slices.Contains(prev, l) {
			continue
		}
		out := slices.Clone(cur[:i])
		for _, l := range cur[i+1:] {
			if slices.Contains(prev, l) {
				out = append(out, l)
			}
		}
		return out
	}
	return cur
}
