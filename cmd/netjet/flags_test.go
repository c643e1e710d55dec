package main

import (
	"flag"
	"io"
	"testing"

	"github.com/netjet-go/netjet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On the command line 0 means zero: the flags map it to what Options spells zero as.
func TestOptionFlagsZero(t *testing.T) {
	parse := func(args ...string) (netjet.Options, error) {
		t.Helper()
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var f optionFlags
		f.addLinkFlags(fs)
		f.addServingFlags(fs)
		require.NoError(t, fs.Parse(args))
		return f.options()
	}

	o, err := parse()
	require.NoError(t, err)
	assert.Equal(t, netjet.Styles|netjet.Scripts|netjet.Images|netjet.Hints, o.Kinds)
	assert.Equal(t, netjet.DefaultCacheSize, o.CacheSize)
	assert.Equal(t, netjet.DefaultMaxImages, o.MaxImages)

	o, err = parse("-cache-size", "0")
	require.NoError(t, err)
	assert.Equal(t, -1, o.CacheSize, "no cache, where Options' 0 is the default size")

	o, err = parse("-max-images", "0")
	require.NoError(t, err)
	assert.Equal(t, netjet.Styles|netjet.Scripts|netjet.Hints, o.Kinds, "no images, where Options' 0 is the default cap")

	o, err = parse("-max-images", "0", "-kinds", "images,styles")
	require.NoError(t, err)
	assert.Equal(t, netjet.Styles, o.Kinds)

	_, err = parse("-max-images", "0", "-kinds", "images")
	assert.EqualError(t, err, "-max-images 0 with -kinds images leaves nothing to preload")
}
