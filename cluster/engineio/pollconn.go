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
	// Only bare sockets: readiness of the descriptor says nothing about bytes buffered in a wrapper (TLS).
	switch c := nc.(type) {
	case *net.TCPConn:
		pc.raw, _ = c.SyscallConn()
	case *net.UnixConn:
		pc.raw, _ = c.SyscallConn()
	}
	u.pc = pc
	return pc, bufio.NewReadWriter(pc.br, brw.Writer), nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (u *upgradeWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }
