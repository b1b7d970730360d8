package engineio

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// WebSocket transport: one reader goroutine per connection, and a writer goroutine only while there is something
// to write: signal starts one (or tells the running one to look again), and it ends when the queue is empty, so an
// idle connection holds no writer stack. The writer drains the socket's queue (when this connection is the
// socket's current transport) in batches, one frame per packet.

type wsConn struct {
	sock *Socket
	conn *websocket.Conn
	b64  bool

	done      chan struct{} // closed by abort
	abortOnce sync.Once

	// Writer state, guarded by wmu (never held while writing). The writer's share of srv.wg is released once,
	// by the writer that sees done or finishes the close handshake.
	wmu      sync.Mutex
	running  bool // a writer goroutine is active
	pending  bool // signalled while running: look at the queue again
	finished bool // the writer is done for good

	// Guarded by sock.mu.
	private []Packet // packets of this connection only (open packet, probe pong)
	closing bool     // write a close frame after draining
}

func newWSConn(c *Socket, conn *websocket.Conn, b64 bool) *wsConn {
	return &wsConn{sock: c, conn: conn, b64: b64, done: make(chan struct{})}
}

// signal makes the writer look at the queue: it starts a writer goroutine unless one is running.
func (w *wsConn) signal() {
	w.wmu.Lock()
	switch {
	case w.finished:
	case w.running:
		w.pending = true
	default:
		w.running = true
		go w.writeLoop()
	}
	w.wmu.Unlock()
}

// finishWriter ends the writer for good and releases its share of srv.wg (once).
func (w *wsConn) finishWriter() {
	w.wmu.Lock()
	last := !w.finished
	w.finished = true
	w.running = false
	w.wmu.Unlock()
	if last {
		w.sock.srv.wg.Done()
	}
}

// idle reports whether the writer may end: nothing was signalled since it took its last batch.
func (w *wsConn) idle() bool {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if w.pending {
		w.pending = false
		return false
	}
	w.running = false
	return true
}

// closeLocked asks the writer to finish with a close frame. Caller holds sock.mu.
func (w *wsConn) closeLocked() {
	w.closing = true
	w.signal()
}

// abort closes the connection at once; the reader ends, and so does the writer (one is started if none runs,
// to release its share of srv.wg).
func (w *wsConn) abort() {
	w.abortOnce.Do(func() {
		close(w.done)
		_ = w.conn.Close()
		w.signal()
	})
}

// start starts the reader; the writer starts on the first signal.
func (w *wsConn) start() {
	go w.readLoop()
}

func (w *wsConn) readLoop() {
	defer w.sock.srv.wg.Done()
	defer w.abort()
	w.conn.SetReadLimit(w.sock.srv.cfg.MaxHTTPBufferSize)
	for {
		mt, data, err := w.readMessage()
		if err != nil {
			reason := ReasonTransportClose
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				reason = ReasonTransportError
				// gorilla sent close 1009 for a message over the limit, and then this second close frame is
				// refused (ErrCloseSent). It sends nothing for a 64-bit length with the top bit set, a protocol
				// error (RFC 6455 5.2): that gets 1002 here.
				msg := websocket.FormatCloseMessage(websocket.CloseProtocolError, "bad frame length")
				_ = w.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(wsCloseGrace))
			case errors.Is(err, errInvalidUTF8):
				reason = ReasonParseError
				msg := websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "invalid UTF-8")
				_ = w.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(wsCloseGrace))
			}
			// The read side is finished (gorilla answered a close frame or sent 1002/1009 itself): end the TCP
			// connection before the socket's close path could queue a second close frame.
			w.linger()
			w.sock.wsGone(w, reason)
			return
		}
		p, err := DecodePacketWS(mt, data)
		if err != nil {
			w.sock.srv.log.Debug("websocket parse error", "sid", w.sock.id, "err", err)
			w.sock.wsParseError(w)
			continue // keep reading until the close handshake ends
		}
		w.sock.onWSPacket(w, p)
	}
}

// errInvalidUTF8 reports a text message that is not valid UTF-8 (RFC 6455 8.1: fail with close 1007).
var errInvalidUTF8 = errors.New("engineio: invalid UTF-8 in a WebSocket text message")

// wsReadChunk is the initial buffer of readMessage; messages grow it as needed up to the read limit.
const wsReadChunk = 512

