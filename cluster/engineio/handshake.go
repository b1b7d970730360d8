package engineio

import (
	"bufio"
	"crypto/tls"
	"net/http"
	"strings"
)

// handshake is what a Socket keeps of its handshake request: the request line, Host and headers in wire form
// (one string), the remote address and the TLS state. Socket.Request rebuilds an *http.Request from it on each
// call (callers read it once or twice per socket), so an idle socket holds a few hundred bytes instead of a
// cloned request with its URL, header map and value slices.
type handshake struct {
	raw        string
	remoteAddr string
	tls        *tls.ConnectionState
}

// newHandshake keeps what a Socket may expose of r after ServeHTTP returned.
func newHandshake(r *http.Request) handshake {
	var b strings.Builder
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	b.Grow(len(r.Method) + len(uri) + len(proto) + len(r.Host) + 16 + headerSize(r.Header))
	b.WriteString(r.Method)
	b.WriteByte(' ')
	b.WriteString(uri)
	b.WriteByte(' ')
	b.WriteString(proto)
	b.WriteString("\r\nHost: ")
	b.WriteString(r.Host)
	b.WriteString("\r\n")
	_ = r.Header.Write(&b)
	b.WriteString("\r\n")
	return handshake{raw: b.String(), remoteAddr: r.RemoteAddr, tls: r.TLS}
}

// headerSize is the wire size of h (a capacity hint).
func headerSize(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// request rebuilds the handshake request: method, URL, protocol, Host, headers, RemoteAddr, TLS; the body is
// empty and the context is Background.
func (h handshake) request() *http.Request {
	r, err := http.ReadRequest(bufio.NewReaderSize(strings.NewReader(h.raw), len(h.raw)))
	if err != nil {
		// Not reachable for a request net/http parsed; keep the address at least.
		r = &http.Request{Method: http.MethodGet, Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	}
	r.Body = http.NoBody
	r.RemoteAddr = h.remoteAddr
	r.TLS = h.tls
	return r
}
