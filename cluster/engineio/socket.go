package engineio

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Handler receives a socket's messages and its end. Set it with Socket.SetHandler inside Config.OnConnection.
type Handler interface {
	// OnMessage is called with the data of each message packet, in arrival order and never concurrently for one
	// socket. It may block: while it does, that socket is not read any further (back-pressure).
	OnMessage(s *Socket, data string)
	// OnClose is called exactly once, after every OnMessage call of the socket has returned, with one of the
	// Reason* constants.
	OnClose(s *Socket, reason string)
}

// BinaryHandler may additionally be implemented by a Handler to receive binary message packets (never sent by
// SocketCluster clients); without it they are dropped.
type BinaryHandler interface {
	OnBinaryMessage(s *Socket, data []byte)
}

type socketState int

const (
	stateOpen    socketState = iota
	stateClosing             // polling only: Close() called, the close packet waits for the next poll
	stateClosed
)

// pollWaiter is a pending long-polling GET.
type pollWaiter struct {
	wake  chan struct{} // capacity 1
	noop  bool          // answer with a noop if nothing else is queued (upgrade nudge)
	close bool          // the socket was closed: append a close packet
}

func (p *pollWaiter) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Socket is one engine.io connection. All methods are safe for concurrent use.
type Socket struct {
	srv   *Server
	id    string
	req   handshake
	b64   bool   // polling responses use text framing (handshake had b64)
	jsonp bool   // JSONP polling
	j     string // JSONP callback index
	// cookie: responses of the initial polling transport carry Set-Cookie.
	cookie bool

	mu           sync.Mutex
	state        socketState
	transport    string
	upgraded     bool
	handler      Handler
	queue        []Packet
	queued       int // bytes in queue
	poll         *pollWaiter
	posting      bool
	ws           *wsConn // current WebSocket transport
	probe        *wsConn // WebSocket being probed for an upgrade
	lastRecv     time.Time
	liveness     *time.Timer
	upgradeTimer *time.Timer
	nudgeTimer   *time.Timer

	deliverMu sync.Mutex
	onClosed  bool // guarded by deliverMu
}

func newSocket(srv *Server, id string, req handshake, transport string) *Socket {
	return &Socket{srv: srv, id: id, req: req, transport: transport}
}

// ID returns the socket id (the engine.io sid).
func (c *Socket) ID() string { return c.id }

// Request returns a copy of the handshake request (method, URL, Host, headers, RemoteAddr, TLS state; cookies
// through its headers); its body is empty. Each call builds a new copy.
func (c *Socket) Request() *http.Request { return c.req.request() }

// Transport returns the current transport name, "polling" or "websocket".
func (c *Socket) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Upgraded reports whether the socket moved from polling to WebSocket.
func (c *Socket) Upgraded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.upgraded
}

// SetHandler sets the receiver of messages and of the close notification.
func (c *Socket) SetHandler(h Handler) {
	c.mu.Lock()
	c.handler = h
	c.mu.Unlock()
}

// Send queues a message packet. It never blocks. It returns ErrClosed when the socket is closing or closed; if
// the queue would exceed Config.MaxOutboundBytes the socket is closed ("slow consumer") and the returned error
// wraps both ErrClosed and ErrSlowConsumer.
func (c *Socket) Send(data string) error {
	return c.enqueue(Packet{Type: Message, Data: data})
}

// SendBatch queues several message packets at once (one wake-up of the transport).
func (c *Socket) SendBatch(data []string) error {
	ps := make([]Packet, len(data))
	for i, d := range data {
		ps[i] = Packet{Type: Message, Data: d}
	}
	return c.enqueue(ps...)
}

// SendPacket queues an arbitrary packet (for example a binary message packet).
func (c *Socket) SendPacket(p Packet) error { return c.enqueue(p) }

func (c *Socket) enqueue(ps ...Packet) error {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return ErrClosed
	}
	for _, p := range ps {
		c.queued += p.size()
	}
	if c.queued > c.srv.cfg.MaxOutboundBytes {
		c.mu.Unlock()
		c.finish(ReasonSlowConsumer)
		return fmt.Errorf("%w: %w", ErrClosed, ErrSlowConsumer)
	}
	c.queue = append(c.queue, ps...)
	c.kickLocked()
	c.mu.Unlock()
	return nil
}