// readMessage reads one data message. Text messages are checked for UTF-8 validity as their bytes arrive, so
// a message fails at its first invalid byte even when its later fragments never come (gorilla does not check).
func (w *wsConn) readMessage() (int, []byte, error) {
	mt, r, err := w.conn.NextReader()
	if err != nil {
		return 0, nil, err
	}
	buf := make([]byte, 0, wsReadChunk)
	checked := 0
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if mt == websocket.TextMessage && n > 0 {
			var ok bool
			if checked, ok = validUTF8Prefix(buf, checked); !ok {
				return 0, nil, errInvalidUTF8
			}
		}
		if errors.Is(err, io.EOF) {
			if mt == websocket.TextMessage && checked != len(buf) {
				return 0, nil, errInvalidUTF8 // ends inside a character
			}
			return mt, buf, nil
		}
		if err != nil {
			return 0, nil, err
		}
	}
}

// validUTF8Prefix validates b[from:] and returns how far b is complete valid UTF-8. ok is false as soon as b
// cannot be the prefix of valid UTF-8; a trailing incomplete but so far valid character is left unchecked.
func validUTF8Prefix(b []byte, from int) (int, bool) {
	i := from
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			if !utf8.FullRune(b[i:]) {
				return i, true // incomplete: FullRune is true for every invalid prefix
			}
			return i, false
		}
		i += size
	}
	return i, true
}

// linger ends a connection whose read side failed: the write side is shut (FIN after any close frame already
// sent), then the peer's remaining bytes are drained for up to wsCloseGrace so that closing does not turn
// into a TCP reset that could destroy the close frame in flight (RFC 6455 7.1.1: the server closes TCP first).
func (w *wsConn) linger() {
	select {
	case <-w.done:
		return // aborted by the writer or the socket
	default:
	}
	nc := w.conn.NetConn()
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = nc.SetReadDeadline(time.Now().Add(wsCloseGrace))
	_, _ = io.Copy(io.Discard, nc)
	w.abort()
}

// writeLoop writes until the queue is empty and nothing new was signalled.
func (w *wsConn) writeLoop() {
	c := w.sock
	timeout := c.srv.cfg.WriteTimeout
	for {
		select {
		case <-w.done:
			w.finishWriter()
			return
		default:
		}
		c.mu.Lock()
		batch := w.private
		w.private = nil
		if c.ws == w {
			batch = append(batch, c.takeQueueLocked()...)
		}
		closing := w.closing
		c.mu.Unlock()

		if len(batch) == 0 && !closing {
			if w.idle() {
				return
			}
			continue
		}
		deadline := time.Now().Add(timeout)
		if err := w.conn.SetWriteDeadline(deadline); err != nil {
			w.writeFailed()
			return
		}
		if err := w.writeBatch(batch); err != nil {
			w.writeFailed()
			return
		}
		if closing {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			if err := w.conn.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
				w.abort()
				w.finishWriter()
				return
			}
			// The reader ends on the peer's close frame or at this deadline, and closes the connection.
			_ = w.conn.SetReadDeadline(time.Now().Add(wsCloseGrace))
			w.finishWriter()
			return
		}
		if w.idle() {
			return
		}
	}
}

// writeBatch writes one frame per packet, encoding each into a pooled scratch buffer (gorilla copies the frame
// into its write buffer before WriteMessage returns, so the scratch is free again at once).
func (w *wsConn) writeBatch(batch []Packet) error {
	bp := frameBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledFrame {
			frameBufs.Put(bp)
		}
	}()
	for _, p := range batch {
		mt, frame := appendPacketWS((*bp)[:0], p, w.b64)
		*bp = frame
		if err := w.conn.WriteMessage(mt, frame); err != nil {
			return err
		}
	}
	return nil
}

// maxPooledFrame is the largest frame scratch buffer returned to frameBufs; larger ones are left to the GC.
const maxPooledFrame = 64 << 10

// frameBufs holds the writers' frame scratch buffers (*[]byte).
var frameBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (w *wsConn) writeFailed() {
	w.abort()
	w.finishWriter()
	w.sock.wsGone(w, ReasonTransportError)
}

// wsGone is called when a WebSocket connection ended.
func (c *Socket) wsGone(w *wsConn, reason string) {
	c.mu.Lock()
	if c.probe == w {
		c.probe = nil
		stopTimer(c.upgradeTimer)
		stopTimer(c.nudgeTimer)
	}
	current := c.ws == w && c.state != stateClosed
	c.mu.Unlock()
	if current {
		c.finish(reason)
	}
}

// wsParseError handles an undecodable frame: the socket closes ("parse error") if it is the current transport;
// a probe is simply closed.
func (c *Socket) wsParseError(w *wsConn) {
	c.mu.Lock()
	if c.probe == w {
		c.probe = nil
		stopTimer(c.upgradeTimer)
		stopTimer(c.nudgeTimer)
		w.closeLocked()
	}
	current := c.ws == w && c.state != stateClosed
	c.mu.Unlock()
	if current {
		c.finish(ReasonParseError)
	}
}

