package engineio

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
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
	pc   *pollConn // conn's net.Conn
	b64  bool

	// Reader state. rstate is readerRunning while a reader goroutine exists and readerParked while the
	// connection waits in the poller with none; noPark (set by abort and by the close handshake, or when the
	// connection cannot be polled) keeps the reader goroutine until the connection ends.
	rstate atomic.Int32
	noPark atomic.Bool
	// Idle wait (awaitMessage): waitSince is when the reader began waiting for a message (0: not waiting);
	// kicked is set when the poller's sweep ended that wait with a past read deadline. dmu orders the sweep's
	// and the reader's read deadlines with the close handshake's: once noPark is set under it, the close
	// handshake owns the read deadline.
	waitSince atomic.Int64
	kicked    atomic.Bool
	dmu       sync.Mutex

	aborted   atomic.Bool // set by abort
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

// Reader states (wsConn.rstate).
const (
	readerRunning int32 = iota
	readerParked
)

func newWSConn(c *Socket, conn *websocket.Conn, pc *pollConn, b64 bool) *wsConn {
	conn.SetReadLimit(c.srv.cfg.MaxHTTPBufferSize)
	return &wsConn{sock: c, conn: conn, pc: pc, b64: b64}
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
		w.aborted.Store(true)
		_ = w.conn.Close()
		w.wakeReader()
		w.signal()
	})
}

// start starts the reader: on Linux the connection waits in the Server's poller until it is readable (the
// client speaks only after the open packet); elsewhere, or when it cannot be polled, a reader goroutine starts.
// The writer starts on the first signal.
func (w *wsConn) start() {
	p := w.sock.srv.readPoller()
	if p != nil && w.pc.raw != nil && p.register(w, w.pc) == nil {
		w.pc.p = p
		w.rstate.Store(readerParked)
		if w.park() {
			return
		}
		// park gave the reader back: run it here
	} else {
		w.noPark.Store(true)
		w.rstate.Store(readerRunning)
	}
	go w.readLoop()
}

// readable is called by the poller when the parked connection became readable.
func (w *wsConn) readable() {
	if w.rstate.CompareAndSwap(readerParked, readerRunning) {
		go w.readLoop()
	}
}

// wakeReader makes the reader a goroutine for good (the connection is closing: its reads must see the close
// frame, the read deadline or the closed connection).
func (w *wsConn) wakeReader() {
	w.noPark.Store(true)
	if w.rstate.CompareAndSwap(readerParked, readerRunning) {
		go w.readLoop()
	}
}

// park hands the waiting to the poller when everything read has been consumed. Called with rstate set to
// readerParked by the (only) reader; true means the reader must end (the poller or a waker owns it now), false
// that it must keep reading.
func (w *wsConn) park() bool {
	if w.noPark.Load() {
		// wakeReader ran after (or while) we published readerParked: whoever wins the CAS reads.
		return !w.rstate.CompareAndSwap(readerParked, readerRunning)
	}
	if err := w.pc.p.arm(w.pc); err != nil {
		w.noPark.Store(true)
		return !w.rstate.CompareAndSwap(readerParked, readerRunning)
	}
	return true
}

// readLoop reads and processes messages until the connection fails, or until everything read was consumed and
// the connection can wait in the poller (then it ends and the poller starts a new readLoop on readiness).
func (w *wsConn) readLoop() {
	for {
		if !w.readOne() {
			return
		}
		if w.pc.p == nil || !w.pc.drained() || w.noPark.Load() || w.awaitMessage() {
			continue
		}
		w.rstate.Store(readerParked)
		if w.park() {
			return
		}
	}
}

// wsParkAfter is how long a reader goroutine waits for the next message before its connection goes to the
// poller: a busy connection keeps its goroutine (no poller round trip per message), an idle one frees it. The
// poller's sweep (every wsParkAfter/2) ends the waits that are older.
const wsParkAfter = time.Second

// awaitMessage waits for the next byte of a drained connection in gorilla's read buffer (Peek: nothing is
// consumed, and gorilla never sees the error of an interrupted wait). The poller's sweep interrupts a wait
// older than wsParkAfter with a past read deadline (kick). false means the connection stayed idle and may be
// parked; true that the reader must go on reading (data, an error to report, or closing).
func (w *wsConn) awaitMessage() bool {
	w.waitSince.Store(time.Now().UnixNano())
	_, err := w.pc.br.Peek(1)
	w.waitSince.Store(0)
	if !w.kicked.Load() {
		return true // data or a real error: the read reports it
	}
	w.dmu.Lock()
	w.kicked.Store(false)
	closing := w.noPark.Load()
	if !closing {
		_ = w.pc.Conn.SetReadDeadline(time.Time{})
	}
	w.dmu.Unlock()
	var ne net.Error
	return err == nil || closing || !errors.As(err, &ne) || !ne.Timeout()
}

