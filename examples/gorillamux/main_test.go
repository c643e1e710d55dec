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
	srv := httptest.NewServer(newHandler())
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestHomePageGetsLinksAndItsBodyUnchanged(t *testing.T) {
	resp, body := get(t, "/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"</static/app.css>; rel=preload; as=style, </static/logo.svg>; rel=preload; as=image"},
		resp.Header.Values("Link"))
	assert.Equal(t, homePage, body)
}

func TestNotFoundPageGetsLinks(t *testing.T) {
	resp, body := get(t, "/missing")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, []string{"</static/app.css>; rel=preload; as=style"}, resp.Header.Values("Link"))
	assert.Contains(t, body, "<h1>Not found</h1>")
}

func TestStylesheetGetsNoLinks(t *testing.T) {
	resp, body := get(t, "/static/app.css")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Values("Link"))
	assert.Equal(t, "h1 { color: #1d4e89; }\n", body)
}
