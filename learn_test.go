package netjet_test

import (
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"path"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet"
)

// A client, to netjet, is an address: these tests dial from distinct loopback addresses
// (127.0.0.0/8 is all the local machine's), so that each address is a client as a browser on
// another machine would be.

// site serves the pages of the learning tests behind netjet with Early Hints (over HTTP/1.1
// too), and records the client addresses its handler saw.
//
//   - /p: a stylesheet, and one more named by ?theme= as it was sent (a reflected parameter),
//     then, in a second write, a body with a hero image and a cross-origin script, so that
//     the header goes out before the body is written.
//   - /u: a stylesheet and an image of its user, named by the "user" cookie: per-user URLs.
//   - /x: a stylesheet of another origin.
//   - /g: a stylesheet named by the client's address.
//   - any other path: a stylesheet named by the path.
type site struct {
	*httptest.Server
	opts    netjet.Options
	handler atomic.Pointer[http.Handler] // netjet, with what it learned, and the pages
	mu      sync.Mutex
	seen    map[string]bool
	clients map[string]*http.Client
}

func newSite(tb testing.TB, opts netjet.Options, http2 bool) *site {
	tb.Helper()
	s := &site{seen: map[string]bool{}, clients: map[string]*http.Client{}}
	s.opts = opts
	s.opts.EarlyHints, s.opts.EarlyHintsHTTP1 = true, true
	s.reset(tb)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*s.handler.Load()).ServeHTTP(w, r)
	}))
	if http2 {
		s.EnableHTTP2 = true
		s.StartTLS()
	} else {
		s.Start()
	}
	tb.Cleanup(s.Close)
	return s
}

// reset puts the pages behind a new Preloader, which has learned nothing.
func (s *site) reset(tb testing.TB) {
	h := mustPreloader(tb, s.opts).Handler(http.HandlerFunc(s.page))
	s.handler.Store(&h)
}

func (s *site) page(w http.ResponseWriter, r *http.Request) {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	s.mu.Lock()
	s.seen[host] = true
	s.mu.Unlock()
	if r.Header.Get("Sec-Fetch-Dest") == "style" {
		s.stylesheet(w, r, host)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	head := `<!doctype html><html><head><link rel=stylesheet href=/site.css>`
	body := `<body><img src=/hero.jpg>`
	switch r.URL.Path {
	case "/p":
		if theme := r.URL.Query().Get("theme"); theme != "" {
			head += `<link rel=stylesheet href="` + html.EscapeString(theme) + `">`
		}
	case "/u":
		if c, err := r.Cookie("user"); err == nil {
			head += `<link rel=stylesheet href="/u/` + html.EscapeString(c.Value) + `/theme.css">`
			body += `<img src="/u/` + html.EscapeString(c.Value) + `/avatar.png">`
		}
	case "/x":
		head += `<link rel=stylesheet href=https://cdn.example/x.css>`
	case "/g":
		// A page for where its client is, as a regional site's would be.
		head += `<link rel=stylesheet href="/g/` + html.EscapeString(host) + `.css">`
	default:
		// Any other path names a stylesheet of its own: a page that reflects its URL.
		head += `<link rel=stylesheet href="` + html.EscapeString(r.URL.Path) + `.css">`
	}
	_, _ = io.WriteString(w, head+`</head>`)
	_, _ = io.WriteString(w, body+`</body></html>`)
}

// stylesheet answers a browser's request for a stylesheet with one that names other origins:
// one every stylesheet names, one its path reflects, and one of its caller (its address and
// cookie), as a per-user theme's would.
func (s *site) stylesheet(w http.ResponseWriter, r *http.Request, host string) {
	w.Header().Set("Content-Type", "text/css")
	reflected := strings.TrimSuffix(path.Base(r.URL.Path), ".css")
	user := "anonymous"
	if c, err := r.Cookie("user"); err == nil {
		user = c.Value
	}
	_, _ = fmt.Fprintf(w, `@import url("https://%s.example/x.css"); @font-face { src: url(https://fonts.example/f.woff2) } `+
		`@font-face { src: url("https://u-%s-%s.example/f.woff2") }`, reflected, strings.ReplaceAll(host, ".", "-"), user)
}

// sheetOriginURL matches the origins a stylesheet of the site names.
var sheetOriginURL = regexp.MustCompile(`url\("?(https://[^/"]+)/`)

// clientAt returns a client of the site whose connections come from the loopback address ip.
func (s *site) clientAt(tb testing.TB, ip string) *http.Client {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[ip]; c != nil {
		return c
	}
	tr := s.Client().Transport.(*http.Transport).Clone()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr.DialContext = dialer.DialContext
	tb.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	s.clients[ip] = c
	return c
}

// saw reports whether the handler saw a request from ip.
func (s *site) saw(ip string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[ip]
}

// visit is what one client saw of a GET: the Link values of its 103s and of the response,
// and the body.
type visit struct {
	hints []string
	link  string
	proto int
	body  string
}

// get sends a GET for path from ip with header; mode is its Sec-Fetch-Mode ("" for none). A
// Host header in header replaces the request's.
func (s *site) get(t *testing.T, ip, path, mode string, header http.Header) visit {
	t.Helper()
	var v visit
	var mu sync.Mutex
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		if code == http.StatusEarlyHints {
			mu.Lock()
			v.hints = append(v.hints, strings.Join(h.Values("Link"), ", "))
			mu.Unlock()
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), http.MethodGet, s.URL+path, nil)
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	if host := header.Get("Host"); host != "" {
		req.Host = host
	}
	if mode != "" {
		req.Header.Set("Sec-Fetch-Mode", mode)
	}
	resp, err := s.clientAt(t, ip).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	mu.Lock()
	defer mu.Unlock()
	v.link, v.proto, v.body = strings.Join(resp.Header.Values("Link"), ", "), resp.ProtoMajor, string(body)
	return v
}

