package netjetcaddy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// siteHandlers returns the handler names of the one route of the adapted Caddyfile's one
// site, in the order Caddy runs them, and the netjet handler's JSON.
func siteHandlers(t *testing.T, cfg []byte) ([]string, map[string]any) {
	t.Helper()
	var c struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []struct {
							Routes []struct {
								Handle []map[string]any `json:"handle"`
							} `json:"routes"`
						} `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	require.NoError(t, json.Unmarshal(cfg, &c))
	require.Len(t, c.Apps.HTTP.Servers, 1)
	var names []string
	var nj map[string]any
	for _, srv := range c.Apps.HTTP.Servers {
		require.Len(t, srv.Routes, 1)
		require.Len(t, srv.Routes[0].Handle, 1)
		for _, r := range srv.Routes[0].Handle[0].Routes {
			for _, h := range r.Handle {
				names = append(names, h["handler"].(string))
				if h["handler"] == "netjet" {
					nj = h
				}
			}
		}
	}
	return names, nj
}

func TestDirectiveTakesItsPlaceWithoutAnOrderLine(t *testing.T) {
	// Written in the opposite order: Caddy sorts the directives by its directive order, in
	// which netjet registered itself after encode.
	cfg := adapt(t, `example.com {
	file_server
	reverse_proxy /api/* 127.0.0.1:9000
	templates
	netjet
	encode
}`)
	names, _ := siteHandlers(t, cfg)
	assert.Equal(t, []string{"encode", "netjet", "templates", "reverse_proxy", "file_server"}, names)
}

func TestEverySubdirective(t *testing.T) {
	cfg := adapt(t, `example.com {
	netjet {
		kinds styles scripts hints
		attributes nopush `+"`"+`x-a="b c"`+"`"+`
		cache_size -1
		max_links 5
		max_images 1
		max_header_bytes 2000
		max_buffer_bytes 65536
		early_hints
		early_hints_http1
		routes 100
		route {http.request.host}{http.request.uri.path.0}
	}
}`)
	_, nj := siteHandlers(t, cfg)
	assert.Equal(t, map[string]any{
		"handler":           "netjet",
		"kinds":             []any{"styles", "scripts", "hints"},
		"attributes":        []any{"nopush", `x-a="b c"`},
		"cache_size":        -1.0,
		"max_links":         5.0,
		"max_images":        1.0,
		"max_header_bytes":  2000.0,
		"max_buffer_bytes":  65536.0,
		"early_hints":       true,
		"early_hints_http1": true,
		"routes":            100.0,
		"route":             "{http.request.host}{http.request.uri.path.0}",
	}, nj)
	// and the configuration provisions: netjet.New takes the options.
	require.NoError(t, caddy.Validate(loadConfig(t, cfg)))

	cfg = adapt(t, "example.com {\n\tnetjet {\n\t\tpush\n\t}\n}")
	_, nj = siteHandlers(t, cfg)
	assert.Equal(t, map[string]any{"handler": "netjet", "push": true}, nj)
	require.NoError(t, caddy.Validate(loadConfig(t, cfg)))
}

func loadConfig(t *testing.T, cfg []byte) *caddy.Config {
	t.Helper()
	var c caddy.Config
	require.NoError(t, json.Unmarshal(cfg, &c))
	return &c
}

// badConfigs are netjet blocks that Caddy must refuse, each with what the error says: every
// one names the subdirective. The ones marked provision pass the Caddyfile adapter and fail
// when Caddy provisions the handler (caddy validate, caddy run), as a JSON configuration with
// the same values does.
var badConfigs = []struct {
	block, want string
	provision   bool
}{
	{block: "max_links x", want: `netjet: max_links: must be an integer, got "x"`},
	{block: "max_links", want: `netjet: max_links: needs an integer argument`},
	{block: "max_links 1 2", want: `netjet: max_links: takes one argument, got another: "2"`},
	{block: "max_images 1.5", want: `netjet: max_images: must be an integer, got "1.5"`},
	{block: "max_header_bytes 1k", want: `netjet: max_header_bytes: must be an integer, got "1k"`},
	{block: "cache_size lots", want: `netjet: cache_size: must be an integer, got "lots"`},
	{block: "max_buffer_bytes big", want: `netjet: max_buffer_bytes: must be an integer, got "big"`},
	{block: "max_buffer_bytes -1", want: `netjet: max_buffer_bytes: must not be negative, got -1`},
	{block: "kinds styles fonts", want: `netjet: kinds: unknown kind "fonts": want styles, scripts, images or hints`},
	{block: "kinds", want: `netjet: kinds: needs at least one argument`},
	{block: "attributes", want: `netjet: attributes: needs at least one argument`},
	{block: "early_hints yes", want: `netjet: early_hints: takes no argument, got "yes"`},
	{block: "push on", want: `netjet: push: takes no argument, got "on"`},
	{block: "route a b", want: `netjet: route: takes one argument, got 2`},
	{block: "routes x", want: `netjet: routes: must be an integer, got "x"`},
	{block: "preload_fonts", want: `netjet: unknown subdirective "preload_fonts"`},
	{block: "max_links 3 {\n\t\t\tx\n\t\t}", want: `netjet: max_links: takes no block`},
	{block: `attributes "no push"`, provision: true,
		want: `netjet: attributes: attributes[0] "no push": the name must be a token`},
	{block: "early_hints_http1", provision: true, want: `netjet: early_hints_http1 needs early_hints`},
	{block: "routes -1\n\t\troute {http.request.uri.path}", provision: true, want: `netjet: route needs routes`},
	{block: "routes -1\n\t\tearly_hints", provision: true, want: `netjet: early_hints needs routes`},
	{block: "attributes nopush\n\t\tpush", provision: true, want: `netjet: push contradicts the "nopush" in attributes`},
}

func TestBadValuesNameTheSubdirective(t *testing.T) {
	for _, tc := range badConfigs {
		t.Run(tc.block, func(t *testing.T) {
			caddyfile := "example.com {\n\tnetjet {\n\t\t" + tc.block + "\n\t}\n}\n"
			cfg, _, err := adaptCaddyfile(caddyfile)
			if !tc.provision {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				return
			}
			require.NoError(t, err)
			err = caddy.Validate(loadConfig(t, cfg))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestNoArgumentsOnTheDirectiveLine(t *testing.T) {
	_, _, err := adaptCaddyfile("example.com {\n\tnetjet early_hints\n}\n")
	require.Error(t, err)
	// "early_hints" is taken for a path matcher only when it starts with a slash.
	assert.Contains(t, err.Error(), `netjet: unexpected argument "early_hints": options go in a block`)
}

func TestCaddyValidateCommand(t *testing.T) {
	dir := t.TempDir()
	run := func(caddyfile string) (string, error) {
		name := filepath.Join(dir, "Caddyfile")
		require.NoError(t, os.WriteFile(name, []byte(caddyfile), 0o600))
		cmd := exec.Command(os.Args[0], "validate", "--adapter", "caddyfile", "--config", name)
		cmd.Env = append(os.Environ(), caddyMainEnv+"=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run("{\n\tadmin off\n}\n\nhttp://127.0.0.1:1 {\n\tnetjet {\n\t\tmax_links x\n\t}\n}\n")
	require.Error(t, err, "caddy validate said:\n%s", out)
	// caddy validate logs the error as JSON, quotes escaped.
	assert.Contains(t, out, `netjet: max_links: must be an integer, got \"x\"`)
	assert.Contains(t, out, "Caddyfile:7")
	t.Logf("caddy validate, a bad value:\n%s", out)

	out, err = run("{\n\tadmin off\n}\n\nhttp://127.0.0.1:1 {\n\tnetjet {\n\t\tearly_hints_http1\n\t}\n}\n")
	require.Error(t, err, "caddy validate said:\n%s", out)
	assert.Contains(t, out, `netjet: early_hints_http1 needs early_hints`)
	t.Logf("caddy validate, options netjet refuses:\n%s", out)

	out, err = run("{\n\tadmin off\n}\n\nhttp://127.0.0.1:1 {\n\tnetjet {\n\t\tearly_hints\n\t\tmax_links 4\n\t}\n}\n")
	require.NoError(t, err, "caddy validate said:\n%s", out)
	assert.Contains(t, out, "Valid configuration")
	assert.True(t, strings.Count(out, "\n") > 0)
}

func TestMatcherLeavesPagesOut(t *testing.T) {
	cfg := adapt(t, "example.com {\n\t@pages not path /live/*\n\tnetjet @pages {\n\t\tearly_hints\n\t}\n}\n")
	var c struct {
		Apps struct {
			HTTP struct {
				Servers map[string]struct {
					Routes []struct {
						Handle []struct {
							Routes []struct {
								Match  []map[string]any `json:"match"`
								Handle []map[string]any `json:"handle"`
							} `json:"routes"`
						} `json:"handle"`
					} `json:"routes"`
				} `json:"servers"`
			} `json:"http"`
		} `json:"apps"`
	}
	require.NoError(t, json.Unmarshal(cfg, &c))
	route := c.Apps.HTTP.Servers["srv0"].Routes[0].Handle[0].Routes[0]
	assert.Equal(t, []map[string]any{{"not": []any{map[string]any{"path": []any{"/live/*"}}}}}, route.Match)
	assert.Equal(t, []map[string]any{{"handler": "netjet", "early_hints": true}}, route.Handle)
}
