package main

import (
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linkPair returns the server's and the client's end of a connection over l.
func linkPair(t *testing.T, l *link) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.listen(ln).Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	server = <-accepted
	t.Cleanup(func() { server.Close() })
	return server, client
}

func TestLinkDelaysTheFirstBytesByTheHandshakeAndHalfARoundTrip(t *testing.T) {
	const rtt = 200 * time.Millisecond
	server, client := linkPair(t, newLink(rtt, 0, 0))

	start := time.Now()
	_, err := client.Write([]byte("hello"))
	require.NoError(t, err)
	buf := make([]byte, 5)
	_, err = io.ReadFull(server, buf)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf))
	assert.GreaterOrEqual(t, time.Since(start), rtt+rtt/2, "the TCP handshake, then the way there")

	start = time.Now()
	_, err = server.Write([]byte("world"))
	require.NoError(t, err)
	_, err = io.ReadFull(client, buf)
	require.NoError(t, err)
	assert.Equal(t, "world", string(buf))
	elapsed := time.Since(start)
	assert.GreaterOrEqual(t, elapsed, rtt/2)
	assert.Less(t, elapsed, rtt+rtt/2, "later bytes wait for the way back only")
}

func TestLinkCarriesNoMoreThanItsBandwidth(t *testing.T) {
	const size = 64 << 10
	l := newLink(0, 4e6, 0) // 500 KB/s: 64 KB take 131 ms
	server, client := linkPair(t, l)

	start := time.Now()
	go func() { _, _ = server.Write(make([]byte, size)) }()
	_, err := io.ReadFull(client, make([]byte, size))
	require.NoError(t, err)
	elapsed := time.Since(start)
	assert.GreaterOrEqual(t, elapsed, 125*time.Millisecond)
	assert.Less(t, elapsed, 2*time.Second)
	assert.Equal(t, int64(size), l.sent.Load())
}

func TestLinkBandwidthIsSharedByItsConnections(t *testing.T) {
	const size = 64 << 10
	l := newLink(0, 4e6, 0)
	var wg sync.WaitGroup
	start := time.Now()
	for range 2 {
		server, client := linkPair(t, l)
		go func() { _, _ = server.Write(make([]byte, size)) }()
		wg.Go(func() {
			_, err := io.ReadFull(client, make([]byte, size))
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "two connections, 128 KB at 500 KB/s")
}

func TestLinkReadHonoursItsDeadline(t *testing.T) {
	server, client := linkPair(t, newLink(time.Second, 0, 0))
	_, err := client.Write([]byte("late"))
	require.NoError(t, err)

	require.NoError(t, server.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
	_, err = server.Read(make([]byte, 4))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded, "the bytes are still on their way")

	require.NoError(t, server.SetReadDeadline(time.Time{}))
	buf := make([]byte, 4)
	_, err = io.ReadFull(server, buf)
	require.NoError(t, err)
	assert.Equal(t, "late", string(buf), "a read that timed out loses nothing")
}

func TestLinkDeliversWhatWasWrittenBeforeClose(t *testing.T) {
	server, client := linkPair(t, newLink(100*time.Millisecond, 0, 0))
	_, err := server.Write([]byte("bye"))
	require.NoError(t, err)
	require.NoError(t, server.Close())

	got, err := io.ReadAll(client)
	require.NoError(t, err)
	assert.Equal(t, "bye", string(got))
	_, err = server.Write([]byte("more"))
	assert.ErrorIs(t, err, net.ErrClosed)
}
