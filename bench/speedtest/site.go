package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/netjet-go/netjet"
)

// Synthetic body sizes, by what the browser fetches the resource as (Sec-Fetch-Dest): about
// the median of each type on the web.
var assetSizes = map[string]int{
	"style":  50 << 10,
	"script": 150 << 10,
	"image":  80 << 10,
	"font":   30 << 10,
}

// otherSize is the size of any other resource: a frame, a fetch, a manifest, the favicon.
const otherSize = 1 << 10

// page is one HTML page of the site.
type page struct {
	name  string // as the table shows it: "demo", or a corpus file name without .html
	path  string // where the site serves it
	body  []byte
	etag  string
	loads resources
}

func newPage(name, urlPath string, body []byte) *page {
	return &page{name: name, path: urlPath, body: body, etag: fmt.Sprintf(`"%x"`, sha256.Sum256(body)), loads: scan(body)}
}

// weight estimates how many bytes loading the page costs: its own, and those of what it
// loads, at the synthetic sizes.
func (p *page) weight() int {
	return len(p.body) + p.loads.sheets*assetSizes["style"] + p.loads.scripts*assetSizes["script"] +
		p.loads.images*assetSizes["image"]
}

// resources counts what a page loads.
type resources struct{ sheets, scripts, images int }

// scan counts the stylesheets, scripts and eager images that doc names.
func scan(doc []byte) resources {
	var res resources
	z := html.NewTokenizer(bytes.NewReader(doc))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return res
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		attrs := map[string]string{}
		for hasAttr {
			var k, v []byte
			k, v, hasAttr = z.TagAttr()
			attrs[string(k)] = string(v)
		}
		switch string(name) {
		case "link":
			if slices.Contains(strings.Fields(strings.ToLower(attrs["rel"])), "stylesheet") && attrs["href"] != "" {
				res.sheets++
			}
		case "script":
			if attrs["src"] != "" {
				res.scripts++
			}
		case "img":
			if src := attrs["src"]; src != "" && !strings.HasPrefix(src, "data:") && attrs["loading"] != "lazy" {
				res.images++
			}
		}
	}
}

// loadPages returns the demo's home page and up to n-1 pages of the corpus: among those with
// a stylesheet and at least three resources to load, the ones whose weight is closest to the
// demo's, so that every page takes about as long to measure. Without a corpus directory, it
// returns the demo alone.
func loadPages(demoDir, corpusDir string, n int) ([]*page, error) {
	body, err := os.ReadFile(filepath.Join(demoDir, "index.html"))
	if err != nil {
		return nil, fmt.Errorf("the demo page (set -demo to the examples/demo directory): %w", err)
	}
	demo := newPage("demo", "/", body)
	pages := []*page{demo}
	if n <= 1 {
		return pages, nil
	}
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.html"))
	if err != nil {
		return nil, err
	}
	var candidates []*page
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		p := newPage(strings.TrimSuffix(filepath.Base(f), ".html"), "/corpus/"+filepath.Base(f), body)
		if p.loads.sheets > 0 && p.loads.sheets+p.loads.scripts+p.loads.images >= 3 {
			candidates = append(candidates, p)
		}
	}
	distance := func(p *page) int { return max(p.weight()-demo.weight(), demo.weight()-p.weight()) }
	sort.SliceStable(candidates, func(i, j int) bool { return distance(candidates[i]) < distance(candidates[j]) })
	return append(pages, candidates[:min(n-1, len(candidates))]...), nil
}

// variant is one way of serving the pages.
type variant struct {
	name string
	opts *netjet.Options // nil: without netjet
}

// defaultVariants are the variants measured by default, the first ones of allVariants.
var defaultVariants = []string{"none", "links", "early-hints"}

// allVariants are the variants speedtest knows: the three it measures by default, then
// others that try netjet's options, for finding out what its defaults should be.
var allVariants = []variant{
	{"none", nil},
	{"links", &netjet.Options{}},
	{"early-hints", &netjet.Options{EarlyHints: true}},
	{"early-hints-styles", &netjet.Options{EarlyHints: true, Kinds: netjet.Styles}},
	{"early-hints-max3", &netjet.Options{EarlyHints: true, MaxLinks: 3}},
}

