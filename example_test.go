package netjet_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/netjet-go/netjet"
)

func ExamplePreloader_Links() {
	p, err := netjet.New(netjet.Options{})
	if err != nil {
		log.Fatal(err)
	}
	page := []byte(`<!doctype html>
<link rel=stylesheet href=/app.css>
<script type=module src=/app.js></script>
<img src=/hero.jpg fetchpriority=high>
<img src=/below-the-fold.jpg loading=lazy>`)

	for _, l := range p.Links(page, "/") {
		fmt.Println(l)
	}
	// Output:
	// </app.css>; rel=preload; as=style
	// </app.js>; rel=modulepreload; fetchpriority=low
	// </hero.jpg>; rel=preload; as=image; fetchpriority=high
}

func ExampleLink_String() {
	font := netjet.Link{
		URL:         "/fonts/Inter var.woff2",
		Rel:         "preload",
		As:          "font",
		Type:        "font/woff2",
		CrossOrigin: "anonymous",
	}
	fmt.Println(font.String())
	// Output:
	// </fonts/Inter%20var.woff2>; rel=preload; as=font; type="font/woff2"; crossorigin
}

func ExampleMiddleware() {
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><link rel=stylesheet href=/app.css><script src=/app.js></script>`)
	})
	handler := netjet.Middleware(netjet.Options{})(page)

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(rec.Header().Get("Link"))
	// Output:
	// </app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script
}