// navigate is get for a navigation without credentials.
func (s *site) navigate(t *testing.T, ip, path string) visit {
	t.Helper()
	return s.get(t, ip, path, "navigate", nil)
}

// addr returns the i-th test client address, from 127.0.0.2 on.
func addr(i int) string { return fmt.Sprintf("127.0.0.%d", i+2) }

// A client is the address the handler sees: three distinct addresses make a quorum, and the
// server sees them as sent; three users at one address (other cookies, as a bot would send)
// are one client, and make none.
func TestLearningClientIsTheAddress(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			s := newSite(t, netjet.Options{}, proto.major == 2)
			for i := range 3 {
				s.get(t, "127.0.0.1", "/p", "navigate", http.Header{"Cookie": {fmt.Sprintf("user=%d", i)}})
			}
			v := s.navigate(t, addr(0), "/p")
			assert.Empty(t, v.hints, "three cookies at one address are one client")
			assert.NotContains(t, v.link, "/hero.jpg")

			for i := 1; i < 3; i++ {
				s.navigate(t, addr(i), "/p")
			}
			v = s.navigate(t, addr(3), "/p")
			require.Equal(t, proto.major, v.proto)
			assert.Equal(t, []string{"</site.css>; rel=preload; as=style"}, v.hints, "three addresses agreed")
			for i := range 4 {
				assert.True(t, s.saw(addr(i)), "the handler saw %s", addr(i))
			}
		})
	}
}

