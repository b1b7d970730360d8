package engineio

import (
	"bufio"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestHandshakeRequestCopy: Socket.Request's rebuilt copy carries what the handshake request carried.
func TestHandshakeRequestCopy(t *testing.T) {
	cases := []struct {
		name string
		raw  string
	}{
		{"websocket", "GET /socketcluster/?EIO=3&transport=websocket HTTP/1.1\r\nHost: example.com:8000\r\n" +
			"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
			"Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\r\n"},
		{"repeated headers and cookies", "GET /engine.io/?transport=polling&b64=1&t=a%20b HTTP/1.1\r\nHost: h\r\n" +
			"Cookie: a=1; ssid=x%2Fy\r\nCookie: b=2\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n" +
			"X-Forwarded-For: 10.0.0.3\r\nUser-Agent: Mozilla/5.0 (X11; Linux) \xc3\xa9\r\nx-lower-case: v\r\n\r\n"},
		{"HTTP/1.0 without headers", "GET / HTTP/1.0\r\nHost: \r\n\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := httpReadRequest(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			r.RemoteAddr = "127.0.0.1:4567"
			got := newHandshake(r).request()
			if got.Method != r.Method || got.URL.String() != r.URL.String() || got.Host != r.Host ||
				got.Proto != r.Proto || got.RequestURI != r.RequestURI || got.RemoteAddr != r.RemoteAddr {
				t.Fatalf("request line: got %s %s %s host %q %q, want %s %s %s host %q %q", got.Method, got.URL,
					got.Proto, got.Host, got.RemoteAddr, r.Method, r.URL, r.Proto, r.Host, r.RemoteAddr)
			}
			if !reflect.DeepEqual(got.Header, r.Header) {
				t.Fatalf("headers: got %v, want %v", got.Header, r.Header)
			}
			if !reflect.DeepEqual(got.Cookies(), r.Cookies()) {
				t.Fatalf("cookies: got %v, want %v", got.Cookies(), r.Cookies())
			}
			if got.Body == nil || got.TLS != nil {
				t.Fatalf("body %v tls %v", got.Body, got.TLS)
			}
		})
	}
}

func httpReadRequest(raw string) (*http.Request, error) {
	return http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
}
