package handoff

import (
	"io"
	"net"
	"testing"
)

// TestConnBuffered: Buffered counts the payload bytes not yet read, NetConn is
// the socket, and the payload comes before the socket's bytes.
func TestConnBuffered(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := NewConn(a, []byte("head"))
	if c.NetConn() != a {
		t.Fatal("NetConn is not the wrapped connection")
	}
	go func() { b.Write([]byte("rest")) }()
	buf := make([]byte, 3)
	for _, want := range []struct {
		read     string
		buffered int
	}{{"hea", 1}, {"d", 0}} {
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != want.read {
			t.Fatalf("Read = %q, %v; want %q", buf[:n], err, want.read)
		}
		if got := c.Buffered(); got != want.buffered {
			t.Fatalf("after %q Buffered = %d, want %d", want.read, got, want.buffered)
		}
	}
	rest := make([]byte, 4)
	if _, err := io.ReadFull(c, rest); err != nil || string(rest) != "rest" {
		t.Fatalf("socket bytes = %q, %v", rest, err)
	}
}