// An attacker with two addresses, whatever it sends to a page that reflects its query into a
// stylesheet tag, never gets its stylesheet into what a victim at a third address is told:
// not in a 103 for the page, nor for the page with another query (which falls back on the
// page's route), nor in the Link header. Three honest clients teach the page first, so that
// the victim does get a 103, of the honest links only.
func TestLearningReflectedQueryNeverReachesAnotherClient(t *testing.T) {
	evil := []string{
		"/p?theme=https://evil.example/x.css",
		"/p?theme=//evil.example/x.css",
		"/p?theme=/evil.css",
	}
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			s := newSite(t, netjet.Options{}, proto.major == 2)
			for i := range 3 {
				s.navigate(t, addr(i), "/p")
			}
			attackers := []string{addr(10), addr(11)}
			for round := range 6 {
				for i, path := range evil {
					for j, ip := range attackers {
						mode := ""
						if (round+i+j)%2 == 0 {
							mode = "navigate"
						}
						cookie := http.Header{"Cookie": {fmt.Sprintf("s=%d", (round+j)%3)}}
						if round%3 == 0 {
							cookie = nil
						}
						// The attacker asks for the victim's pages too, as a client among others.
						s.get(t, ip, "/p", mode, cookie)
						s.get(t, ip, "/p?utm=1", mode, cookie)
						s.get(t, ip, path, mode, cookie)
					}
				}
			}
			// The attacker's pages do teach the attacker, as one caller (address and cookies)
			// once its own last two pages agree: the test would see a leak.
			s.navigate(t, attackers[0], evil[2])
			s.navigate(t, attackers[0], evil[2])
			v := s.navigate(t, attackers[0], evil[2])
			assert.Equal(t, []string{"</site.css>; rel=preload; as=style, </evil.css>; rel=preload; as=style"}, v.hints)

			victim := addr(20)
			for round := range 2 {
				v := s.navigate(t, victim, "/p")
				require.Equal(t, proto.major, v.proto)
				assert.Equal(t, []string{"</site.css>; rel=preload; as=style"}, v.hints)
				assert.Equal(t, "</site.css>; rel=preload; as=style, </hero.jpg>; rel=preload; as=image", v.link)
				// A query nobody sent before: the 103 falls back on the page's route.
				v = s.navigate(t, victim, fmt.Sprintf("/p?utm=%d", 2+round))
				assert.Equal(t, []string{"</site.css>; rel=preload; as=style"}, v.hints)
				assert.NotContains(t, v.link, "evil")
				// A query the attacker sent: its route has taught the victim nothing.
				v = s.navigate(t, victim, "/p?utm=1")
				for _, hint := range v.hints {
					assert.NotContains(t, hint, "evil")
				}
				assert.NotContains(t, v.link, "evil")
			}
		})
	}
}

// A user's own URL, in a page not marked private, reaches no other user: not one at another
// address, nor one behind the same address with another cookie; its own user does get it.
func TestLearningPerUserURLsStayWithTheirUser(t *testing.T) {
	alice := http.Header{"Cookie": {"user=alice"}}
	bob := http.Header{"Cookie": {"user=bob"}}
	carol := http.Header{"Cookie": {"user=carol"}}
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			s := newSite(t, netjet.Options{}, proto.major == 2)
			for range 10 {
				s.get(t, addr(0), "/u", "navigate", alice)
			}
			v := s.get(t, addr(0), "/u", "navigate", alice)
			require.Equal(t, []string{"</site.css>; rel=preload; as=style, </u/alice/theme.css>; rel=preload; as=style"},
				v.hints, "the user's own last two pages taught it")

			// Other users, one at another address and one behind alice's, each many times.
			for range 10 {
				for _, u := range []struct {
					ip     string
					header http.Header
				}{{addr(1), bob}, {addr(0), carol}, {addr(2), nil}, {addr(3), nil}} {
					v := s.get(t, u.ip, "/u", "navigate", u.header)
					for _, hint := range v.hints {
						assert.NotContains(t, hint, "alice")
					}
					assert.NotContains(t, v.link, "alice")
				}
			}
			// A quorum of clients did agree on the site's own stylesheet.
			v = s.get(t, addr(4), "/u", "navigate", nil)
			assert.Equal(t, []string{"</site.css>; rel=preload; as=style"}, v.hints)
		})
	}
}

// Links in the body reach a new client's header, and the page's stylesheets its 103, once
// the latest responses to three distinct clients agreed on them; two are not enough. A
// stylesheet of another origin needs four.
func TestLearningQuorum(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			s := newSite(t, netjet.Options{}, proto.major == 2)
			first := s.navigate(t, addr(0), "/p")
			require.Empty(t, first.hints)
			require.Equal(t, "</site.css>; rel=preload; as=style", first.link,
				"the header goes out before the body is written")
			s.navigate(t, addr(1), "/p")
			v := s.navigate(t, addr(2), "/p")
			assert.Empty(t, v.hints, "two clients taught the page")
			assert.NotContains(t, v.link, "/hero.jpg")
			v = s.navigate(t, addr(3), "/p")
			assert.Equal(t, []string{"</site.css>; rel=preload; as=style"}, v.hints, "three clients taught the page")
			assert.Equal(t, "</site.css>; rel=preload; as=style, </hero.jpg>; rel=preload; as=image", v.link)

			const cdn = "<https://cdn.example/x.css>; rel=preload; as=style"
			for i := range 3 {
				s.navigate(t, addr(i), "/x")
			}
			v = s.navigate(t, addr(3), "/x")
			assert.Equal(t, []string{"</site.css>; rel=preload; as=style"}, v.hints, "three clients: not enough for another origin")
			v = s.navigate(t, addr(4), "/x")
			assert.Equal(t, []string{"</site.css>; rel=preload; as=style, " + cdn}, v.hints, "four clients")
		})
	}
}

