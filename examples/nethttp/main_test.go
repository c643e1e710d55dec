package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get fetches path from a server running newHandler and returns the response and its body.
func get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	handler, err := newHandler()
	require.NoError(t, err)
	srv := httptest.NewServer(handler)
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return resp, string(body)
}

func TestHomePageGetsLinksAndItsBodyUnchanged(t *testing.T) {
	resp, body := get(t, "/")
	assert.Equal(t, []string{"</app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script; fetchpriority=low"},
		resp.Header.Values("Link"))
	assert.Equal(t, homePage, body)
}

func TestStylesheetGetsNoLinks(t *testing.T) {
	resp, body := get(t, "/app.css")
	assert.Empty(t, resp.Header.Values("Link"))
	assert.Equal(t, "h1 { color: #1d4e89; }\n", body)
}
