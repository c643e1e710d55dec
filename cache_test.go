package netjet_test

import (
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// A page without an ETag is remembered by a hash of its body: the same bytes again are not
// parsed again, and changed bytes are.
// TestPageWithoutETagIsNeverCached: without an ETag, nothing names the page's version, so its
// links are read from each response (up to the end of its head): a page that changed gets its
// new links at once.
func TestPageWithoutETagIsNeverCached(t *testing.T) {
	var version atomic.Value
	version.Store("one")
	p, err := netjet.New(netjet.Options{})
	require.NoError(t, err)
	srv := startServer(t, p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<link rel=stylesheet href=/`+version.Load().(string)+`.css>`)
	})))
	for i := 0; i < 3; i++ {
		resp, _ := srv.get(t, "/")
		assert.Equal(t, "</one.css>; rel=preload; as=style", resp.Header.Get("Link"))
	}
	version.Store("two")
	resp, _ := srv.get(t, "/")
	assert.Equal(t, "</two.css>; rel=preload; as=style", resp.Header.Get("Link"))
	st := p.Stats()
	assert.Equal(t, [2]uint64{4, 0}, [2]uint64{st.Parsed, st.CacheHits}, "parsed, cache hits")
}

func TestNoCacheParsesEveryResponse(t *testing.T) {
	p, err := netjet.New(netjet.Options{CacheSize: -1})
	require.NoError(t, err)
	srv := startServer(t, p.Handler(etagPage(`"1"`)))
	for i := 0; i < 3; i++ {
		resp, _ := srv.get(t, "/page?v=one")
		assert.Equal(t, styleLink("one"), resp.Header.Values("Link"))
	}
	st := p.Stats()
	assert.Equal(t, [2]uint64{3, 0}, [2]uint64{st.Parsed, st.CacheHits}, "parsed, cache hits")
}

// TestCacheKeyKeepsApartWhatAnHTTPCacheWould: responses that share an ETag but may differ (other
// hosts, queries, the request headers their Vary names, other callers of a private page, paths
// that differ only in their escaping) each get their own links, from the cache once seen.
func TestCacheKeyKeepsApartWhatAnHTTPCacheWould(t *testing.T) {
	type request struct{ host, path, cookie, want string }
	cases := []struct {
		name    string
		etag    string
		header  http.Header
		style   func(*http.Request) string // the stylesheet the page names
		request [2]request
	}{{
		name: "virtual hosts", etag: `"1"`,
		style:   func(r *http.Request) string { return r.Host },
		request: [2]request{{host: "a.example", path: "/", want: "a.example"}, {host: "b.example", path: "/", want: "b.example"}},
	}, {
		name: "queries under a deploy's weak ETag", etag: `W/"v42"`,
		style:   func(r *http.Request) string { return r.URL.Query().Get("id") },
		request: [2]request{{path: "/p?id=1", want: "1"}, {path: "/p?id=2", want: "2"}},
	}, {
		name: "Vary: Cookie", etag: `W/"v42"`, header: http.Header{"Vary": {"Accept-Encoding, Cookie"}},
		style:   func(r *http.Request) string { return r.Header.Get("Cookie") },
		request: [2]request{{path: "/", cookie: "u=1", want: "u=1"}, {path: "/", cookie: "u=2", want: "u=2"}},
	}, {
		name: "private", etag: `"1"`, header: http.Header{"Cache-Control": {"private, max-age=60"}},
		style:   func(r *http.Request) string { return r.Header.Get("Cookie") },
		request: [2]request{{path: "/", cookie: "u=1", want: "u=1"}, {path: "/", cookie: "u=2", want: "u=2"}},
	}, {
		name: "path as sent", etag: `"1"`,
		style:   func(r *http.Request) string { return r.URL.EscapedPath() },
		request: [2]request{{path: "/a%2Fb", want: "/a%2Fb"}, {path: "/a/b", want: "/a/b"}},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustPreloader(t, netjet.Options{})
			srv := startServer(t, p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				maps.Copy(w.Header(), c.header)
				w.Header().Set("ETag", c.etag)
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, `<link rel=stylesheet href="`+html.EscapeString(c.style(r))+`.css">`)
			})))
			for i := range 4 {
				rq := c.request[i%2]
				req := srv.newRequest(t, http.MethodGet, rq.path)
				req.Host = rq.host
				if rq.cookie != "" {
					req.Header.Set("Cookie", rq.cookie)
				}
				resp, _ := srv.fetch(t, req)
				want := "<" + rq.want + ".css>; rel=preload; as=style"
				assert.Equal(t, []string{want}, resp.Header.Values("Link"), "request %d: %s", i+1, rq.path)
			}
			st := p.Stats()
			assert.Equal(t, [2]uint64{2, 2}, [2]uint64{st.Parsed, st.CacheHits}, "parsed, cache hits")
		})
	}
}

// TestPrivateNotCachedWithoutLearning: with Options.Routes negative nothing tells callers
// apart, so a private page is read for each response rather than cached for everyone.
func TestPrivateNotCachedWithoutLearning(t *testing.T) {
	p := mustPreloader(t, netjet.Options{Routes: -1})
	srv := startServer(t, p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private")
		w.Header().Set("ETag", `"1"`)
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<link rel=stylesheet href="`+html.EscapeString(r.Header.Get("Cookie"))+`.css">`)
	})))
	for i := range 4 {
		req := srv.newRequest(t, http.MethodGet, "/")
		user := fmt.Sprintf("u=%d", i%2)
		req.Header.Set("Cookie", user)
		resp, _ := srv.fetch(t, req)
		assert.Equal(t, []string{"<" + user + ".css>; rel=preload; as=style"}, resp.Header.Values("Link"))
	}
	assert.Zero(t, p.Stats().CacheHits)
}

// TestHeadSeenBeforeFollowsTheBytes: a page without an ETag whose head was read before is not
// read again while its body starts with the same bytes; a head that changed, even by a byte at
// the same length, is read again and gives its own links at once.
func TestHeadSeenBeforeFollowsTheBytes(t *testing.T) {
	var version atomic.Value
	version.Store("a")
	srv := startServer(t, preload(t, netjet.Options{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><html><head><link rel=stylesheet href=/`+version.Load().(string)+
			`.css></head><body><p>`+strings.Repeat("text ", 20000)+`</p></body></html>`)
	})))
	for _, v := range []string{"a", "a", "a", "b", "b", "a", "c", "a"} {
		version.Store(v)
		resp, _ := srv.get(t, "/")
		assert.Equal(t, []string{"</" + v + ".css>; rel=preload; as=style"}, resp.Header.Values("Link"), "version %s", v)
	}
}
