package netjet

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"strings"
	"sync"
)

// decodableEncoding returns the Content-Encoding netjet can read through, "gzip" or "deflate",
// or "" for any other, or for several.
func decodableEncoding(ce []string) string {
	if len(ce) != 1 {
		return ""
	}
	switch e := strings.ToLower(strings.TrimSpace(ce[0])); e {
	case "gzip", "x-gzip":
		return "gzip"
	case "deflate":
		return "deflate"
	}
	return ""
}

// decodeBody returns a decoded copy of a compressed body, at most limit bytes of it: a
// compression bomb costs no more than the buffer would. A body cut short, or corrupt, gives
// what could be decoded before the cut; the bytes sent are the handler's all the same.
func decodeBody(encoding string, body []byte, limit int) *[]byte {
	out := getBuffer()
	var r io.Reader
	var err error
	switch encoding {
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(body))
	case "deflate":
		// HTTP's deflate is zlib's format, but some servers send raw deflate.
		if r, err = zlib.NewReader(bytes.NewReader(body)); err != nil {
			r, err = flate.NewReader(bytes.NewReader(body)), nil
		}
	}
	if err != nil {
		return out
	}
	var chunk [4096]byte
	for len(*out) < limit {
		n, err := r.Read(chunk[:min(len(chunk), limit-len(*out))])
		*out = append(*out, chunk[:n]...)
		if err != nil {
			break
		}
	}
	return out
}

// The buffers that hold bodies back are pooled, but a pool must not keep the rare large one
// alive: those are left to the garbage collector.
const maxPooledBuffer = 256 << 10

var bufferPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// getBuffer returns an empty buffer.
func getBuffer() *[]byte { return bufferPool.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bufferPool.Put(b)
}
