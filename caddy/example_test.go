package netjetcaddy_test

import (
	"fmt"
	"regexp"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// A Caddyfile needs no order line for netjet: whatever order the directives are written in,
// netjet runs inside encode and before the handler that makes the page.
func Example() {
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(`example.com {
	file_server
	netjet {
		early_hints
		max_links 6
	}
	encode
}`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range regexp.MustCompile(`"handler":"(encode|netjet|file_server)"`).FindAllStringSubmatch(string(cfg), -1) {
		fmt.Println(m[1])
	}
	fmt.Println(regexp.MustCompile(`\{"early_hints":[^}]*\}`).FindString(string(cfg)))
	// Output:
	// encode
	// netjet
	// file_server
	// {"early_hints":true,"handler":"netjet","max_links":6}
}
