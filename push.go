package netjet

import "net/http"

// push pushes the page's same-origin links over HTTP/2, with Options.Push.
func (p *Preloader) push(rw http.ResponseWriter, r *http.Request, pl *pageLinks) {}
