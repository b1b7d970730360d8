package engineio

import (
	"bufio"
	"net"
	"net/http"
	"syscall"
)

// pollConn is the net.Conn under a WebSocket's gorilla connection. It owns gorilla's read buffer (br, handed to
// gorilla through the hijack, which gorilla reuses as its own when ReadBufferSize is 0), so the reader knows when
// everything read from the socket has been consumed and it can leave the waiting to the poller. Close forgets
// the poller registration before the descriptor goes.
type pollConn struct {
	net.Conn
	br  *bufio.Reader
	raw syscall.RawConn // nil: the connection cannot be polled (not a bare TCP or Unix socket)
	p   *poller         // set once registered

	// Poller registration; token is fixed by register, added is used only by the connection's reader.
	token uint64
	added bool
}

// Close removes the poller registration and closes the connection.
func (pc *pollConn) Close() error {
	if pc.p != nil {
		pc.p.remove(pc)
	}
	return pc.Conn.Close()
}

// CloseWrite shuts the write side when the connection supports it (TCP, Unix).
func (pc *pollConn) CloseWrite() error {
	if cw, ok := pc.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// drained reports whether every byte read from the socket has been consumed.
func (pc *pollConn) drained() bool { return pc.br.Buffered() == 0 }

// BufferedConn is implemented by a net.Conn wrapper that may hold bytes of its own before the socket's (for
// example a handed-off connection replaying what was read before the handoff). When NetConn is a bare TCP or
// Unix socket and Buffered is 0 at the upgrade, the wrapper's idle WebSockets wait in the poller like bare
// sockets; a wrapper without these methods (TLS) keeps a reader goroutine per connection.
type BufferedConn interface {
	net.Conn
	// NetConn returns the wrapped connection.
	NetConn() net.Conn
	// Buffered returns the number of bytes the wrapper holds that reads return before the socket's.
	Buffered() int
}

// pollableRaw returns the RawConn of nc's socket when the readiness of that descriptor tells whether nc has
// something to read: a bare TCP or Unix socket, or a drained BufferedConn around one. Otherwise nil.
func pollableRaw(nc net.Conn) syscall.RawConn {
	if bc, ok := nc.(BufferedConn); ok {
		if bc.Buffered() != 0 {
			return nil
		}
		nc = bc.NetConn()
	}
	var raw syscall.RawConn
	switch c := nc.(type) {
	case *net.TCPConn:
		raw, _ = c.SyscallConn()
	case *net.UnixConn:
		raw, _ = c.SyscallConn()
	}
	return raw
}

// upgradeWriter is the http.ResponseWriter given to gorilla's Upgrader: its Hijack wraps the connection in a
// pollConn with a small read buffer.
type upgradeWriter struct {
	http.ResponseWriter
	pc *pollConn
}

// Hijack implements http.Hijacker.
func (u *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(u.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return nc, brw, err // gorilla refuses early data itself
	}
	pc := &pollConn{Conn: nc}
	pc.br = bufio.NewReaderSize(pc, wsReadBufferSize)
	pc.raw = pollableRaw(nc)
	u.pc = pc
	return pc, bufio.NewReadWriter(pc.br, brw.Writer), nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (u *upgradeWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }
