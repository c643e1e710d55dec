package netjetcaddy

import (
	"strconv"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("netjet", parseCaddyfile)
	// Inside encode, so that netjet reads pages before they are compressed; outside
	// templates, reverse_proxy, php_fastcgi and file_server, which make the pages.
	httpcaddyfile.RegisterDirectiveOrder("netjet", httpcaddyfile.After, "encode")
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	nj := new(Handler)
	if err := nj.UnmarshalCaddyfile(h.Dispenser); err != nil {
		return nil, err
	}
	return nj, nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	netjet [<matcher>] {
//		kinds             styles|scripts|images|hints...
//		attributes        <param>...
//		cache_size        <n>
//		max_links         <n>
//		max_images        <n>
//		max_header_bytes  <n>
//		max_buffer_bytes  <n>
//		early_hints
//		early_hints_http1
//		routes            <n>
//		route             <placeholders>
//		push
//	}
//
// Every subdirective is optional, and so is the block. A number left out takes netjet's
// default; -1 lifts the caps that allow it.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		return d.Errf("netjet: unexpected argument %q: options go in a block", d.Val())
	}
	for d.NextBlock(0) {
		name := d.Val()
		var err error
		switch name {
		case "kinds":
			h.Kinds, err = args(d, name)
			for _, k := range h.Kinds {
				if _, ok := kindNames[k]; !ok {
					return d.Errf("netjet: kinds: unknown kind %q: want styles, scripts, images or hints", k)
				}
			}
		case "attributes":
			h.Attributes, err = args(d, name)
		case "cache_size":
			h.CacheSize, err = intArg(d, name)
		case "max_links":
			h.MaxLinks, err = intArg(d, name)
		case "max_images":
			h.MaxImages, err = intArg(d, name)
		case "max_header_bytes":
			h.MaxHeaderBytes, err = intArg(d, name)
		case "max_buffer_bytes":
			h.MaxBufferBytes, err = intArg(d, name)
			if err == nil && h.MaxBufferBytes < 0 {
				return d.Errf("netjet: max_buffer_bytes: must not be negative, got %d", h.MaxBufferBytes)
			}
		case "early_hints":
			h.EarlyHints, err = true, noArgs(d, name)
		case "early_hints_http1":
			h.EarlyHintsHTTP1, err = true, noArgs(d, name)
		case "routes":
			h.Routes, err = intArg(d, name)
		case "route":
			var a []string
			if a, err = args(d, name); err == nil && len(a) != 1 {
				err = d.Errf("netjet: route: takes one argument, got %d", len(a))
			}
			if err == nil {
				h.Route = a[0]
			}
		case "push":
			h.Push, err = true, noArgs(d, name)
		default:
			return d.Errf("netjet: unknown subdirective %q", name)
		}
		if err != nil {
			return err
		}
		if d.NextBlock(1) {
			return d.Errf("netjet: %s: takes no block", name)
		}
	}
	return nil
}

// args returns the arguments of subdirective name, at least one.
func args(d *caddyfile.Dispenser, name string) ([]string, error) {
	a := d.RemainingArgs()
	if len(a) == 0 {
		return nil, d.Errf("netjet: %s: needs at least one argument", name)
	}
	return a, nil
}

// intArg returns the one integer argument of subdirective name.
func intArg(d *caddyfile.Dispenser, name string) (int, error) {
	if !d.NextArg() {
		return 0, d.Errf("netjet: %s: needs an integer argument", name)
	}
	n, err := strconv.Atoi(d.Val())
	if err != nil {
		return 0, d.Errf("netjet: %s: must be an integer, got %q", name, d.Val())
	}
	if d.NextArg() {
		return 0, d.Errf("netjet: %s: takes one argument, got another: %q", name, d.Val())
	}
	return n, nil
}

// noArgs checks that the flag subdirective name has no argument.
func noArgs(d *caddyfile.Dispenser, name string) error {
	if d.NextArg() {
		return d.Errf("netjet: %s: takes no argument, got %q", name, d.Val())
	}
	return nil
}

// Interface guard.
var _ caddyfile.Unmarshaler = (*Handler)(nil)
