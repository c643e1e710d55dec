package netjet

import (
	"errors"
	"fmt"
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
	DefaultMaxBufferBytes = 4 << 20
)

// Options configures a Preloader. The zero value is ready to use: every field's zero value
// means its default, so Options{} gives netjet's behaviour with caps that keep headers small.
type Options struct {
	// Kinds selects what is preloaded. Zero means Styles|Scripts|Images|Hints.
	Kinds Kind

	// Attributes are appended to every link, e.g. "nopush" (netjet's `attributes`). Each one is a
	// token or token=value, as RFC 8288 allows for a link parameter. Default: none.
	Attributes []string

	// CacheSize is how many pages are remembered, keyed by path and ETag, so that a page seen
	// before is not parsed again (netjet's cache.max). Zero means 1024; negative disables the cache.
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
	// netjet never cuts inside a link: it stops before the first link that does not fit.
	MaxHeaderBytes int

	// MaxBufferBytes is the most of one body held back while looking for links. Zero means 4 MiB.
	// Past it, the header goes out with the links found so far and the rest of the body streams.
	// It must not be negative: an unbounded buffer is unbounded memory.
	MaxBufferBytes int

	// EarlyHints sends a 103 Early Hints response before the handler runs, for navigations over
	// HTTP/2: the links that block the first render (stylesheets, blocking scripts) which the
	// route's last two pages had in common. See the package documentation.
	EarlyHints bool

	// EarlyHintsHTTP1 allows Early Hints over HTTP/1.1 too. Off by default: some HTTP/1.1
	// clients and proxies mishandle 1xx responses. HTTP/1.0 never gets them.
	EarlyHintsHTTP1 bool

	// EarlyHintsRoute names the route a request belongs to, for Early Hints: requests of one
	// route share their hints. Returning "" excludes the request. Nil means host and path,
	// without the query.
	EarlyHintsRoute func(*http.Request) string

	// Push pushes the final response's same-origin links over HTTP/2 when the connection
	// allows it. Browsers no longer accept pushes; some clients and CDNs still do.
	Push bool
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
	if o.EarlyHintsRoute != nil && !o.EarlyHints {
		return o, errors.New("netjet: Options.EarlyHintsRoute needs Options.EarlyHints")
	}
	return o, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