// host is where the site serves the variant's pages: each variant has its own host, so that
// one server and one browser can hold them apart.
func (v variant) host() string { return v.name + ".speedtest.test" }

// site serves the pages after their think time, and everything else at once, on any host:
// a static site's own files as they are on disk, or synthetic bodies.
type site struct {
	pages  map[string]*page  // by path
	assets map[string][]byte // the demo's own assets by path, grown to their synthetic size
	bodies map[string][]byte // synthetic bodies by destination
	files  map[string]*file  // a static site's other files, by path
	think  time.Duration
}

// file is one file of a static site, held in memory so that the disk does not weigh on a load.
type file struct {
	body        []byte
	contentType string
	etag        string
}

// loadStaticSite reads the static site in dir: each .html file is a page, named by its path
// without .html ("index", "blog/post"); every other file is served as it is.
func loadStaticSite(dir string, think time.Duration) (*site, []*page, error) {
	s := &site{pages: map[string]*page{}, files: map[string]*file{}, think: think}
	var pages []*page
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if path.Ext(rel) == ".html" {
			pg := newPage(strings.TrimSuffix(rel, ".html"), "/"+rel, body)
			s.pages[pg.path] = pg
			pages = append(pages, pg)
			return nil
		}
		ct := webTypes[strings.ToLower(path.Ext(rel))]
		if ct == "" {
			ct = mime.TypeByExtension(path.Ext(rel))
		}
		if ct == "" {
			ct = http.DetectContentType(body)
		}
		s.files["/"+rel] = &file{body: body, contentType: ct, etag: fmt.Sprintf(`"%x"`, sha256.Sum256(body))}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("the site at %s: %w", dir, err)
	}
	if len(pages) == 0 {
		return nil, nil, fmt.Errorf("the site at %s has no .html page", dir)
	}
	return s, pages, nil
}

// newSite builds the site. The demo's assets keep their content, grown to the synthetic size
// of their type, so that the demo page looks and works as it does in the demo.
func newSite(pages []*page, demoDir string, think time.Duration) (*site, error) {
	s := &site{pages: map[string]*page{}, assets: map[string][]byte{}, think: think}
	for _, p := range pages {
		s.pages[p.path] = p
	}
	font, err := os.ReadFile(filepath.Join(demoDir, "static", "square.woff2"))
	if err != nil {
		return nil, err
	}
	img, err := solidPNG(320, 180)
	if err != nil {
		return nil, err
	}
	s.bodies = map[string][]byte{
		"style":  grow("style", []byte("/* a synthetic stylesheet */\n")),
		"script": grow("script", []byte("// a synthetic script\n")),
		"image":  grow("image", img),
		"font":   grow("font", font),
	}
	entries, err := os.ReadDir(filepath.Join(demoDir, "static"))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(demoDir, "static", e.Name()))
		if err != nil {
			return nil, err
		}
		if dest := destinationOf(e.Name()); dest != "" {
			s.assets["/static/"+e.Name()] = grow(dest, b)
		}
	}
	return s, nil
}

// destinationOf is what the browser fetches a demo asset as, by its extension.
func destinationOf(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "style"
	case ".js":
		return "script"
	case ".png":
		return "image"
	case ".woff2":
		return "font"
	}
	return ""
}

// handler serves the site, each variant on its own host: the pages go through netjet as the
// variant says; every other host is a third party that serves assets only.
func (s *site) handler(variants []variant) http.Handler {
	byHost := map[string]http.Handler{}
	for _, v := range variants {
		var h http.Handler = http.HandlerFunc(s.serve)
		if v.opts != nil {
			h = netjet.Middleware(*v.opts)(h)
		}
		byHost[v.host()] = h
	}
	assets := http.HandlerFunc(s.serveAsset)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if h, ok := byHost[host]; ok {
			h.ServeHTTP(w, r)
			return
		}
		assets.ServeHTTP(w, r)
	})
}

