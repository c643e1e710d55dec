// Package netjet is net/http middleware that tells the browser what a page needs before the
// browser has read the page.
//
// It reads each HTML response on its way out, finds the stylesheets, scripts and images the
// page will ask for, and adds Link headers such as
//
//	Link: </app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script
//
// so that a browser or a CDN starts fetching them while the HTML is still arriving. The body
// is sent exactly as the handler wrote it. Pages seen before (same path, same ETag) are not
// parsed again: their links come from an LRU cache and the body streams straight through. A
// page without an ETag is remembered by a hash of its body, so an unchanged one is not
// parsed again either.
//
// Wrap any http.Handler:
//
//	p, err := netjet.New(netjet.Options{})
//	if err != nil { ... }
//	http.ListenAndServe(":8080", p.Handler(mux))
//
// or add it to a chain, as with chi's r.Use(netjet.Middleware(netjet.Options{})).
//
// With Options.EarlyHints, netjet also learns which render-blocking links (stylesheets,
// blocking scripts) each route's last two pages shared, and sends them in a 103 Early Hints
// response before the handler runs, so that the browser fetches while the server is still
// building the page. A link only one response had, such as a per-user URL, is never hinted.
//
// # What it reads, and what it leaves alone
//
// Only GET and HEAD responses with an HTML Content-Type (or none, when the body sniffs as
// HTML the way net/http sniffs it) and a status that renders a page (2xx but 204 and 206,
// 4xx, 5xx) are read. Everything else passes straight through, unbuffered. A partial
// response (Content-Range) is not read either. A body already compressed with gzip or
// deflate is read through a decoded copy, at most MaxBufferBytes of it, and sent as it was;
// other encodings pass through. Placing netjet inside compression middleware saves it the
// decoding.
//
// While it looks for links, netjet holds the body back, up to Options.MaxBufferBytes. When
// the handler flushes, or the body outgrows that buffer, the header goes out with the links
// found so far and the rest of the body streams. A page that has to be parsed anyway (an
// ETag not seen before, or the cache off) is read as it arrives, and streams as soon as no
// later element can change its links.
package netjet
