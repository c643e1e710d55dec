package main

import (
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// packetSize is how many bytes cross a link at a time: about one TCP segment, so that the
// connections that share a link take turns as finely as packets do.
const packetSize = 1400

// link is the slow network path between the browser and the server, emulated at the
// server's sockets: every byte waits for its turn on the bandwidth of its direction, which
// all connections share, then travels for half the round-trip time. It stands in for
// DevTools network emulation, which does not slow down what Chrome fetches for a 103 Early
// Hints response: those fetches run in the browser process, outside the page's throttle.
type link struct {
	rtt      time.Duration
	down, up wire         // server to browser, browser to server
	sent     atomic.Int64 // bytes carried from the server to the browser
}

// newLink returns a link with round-trip time rtt and the given bandwidths in bits per
// second. A bandwidth of 0 is unlimited, and a link with rtt 0 and unlimited bandwidths
// only counts bytes.
func newLink(rtt time.Duration, downBits, upBits float64) *link {
	return &link{rtt: rtt, down: wire{bytesPerSec: downBits / 8}, up: wire{bytesPerSec: upBits / 8}}
}

// wire is one direction of a link.
type wire struct {
	mu          sync.Mutex
	bytesPerSec float64   // 0: unlimited
	free        time.Time // when the wire has sent everything queued on it so far
}

// send queues n bytes on the wire and returns when their last bit has left.
func (w *wire) send(n int) time.Time {
	now := time.Now()
	if w.bytesPerSec <= 0 {
		return now
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.free.Before(now) {
		w.free = now
	}
	w.free = w.free.Add(time.Duration(float64(n) / w.bytesPerSec * float64(time.Second)))
	return w.free
}

// listen returns a listener whose connections go through the link.
func (l *link) listen(ln net.Listener) net.Listener { return linkListener{ln, l} }

type linkListener struct {
	net.Listener
	link *link
}

func (ll linkListener) Accept() (net.Conn, error) {
	c, err := ll.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newLinkConn(c, ll.link), nil
}

// packet is data on its way, and when it arrives at the other end.
type packet struct {
	data []byte
	at   time.Time
}

// linkConn is one connection over a link. What the server writes is delivered to the
// socket by a goroutine when it arrives; what the browser sent is handed to the server
// when it arrives.
type linkConn struct {
	net.Conn
	link *link

	out     chan packet // written by the server, not yet delivered
	outErr  atomic.Pointer[error]
	in      chan packet // sent by the browser, not yet read
	inErr   error       // why in was closed
	next    *packet     // received from in, not yet arrived
	pending []byte      // the rest of a packet a Read did not take
	closed  chan struct{}
	once    sync.Once

	deadlineMu  sync.Mutex
	deadline    time.Time
	deadlineSet chan struct{} // wakes a Read when its deadline changes
}

func newLinkConn(c net.Conn, l *link) *linkConn {
	lc := &linkConn{
		Conn: c, link: l,
		out: make(chan packet, 64), in: make(chan packet, 64),
		closed: make(chan struct{}), deadlineSet: make(chan struct{}, 1),
	}
	go lc.deliver()
	go lc.receive()
	return lc
}

// Write sends b over the link. It returns once b has left, as a socket whose buffer is
// full does: that is what lets the server's HTTP/2 scheduler decide what goes next.
func (c *linkConn) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		select {
		case <-c.closed:
			return written, net.ErrClosed
		default:
		}
		if err := c.outErr.Load(); err != nil {
			return written, *err
		}
		n := min(len(b), packetSize)
		left := c.link.down.send(n)
		if err := c.sleepUntil(left, time.Time{}); err != nil {
			return written, err
		}
		p := packet{data: append([]byte(nil), b[:n]...), at: left.Add(c.link.rtt / 2)}
		c.link.sent.Add(int64(n)) // before it can arrive, so that a reader never sees it uncounted
		select {
		case c.out <- p:
		case <-c.closed:
			return written, net.ErrClosed
		}
		written += n
		b = b[n:]
	}
	return written, nil
}

// deliver writes packets to the socket as they arrive, then closes the socket once the
// connection is closed and everything written before has arrived.
func (c *linkConn) deliver() {
	defer c.Conn.Close()
	for {
		select {
		case p := <-c.out:
			if !c.deliverPacket(p) {
				return
			}
		case <-c.closed:
			for {
				select {
				case p := <-c.out:
					if !c.deliverPacket(p) {
						return
					}
				default:
					return
				}
			}
		}
	}
}

func (c *linkConn) deliverPacket(p packet) bool {
	time.Sleep(time.Until(p.at))
	if _, err := c.Conn.Write(p.data); err != nil {
		c.outErr.Store(&err)
		return false
	}
	return true
}

// receive reads what the browser sends and queues it with its arrival time. The first
// bytes wait one round trip more: the TCP handshake that loopback skipped.
func (c *linkConn) receive() {
	defer close(c.in)
	handshake := c.link.rtt
	for {
		buf := make([]byte, 32<<10)
		n, err := c.Conn.Read(buf)
		if n > 0 {
			at := c.link.up.send(n).Add(c.link.rtt/2 + handshake)
			handshake = 0
			select {
			case c.in <- packet{data: buf[:n], at: at}:
			case <-c.closed:
				return
			}
		}
		if err != nil {
			c.inErr = err
			return
		}
	}
}

func (c *linkConn) Read(b []byte) (int, error) {
	for len(c.pending) == 0 {
		p, err := c.arrival()
		if err != nil {
			return 0, err
		}
		c.pending = p
	}
	n := copy(b, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// arrival returns the next data the browser sent, once it has arrived, or an error when the
// read deadline passes first.
func (c *linkConn) arrival() ([]byte, error) {
	deadline, changed := c.readDeadline()
	for c.next == nil {
		var expired <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expired = t.C
		}
		select {
		case p, ok := <-c.in:
			if !ok {
				return nil, c.inErr
			}
			c.next = &p
		case <-expired:
			return nil, os.ErrDeadlineExceeded
		case <-changed:
			deadline, changed = c.readDeadline()
		case <-c.closed:
			return nil, net.ErrClosed
		}
	}
	if err := c.sleepUntil(c.next.at, deadline); err != nil {
		return nil, err // the packet stays next: a later Read takes it
	}
	data := c.next.data
	c.next = nil
	return data, nil
}

// sleepUntil waits until t, or returns early with an error when the connection closes or
// deadline (if set) passes first.
func (c *linkConn) sleepUntil(t, deadline time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	if !deadline.IsZero() && deadline.Before(t) {
		d = time.Until(deadline)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		if !deadline.IsZero() && deadline.Before(t) {
			return os.ErrDeadlineExceeded
		}
		return nil
	case <-c.closed:
		return net.ErrClosed
	}
}

func (c *linkConn) readDeadline() (time.Time, <-chan struct{}) {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	return c.deadline, c.deadlineSet
}

func (c *linkConn) SetReadDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	c.deadline = t
	c.deadlineMu.Unlock()
	select {
	case c.deadlineSet <- struct{}{}:
	default:
	}
	return nil
}

func (c *linkConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.Conn.SetWriteDeadline(t)
}

// Close stops reads and writes at once; what was written before still arrives.
func (c *linkConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}
