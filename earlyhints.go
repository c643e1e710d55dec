package netjet

import (
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"strings"
)

// Why a navigation got no 103, as Stats counts it and Options.Logger says it.
const (
	noEarlyHintsNotNavigation = "not a GET navigation (Sec-Fetch-Mode: navigate)"
	noEarlyHintsProtocol      = "HTTP/1.x: Early Hints go to HTTP/2 and HTTP/3 only (see Options.EarlyHintsHTTP1)"
	noEarlyHintsWriter        = "the ResponseWriter is not known to pass a 1xx on as informational"
	noEarlyHintsNotLearned    = "the route has taught nothing to hint yet (its latest responses to distinct clients do not agree yet)"
)

// sendEarlyHints writes a 103 Early Hints response with the links that block the first render
// of v's route, as learned, if the request is one that a browser uses a 103 for: a GET
// navigation over HTTP/2 or later (or HTTP/1.1 with Options.EarlyHintsHTTP1).
func (p *Preloader) sendEarlyHints(rw http.ResponseWriter, r *http.Request, v visit) {
	switch {
	case r.Method != http.MethodGet || first(r.Header["Sec-Fetch-Mode"]) != "navigate":
		p.noEarlyHints(r, noEarlyHintsNotNavigation, &p.stats.noEarlyHintsNotNavigation)
		return
	case !(r.ProtoMajor >= 2 || p.opts.EarlyHintsHTTP1 && r.ProtoMajor == 1 && r.ProtoMinor >= 1):
		// HTTP/1.0 has no 1xx responses at all, and some HTTP/1.1 clients and proxies
		// mishandle them.
		p.noEarlyHints(r, noEarlyHintsProtocol, &p.stats.noEarlyHintsProtocol)
		return
	case !carries1xx(rw):
		p.noEarlyHints(r, noEarlyHintsWriter, &p.stats.noEarlyHintsWriter)
		return
	}
	st := p.learner.state(v, true)
	value := ""
	if st != nil {
		value = st.earlyHint
		links := st.links(v)
		if withLate := p.withLate(r, v, links); len(withLate) != len(links) || len(st.own(v)) > 0 {
			value = renderEarlyHints(earlyHintLinks(withLate), p.opts.MaxHeaderBytes)
		}
	}
	if value == "" {
		p.noEarlyHints(r, noEarlyHintsNotLearned, &p.stats.noEarlyHintsNotLearned)
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
	h["Link"] = []string{value}
	rw.WriteHeader(http.StatusEarlyHints)
	delete(h, "Link")
	for k, v := range saved {
		h[k] = v
	}
	p.stats.earlyHints.Add(1)
}

func (p *Preloader) noEarlyHints(r *http.Request, why string, count interface{ Add(uint64) uint64 }) {
	count.Add(1)
	if p.opts.Logger != nil {
		p.opts.Logger.LogAttrs(r.Context(), slog.LevelDebug, "netjet: no 103 Early Hints",
			slog.String("method", r.Method), slog.String("host", r.Host), slog.String("path", r.URL.Path),
			slog.String("why", why))
	}
}

// carries1xx reports whether rw is known to send a 1xx status as informational and go on to
// the final one: the writers of net/http's HTTP/1.1 and HTTP/2 servers, of
// golang.org/x/net/http2 and of quic-go's HTTP/3 server, or a wrapper whose Unwrap leads to
// one. Older wrappers (http.TimeoutHandler's among them) take the first status they are given
// for the final one: a 103 through them would turn a 404 into a 103 and the page into its body.
func carries1xx(rw http.ResponseWriter) bool {
	for {
		t := reflect.TypeOf(rw)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if knownWriters[t.PkgPath()+"."+t.Name()] {
			return true
		}
		u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		rw = u.Unwrap()
	}
}

var knownWriters = map[string]bool{
	"net/http.response":                               true, // HTTP/1.x
	"net/http.http2responseWriter":                    true, // HTTP/2, bundled
	"net/http.http2ResponseWriter":                    true, // HTTP/2, bundled, in later Go releases
	"golang.org/x/net/http2.responseWriter":           true,
	"github.com/quic-go/quic-go/http3.responseWriter": true,
}

// earlyHintLinks returns the links worth a 103: those that block the first render, and what a
// browser finds last because only a stylesheet names it. A 103 starts its fetches before the
// page, so anything else hinted takes bandwidth from the stylesheets and blocking scripts that
// the page paints after: a deferred or module script, or an image of the page's own. So:
// stylesheets, blocking scripts, the author's own preloads of styles and scripts, preconnects
// (which cost no bandwidth), and then either the image a stylesheet names that is taken for
// the largest paint (the first late image marked fetchpriority=high, see merge) or, when there
// is none, the fonts stylesheets name. Not both: a browser fetches what a 103 names at one
// urgency, so the fonts and the banner would share the link and each come later; with the
// banner hinted, the fonts are asked for as soon as the stylesheets apply.
//
// They are also cut to what browsers accept in a 103: Chrome drops a hint that carries any
// parameter beyond rel, as, crossorigin, type and fetchpriority. A stylesheet for media
// "screen" is one for every screen, and goes without its media.
func earlyHintLinks(links []Link) []Link {
	hero := slices.IndexFunc(links, func(l Link) bool { return isLateImage(l) && isHighImage(l) })
	var out []Link
	for i, l := range links {
		switch {
		case l.class == classStyle, l.class == classBlockingScript:
		case l.class == classHint && (l.Rel == "preconnect" || l.Rel == "preload" && (l.As == "style" || l.As == "script")):
		case i == hero:
		case l.late && l.As == "font" && hero < 0:
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
			FetchPriority: l.FetchPriority, Kind: l.Kind, class: l.class, late: l.late,
		})
	}
	return out
}

// renderEarlyHints joins hint links into one Link value within maxBytes (negative: no limit),
// without Options.Attributes: Chrome ignores a hint with a parameter it does not know, "nopush"
// included. A link that does not fit is left out, and the next ones still tried.
func renderEarlyHints(links []Link, maxBytes int) string {
	var b []byte
	for _, l := range links {
		n := len(b)
		if n > 0 {
			b = append(b, ", "...)
		}
		b = l.appendTo(b)
		if maxBytes >= 0 && len(b) > maxBytes {
			b = b[:n]
		}
	}
	return string(b)
}
