package netjet

import (
	"net/http"
	"slices"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
)

// routeHintsSize is how many routes Early Hints remembers. A route costs a few hundred bytes.
const routeHintsSize = 4096

// routeHints learns, per route, the links that the route's pages have in common, and sends
// them as a 103 Early Hints response when the next navigation to the route arrives, before
// the handler has produced anything. A nil *routeHints does nothing.
type routeHints struct {
	routes   *lru.Cache[string, *routeState]
	route    func(*http.Request) string
	http1    bool
	maxBytes int
}

// routeState is what one route has taught. It is replaced, never changed, so readers need no lock.
type routeState struct {
	last []Link // the hint-safe links of the route's last response
	hint string // the Link value of the 103: the links its last two responses had in common
}

func newRouteHints(o Options) *routeHints {
	if !o.EarlyHints {
		return nil
	}
	routes, err := lru.New[string, *routeState](routeHintsSize)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	route := o.EarlyHintsRoute
	if route == nil {
		route = hostAndPath
	}
	return &routeHints{routes: routes, route: route, http1: o.EarlyHintsHTTP1, maxBytes: o.MaxHeaderBytes}
}

// hostAndPath is the default route of a request: one page, whatever its query.
func hostAndPath(r *http.Request) string { return r.Host + r.URL.Path }

// send writes a 103 Early Hints response with the route's learned links, if it has any and
// the request is one that a browser uses a 103 for: a GET navigation over HTTP/2 or later.
func (rh *routeHints) send(rw http.ResponseWriter, r *http.Request) {
	if rh == nil || r.Header.Get("Sec-Fetch-Mode") != "navigate" || !rh.protoAllowed(r) {
		return
	}
	key := rh.route(r)
	if key == "" {
		return
	}
	st, ok := rh.routes.Get(key)
	if !ok || st.hint == "" {
		return
	}
	// WriteHeader(103) sends every header already set and leaves them in place. Headers set
	// earlier in the chain (cookies, say) must not go out in a hint, and must still be there
	// for the final response: set them aside while the 103 goes out.
	h := rw.Header()
	saved := make(http.Header, len(h))
	for k, v := range h {
		saved[k] = v
		delete(h, k)
	}
	h["Link"] = []string{st.hint}
	rw.WriteHeader(http.StatusEarlyHints)
	delete(h, "Link")
	for k, v := range saved {
		h[k] = v
	}
}

// protoAllowed reports whether a 103 may go to this connection. HTTP/1.0 has no 1xx
// responses at all, and some HTTP/1.1 clients and proxies mishandle them.
func (rh *routeHints) protoAllowed(r *http.Request) bool {
	return r.ProtoMajor >= 2 || rh.http1 && r.ProtoMajor == 1 && r.ProtoMinor >= 1
}

// learn records the links of a final response of r's route. A link becomes a hint only when
// the route's last two responses both had it, so that per-user URLs (signed avatars, nonces)
// never reach another user; responses that are private to one user teach nothing.
func (rh *routeHints) learn(r *http.Request, status int, h http.Header, pl *pageLinks) {
	if rh == nil || r.Method != http.MethodGet || status != http.StatusOK || isPrivate(h) {
		return
	}
	key := rh.route(r)
	if key == "" {
		return
	}
	links := pl.hints // worked out once per page version, not per response
	prev, _ := rh.routes.Peek(key)
	if prev != nil && slices.Equal(prev.last, links) && prev.hint != "" {
		rh.routes.Get(key) // nothing new: only mark the route as recently used
		return
	}
	st := &routeState{last: links}
	if prev != nil {
		st.hint = rh.render(commonLinks(links, prev.last))
	}
	rh.routes.Add(key, st)
}

// isPrivate reports whether a response is meant for one user only.
func isPrivate(h http.Header) bool {
	for _, v := range h["Cache-Control"] {
		for _, d := range strings.Split(v, ",") {
			d, _, _ = strings.Cut(strings.TrimSpace(d), "=")
			if strings.EqualFold(d, "private") || strings.EqualFold(d, "no-store") {
				return true
			}
		}
	}
	return false
}

// hintLinks returns the links worth a 103: those that block the first render. A 103 starts
// its fetches before the page, each at the priority of its as (a deferred script's preload as
// urgently as a blocking one), so anything else hinted (a deferred or module script, an
// image, a font) takes bandwidth from the stylesheets and blocking scripts that the page
// paints after. Measured in Chromium on a slow link (examples/speedtest), hinting every
// link made the demo paint 16% later than no hints at all; hinting also its font and hero
// image, 6% later; hinting only what blocks rendering, sooner. So: stylesheets, blocking
// scripts, the author's own preloads of styles and scripts, and preconnects, which cost no
// bandwidth.
//
// They are also cut to what browsers accept in a 103: Chrome drops a hint that carries any
// parameter beyond rel, as, crossorigin, type and fetchpriority. A stylesheet for media
// "screen" is one for every screen, and goes without its media.
func hintLinks(links []Link) []Link {
	var out []Link
	for _, l := range links {
		switch {
		case l.class == classStyle, l.class == classBlockingScript:
		case l.class == classHint && (l.Rel == "preconnect" || l.Rel == "preload" && (l.As == "style" || l.As == "script")):
		default:
			continue
		}
		if strings.EqualFold(l.Media, "screen") {
			l.Media = ""
		}
		if l.Media != "" || l.Integrity != "" {
			continue
		}
		out = append(out, Link{
			URL: l.URL, Rel: l.Rel, As: l.As, CrossOrigin: l.CrossOrigin, Type: l.Type,
			FetchPriority: l.FetchPriority, Kind: l.Kind, class: l.class,
		})
	}
	return out
}

// commonLinks returns the links of cur that prev has too, in cur's order.
func commonLinks(cur, prev []Link) []Link {
	var out []Link
	for _, l := range cur {
		if slices.Contains(prev, l) {
			out = append(out, l)
		}
	}
	return out
}

// render joins hint links into one Link value within the byte cap, without Options.Attributes:
// Chrome ignores a hint with a parameter it does not know, "nopush" included.
func (rh *routeHints) render(links []Link) string {
	var b []byte
	for _, l := range links {
		n := len(b)
		if n > 0 {
			b = append(b, ", "...)
		}
		b = l.appendTo(b)
		if rh.maxBytes >= 0 && len(b) > rh.maxBytes {
			b = b[:n]
			break
		}
	}
	return string(b)
}
