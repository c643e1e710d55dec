// Command caddy is Caddy with its standard modules and netjet's http.handlers.netjet.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/netjet-go/netjet/caddy"
)

func main() {
	caddycmd.Main()
}
