package netjetcaddy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docCaddyfiles returns the Caddyfile blocks of docs/deploying.md.
func docCaddyfiles(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "deploying.md"))
	require.NoError(t, err)
	var out []string
	for _, m := range regexp.MustCompile("(?s)```caddyfile\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDocsCaddyfilesAdapt checks that every Caddyfile in docs/deploying.md adapts without a
// warning, and that where netjet and encode are both in a site, netjet runs inside encode.
func TestDocsCaddyfilesAdapt(t *testing.T) {
	files := docCaddyfiles(t)
	require.GreaterOrEqual(t, len(files), 4)
	for _, cf := range files {
		if !strings.HasPrefix(cf, "example.com {") {
			cf = "example.com {\n" + cf + "}\n" // a block that goes inside a site
		}
		names, nj := siteHandlers(t, adapt(t, cf))
		if nj == nil {
			continue
		}
		if i := indexOf(names, "encode"); i >= 0 {
			assert.Equal(t, "netjet", names[i+1], "the handler after encode in\n%s", cf)
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestDocsCaddyfilesServe runs the static site and the reverse proxy of docs/deploying.md,
// with the test's site root and PHP origin in place of the docs' paths and upstream.
func TestDocsCaddyfilesServe(t *testing.T) {
	var static, proxy string
	for _, cf := range docCaddyfiles(t) {
		switch {
		case strings.Contains(cf, "root * /srv/www"):
			static = cf
		case strings.Contains(cf, "root * /srv/app/public") && strings.Contains(cf, "reverse_proxy @app 127.0.0.1:8080"):
			proxy = cf
		}
	}
	require.NotEmpty(t, static, "the static site's Caddyfile")
	require.NotEmpty(t, proxy, "the reverse proxy's Caddyfile")
	body := func(cf string) string { // the site block's directives
		return cf[strings.Index(cf, "{")+1 : strings.LastIndex(cf, "}")]
	}

	t.Run("static", func(t *testing.T) {
		c := startCaddy(t, strings.Replace(body(static), "/srv/www", siteRoot(t), 1))
		cl := h2Client(t, c.cert.pool)
		requireOneHint(t, cl.untilHinted(t, c.url+"/"))
	})

	t.Run("reverse proxy", func(t *testing.T) {
		origin := phpOrigin(t)
		root, err := filepath.Abs(filepath.Join("testdata", "php"))
		require.NoError(t, err)
		site := strings.Replace(body(proxy), "/srv/app/public", root, 1)
		c := startCaddy(t, strings.Replace(site, "127.0.0.1:8080", origin, 1))
		cl := h2Client(t, c.cert.pool)
		res := cl.untilHinted(t, c.url+"/")
		requireOneHint(t, res)
		assert.Contains(t, res.resp.Header.Get("X-Powered-By"), "PHP", "the page came from PHP")
		assert.Contains(t, res.body, "Hello, world")

		css := cl.get(t, c.url+"/app.css")
		assert.NotEmpty(t, css.resp.Header.Get("Last-Modified"), "file_server, not PHP, served the stylesheet")
		assert.Empty(t, css.resp.Header.Get("X-Powered-By"))
	})
}
