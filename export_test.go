package netjet

// Test support for both test packages: what package netjet_test needs of the internals, and
// the helpers of package netjet's own tests.

import (
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// LinksOverTLS returns the links the middleware adds to a response sent over TLS to a request
// for docURL, a path: Links, with TLS known apart from the document's URL, as the middleware
// knows it from the request. For the tests of package netjet_test.
func (p *Preloader) LinksOverTLS(doc []byte, docURL string) []Link {
	return p.parse(doc, docURL, true).sent
}

// corpusDir holds the real pages benchmarks and corpus tests read. It sits beside the
// repository, not in it.
const corpusDir = "../shared/corpus/pages"

// readCorpusPage returns one corpus page, or skips the test when the corpus is absent.
func readCorpusPage(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if os.IsNotExist(err) {
		tb.Skipf("corpus page %s not found (%s is beside the repository in CI)", name, corpusDir)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// discardWriter is the cheapest ResponseWriter: what a benchmark measures is the handler
// and the middleware, not a connection.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) { w.code = code }

func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

func linkValues(links []Link) []string {
	var vs []string
	for _, l := range links {
		vs = append(vs, l.String())
	}
	return vs
}

// corpusPages returns the names of the corpus pages, or skips the test without them.
func corpusPages(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(corpusDir)
	if os.IsNotExist(err) {
		t.Skipf("%s not found (it sits beside the repository)", corpusDir)
	}
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".html") {
			names = append(names, e.Name())
		}
	}
	require.NotEmpty(t, names)
	return names
}

// HeaderNames returns the names of a 1xx response's header: for the tests of both packages
// that check a 103 carries nothing but its Link.
func HeaderNames(h textproto.MIMEHeader) []string {
	var names []string
	for k := range h {
		names = append(names, k)
	}
	return names
}
