// Package netjetcaddy is netjet as a Caddy module: the HTTP handler http.handlers.netjet and
// the Caddyfile directive netjet.
//
// The directive takes its place in Caddy's directive order by itself: after encode, so that
// netjet reads pages before they are compressed, and before templates, reverse_proxy,
// php_fastcgi and file_server, whose pages it reads. A Caddyfile needs no order line:
//
//	example.com {
//		encode
//		netjet {
//			early_hints
//		}
//		file_server
//	}
//
// Build Caddy with the module in it from the command in cmd/caddy, or with xcaddy.
package netjetcaddy

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/netjet-go/netjet"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler adds Link preload headers to the HTML responses of the handlers after it and,
// with EarlyHints, sends a 103 Early Hints response before them. Each field is the netjet
// Options field of the same name; a zero value means netjet's default.
type Handler struct {
	// Kinds lists what is preloaded: "styles", "scripts", "images" and "hints" (the page's own
	// preload, modulepreload and preconnect links). Empty means all four.
	Kinds []string `json:"kinds,omitempty"`

	// Attributes are appended to every link, such as "nopush". Each is a token or token=value.
	Attributes []string `json:"attributes,omitempty"`

	// CacheSize is how many pages are remembered so that a page seen before is not parsed
	// again. Zero means netjet.DefaultCacheSize; negative disables the cache.
	CacheSize int `json:"cache_size,omitempty"`

	// MaxLinks caps the links added to one response. Zero means netjet.DefaultMaxLinks;
	// negative: no limit.
	MaxLinks int `json:"max_links,omitempty"`

	// MaxImages caps the images among them. Zero means netjet.DefaultMaxImages; negative: no
	// limit.
	MaxImages int `json:"max_images,omitempty"`

	// MaxHeaderBytes caps the whole Link value. Zero means netjet.DefaultMaxHeaderBytes;
	// negative: no limit.
	MaxHeaderBytes int `json:"max_header_bytes,omitempty"`

	// MaxBufferBytes is the most of one body held back while looking for links. Zero means
	// netjet.DefaultMaxBufferBytes. It must not be negative.
	MaxBufferBytes int `json:"max_buffer_bytes,omitempty"`

	// EarlyHints sends a 103 Early Hints response before the handlers after this one run, on
	// navigations over HTTP/2 and HTTP/3, with the render-blocking links that the route's last
	// two pages had in common.
	EarlyHints bool `json:"early_hints,omitempty"`

	// EarlyHintsHTTP1 allows Early Hints over HTTP/1.1 too. It needs EarlyHints.
	EarlyHintsHTTP1 bool `json:"early_hints_http1,omitempty"`

	// Routes is how many routes netjet learns from. Zero means netjet.DefaultRoutes; negative:
	// learn nothing, and so send no Early Hints.
	Routes int `json:"routes,omitempty"`

	// Route names the route of a request, with placeholders: requests with the same route
	// share what they teach, and a request whose route comes out empty is left out. Empty
	// means netjet's own. It needs Routes.
	Route string `json:"route,omitempty"`

	// Push pushes the final response's same-origin links over HTTP/2 where the connection
	// allows it.
	Push bool `json:"push,omitempty"`

	preloader *netjet.Preloader
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.netjet",
		New: func() caddy.Module { return new(Handler) },
	}
}

// kindNames are the names Kinds takes, each for its netjet.Kind.
var kindNames = map[string]netjet.Kind{
	"styles":  netjet.Styles,
	"scripts": netjet.Scripts,
	"images":  netjet.Images,
	"hints":   netjet.Hints,
}

// Provision creates the handler's Preloader: one for the life of this configuration, whose
// cache and learned hints every request it handles shares.
func (h *Handler) Provision(ctx caddy.Context) error {
	opts, err := h.options()
	if err != nil {
		return err
	}
	opts.Logger = ctx.Slogger() // netjet's debug lines (why a request got no 103) go to Caddy's log
	p, err := netjet.New(opts)
	if err != nil {
		return nameSubdirective(err)
	}
	h.preloader = p
	return nil
}

