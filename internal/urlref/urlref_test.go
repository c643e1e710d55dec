package urlref

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const rfcBase = "http://a/b/c/d;p?q"

func TestResolve(t *testing.T) {
	tests := []struct {
		name, base, ref, want string
	}{
		// RFC 3986 section 5.4.1, normal examples.
		{"normal", rfcBase, "g:h", "g:h"},
		{"normal", rfcBase, "g", "http://a/b/c/g"},
		{"normal", rfcBase, "./g", "http://a/b/c/g"},
		{"normal", rfcBase, "g/", "http://a/b/c/g/"},
		{"normal", rfcBase, "/g", "http://a/g"},
		{"normal", rfcBase, "//g", "http://g"},
		{"normal", rfcBase, "?y", "http://a/b/c/d;p?y"},
		{"normal", rfcBase, "g?y", "http://a/b/c/g?y"},
		{"normal", rfcBase, "#s", "http://a/b/c/d;p?q#s"},
		{"normal", rfcBase, "g#s", "http://a/b/c/g#s"},
		{"normal", rfcBase, "g?y#s", "http://a/b/c/g?y#s"},
		{"normal", rfcBase, ";x", "http://a/b/c/;x"},
		{"normal", rfcBase, "g;x", "http://a/b/c/g;x"},
		{"normal", rfcBase, "g;x?y#s", "http://a/b/c/g;x?y#s"},
		{"normal", rfcBase, "", "http://a/b/c/d;p?q"},
		{"normal", rfcBase, ".", "http://a/b/c/"},
		{"normal", rfcBase, "./", "http://a/b/c/"},
		{"normal", rfcBase, "..", "http://a/b/"},
		{"normal", rfcBase, "../", "http://a/b/"},
		{"normal", rfcBase, "../g", "http://a/b/g"},
		{"normal", rfcBase, "../..", "http://a/"},
		{"normal", rfcBase, "../../", "http://a/"},
		{"normal", rfcBase, "../../g", "http://a/g"},

		// RFC 3986 section 5.4.2, abnormal examples.
		{"abnormal", rfcBase, "../../../g", "http://a/g"},
		{"abnormal", rfcBase, "../../../../g", "http://a/g"},
		{"abnormal", rfcBase, "/./g", "http://a/g"},
		{"abnormal", rfcBase, "/../g", "http://a/g"},
		{"abnormal", rfcBase, "g.", "http://a/b/c/g."},
		{"abnormal", rfcBase, ".g", "http://a/b/c/.g"},
		{"abnormal", rfcBase, "g..", "http://a/b/c/g.."},
		{"abnormal", rfcBase, "..g", "http://a/b/c/..g"},
		{"abnormal", rfcBase, "./../g", "http://a/b/g"},
		{"abnormal", rfcBase, "./g/.", "http://a/b/c/g/"},
		{"abnormal", rfcBase, "g/./h", "http://a/b/c/g/h"},
		{"abnormal", rfcBase, "g/../h", "http://a/b/c/h"},
		{"abnormal", rfcBase, "g;x=1/./y", "http://a/b/c/g;x=1/y"},
		{"abnormal", rfcBase, "g;x=1/../y", "http://a/b/c/y"},
		{"abnormal", rfcBase, "g?y/./x", "http://a/b/c/g?y/./x"},
		{"abnormal", rfcBase, "g?y/../x", "http://a/b/c/g?y/../x"},
		{"abnormal", rfcBase, "g#s/./x", "http://a/b/c/g#s/./x"},
		{"abnormal", rfcBase, "g#s/../x", "http://a/b/c/g#s/../x"},
		{"abnormal", rfcBase, "http:g", "http:g"},

		// Path-absolute bases, as found in server-relative links.
		{"path-absolute base", "/", "a.css", "/a.css"},
		{"path-absolute base", "/", "./a.css", "/a.css"},
		{"path-absolute base", "/", "../a.css", "/a.css"},
		{"path-absolute base", "/", "/a.css", "/a.css"},
		{"path-absolute base", "/", "//cdn.example/a.css", "//cdn.example/a.css"},
		{"path-absolute base", "/", "https://x/a.css", "https://x/a.css"},
		{"path-absolute base", "/", "?q", "/?q"},
		{"path-absolute base", "/", "#f", "/#f"},
		{"path-absolute base", "/blog/post", "img/a.png", "/blog/img/a.png"},
		{"path-absolute base", "/blog/post?q=1", "", "/blog/post?q=1"},
		{"path-absolute base", "/blog/post?q=1", "#f", "/blog/post?q=1#f"},
		{"path-absolute base", "/a/", "/.//evil.example/x", "/.//evil.example/x"},

		// Other bases.
		{"base without path", "https://cdn.example", "a.js", "https://cdn.example/a.js"},
		{"base without path", "https://cdn.example", "?v=1", "https://cdn.example?v=1"},
		{"network-path base", "//cdn/x/y", "../z", "//cdn/z"},
		{"network-path base", "//cdn", "z", "//cdn/z"},
		{"base fragment dropped", "http://a/b#f", "", "http://a/b"},
		{"base fragment dropped", "http://a/b#f", "?q", "http://a/b?q"},
		{"base fragment dropped", "http://a/b#f", "#g", "http://a/b#g"},
		{"empty query kept", "http://a/b?q", "?", "http://a/b?"},
		{"empty fragment kept", "http://a/b", "#", "http://a/b#"},
		{"dot segments above root", "http://a/", "/..", "http://a/"},
		{"dot segments above root", "http://a/", "..", "http://a/"},
		{"dot segments at end", "http://a/b/c", "d/..", "http://a/b/"},
		{"dot segments at end", "http://a/b/c", "d/.", "http://a/b/d/"},
		{"scheme ref dot segments", rfcBase, "HTTPS://x/a/../b", "HTTPS://x/b"},
		// RFC 3986 removes dot segments from every path, even an opaque one
		// that a browser would leave alone.
		{"scheme ref rootless path", rfcBase, "data:text/plain,a/../b", "data:text/b"},
		{"scheme ref rootless path", rfcBase, "data:x", "data:x"},
		{"scheme ref keeps path", rfcBase, "http:/.//x", "http:/.//x"},
		{"colon in first segment", rfcBase, "./a:b", "http://a/b/c/a:b"},
		{"colon after bad scheme", rfcBase, "1a:b", "http://a/b/c/1a:b"},
		{"relative base keeps colon path", "", "./a:b", "./a:b"},

		// Characters as written: nothing decoded, encoded or normalised.
		{"as written", rfcBase, "%2F", "http://a/b/c/%2F"},
		{"as written", rfcBase, "%zz", "http://a/b/c/%zz"},
		{"as written", rfcBase, "a|b", "http://a/b/c/a|b"},
		{"as written", rfcBase, "a,b;c", "http://a/b/c/a,b;c"},
		{"as written", rfcBase, "^", "http://a/b/c/^"},
		{"as written", rfcBase, "é", "http://a/b/c/é"},
		{"as written", rfcBase, "a b", "http://a/b/c/a b"},
		{"as written", rfcBase, "x?a b&%zz=é#%2F^|", "http://a/b/c/x?a b&%zz=é#%2F^|"},
		{"as written", rfcBase, "%2e%2e/g", "http://a/b/c/%2e%2e/g"},
		{"as written", "https://X.example/%7Euser/a b/", "c", "https://X.example/%7Euser/a b/c"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.ref, func(t *testing.T) {
			assert.Equal(t, tt.want, Resolve(tt.base, tt.ref), "Resolve(%q, %q)", tt.base, tt.ref)
		})
	}
}

func TestScheme(t *testing.T) {
	tests := []struct {
		ref, want string
		ok        bool
	}{
		{"data:x", "data", true},
		{"JavaScript:1", "javascript", true},
		{`c:\x`, "c", true},
		{"a+b-c.d:x", "a+b-c.d", true},
		{"http://a/b", "http", true},
		{"a/b:c", "", false},
		{"1a:b", "", false},
		{":x", "", false},
		{"a?b:c", "", false},
		{"a#b:c", "", false},
		{"a b:c", "", false},
		{"abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, ok := Scheme(tt.ref)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"", "g", "../../../g", "/./g", "//g", "?y#s", "g:h", "/.//x", ".", "..", "%zz", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		got := Resolve(rfcBase, ref)
		if scheme, ok := Scheme(ref); ok {
			// A ref with its own scheme keeps it, as written.
			require.True(t, strings.HasPrefix(got, ref[:len(scheme)]+":"), "Resolve(%q, %q) = %q", rfcBase, ref, got)
		} else {
			require.True(t, strings.HasPrefix(got, "http:"), "Resolve(%q, %q) = %q", rfcBase, ref, got)
		}
		// Any string is a possible base too; this must not panic either.
		_ = Resolve(ref, ref)
	})
}
