package netjetcaddy

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServeHTTPReturnsTheNextHandlersError(t *testing.T) {
	h := &Handler{EarlyHints: true}
	require.NoError(t, h.Provision(caddy.Context{}))
	want := caddyhttp.Error(http.StatusTeapot, errors.New("no coffee"))
	rec := httptest.NewRecorder()
	err := h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil),
		caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return want }))
	require.Equal(t, want, err, "the error as the next handler returned it")
	var he caddyhttp.HandlerError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusTeapot, he.StatusCode)
	assert.Empty(t, rec.Body.String(), "nothing written: Caddy's error route writes the response")
	assert.False(t, rec.Flushed)
}

func TestRouteUsesPlaceholders(t *testing.T) {
	h := &Handler{EarlyHints: true, Route: "{http.request.host}|{http.request.uri.path.0}"}
	opts, err := h.options()
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "https://example.com/blog/post-1?x=1", nil)
	repl := caddy.NewReplacer()
	r = caddyhttp.PrepareRequest(r, repl, nil, nil)
	assert.Equal(t, "example.com|blog", opts.Route(r))
	// Outside Caddy there are no placeholders to fill: no route, so no hints.
	assert.Equal(t, "", opts.Route(httptest.NewRequest(http.MethodGet, "/", nil)))
}