// onWSPacket processes a packet read from w.
func (c *Socket) onWSPacket(w *wsConn, p Packet) {
	c.mu.Lock()
	switch {
	case c.state == stateClosed:
		c.mu.Unlock()
	case c.ws == w:
		c.mu.Unlock()
		c.handlePacket(p)
	case c.probe == w:
		c.onProbePacketLocked(w, p)
		c.mu.Unlock()
	default:
		c.mu.Unlock()
	}
}

// onProbePacketLocked implements the upgrade of engine.io 1.3.1 Socket#maybeUpgrade. Caller holds c.mu.
func (c *Socket) onProbePacketLocked(w *wsConn, p Packet) {
	switch {
	case p.Type == Ping && !p.IsBinary() && p.Data == "probe":
		w.private = append(w.private, Packet{Type: Pong, Data: "probe"})
		w.signal()
		// Nudge a pending poll every 100 ms so the client can pause polling quickly.
		stopTimer(c.nudgeTimer)
		c.nudgeTimer = time.AfterFunc(upgradeNudgeInterval, c.nudge)
	case p.Type == Upgrade && c.state == stateOpen:
		c.upgraded = true
		c.transport = TransportWebSocket
		c.ws = w
		c.probe = nil
		stopTimer(c.upgradeTimer)
		stopTimer(c.nudgeTimer)
		c.lastRecv = time.Now()
		if c.poll != nil {
			c.poll.signal() // answered with a noop, then dropped
		}
		if len(c.queue) > 0 {
			w.signal()
		}
		c.srv.log.Debug("upgraded", "sid", c.id)
	default:
		c.probe = nil
		stopTimer(c.upgradeTimer)
		stopTimer(c.nudgeTimer)
		w.closeLocked()
	}
}

func (c *Socket) nudge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.probe == nil || c.state == stateClosed {
		return
	}
	if c.transport == TransportPolling && c.poll != nil {
		c.poll.noop = true
		c.poll.signal()
	}
	c.nudgeTimer.Reset(upgradeNudgeInterval)
}

// rejectConn ends a WebSocket upgrade request without an HTTP response (engine.io: socket.end()).
func rejectConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	_ = conn.Close()
}

// closeWS ends an established WebSocket with a close frame.
func closeWS(conn *websocket.Conn) {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	_ = conn.Close()
}

// serveUpgrade handles a WebSocket upgrade request: a WebSocket-first handshake (no sid) or a probe of an
// existing polling socket.
func (s *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, q query) {
	if q.badTrans || !s.hasTransport(q.transport) || q.transport != TransportWebSocket || r.Method != http.MethodGet {
		rejectConn(w)
		return
	}
	if q.sid != "" {
		c := s.Socket(q.sid)
		if c == nil {
			rejectConn(w)
			return
		}
		conn, err := s.upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // the upgrader answered with an HTTP error
		}
		c.attachProbe(conn, q.b64)
		return
	}
	if s.cfg.AllowRequest != nil {
		if err := s.cfg.AllowRequest(r); err != nil {
			s.log.Debug("websocket handshake rejected", "err", err, "remote", r.RemoteAddr)
			rejectConn(w)
			return
		}
	}
	id := s.cfg.GenerateID(r)
	req := handshakeRequest(r)
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := newSocket(s, id, req, TransportWebSocket)
	c.b64 = q.b64
	ws := newWSConn(c, conn, q.b64)
	ws.private = []Packet{s.openPacket(id, false)}
	c.ws = ws
	if err := s.register(c, 2); err != nil {
		s.log.Warn("websocket handshake refused", "err", err)
		closeWS(conn)
		return
	}
	c.startLiveness()
	s.log.Debug("handshake", "sid", id, "transport", TransportWebSocket)
	if s.cfg.OnConnection != nil {
		s.cfg.OnConnection(c)
	}
	ws.start()
	ws.signal()
}

// attachProbe starts probing conn as the upgrade of c. A closed socket, an upgraded one, one not on polling or
// one already probing refuses it (the WebSocket is closed).
func (c *Socket) attachProbe(conn *websocket.Conn, b64 bool) {
	c.mu.Lock()
	if c.state != stateOpen || c.upgraded || c.transport != TransportPolling || c.probe != nil {
		c.mu.Unlock()
		closeWS(conn)
		return
	}
	w := newWSConn(c, conn, b64)
	c.probe = w
	c.srv.wg.Add(2)
	c.upgradeTimer = time.AfterFunc(c.srv.cfg.UpgradeTimeout, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.probe == w {
			c.srv.log.Debug("client did not complete upgrade", "sid", c.id)
			c.probe = nil
			stopTimer(c.nudgeTimer)
			w.closeLocked()
		}
	})
	c.mu.Unlock()
	w.start()
}
