package netjet_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// mixedPage links to http: URLs as older pages do: a stylesheet, a blocking script, a module
// and an author's font preload (all blocked on an HTTPS page), an image (upgraded to https
// by browsers, so still worth it) and a preconnect (fetches nothing), beside https: and
// relative ones.
const mixedPage = `<!doctype html><html><head>
<link rel=stylesheet href=http://old.example/site.css>
<link rel=stylesheet href=https://cdn.example/new.css>
<link rel=stylesheet href=/local.css>
<script src=HTTP://old.example/blocking.js></script>
<script type=module src=http://old.example/mod.js></script>
<link rel=preload href=http://old.example/font.woff2 as=font type=font/woff2 crossorigin>
<link rel=preconnect href=http://old.example>
</head><body><img src=http://old.example/photo.jpg></body></html>`

// What netjet adds to mixedPage over plain HTTP, and what over TLS.
const (
	mixedOverHTTP = `<http://old.example/site.css>; rel=preload; as=style, <https://cdn.example/new.css>; rel=preload; as=style, ` +
		`</local.css>; rel=preload; as=style, <HTTP://old.example/blocking.js>; rel=preload; as=script, ` +
		`<http://old.example/font.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin, ` +
		`<http://old.example>; rel=preconnect, <http://old.example/mod.js>; rel=modulepreload; fetchpriority=low, ` +
		`<http://old.example/photo.jpg>; rel=preload; as=image`
	mixedOverTLS = `<https://cdn.example/new.css>; rel=preload; as=style, </local.css>; rel=preload; as=style, ` +
		`<http://old.example>; rel=preconnect, <http://old.example/photo.jpg>; rel=preload; as=image`
)

func TestLinksLeaveOutMixedContentForAnHTTPSDocument(t *testing.T) {
	p := mustPreloader(t, netjet.Options{MaxHeaderBytes: -1})
	assert.Equal(t, mixedOverHTTP, joinLinks(p.Links([]byte(mixedPage), "/page")), "a path: the scheme is unknown")
	assert.Equal(t, mixedOverHTTP, joinLinks(p.Links([]byte(mixedPage), "http://site.example/page")))
	assert.Equal(t, mixedOverTLS, joinLinks(p.Links([]byte(mixedPage), "https://site.example/page")))
	assert.Equal(t, mixedOverTLS, joinLinks(p.LinksOverTLS([]byte(mixedPage), "/page")))

	// Left out before the caps: the places go to links the browser can use.
	capped := mustPreloader(t, netjet.Options{MaxLinks: 2})
	assert.Equal(t, `<https://cdn.example/new.css>; rel=preload; as=style, </local.css>; rel=preload; as=style`,
		joinLinks(capped.Links([]byte(mixedPage), "https://site.example/page")))

	// A <base> with an http: URL makes relative URLs http: too.
	based := `<base href=http://old.example/><link rel=stylesheet href=a.css><img src=b.png>`
	assert.Equal(t, `<http://old.example/b.png>; rel=preload; as=image`,
		joinLinks(p.Links([]byte(based), "https://site.example/")))
}

// Over TLS the middleware leaves out what the browser would block, before the caps, on a
// parse and on a cache hit alike, in the final header and in the 103; the same instance still
// gives a plain-HTTP response every link, from a cache entry of its own.
func TestMiddlewareLeavesOutMixedContentOverTLS(t *testing.T) {
	p := mustPreloader(t, netjet.Options{MaxHeaderBytes: -1, EarlyHints: true, EarlyHintsHTTP1: true})
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, mixedPage)
	}))
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.EnableHTTP2 = true
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(h)
	defer plainSrv.Close()

	get := func(srv *httptest.Server) (link string, hints []string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/page", nil)
		require.NoError(t, err)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		var got103 []string // the client calls Got1xxResponse before Do returns
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				if code == http.StatusEarlyHints {
					got103 = append(got103, h.Get("Link"))
				}
				return nil
			},
		}))
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, mixedPage, string(body))
		return resp.Header.Get("Link"), got103
	}

	link, hints := get(tlsSrv) // parsed
	assert.Equal(t, mixedOverTLS, link)
	assert.Empty(t, hints)
	link, _ = get(plainSrv) // parsed: the page over plain HTTP has links of its own
	assert.Equal(t, mixedOverHTTP, link)
	link, _ = get(tlsSrv) // from the cache
	assert.Equal(t, mixedOverTLS, link)
	link, _ = get(plainSrv) // from the cache
	assert.Equal(t, mixedOverHTTP, link)
	st := p.Stats()
	assert.Equal(t, [2]uint64{2, 2}, [2]uint64{st.Parsed, st.CacheHits}, "parsed, cache hits")

	// The route has now seen two responses over TLS to this client (a route over TLS is
	// another than over plain HTTP): the 103 carries only what the browser can take.
	_, hints = get(tlsSrv)
	require.Len(t, hints, 1)
	assert.Equal(t, `<https://cdn.example/new.css>; rel=preload; as=style, </local.css>; rel=preload; as=style, <http://old.example>; rel=preconnect`, hints[0])
}
