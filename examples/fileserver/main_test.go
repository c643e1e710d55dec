package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var files = map[string]string{
	"index.html": `<!doctype html><html><head><title>files</title>` +
		`<link rel="stylesheet" href="style.css"></head>` +
		`<body><img src="logo.svg" alt="logo"></body></html>`,
	"style.css": "body { margin: 0; }\n",
	"logo.svg":  `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>`,
	// Names a stylesheet, yet is served as text/plain: netjet must leave it alone.
	"notes.txt": `<link rel="stylesheet" href="style.css">`,
}

// get fetches path from a file server over a directory holding files.
func get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	srv := httptest.NewServer(newHandler(dir))
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return resp, string(body)
}

func TestIndexPageGetsLinksAndItsBodyUnchanged(t *testing.T) {
	resp, body := get(t, "/")
	assert.Equal(t, []string{"<style.css>; rel=preload; as=style, <logo.svg>; rel=preload; as=image"},
		resp.Header.Values("Link"))
	assert.Equal(t, files["index.html"], body)
}

func TestOtherFilesPassThrough(t *testing.T) {
	for _, name := range []string{"style.css", "logo.svg", "notes.txt"} {
		resp, body := get(t, "/"+name)
		assert.Empty(t, resp.Header.Values("Link"), name)
		assert.Equal(t, files[name], body, name)
	}
}