// kickIdle interrupts the reader's wait when it has been waiting since before idleSince (poller sweep).
func (w *wsConn) kickIdle(idleSince int64) {
	since := w.waitSince.Load()
	if since == 0 || since > idleSince {
		return
	}
	w.dmu.Lock()
	if !w.noPark.Load() && w.waitSince.Load() == since {
		w.kicked.Store(true)
		_ = w.pc.Conn.SetReadDeadline(pastDeadline)
	}
	w.dmu.Unlock()
}

// pastDeadline is a read deadline that has passed: it ends a blocked read at once.
var pastDeadline = time.Unix(1, 0)

// readOne reads and processes one message; false means the connection is finished (the reader's share of
// srv.wg has been released).
func (w *wsConn) readOne() bool {
	bp := readBufs.Get().(*[]byte)
	mt, data, err := w.readMessage((*bp)[:0])
	if err != nil {
		putReadBuf(bp, data)
		w.readFailed(err)
		return false
	}
	p, err := decodePacketWSInPlace(mt, data)
	putReadBuf(bp, data) // p shares no memory with data
	if err != nil {
		w.sock.srv.log.Debug("websocket parse error", "sid", w.sock.id, "err", err)
		w.sock.wsParseError(w)
		return true // keep reading until the close handshake ends
	}
	w.sock.onWSPacket(w, p)
	return true
}

// readFailed ends the connection after a failed read and releases the reader's share of srv.wg.
func (w *wsConn) readFailed(err error) {
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
	w.abort()
	w.sock.srv.wg.Done()
}

// errInvalidUTF8 reports a text message that is not valid UTF-8 (RFC 6455 8.1: fail with close 1007).
var errInvalidUTF8 = errors.New("engineio: invalid UTF-8 in a WebSocket text message")

const (
	// wsReadChunk is the initial capacity of a pooled message buffer; a message grows it as needed up to the
	// read limit.
	wsReadChunk = 1024
	// maxPooledRead is the largest message buffer returned to readBufs; larger ones are left to the GC.
	maxPooledRead = 64 << 10
)

// readBufs holds the readers' message buffers (*[]byte): a message is read into one, decoded (the packet
// copies what it keeps) and the buffer goes back, so no buffer is held between messages.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, wsReadChunk); return &b }}

func putReadBuf(bp *[]byte, used []byte) {
	if cap(used) > cap(*bp) {
		*bp = used[:0]
	}
	if cap(*bp) <= maxPooledRead {
		readBufs.Put(bp)
	}
}

// readMessage reads one data message, appending it to buf (which it returns, possibly grown, also on error).
// Text messages are checked for UTF-8 validity as their bytes arrive, so a message fails at its first invalid
// byte even when its later fragments never come (gorilla does not check).
func (w *wsConn) readMessage(buf []byte) (int, []byte, error) {
	mt, r, err := w.conn.NextReader()
	if err != nil {
		return 0, buf, err
	}
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
				return 0, buf, errInvalidUTF8
			}
		}
		if errors.Is(err, io.EOF) {
			if mt == websocket.TextMessage && checked != len(buf) {
				return 0, buf, errInvalidUTF8 // ends inside a character
			}
			return mt, buf, nil
		}
		if err != nil {
			return 0, buf, err
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
	if w.aborted.Load() {
		return // aborted by the writer or the socket
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
		if w.aborted.Load() {
			w.finishWriter()
			return
		}
		c.mu.Lock()
		batch := w.private
		w.private = nil
		if c.ws == w {
			if len(batch) == 0 {
				batch = c.takeQueueLocked() // the common case: no copy
			} else {
				batch = append(batch, c.takeQueueLocked()...)
			}
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
			// The reader ends on the peer's close frame or at this deadline, and closes the connection; a
			// parked reader becomes a goroutine again to wait for it.
			w.dmu.Lock()
			_ = w.conn.SetReadDeadline(time.Now().Add(wsCloseGrace))
			w.noPark.Store(true)
			w.dmu.Unlock()
			w.wakeReader()
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
		uw := &upgradeWriter{ResponseWriter: w}
		conn, err := s.upgrader.Upgrade(uw, r, nil)
		if err != nil {
			return // the upgrader answered with an HTTP error
		}
		c.attachProbe(conn, uw.pc, q.b64)
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
	req := newHandshake(r)
	uw := &upgradeWriter{ResponseWriter: w}
	conn, err := s.upgrader.Upgrade(uw, r, nil)
	if err != nil {
		return
	}
	c := newSocket(s, id, req, TransportWebSocket)
	c.b64 = q.b64
	ws := newWSConn(c, conn, uw.pc, q.b64)
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
func (c *Socket) attachProbe(conn *websocket.Conn, pc *pollConn, b64 bool) {
	c.mu.Lock()
	if c.state != stateOpen || c.upgraded || c.transport != TransportPolling || c.probe != nil {
		c.mu.Unlock()
		closeWS(conn)
		return
	}
	w := newWSConn(c, conn, pc, b64)
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