// A flood of requests for routes made up by one client (other hosts, paths and queries, each
// asked for once) passes through the route cache without evicting a route that is asked for
// often: a client at a new address gets its 103 right after.
func TestLearningFloodOfNewRoutesKeepsPopularRoutes(t *testing.T) {
	for _, times := range []int{1, 2} {
		t.Run(fmt.Sprintf("each made-up route asked for %d times", times), func(t *testing.T) {
			testFlood(t, times)
		})
	}
}

func testFlood(t *testing.T, times int) {
	s := newSite(t, netjet.Options{}, false)
	for i := range 3 {
		s.navigate(t, addr(i), "/p")
	}
	require.Equal(t, []string{"</site.css>; rel=preload; as=style"}, s.navigate(t, addr(3), "/p").hints)
	flood := netjet.DefaultRoutes + 500
	for n := range flood * times {
		i := n / times
		var path string
		header := http.Header{}
		switch i % 3 {
		case 0:
			header.Set("Host", fmt.Sprintf("h%d.example", i))
			path = "/p"
		case 1:
			path = fmt.Sprintf("/q?x=%d", i)
		default:
			path = fmt.Sprintf("/r/%d", i)
		}
		mode := ""
		if i%2 == 0 {
			mode = "navigate"
		}
		s.get(t, addr(10+n%2), path, mode, header)
	}
	assert.Equal(t, []string{"</site.css>; rel=preload; as=style"}, s.navigate(t, addr(4), "/p").hints,
		"after %d requests for new routes", flood)
}

// What a route keeps does not grow with what the client sent: 600 requests for routes with
// 32 KiB paths, on a page that names its path in a stylesheet link, keep no copy of a path.
func TestLearningLongPathsAreNotKept(t *testing.T) {
	const requests, pathLen = 600, 32 << 10
	s := newSite(t, netjet.Options{}, false)
	long := func(i int) string {
		p := fmt.Sprintf("/r/%d/", i)
		return p + strings.Repeat("a", pathLen-len(p))
	}
	s.navigate(t, addr(0), long(-1)) // the connection and the server's buffers
	before := retainedHeap()
	for i := range requests {
		s.navigate(t, addr(0), long(i))
	}
	after := retainedHeap()
	growth := int64(after) - int64(before)
	t.Logf("retained heap growth after %d routes with %d-byte paths: %d bytes (%d per route)",
		requests, pathLen, growth, growth/requests)
	// A route keeps one response's links (here one, too long to be collected: none) and a
	// few words: well under 4 KiB. One copy of each path would be 32 KiB a route.
	assert.Less(t, growth, int64(requests*4<<10))
}

// The clients of FuzzLearning: the first two addresses are one attacker's, the others honest
// users'.
const (
	fuzzClients   = 6
	fuzzAttackers = 2
)

// fuzzPaths are the requests FuzzLearning chooses from; %s is one of fuzzTokens. Pages reflect
// their query or path into a stylesheet link, or name their user's own URLs.
var (
	fuzzPaths  = []string{"/p", "/p?theme=%s.css", "/u", "/r/%s", "/p?utm=1", "/x", "/p?theme=%s.css&utm=1", "/r/%s?q=1", "/g"}
	fuzzTokens = []string{"a", "b", "c", "https://evil.example/x", "//evil.example/y"}
	srcURL     = regexp.MustCompile(`(?:href|src)="?([^" >]+)`)
	// fuzzSubresources are the requests a stylesheet causes; fuzzReferers the stylesheets
	// that cause them: one every page names, two that pages reflect, one of a user.
	fuzzSubresources = []struct{ path, dest, mode string }{
		{"/i/%s.png", "image", "no-cors"}, {"/f/%s.woff2", "font", "cors"}, {"/s/%s.css", "style", "no-cors"},
	}
	fuzzReferers = []string{"/site.css", "/a.css", "/r/b.css", "/u/1/theme.css"}
)

