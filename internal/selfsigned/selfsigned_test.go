package selfsigned_test

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/netjet-go/netjet/internal/selfsigned"
)

func TestNewIsValidForItsHostsOnly(t *testing.T) {
	cert, err := selfsigned.New("netjet test", "localhost", "*.speedtest.test", "127.0.0.1", "::1")
	require.NoError(t, err)
	require.NotNil(t, cert.Leaf)
	leaf := cert.Leaf
	assert.Equal(t, "netjet test", leaf.Subject.CommonName)
	assert.Equal(t, []string{"localhost", "*.speedtest.test"}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 2)
	assert.True(t, leaf.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)))
	assert.True(t, leaf.IPAddresses[1].Equal(net.IPv6loopback))
	assert.WithinDuration(t, time.Now().Add(24*time.Hour), leaf.NotAfter, time.Minute)
	assert.True(t, leaf.NotBefore.Before(time.Now()))

	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	for _, host := range []string{"localhost", "none.speedtest.test", "127.0.0.1", "::1"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots})
		assert.NoError(t, err, host)
	}
	for _, host := range []string{"example.com", "a.b.speedtest.test", "127.0.0.2"} {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots})
		assert.Error(t, err, host)
	}
}

func TestNewServesTLS(t *testing.T) {
	cert, err := selfsigned.New("netjet test", "127.0.0.1")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()

	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}}
	resp, err := client.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "HTTP/2.0", string(body))
}

func TestNewNeedsAHost(t *testing.T) {
	_, err := selfsigned.New("netjet test")
	assert.Error(t, err)
}

func TestTwoCertificatesHaveTwoKeys(t *testing.T) {
	a, err := selfsigned.New("a", "localhost")
	require.NoError(t, err)
	b, err := selfsigned.New("b", "localhost")
	require.NoError(t, err)
	assert.NotEqual(t, selfsigned.SPKIHash(a.Leaf), selfsigned.SPKIHash(b.Leaf))
	assert.NotEqual(t, a.Leaf.SerialNumber, b.Leaf.SerialNumber)
}

func TestSPKIHashIsTheKeysSHA256(t *testing.T) {
	cert, err := selfsigned.New("netjet test", "localhost")
	require.NoError(t, err)
	sum := sha256.Sum256(cert.Leaf.RawSubjectPublicKeyInfo)
	got := selfsigned.SPKIHash(cert.Leaf)
	assert.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), got)
	raw, err := base64.StdEncoding.DecodeString(got)
	require.NoError(t, err)
	assert.Len(t, raw, sha256.Size)
}
