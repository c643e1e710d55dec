package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corpusDir is the corpus seen from this package's directory.
const corpusDir = "../../../shared/corpus/pages"

// demoDir and lateSite are the demo and the late site seen from this package's directory.
const (
	demoDir  = "../../examples/demo"
	lateSite = "../sites/late"
)

var summaryPattern = regexp.MustCompile(`^summary: (\S+) (\S+) FCP x(\d+\.\d\d) LCP x(\d+\.\d\d)$`)

// needChromium returns the browser to run, and skips the test without one or in -short
// mode: a browser test takes seconds to minutes.
func needChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	chromium, err := findChromium()
	if err != nil {
		t.Skip(err)
	}
	return chromium
}

// TestRunPrintsTheTableAndTheSummary runs speedtest as main does, on the demo page only,
// once per variant with a short think time, and reads what it prints.
func TestRunPrintsTheTableAndTheSummary(t *testing.T) {
	chromium := needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, config{
		pages: 1, runs: 1, think: 50 * time.Millisecond, rtt: 40 * time.Millisecond, down: 8, up: 4,
		corpusDir: corpusDir, demoDir: demoDir, chromium: chromium, parallel: 1,
		variants: "none,links,early-hints", network: "link",
	}, &out))

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 8, "a settings line, the table's header and three rows, three summaries:\n%s", out.String())
	assert.Contains(t, lines[0], "speedtest: 1 pages x 3 variants x 1 runs")
	assert.Equal(t, []string{"page", "variant", "runs", "FCP", "ms", "LCP", "ms", "load", "ms", "KB", "twice", "hinted", "FCP", "LCP", "load"},
		strings.Fields(lines[1]))
	rows := map[string][]string{}
	for _, line := range lines[2:5] {
		f := strings.Fields(line)
		require.Len(t, f, 15, line)
		assert.Equal(t, "demo", f[0])
		assert.Equal(t, "1", f[2], "runs")
		for _, i := range []int{3, 5, 7} { // FCP, LCP, load medians
			ms, err := strconv.ParseFloat(f[i], 64)
			require.NoError(t, err, line)
			assert.Greater(t, ms, 0.0, line)
		}
		kb, err := strconv.Atoi(f[9])
		require.NoError(t, err)
		assert.Greater(t, kb, 700, "the demo loads about 740 KB at the synthetic sizes: %s", line)
		assert.Equal(t, "0", f[10], "no resource is fetched twice: %s", line)
		rows[f[1]] = f
	}
	require.Contains(t, rows, "none")
	require.Contains(t, rows, "links")
	require.Contains(t, rows, "early-hints")
	assert.Equal(t, []string{"x1.00", "x1.00", "x1.00"}, rows["none"][12:])
	assert.Equal(t, "0", rows["links"][11], "no Early Hints without the option")
	assert.Equal(t, "3", rows["early-hints"][11], "the browser took the demo's three render-blocking files from the 103")

	for i, v := range []string{"none", "links", "early-hints"} {
		m := summaryPattern.FindStringSubmatch(lines[5+i])
		require.NotNil(t, m, "a summary line: %q", lines[5+i])
		assert.Equal(t, []string{"demo", v}, m[1:3])
		assert.Equal(t, []string{"x" + m[3], "x" + m[4]}, rows[v][12:14], "the summary repeats the table's ratios: %s", lines[5+i])
	}
}