// kickLocked wakes whoever writes for the current transport.
func (c *Socket) kickLocked() {
	if c.transport == TransportPolling {
		if c.poll != nil {
			c.poll.signal()
		}
	} else if c.ws != nil {
		c.ws.signal()
	}
}

// takeQueueLocked removes and returns the queued packets.
func (c *Socket) takeQueueLocked() []Packet {
	q := c.queue
	c.queue, c.queued = nil, 0
	return q
}

// Close closes the socket gracefully: on polling the close packet goes with the current or next poll response,
// on WebSocket the queued messages are written and then a close frame. Idempotent, safe from any goroutine.
func (c *Socket) Close() {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	if c.transport == TransportPolling && c.poll == nil {
		// No poll to answer: the next GET receives [queued..., close] or [noop, close].
		c.state = stateClosing
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.finish(ReasonForcedClose)
}

// finish closes the socket for reason (once): stops timers, unregisters, closes the transports, answers a
// pending poll with a close packet, and schedules Handler.OnClose.
func (c *Socket) finish(reason string) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	if c.state == stateClosing && reason == ReasonPingTimeout {
		reason = ReasonForcedClose
	}
	c.state = stateClosed
	stopTimer(c.liveness)
	stopTimer(c.upgradeTimer)
	stopTimer(c.nudgeTimer)
	graceful := reason != ReasonTransportClose && reason != ReasonTransportError && reason != ReasonSlowConsumer
	if reason != ReasonForcedClose && reason != ReasonServerShutdown {
		c.queue, c.queued = nil, 0
	}
	if c.poll != nil {
		c.poll.close = true
		c.poll.signal()
	}
	for _, w := range []*wsConn{c.ws, c.probe} {
		if w == nil {
			continue
		}
		if graceful {
			w.closeLocked()
		} else {
			w.abort()
		}
	}
	c.probe = nil
	h := c.handler
	c.srv.wg.Add(1)
	c.mu.Unlock()

	c.srv.unregister(c)
	c.srv.log.Debug("socket closed", "sid", c.id, "reason", reason)
	go func() {
		defer c.srv.wg.Done()
		c.deliverMu.Lock()
		defer c.deliverMu.Unlock()
		c.onClosed = true
		if h != nil {
			h.OnClose(c, reason)
		}
	}()
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// startLiveness arms the server-side liveness timer: the socket closes ("ping timeout") when nothing was received
// for PingInterval+PingTimeout.
func (c *Socket) startLiveness() {
	d := c.srv.cfg.PingInterval + c.srv.cfg.PingTimeout
	c.mu.Lock()
	c.lastRecv = time.Now()
	c.liveness = time.AfterFunc(d, c.checkLiveness)
	c.mu.Unlock()
}

func (c *Socket) checkLiveness() {
	d := c.srv.cfg.PingInterval + c.srv.cfg.PingTimeout
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	if left := time.Until(c.lastRecv.Add(d)); left > 0 {
		c.liveness.Reset(left)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	c.finish(ReasonPingTimeout)
}

// handlePacket processes a packet received on the current transport. It reports false when the caller must stop
// processing further packets of the same payload.
func (c *Socket) handlePacket(p Packet) bool {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return true
	}
	c.lastRecv = time.Now()
	switch p.Type {
	case Ping:
		c.queue = append(c.queue, Packet{Type: Pong})
		c.queued++
		c.kickLocked()
		c.mu.Unlock()
	case Close:
		polling := c.transport == TransportPolling
		c.mu.Unlock()
		if polling {
			c.finish(ReasonTransportClose)
			return false
		}
	case Message:
		c.mu.Unlock()
		c.deliver(p)
	default:
		c.mu.Unlock()
	}
	return true
}

// deliver hands a message packet to the handler, serialised per socket.
func (c *Socket) deliver(p Packet) {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	if c.onClosed {
		return
	}
	c.mu.Lock()
	h, open := c.handler, c.state == stateOpen
	c.mu.Unlock()
	if h == nil || !open {
		return
	}
	if p.IsBinary() {
		if bh, ok := h.(BinaryHandler); ok {
			bh.OnBinaryMessage(c, p.Binary)
		}
		return
	}
	h.OnMessage(c, p.Data)
}
