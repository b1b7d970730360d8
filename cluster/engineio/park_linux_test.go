//go:build linux

package engineio

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// sockets returns the registered sockets.
func (s *Server) sockets() []*Socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Socket, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	return out
}

// wsOf returns the current WebSocket of a socket.
func wsOf(s *Socket) *wsConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ws
}

// waitParked waits until the connection's reader goroutine has ended and the connection waits in the poller.
func waitParked(t *testing.T, w *wsConn) {
	t.Helper()
	waitFor(t, "the reader to park", func() bool { return w.rstate.Load() == readerParked })
}

// TestWebSocketIdleParking: an idle WebSocket has no reader goroutine (it waits in the poller: at once after
// the handshake, and again wsParkAfter after its last message), and everything still works from that state:
// messages of any size, pings, a server close, a client that goes away.
func TestWebSocketIdleParking(t *testing.T) {
	h := newHarness(t, Config{})
	ws, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=3&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := h.nextConn()
	wsRead(t, ws) // open packet
	w := wsOf(c.sock)
	if w.pc.p == nil {
		t.Fatal("the connection is not polled")
	}
	waitParked(t, w)

	cases := []struct {
		name string
		send []string
	}{
		{"one small message", []string{"4hello"}},
		{"larger than the read buffer", []string{"4" + strings.Repeat("x", 5*wsReadBufferSize+7)}},
		{"several in one burst", []string{"4a", "4" + strings.Repeat("é", 300), "4c"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			waitParked(t, w)
			for _, m := range tc.send {
				_, frame := EncodePacketWS(Packet{Type: Message, Data: m[1:]})
				if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
					t.Fatal(err)
				}
			}
			for _, m := range tc.send {
				if got := c.rec.nextMsg(t); got != m[1:] {
					t.Fatalf("got %d bytes, want %d", len(got), len(m)-1)
				}
			}
		})
	}
	waitParked(t, w)
	wsWrite(t, ws, "2")
	if _, data := wsRead(t, ws); string(data) != "3" {
		t.Fatalf("pong %q", data)
	}

	// Server close while parked: close frame, and the reader (woken) sees the peer's answer.
	waitParked(t, w)
	c.sock.Close()
	if code := wsExpectClose(t, ws); code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d", code)
	}
	if got := c.rec.closeReason(t); got != ReasonForcedClose {
		t.Fatalf("reason %q", got)
	}

	// A client that goes away while parked: transport close.
	ws2, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=3&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c2 := h.nextConn()
	wsRead(t, ws2)
	waitParked(t, wsOf(c2.sock))
	_ = ws2.Close()
	if got := c2.rec.closeReason(t); got != ReasonTransportClose {
		t.Fatalf("reason %q", got)
	}
}

// wrapListener wraps every accepted connection.
type wrapListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l wrapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

// opaqueConn hides the socket under it.
type opaqueConn struct{ net.Conn }

// prefixConn replays prefix before the socket's bytes and says so (BufferedConn).
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
func (c *prefixConn) NetConn() net.Conn { return c.Conn }
func (c *prefixConn) Buffered() int     { return len(c.prefix) }

// TestWebSocketPollableConns: bare sockets and drained BufferedConn wrappers are polled; other wrappers keep
// their reader goroutine and still work.
func TestWebSocketPollableConns(t *testing.T) {
	cases := []struct {
		name   string
		wrap   func(net.Conn) net.Conn
		polled bool
	}{
		{"bare TCP", func(c net.Conn) net.Conn { return c }, true},
		{"BufferedConn", func(c net.Conn) net.Conn { return &prefixConn{Conn: c} }, true},
		{"opaque wrapper", func(c net.Conn) net.Conn { return opaqueConn{c} }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder()
			srv := NewServer(Config{OnConnection: func(s *Socket) { s.SetHandler(rec) }})
			ts := httptest.NewUnstartedServer(srv)
			ts.Listener = wrapListener{ts.Listener, tc.wrap}
			ts.Start()
			defer ts.Close()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/e/?transport=websocket", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			wsRead(t, ws) // open packet
			var w *wsConn
			waitFor(t, "the socket", func() bool {
				for _, s := range srv.sockets() {
					w = wsOf(s)
				}
				return w != nil
			})
			if got := w.pc.p != nil && w.pc.raw != nil; got != tc.polled {
				t.Fatalf("polled %v, want %v", got, tc.polled)
			}
			if tc.polled {
				waitParked(t, w)
			}
			wsWrite(t, ws, "4hi")
			if got := rec.nextMsg(t); got != "hi" {
				t.Fatalf("got %q", got)
			}
		})
	}
}