// TestRunMeasuresAStaticSite loads the late site as -site does, once per variant, and
// checks that the browser fetched its files as they are on disk.
func TestRunMeasuresAStaticSite(t *testing.T) {
	chromium := needChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, config{
		pages: 0, siteDir: lateSite, runs: 1, think: 50 * time.Millisecond, rtt: 40 * time.Millisecond, down: 8, up: 4,
		chromium: chromium, parallel: 1, variants: "none,early-hints", network: "link",
	}, &out))

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 6, "a settings line, the table's header and two rows, two summaries:\n%s", out.String())
	assert.Contains(t, lines[0], "speedtest: 1 pages x 2 variants x 1 runs")
	for i, v := range []string{"none", "early-hints"} {
		f := strings.Fields(lines[2+i])
		require.Len(t, f, 15, lines[2+i])
		assert.Equal(t, []string{"index", v}, f[:2])
		kb, err := strconv.Atoi(f[9])
		require.NoError(t, err)
		// The page, its stylesheets, three fonts and three images: about 350 KB as they
		// are on disk. A synthetic body in their place would weigh otherwise.
		assert.InDelta(t, 350, kb, 30, "KB over the link: %s", lines[2+i])
		assert.Equal(t, "0", f[10], "no file fetched twice: %s", lines[2+i])
		m := summaryPattern.FindStringSubmatch(lines[4+i])
		require.NotNil(t, m, "a summary line: %q", lines[4+i])
		assert.Equal(t, []string{"index", v}, m[1:3])
	}
	assert.Equal(t, "0", strings.Fields(lines[2])[11], "nothing from a 103 without netjet")
	hinted, err := strconv.Atoi(strings.Fields(lines[3])[11])
	require.NoError(t, err)
	assert.GreaterOrEqual(t, hinted, 2, "the browser took at least the two stylesheets the page names from the 103")
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, cfg := range []config{
		{pages: 1, runs: 1, parallel: 1, variants: "none,links", network: "link"},
		{pages: 1, runs: 1, parallel: 1, variants: "none,early-hints,fast", network: "link"},
		{pages: 1, runs: 1, parallel: 1, variants: "none,early-hints", network: "wifi"},
		{pages: 1, runs: 0, parallel: 1, variants: "none,early-hints", network: "link"},
	} {
		assert.Error(t, run(context.Background(), cfg, &bytes.Buffer{}), "%+v", cfg)
	}
}

func TestRunNeedsPagesToLoad(t *testing.T) {
	// chromium is set so that the test does not depend on one being installed: run fails
	// before it would start it.
	cfg := config{pages: 0, runs: 1, parallel: 1, variants: "none,early-hints", network: "link", chromium: "unused"}
	assert.ErrorContains(t, run(context.Background(), cfg, &bytes.Buffer{}), "nothing to load")
	cfg.siteDir = t.TempDir()
	assert.ErrorContains(t, run(context.Background(), cfg, &bytes.Buffer{}), "no .html page")
	cfg.siteDir = filepath.Join(t.TempDir(), "missing")
	assert.ErrorContains(t, run(context.Background(), cfg, &bytes.Buffer{}), "missing")
}

func TestLoadPagesPicksCorpusPagesLikeTheDemo(t *testing.T) {
	pages, err := loadPages(demoDir, corpusDir, 6)
	require.NoError(t, err)
	if len(pages) == 1 {
		t.Skip("no corpus at " + corpusDir)
	}
	require.Len(t, pages, 6)
	assert.Equal(t, "demo", pages[0].name)
	assert.Equal(t, "/", pages[0].path)
	names := map[string]bool{}
	for _, p := range pages[1:] {
		assert.False(t, names[p.name], "%s twice", p.name)
		names[p.name] = true
		assert.Positive(t, p.loads.sheets, p.name)
		assert.GreaterOrEqual(t, p.loads.sheets+p.loads.scripts+p.loads.images, 3, p.name)
		assert.InDelta(t, pages[0].weight(), p.weight(), float64(pages[0].weight())/2, "%s weighs about what the demo does", p.name)
	}
}

func TestLoadPagesWithoutCorpusIsTheDemoAlone(t *testing.T) {
	pages, err := loadPages(demoDir, t.TempDir(), 6)
	require.NoError(t, err)
	require.Len(t, pages, 1)
	assert.Equal(t, "demo", pages[0].name)
}

func TestGrownBodiesHaveTheirSizeAndStayValid(t *testing.T) {
	s, err := newSite(nil, demoDir, 0)
	require.NoError(t, err)
	for dest, body := range s.bodies {
		assert.Len(t, body, assetSizes[dest], dest)
	}
	for name, body := range s.assets {
		assert.Len(t, body, assetSizes[destinationOf(name)], name)
	}

	original, err := os.ReadFile("../../examples/demo/static/hero.png")
	require.NoError(t, err)
	want, err := png.Decode(bytes.NewReader(original))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(s.assets["/static/hero.png"]))
	require.NoError(t, err, "the padded PNG still decodes")
	assert.Equal(t, want, img, "to the demo's banner")
	_, err = png.Decode(bytes.NewReader(s.bodies["image"]))
	require.NoError(t, err)

	css := string(s.assets["/static/site.css"])
	assert.True(t, strings.HasPrefix(css, "@font-face"), "the demo's rules come first")
	assert.True(t, strings.HasSuffix(css, "*/\n"), "the padding is a closed comment")
	assert.Equal(t, 1, strings.Count(css, "/*synthetic padding"), "one padding comment")

	font := s.assets["/static/square.woff2"]
	assert.Equal(t, "wOF2", string(font[:4]))
}
