package main

import (
	"io"
	"net/http"
	"testing"

	"github.com/netjet-go/netjet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PHP pages often set a Link of their own. A page at / whose handler sent </style.css> and
// whose markup says href="style.css" names one stylesheet: it must go out once, or its bytes
// count twice against MaxHeaderBytes. Likewise two spellings within one page.
func TestProxyDoesNotRepeatAURLSpelledAnotherWay(t *testing.T) {
	preloader, err := netjet.New(netjet.Options{})
	require.NoError(t, err)

	links := preloader.Links([]byte(`<link rel=stylesheet href=app.css><link rel=stylesheet href=/blog/app.css>`), "/blog/post")
	var urls []string
	for _, l := range links {
		urls = append(urls, l.URL)
	}
	assert.Equal(t, []string{"app.css"}, urls, "one stylesheet, spelled twice")

	origin := htmlOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!doctype html><link rel="stylesheet" href="style.css">`)
	})
	proxy := startProxy(t, "-upstream", origin)
	res, _ := get(t, rawClient(t, nil), proxy.url("/"))
	assert.Equal(t, []string{"</style.css>; rel=preload; as=style"}, res.Header["Link"])
}