// options returns the netjet Options that h describes.
func (h *Handler) options() (netjet.Options, error) {
	opts := netjet.Options{
		Attributes:      h.Attributes,
		CacheSize:       h.CacheSize,
		MaxLinks:        h.MaxLinks,
		MaxImages:       h.MaxImages,
		MaxHeaderBytes:  h.MaxHeaderBytes,
		MaxBufferBytes:  h.MaxBufferBytes,
		EarlyHints:      h.EarlyHints,
		EarlyHintsHTTP1: h.EarlyHintsHTTP1,
		Routes:          h.Routes,
		Push:            h.Push,
	}
	for _, name := range h.Kinds {
		k, ok := kindNames[name]
		if !ok {
			return opts, fmt.Errorf("netjet: kinds: unknown kind %q: want styles, scripts, images or hints", name)
		}
		opts.Kinds |= k
	}
	if h.Route != "" {
		route := h.Route
		opts.Route = func(r *http.Request) string {
			repl, _ := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
			if repl == nil {
				return "" // not a request Caddy is serving: no placeholders, so no route
			}
			return repl.ReplaceAll(route, "")
		}
	}
	return opts, nil
}

// subdirectives maps the Options fields that netjet.New's errors name to the Caddyfile
// subdirectives (and JSON fields) that set them. The longer names come first, as
// "Options.EarlyHints" is a prefix of "Options.EarlyHintsHTTP1".
var subdirectives = []struct{ field, name string }{
	{"Options.EarlyHintsHTTP1", "early_hints_http1"},
	{"Options.EarlyHints", "early_hints"},
	{"Options.Attributes", "attributes"},
	{"Options.CacheSize", "cache_size"},
	{"Options.MaxLinks", "max_links"},
	{"Options.MaxImages", "max_images"},
	{"Options.MaxHeaderBytes", "max_header_bytes"},
	{"Options.MaxBufferBytes", "max_buffer_bytes"},
	{"Options.Kinds", "kinds"},
	{"Options.Routes", "routes"},
	{"Options.Route", "route"},
	{"Options.Push", "push"},
}

// fieldNames turns the Options field names in netjet.New's errors into the subdirectives
// (and JSON fields) that set them. Longer names come first: "Options.EarlyHints" is a prefix
// of "Options.EarlyHintsHTTP1".
var fieldNames = func() *strings.Replacer {
	var pairs []string
	for _, s := range subdirectives {
		pairs = append(pairs, s.field, s.name)
	}
	return strings.NewReplacer(pairs...)
}()

// subdirectiveError is an error of netjet.New told in the Caddyfile's words.
type subdirectiveError struct {
	msg string
	err error
}

func (e *subdirectiveError) Error() string { return e.msg }
func (e *subdirectiveError) Unwrap() error { return e.err }

// nameSubdirective returns err as "netjet: SUBDIRECTIVE: what is wrong", naming the
// subdirective of the first field that err names, so that a Caddy user reads the names of
// the Caddyfile rather than Go's.
func nameSubdirective(err error) error {
	msg := strings.TrimPrefix(err.Error(), "netjet: ")
	first, at := "", len(msg)
	for _, s := range subdirectives {
		if i := strings.Index(msg, s.field); i >= 0 && i < at {
			first, at = s.name, i
		}
	}
	msg = fieldNames.Replace(msg)
	if first != "" && !strings.HasPrefix(msg, first+" ") {
		msg = first + ": " + msg
	}
	return &subdirectiveError{msg: "netjet: " + msg, err: err}
}

// ServeHTTP runs next behind netjet. The error next returns comes back unchanged, so that
// Caddy's error handling (handle_errors) sees it as it would without netjet.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	gate := &flushGate{}
	var err error
	h.preloader.Handler(http.HandlerFunc(func(nw http.ResponseWriter, r *http.Request) {
		err = next.ServeHTTP(&handlerWriter{ResponseWriter: nw, gate: gate}, r)
	})).ServeHTTP(&clientWriter{ResponseWriter: w, gate: gate}, r)
	return err
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
