package main

import (
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUsage(t *testing.T) {
	r := runNetjet(t)
	assert.Equal(t, exitUsage, r.code)
	assert.Equal(t, usage, r.stderr)
	assert.Empty(t, r.stdout)

	for _, help := range []string{"-h", "-help", "--help", "help"} {
		r := runNetjet(t, help)
		assert.Equal(t, exitOK, r.code, help)
		assert.Equal(t, usage, r.stdout, help)
		assert.Empty(t, r.stderr, help)
	}
	assert.Contains(t, usage, "\n  netjet proxy -upstream URL [-listen ADDR] [flags]\n")
	assert.Contains(t, usage, "\n  netjet headers [-host cloudflare|netlify] [-base-url URL] [-o FILE] [flags] DIR\n")
	assert.Contains(t, usage, "\n  netjet version\n")
}

func TestUnknownCommand(t *testing.T) {
	r := runNetjet(t, "serve")
	assert.Equal(t, exitUsage, r.code)
	assert.True(t, strings.HasPrefix(r.stderr, "netjet: unknown command \"serve\"\n\n"+usage[:20]), r.stderr)
}

func TestVersion(t *testing.T) {
	r := runNetjet(t, "version")
	assert.Equal(t, exitOK, r.code)
	// A test binary is built from the checkout: no module version.
	assert.Equal(t, "netjet (devel) "+runtime.Version()+"\n", r.stdout)

	r = runNetjet(t, "version", "extra")
	assert.Equal(t, exitUsage, r.code)
	assert.Equal(t, "netjet version: takes no arguments\n", r.stderr)
}

func TestHeadersHelp(t *testing.T) {
	r := runNetjet(t, "headers", "-h")
	assert.Equal(t, exitOK, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, headersUsage), r.stdout)
	for _, flag := range []string{"-o", "-base-url", "-host", "-max-rules", "-kinds", "-attributes", "-max-links",
		"-max-images", "-max-header-bytes"} {
		assert.Regexp(t, "\n  "+flag+"[ \n]", r.stdout)
	}
	for _, want := range []string{`(default "/")`, "(default cloudflare)", "(default 100)", "(default 10)\n"} {
		assert.Contains(t, r.stdout, want)
	}
	assert.NotContains(t, r.stdout, "-push", "serving flags mean nothing to a _headers file")
}
