package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get fetches path from a server running router and returns the response and its body.
func get(t *testing.T, router http.Handler, path string) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(router)
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestHomePageGetsLinksAndItsBodyUnchanged(t *testing.T) {
	resp, body := get(t, newRouter(), "/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"</static/app.css>; rel=preload; as=style, </static/app.js>; rel=modulepreload; fetchpriority=low"},
		resp.Header.Values("Link"))
	assert.Equal(t, homePage, body)
}

func TestScriptGetsNoLinks(t *testing.T) {
	resp, body := get(t, newRouter(), "/static/app.js")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Values("Link"))
	assert.Equal(t, "document.title += \" (module)\";\n", body)
}

func TestPanicAfterWritingAnswers500(t *testing.T) {
	router := newRouter()
	router.Get("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The template fails within the head: netjet still holds what it wrote.
		_, _ = w.Write([]byte(`<!doctype html><link rel="stylesheet" href="/static/app.css"><title>Half a page`))
		panic("template failed")
	})

	resp, body := get(t, router, "/broken")
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	assert.NotContains(t, body, "Half a page", "nothing netjet held back may go out")
}