// serve answers a page after the think time, as a backend that queries a database does, and
// anything else at once.
func (s *site) serve(w http.ResponseWriter, r *http.Request) {
	p, ok := s.pages[r.URL.Path]
	if !ok {
		if f, ok := s.files[r.URL.Path]; ok {
			f.serve(w, r)
			return
		}
		s.serveAsset(w, r)
		return
	}
	select {
	case <-time.After(s.think):
	case <-r.Context().Done():
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", p.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(p.body))
}

// serveAsset answers with a body of the size and type the browser expects, cacheable for a
// year, as versioned assets are, and readable from any origin, as a CDN's are. On another
// host than a variant's, a static site's file is served as it is: a font service or a CDN.
func (s *site) serveAsset(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.files[r.URL.Path]; ok {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		f.serve(w, r)
		return
	}
	dest := r.Header.Get("Sec-Fetch-Dest")
	body, ok := s.assets[r.URL.Path]
	if !ok {
		body = s.bodies[dest]
	}
	if r.URL.Path == "/favicon.ico" || body == nil {
		body = bytes.Repeat([]byte{' '}, otherSize)
		dest = ""
	}
	h := w.Header()
	h.Set("Content-Type", contentTypes[dest])
	h.Set("Cache-Control", "public, max-age=31536000")
	h.Set("ETag", fmt.Sprintf(`"%x-%d"`, sha256.Sum256(body[:min(len(body), 512)]), len(body)))
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Timing-Allow-Origin", "*")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// webTypes are the Content-Types of the files a web page loads. The mime package's own
// table lacks some (fonts among them) and the system's, which it adds, differs from machine
// to machine.
var webTypes = map[string]string{
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".json":  "application/json",
	".woff2": "font/woff2",
	".woff":  "font/woff",
	".ttf":   "font/ttf",
	".otf":   "font/otf",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
	".avif":  "image/avif",
	".svg":   "image/svg+xml",
	".ico":   "image/x-icon",
	".txt":   "text/plain; charset=utf-8",
	".md":    "text/markdown; charset=utf-8",
}

// serve answers with the file as it is, cacheable for a year, as a site's versioned assets are.
func (f *file) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

var contentTypes = map[string]string{
	"style":  "text/css",
	"script": "text/javascript",
	"image":  "image/png",
	"font":   "font/woff2",
	"":       "text/plain; charset=utf-8",
}

// grow pads body to the synthetic size of dest in a way that keeps it valid: a comment for
// CSS and JavaScript, an ancillary chunk for PNG, the private data block for WOFF2.
func grow(dest string, body []byte) []byte {
	size := assetSizes[dest]
	switch pad := size - len(body); {
	case pad <= 0:
		return body
	case dest == "style" || dest == "script":
		filler := bytes.Repeat([]byte("synthetic padding "), pad/18+1)
		out := append(append(append([]byte(nil), body...), "\n/*"...), filler...)
		return append(out[:size-3], "*/\n"...)
	case dest == "image":
		return growPNG(body, size)
	case dest == "font":
		return growWOFF2(body, size)
	}
	return body
}

// growPNG inserts a tEXt chunk before the IEND chunk, so that the image has size bytes.
func growPNG(img []byte, size int) []byte {
	const chunkOverhead = 12 // length, type, CRC
	iend := len(img) - chunkOverhead
	text := append([]byte("Comment\x00"), bytes.Repeat([]byte{'x'}, size-len(img)-chunkOverhead-len("Comment\x00"))...)
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(text)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, text...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return slices.Concat(img[:iend], chunk, img[iend:])
}

// growWOFF2 appends a private data block, which the WOFF2 header points at, so that the font
// has about size bytes and still loads.
func growWOFF2(font []byte, size int) []byte {
	aligned := (len(font) + 3) &^ 3
	out := make([]byte, size)
	copy(out, font)
	binary.BigEndian.PutUint32(out[8:], uint32(size))     // length
	binary.BigEndian.PutUint32(out[40:], uint32(aligned)) // privOffset
	binary.BigEndian.PutUint32(out[44:], uint32(size-aligned))
	return out
}

// solidPNG is a plain w x h image, what the pages get for every image they load.
func solidPNG(w, h int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		copy(img.Pix[i:], []byte{0x4c, 0x7a, 0xa8, 0xff})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
