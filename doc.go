// Package netjet is net/http middleware that tells the browser what a page needs before the
// browser has read the page.
//
// It reads each HTML response on its way out, finds the stylesheets, scripts and images the
// page will ask for, and adds Link headers such as
//
//	Link: </app.css>; rel=preload; as=style, </app.js>; rel=preload; as=script
//
// so that a browser or a CDN starts fetching them while the HTML is still arriving. The body
// is sent exactly as the handler wrote it.
//
// Wrap any http.Handler:
//
//	p, err := netjet.New(netjet.Options{})
//	if err != nil { ... }
//	http.ListenAndServe("127.0.0.1:8080", p.Handler(mux))
//
// or add it to a chain, as with chi's r.Use(netjet.Middleware(netjet.Options{})).
//
// # When the header goes out
//
// netjet never holds a page back past its head. It holds the start of an HTML body until it
// has read the head (up to </head>, or the first element that opens the body), or
// Options.MaxBufferBytes of it, or the handler flushes, whichever comes first; the header
// then goes out and the rest of the body streams, write by write. A write larger than the
// buffer is read where it is, with no copy and no wait. Pages whose ETag was seen before get
// their links from a cache and are not read at all.
//
// What the head cannot show (the hero image in the body, a script at its end) comes from what
// the page's route has taught: the links of its recent complete responses. A page is read to
// its end, as it passes, while its route is learning, and one time in 64 after that. A head
// whose bytes are those of the last head read for the same URL is not read again.
//
// # What it learns, and who it tells
//
// Whatever netjet learns from one client's requests and responses never steers what another
// client is told. A learned link reaches a client only when the latest responses of the route
// to three distinct clients all had it (four for a link to another origin), or when it was in
// that caller's own last two responses. A client is an address as Request.RemoteAddr has it (an
// IPv4 address, or an IPv6 /64); a caller is a client with its cookies and credentials. Behind
// a proxy, set RemoteAddr from the proxy's header with middleware you trust, or every visitor
// counts as one client. The page cache keys a response as an HTTP cache does: host, path and
// query, ETag, TLS, the headers its Vary names, and the caller for private responses.
//
// With Options.EarlyHints, netjet also sends what a route taught about the links that block
// the first render (stylesheets, blocking scripts, preconnects, and the banner image or the
// fonts and the other sites its stylesheets name) in a 103 Early Hints response before the
// handler runs, so that the browser fetches while the server is still building the page: to
// GET navigations over HTTP/2 and HTTP/3, through ResponseWriters known to pass a 1xx on as
// informational.
//
// # What it reads, and what it leaves alone
//
// Only GET and HEAD responses with an HTML Content-Type (or none, when the body sniffs as HTML
// the way net/http sniffs it) and a status that renders a page (2xx but 204 and 206, 4xx, 5xx)
// are read; a HEAD gets the links its GET would, from the cache or the route. Everything else
// passes straight through, unbuffered. A partial response (Content-Range) is not read either. A
// body already compressed with gzip or deflate is read through a decoded copy of its start and
// sent as it was; other encodings pass through. Placing netjet inside compression middleware
// saves it the decoding.
package netjet