// pathSegment makes a fuzz token fit in one segment of a path.
func pathSegment(token string) string {
	return strings.Trim(strings.ReplaceAll(token, "/", "-"), "-:")
}

// FuzzLearning sends sequences of requests from several clients (addresses, cookies, pages with
// queries, pages that reflect the query or name per-user URLs) through a Preloader that learns,
// and checks its guarantee: a URL that only one party's responses named (one honest user, or
// the attacker, whatever addresses and cookies it uses) reaches no one else, in a 103 or in a
// Link header, unless the page that other party is served names it too.
//
// Each request takes two bytes: the first picks the client, its cookie, whether it navigates
// and whether it is a page's or a stylesheet's (an image, a font or an @import, fetched with
// the stylesheet as Referer), the second the path and the stylesheet. An @import is answered
// with a stylesheet that names other origins, one of them its caller's own.
func FuzzLearning(f *testing.F) {
	s := newSite(f, netjet.Options{MaxImages: -1, MaxLinks: -1}, false)
	for i := range fuzzClients {
		s.clientAt(f, addr(i))
	}
	f.Fuzz(func(t *testing.T, steps []byte) {
		if len(steps) > 128 {
			steps = steps[:128]
		}
		s.reset(t)
		// named: for each URL the pages named, the parties they were served to.
		named := map[string]map[string]bool{}
		for i := 0; i+1 < len(steps); i += 2 {
			who, what := steps[i], steps[i+1]
			client := int(who) % fuzzClients
			cookie := int(who>>3) % 3
			party := "attacker"
			if client >= fuzzAttackers {
				party = fmt.Sprintf("user %d/%d", client, cookie)
			}
			path := fuzzPaths[int(what)%len(fuzzPaths)]
			if strings.Contains(path, "%s") {
				token := fuzzTokens[int(what>>3)%len(fuzzTokens)]
				if strings.HasPrefix(path, "/r/") {
					token = pathSegment(token)
				}
				path = fmt.Sprintf(path, token)
			}
			mode := ""
			if who>>5&1 == 0 {
				mode = "navigate"
			}
			header := http.Header{"Cookie": {fmt.Sprintf("user=%d", cookie)}}
			late := ""
			if who>>6&1 == 1 {
				// A request a stylesheet caused, as a browser makes it: it teaches a late
				// resource of that stylesheet.
				sub := fuzzSubresources[int(what)%len(fuzzSubresources)]
				token := fuzzTokens[int(what>>3)%len(fuzzTokens)]
				late = fmt.Sprintf(sub.path, pathSegment(token))
				path, mode = late, sub.mode
				header.Set("Sec-Fetch-Dest", sub.dest)
				header.Set("Referer", s.URL+fuzzReferers[int(what>>6)%len(fuzzReferers)])
			}
			v := s.get(t, addr(client), path, mode, header)

			served := map[string]bool{}
			for _, m := range srcURL.FindAllStringSubmatch(v.body, -1) {
				served[html.UnescapeString(m[1])] = true
			}
			if header.Get("Sec-Fetch-Dest") == "style" {
				for _, m := range sheetOriginURL.FindAllStringSubmatch(v.body, -1) {
					served[m[1]] = true // the origins its stylesheet named are named for it
				}
			}
			for _, value := range append(v.hints, v.link) {
				if value == "" {
					continue
				}
				links, err := parseLinkHeader(value)
				require.NoError(t, err)
				for _, l := range links {
					from := named[l.url]
					if served[l.url] || from[party] || len(from) >= 2 {
						continue
					}
					t.Fatalf("request %d (%s %s from %s): %s reached %s, named only for %v",
						i/2+1, mode, path, addr(client), l.url, party, from)
				}
			}
			if late != "" {
				served[late] = true // what this party fetched is named for it
			}
			for u := range served {
				if named[u] == nil {
					named[u] = map[string]bool{}
				}
				named[u][party] = true
			}
		}
	})
}
