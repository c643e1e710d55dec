package netjet

import (
	"errors"
	"net/http"
	"strings"
)

// pushedHeader lists what was pushed with a response, as Cloudflare's cf-h2-pushed did, so that
// a person reading the headers (or a test) can see what the connection carried.
const pushedHeader = "Netjet-Pushed"

// push pushes the page's same-origin path links over HTTP/2 (Options.Push), before the
// response's header goes out, and lists them in the Netjet-Pushed header. A push that fails is
// not the page's failure: the page goes out all the same, and the browser fetches the rest.
func (p *Preloader) push(rw http.ResponseWriter, r *http.Request, pl *pageLinks) {
	if !p.opts.Push {
		return
	}
	pusher, ok := unwrapTo[http.Pusher](rw)
	if !ok {
		return
	}
	var pushed []string
	for _, l := range pl.sent {
		if l.Rel == "preconnect" || !strings.HasPrefix(l.URL, "/") || strings.HasPrefix(l.URL, "//") {
			continue // another origin, or no resource at all
		}
		err := pusher.Push(l.URL, nil)
		if errors.Is(err, http.ErrNotSupported) {
			break // the client turned pushes off
		}
		if err != nil {
			continue // a pushed request cannot push, nor can a URL net/http does not accept
		}
		pushed = append(pushed, "<"+l.URL+">")
	}
	if len(pushed) > 0 {
		rw.Header()[pushedHeader] = []string{strings.Join(pushed, ",")}
	}
}
