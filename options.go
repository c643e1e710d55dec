package netjet

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Kind selects which elements of a page become Link headers. Kinds combine with |.
type Kind uint

const (
	// Styles preloads <link rel=stylesheet> (netjet's `styles`).
	Styles Kind = 1 << iota
	// Scripts preloads <script src>, classic (rel=preload; as=script) and module (rel=modulepreload).
	// Deferred and module scripts get fetchpriority=low unless the page sets a fetchpriority:
	// they run after parsing, and must not take bandwidth from what blocks the first render.
	Scripts
	// Images preloads eager <img src> (netjet's `images`); see Options.MaxImages.
	Images
	// Hints copies the author's own <link rel=preload|modulepreload|preconnect>.
	Hints

	allKinds = Styles | Scripts | Images | Hints
)

// Defaults of the Options fields whose zero value means "the default".
const (
	DefaultCacheSize      = 1024
	DefaultMaxLinks       = 10
	DefaultMaxImages      = 2
	DefaultMaxHeaderBytes = 1000
	DefaultMaxBufferBytes = 64 << 10
	DefaultRoutes         = 4096
)

// Options configures a Preloader. The zero value is ready to use: every field's zero value
// means its default, so Options{} gives netjet's behaviour with caps that keep headers small.
type Options struct {
	// Kinds selects what is preloaded. Zero means Styles|Scripts|Images|Hints.
	Kinds Kind

	// Attributes are appended to every link, e.g. "nopush" (netjet's `attributes`). Each one is a
	// token or token=value, as RFC 8288 allows for a link parameter. Default: none.
	Attributes []string

	// CacheSize is how many page versions are remembered, by their ETag, so that a page seen
	// before is not read again (netjet's cache.max). Zero means 1024; negative disables the cache.
	CacheSize int

	// MaxLinks caps the links netjet adds to one response. Zero means 10; negative: no limit.
	// Too many preloads compete with the page's own requests for bandwidth.
	MaxLinks int

	// MaxImages caps the images among them. Zero means 2; negative: no limit. Images marked
	// fetchpriority=high come on top of this cap (they still count towards MaxLinks).
	MaxImages int

	// MaxHeaderBytes caps the whole Link value, counting what the handler set itself. Zero means
	// 1000; negative: no limit. Proxies reject large headers: nginx's default 4 KB buffer for all
	// response headers answers 502 "upstream sent too big header"; Rails caps at 1000 bytes too.
	// netjet never cuts inside a link: it leaves out a link that does not fit, and tries the next.
	MaxHeaderBytes int

	// MaxBufferBytes is the most of one body held back while netjet reads the page's head.
	// Zero means 32 KiB. The header goes out at the end of the head, or once this much is
	// held, or when the handler flushes, whichever comes first; the body then streams as the
	// handler writes it. It must not be negative: an unbounded buffer is unbounded memory.
	MaxBufferBytes int

	// Routes is how many routes netjet learns from: the links of a route's recent pages fill
	// in what a page's head cannot show (an image in its body, a script at its end), and make
	// its 103 Early Hints. A link one client's pages had reaches other clients only once the
	// pages of several distinct clients agreed on it: see the package documentation. Zero
	// means 4096; negative: learn nothing.
	Routes int

	// Route names the route a request belongs to: requests of one route share what they
	// teach. Returning "" excludes the request. Nil means host, path and query as sent, with
	// the path's route standing in for a query the route has not learned yet.
	Route func(*http.Request) string

	// EarlyHints sends a 103 Early Hints response before the handler runs, for navigations over
	// HTTP/2 and HTTP/3: the links that block the first render (stylesheets, blocking scripts)
	// that the route has taught. See the package documentation.
	EarlyHints bool

	// EarlyHintsHTTP1 allows Early Hints over HTTP/1.1 too. Off by default: some HTTP/1.1
	// clients and proxies mishandle 1xx responses. HTTP/1.0 never gets them.
	EarlyHintsHTTP1 bool

	// Push pushes the final response's same-origin links over HTTP/2 when the connection
	// allows it. Browsers no longer accept pushes; some clients and CDNs still do.
	Push bool

	// Logger receives a debug line for each request that got no 103 Early Hints, saying why.
	// Nil logs nothing.
	Logger *slog.Logger
}

// validated returns the options with every default filled in, or an error naming the first
// invalid field.
func (o Options) validated() (Options, error) {
	if o.Kinds&^allKinds != 0 {
		return o, fmt.Errorf("netjet: Options.Kinds has unknown bits %#x", uint(o.Kinds&^allKinds))
	}
	if o.Kinds == 0 {
		o.Kinds = allKinds
	}
	for i, a := range o.Attributes {
		if err := checkAttribute(a); err != nil {
			return o, fmt.Errorf("netjet: Options.Attributes[%d] %q: %w", i, a, err)
		}
	}
	o.CacheSize = orDefault(o.CacheSize, DefaultCacheSize)
	o.MaxLinks = orDefault(o.MaxLinks, DefaultMaxLinks)
	o.MaxImages = orDefault(o.MaxImages, DefaultMaxImages)
	o.MaxHeaderBytes = orDefault(o.MaxHeaderBytes, DefaultMaxHeaderBytes)
	if o.MaxBufferBytes < 0 {
		return o, errors.New("netjet: Options.MaxBufferBytes must not be negative: an unbounded buffer is unbounded memory")
	}
	o.MaxBufferBytes = orDefault(o.MaxBufferBytes, DefaultMaxBufferBytes)
	if o.EarlyHintsHTTP1 && !o.EarlyHints {
		return o, errors.New("netjet: Options.EarlyHintsHTTP1 needs Options.EarlyHints")
	}
	if o.Push {
		for _, a := range o.Attributes {
			if strings.EqualFold(a, "nopush") {
				return o, errors.New("netjet: Options.Push contradicts the \"nopush\" in Options.Attributes")
			}
		}
	}
	o.Routes = orDefault(o.Routes, DefaultRoutes)
	if o.EarlyHints && o.Routes < 0 {
		return o, errors.New("netjet: Options.EarlyHints needs Options.Routes: the hints are what routes taught")
	}
	if o.Route != nil && o.Routes < 0 {
		return o, errors.New("netjet: Options.Route needs Options.Routes")
	}
	return o, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
