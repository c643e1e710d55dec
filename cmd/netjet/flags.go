package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/netjet-go/netjet"
)

// optionFlags are the flags that set netjet.Options, one flag a field. A flag left unset has
// the library's default, which -h shows. On the command line 0 means zero, not "the
// default" as in Options: options maps it, or refuses it where zero leaves nothing to do.
type optionFlags struct {
	kinds          kindsFlag
	attributes     string
	maxLinks       int
	maxImages      int
	maxHeaderBytes int

	cacheSize       int
	maxBufferBytes  int
	earlyHints      bool
	earlyHintsHTTP1 bool
	push            bool
	serving         bool // the serving flags are defined
}

// addLinkFlags defines the flags that decide which links a page gets: both commands take them.
func (f *optionFlags) addLinkFlags(fs *flag.FlagSet) {
	f.kinds = kindsFlag(netjet.Styles | netjet.Scripts | netjet.Images | netjet.Hints)
	fs.Var(&f.kinds, "kinds", "comma-separated `list` of what to preload: styles, scripts, images (eager <img>),\n"+
		"hints (the page's own preload, modulepreload and preconnect links)")
	fs.StringVar(&f.attributes, "attributes", "",
		"comma-separated `list` of parameters added to every link, such as nopush")
	fs.IntVar(&f.maxLinks, "max-links", netjet.DefaultMaxLinks, "most links for one page, at least 1; negative: no limit")
	fs.IntVar(&f.maxImages, "max-images", netjet.DefaultMaxImages,
		"most images among them, besides those marked fetchpriority=high; 0: no images at all; negative: no limit")
	fs.IntVar(&f.maxHeaderBytes, "max-header-bytes", netjet.DefaultMaxHeaderBytes,
		"most bytes in one page's Link value, its own links counted, at least 1; negative: no limit")
}

// addServingFlags defines the flags that matter only while serving responses.
func (f *optionFlags) addServingFlags(fs *flag.FlagSet) {
	f.serving = true
	fs.IntVar(&f.cacheSize, "cache-size", netjet.DefaultCacheSize,
		"how many pages' links are remembered, by path and ETag; 0 or negative: no cache")
	fs.IntVar(&f.maxBufferBytes, "max-buffer-bytes", netjet.DefaultMaxBufferBytes,
		"most bytes of one page held back while looking for its links, at least 1")
	fs.BoolVar(&f.earlyHints, "early-hints", false,
		"send 103 Early Hints to HTTP/2 navigations, with the links the route's pages share")
	fs.BoolVar(&f.earlyHintsHTTP1, "early-hints-http1", false,
		"send Early Hints over HTTP/1.1 too (with -early-hints)")
	fs.BoolVar(&f.push, "push", false, "push same-origin links over HTTP/2 to clients that accept pushes")
}

// options returns the netjet.Options the flags ask for, or an error naming a flag whose value
// cannot work. netjet.New validates the rest; optionError names the flag in its errors.
func (f *optionFlags) options() (netjet.Options, error) {
	o := netjet.Options{
		Kinds:           netjet.Kind(f.kinds),
		Attributes:      splitAttributes(f.attributes),
		CacheSize:       f.cacheSize,
		MaxLinks:        f.maxLinks,
		MaxImages:       f.maxImages,
		MaxHeaderBytes:  f.maxHeaderBytes,
		MaxBufferBytes:  f.maxBufferBytes,
		EarlyHints:      f.earlyHints,
		EarlyHintsHTTP1: f.earlyHintsHTTP1,
		Push:            f.push,
	}
	switch {
	case f.maxLinks == 0:
		return o, fmt.Errorf("-max-links 0 would add no links: want 1 or more, or a negative number for no limit")
	case f.maxHeaderBytes == 0:
		return o, fmt.Errorf("-max-header-bytes 0 leaves no room for a link: want 1 or more, or a negative number for no limit")
	case f.serving && f.maxBufferBytes <= 0:
		return o, fmt.Errorf("-max-buffer-bytes %d: want 1 or more: netjet reads the page it holds back", f.maxBufferBytes)
	}
	if f.cacheSize == 0 {
		o.CacheSize = -1 // in Options, 0 is the default size
	}
	if f.maxImages == 0 {
		// Options cannot cap images at zero (0 is the default): preload none by kind instead.
		o.Kinds &^= netjet.Images
		if o.Kinds == 0 {
			return o, fmt.Errorf("-max-images 0 with -kinds %s leaves nothing to preload", &f.kinds)
		}
		o.MaxImages = -1
	}
	return o, nil
}

// optionError rewrites an error of netjet.New for the command line: Options.MaxLinks becomes
// -max-links, and so on.
func optionError(err error) string {
	return optionNames.Replace(strings.TrimPrefix(err.Error(), "netjet: "))
}

var optionNames = strings.NewReplacer(
	"Options.Kinds", "-kinds",
	"Options.Attributes", "-attributes",
	"Options.CacheSize", "-cache-size",
	"Options.MaxLinks", "-max-links",
	"Options.MaxImages", "-max-images",
	"Options.MaxHeaderBytes", "-max-header-bytes",
	"Options.MaxBufferBytes", "-max-buffer-bytes",
	"Options.EarlyHintsHTTP1", "-early-hints-http1",
	"Options.EarlyHints", "-early-hints",
	"Options.Push", "-push",
)

// splitAttributes splits a comma-separated list of link parameters. A comma inside a quoted
// value does not split it: `title="a,b",nopush` is two parameters. Empty items are dropped.
func splitAttributes(list string) []string {
	var attrs []string
	add := func(item string) {
		if item = strings.TrimSpace(item); item != "" {
			attrs = append(attrs, item)
		}
	}
	quoted, start := false, 0
	for i := 0; i < len(list); i++ {
		switch {
		case list[i] == '"':
			quoted = !quoted
		case list[i] == ',' && !quoted:
			add(list[start:i])
			start = i + 1
		}
	}
	add(list[start:])
	return attrs
}

// kindsFlag is the -kinds flag: netjet.Kind written as a list of names.
type kindsFlag netjet.Kind

var kindNames = []struct {
	name string
	kind netjet.Kind
}{
	{"styles", netjet.Styles},
	{"scripts", netjet.Scripts},
	{"images", netjet.Images},
	{"hints", netjet.Hints},
}

func (k *kindsFlag) String() string {
	var names []string
	for _, kn := range kindNames {
		if netjet.Kind(*k)&kn.kind != 0 {
			names = append(names, kn.name)
		}
	}
	return strings.Join(names, ",")
}

func (k *kindsFlag) Set(list string) error {
	var kinds netjet.Kind
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		known := false
		for _, kn := range kindNames {
			if strings.EqualFold(name, kn.name) {
				kinds |= kn.kind
				known = true
			}
		}
		if !known {
			// An empty list is refused too: netjet reads no kinds as all of them.
			return fmt.Errorf("unknown kind %q: want a comma-separated list of styles, scripts, images, hints", name)
		}
	}
	*k = kindsFlag(kinds)
	return nil
}
