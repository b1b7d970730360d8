package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/socketcluster-go/socketcluster/cluster/engineio"
	"github.com/socketcluster-go/socketcluster/cluster/metrics"
	"github.com/socketcluster-go/socketcluster/cluster/scproto"
	"github.com/socketcluster-go/socketcluster/jsapi"
)

// serverLocalEvents are names a client may not trigger on the server
// socket (spec 3.3): they are dropped silently.
var serverLocalEvents = map[string]bool{
	"open": true, "error": true, "packet": true, "heartbeat": true, "data": true, "raw": true, "message": true,
	"upgrade": true, "close": true, "packetCreate": true, "flush": true, "drain": true, "disconnect": true,
}

// conn is one SC connection: the SC layer over an engine.io socket. It
// implements jsapi.Conn (called on the loop) and engineio.Handler (called
// by the socket's reader).
type conn struct {
	w      *Worker
	sock   *engineio.Socket
	id     string
	ssid   string
	addr   string
	client string // first X-Forwarded-For entry or ""
	// limitAddr is the address addressSocketLimit charges (see rateKey)
	limitAddr string
	handle    jsapi.Handle
	cid       atomic.Int64
	log       *slog.Logger

	mu     sync.Mutex
	subs   map[string]struct{} // channels this socket subscribed to (made on the first subscribe)
	closed bool                // OnClose ran: no more subscriptions

	rpcMu sync.Mutex
	rpc   map[string]time.Time // arrival of sampled events with a cid awaiting the JS response (metrics)
	// rpcPending is len(rpc), read without the lock so responses skip it when nothing is sampled
	rpcPending atomic.Int32

	// store bookkeeping (hub.go), set before the socket serves
	addrBound     bool // counted in the engine's address record
	sessionSub    bool // holds a reference on its session's channel
	lastOfSession bool // set by unbind: the last local socket of its session
}

// maxPendingRPC bounds the RPC start times a socket keeps for the latency
// histogram; events beyond it are not timed.
const maxPendingRPC = 256

var _ jsapi.Conn = (*conn)(nil)

func (c *conn) ID() string             { return c.id }
func (c *conn) SSID() string           { return c.ssid }
func (c *conn) Request() *http.Request { return c.sock.Request() }
func (c *conn) Address() string        { return c.addr }
func (c *conn) ClientAddress() string  { return c.client }
func (c *conn) Transport() string      { return c.sock.Transport() }
func (c *conn) Close()                 { c.sock.Close() }

func (c *conn) Emit(event, dataJSON string) int64 {
	cid := c.cid.Add(1)
	buf := scproto.AppendEvent(make([]byte, 0, len(event)+len(dataJSON)+32), event, dataJSON, cid)
	if !c.sendOwned(unsafe.String(unsafe.SliceData(buf), len(buf))) {
		return 0
	}
	return cid
}

func (c *conn) Respond(cidJSON, errJSON, dataJSON string) {
	buf := scproto.AppendResponse(make([]byte, 0, len(cidJSON)+len(errJSON)+len(dataJSON)+24), cidJSON, errJSON, dataJSON)
	c.sendOwned(unsafe.String(unsafe.SliceData(buf), len(buf)))
	if c.rpcPending.Load() > 0 {
		c.rpcDone(cidJSON)
	}
}

func (c *conn) SendRaw(text string) { c.sendOwned(text) }

// rpcStart notes the arrival of an event the JS handler will answer.
func (c *conn) rpcStart(cid string, at time.Time) {
	c.rpcMu.Lock()
	if c.rpc == nil {
		c.rpc = make(map[string]time.Time)
	}
	if len(c.rpc) < maxPendingRPC {
		if _, dup := c.rpc[cid]; !dup {
			c.rpcPending.Add(1)
		}
		c.rpc[cid] = at
	}
	c.rpcMu.Unlock()
}

// rpcDone observes the round trip of cid if its arrival was noted.
func (c *conn) rpcDone(cid string) {
	c.rpcMu.Lock()
	at, ok := c.rpc[cid]
	if ok {
		delete(c.rpc, cid)
		c.rpcPending.Add(-1)
		if len(c.rpc) == 0 {
			c.rpc = nil // an idle socket holds no map (a Go map keeps its buckets when emptied)
		}
	}
	c.rpcMu.Unlock()
	if ok {
		metrics.ObserveSince(c.w.metrics.RPC, at)
	}
}

// maxCIDSuffix is the longest `,"cid":<int64>}` appendDelivery writes.
const maxCIDSuffix = len(`,"cid":`) + 20 + 1

// appendDelivery appends a publish delivery to dst: prefix is {"event":..,"data":.. and only this socket's
// next cid is added.
func (c *conn) appendDelivery(dst, prefix []byte) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, `,"cid":`...)
	dst = strconv.AppendInt(dst, c.cid.Add(1), 10)
	return append(dst, '}')
}

// sendOwned queues msg, whose bytes nobody modifies any more (no copy is
// made: callers hand over freshly built buffers), and counts it. It
// reports whether the message was queued.
func (c *conn) sendOwned(msg string) bool {
	if c.sock.Send(msg) != nil {
		return false
	}
	c.w.stats.messagesOut.Add(1)
	c.w.metrics.BytesOut.Add(float64(len(msg)))
	return true
}

// OnMessage runs on the socket's reader; blocking here is back-pressure.
func (c *conn) OnMessage(_ *engineio.Socket, data string) {
	n := c.w.stats.messagesIn.Add(1)
	c.w.metrics.BytesIn.Add(float64(len(data)))
	m, err := scproto.Decode(data)
	if err != nil {
		c.log.Debug("dropped message", "socket", c.id, "err", err)
		return
	}
	switch m.Kind {
	case scproto.KindRaw:
		_ = c.w.js.Raw(c.handle, m.Raw)
	case scproto.KindResponse:
		_ = c.w.js.Response(c.handle, m.CID, m.Error, m.Data)
	case scproto.KindEvent:
		switch m.Event {
		case "ready":
			if m.CID != "" {
				c.Respond(m.CID, "", "")
			}
			_ = c.w.js.Ready(c.handle)
		case "subscribe":
			c.subscribe(m)
		case "unsubscribe":
			c.unsubscribe(m)
		case "publish":
			c.publish(m)
		default:
			if serverLocalEvents[m.Event] {
				return
			}
			// Timing is sampled (one event in JSSampleEvery): a clock read,
			// a lock and a map entry per message are not worth a histogram.
			sampled := n%metrics.JSSampleEvery == 0
			var now time.Time
			if sampled {
				now = time.Now()
				if m.CID != "" {
					c.rpcStart(m.CID, now)
				}
			}
			_ = c.w.js.Event(c.handle, m.Event, m.Data, m.CID)
			if sampled {
				c.w.trySubmit(func() { metrics.ObserveSince(c.w.metrics.JSDispatch, now) })
			}
		}
	}
}

// OnClose runs once when the engine.io socket closed.
func (c *conn) OnClose(_ *engineio.Socket, reason string) {
	c.w.conns.Delete(c)
	c.w.metrics.Disconnects.WithLabelValues(reason).Inc()
	if reason == engineio.ReasonSlowConsumer {
		c.w.metrics.SlowConsumer.Inc()
	}
	c.mu.Lock()
	subs := c.subs
	c.subs, c.closed = nil, true
	c.mu.Unlock()
	for ch := range subs {
		c.w.broker.unsubscribe(ch, c)
		c.w.hub.release(ch)
	}
	c.w.unbind(c)
	_ = c.w.js.Closed(c.handle, reason)
	if c.lastOfSession {
		_ = c.w.js.SessionEnd(c.ssid)
	}
}

// channelList reads subscribe/unsubscribe data: one channel name or an array of them (nil for no data). dataJSON
// is a value scproto.Decode validated, so a string literal is decoded directly.
func channelList(dataJSON string) ([]string, bool) {
	switch {
	case dataJSON == "":
		return nil, true
	case dataJSON[0] == '"':
		return []string{scproto.UnquoteString(dataJSON)}, true
	}
	var many []string
	if json.Unmarshal([]byte(dataJSON), &many) == nil {
		return many, true
	}
	return nil, false
}

// clientChannel reports whether a client may subscribe or publish to ch: not empty, bounded, and not one of the
// cluster's internal channels (session events travel on __iocl/ channels).
func clientChannel(ch string) bool {
	return ch != "" && len(ch) <= scproto.MaxEventNameLength && !strings.HasPrefix(ch, internalChannelPrefix)
}

func jsonString(s string) string { return string(scproto.AppendString(nil, s)) }

func (c *conn) subscribe(m scproto.Message) {
	channels, ok := channelList(m.Data)
	if !ok || len(channels) == 0 {
		c.respondError(m.CID, "Invalid channel name")
		return
	}
	for _, ch := range channels {
		if !clientChannel(ch) {
			c.respondError(m.CID, "Invalid channel name")
			return
		}
		c.mu.Lock()
		_, already := c.subs[ch]
		n := len(c.subs)
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		if already {
			continue
		}
		if n >= c.w.opts.SocketEventLimit {
			c.respondError(m.CID, "Socket "+c.id+" tried to exceed the event subscription limit of "+strconv.Itoa(c.w.opts.SocketEventLimit))
			return
		}
		if c.w.js.HasMiddleware(jsapi.MWSubscribe) {
			if err := c.w.js.Subscribe(c.handle, ch); err != nil {
				c.respondMiddleware(m.CID, err)
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), DefaultSubscribeTimeout)
		err := c.w.hub.acquire(ctx, ch)
		cancel()
		if err != nil {
			c.respondError(m.CID, "Failed to subscribe socket to channel "+ch+" - "+err.Error())
			return
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			c.w.hub.release(ch)
			return
		}
		if c.subs == nil {
			c.subs = make(map[string]struct{}, 1)
		}
		c.subs[ch] = struct{}{}
		c.mu.Unlock()
		c.w.broker.subscribe(ch, c)
	}
	if m.CID != "" {
		c.Respond(m.CID, "", "")
	}
}

func (c *conn) unsubscribe(m scproto.Message) {
	channels, ok := channelList(m.Data)
	if !ok {
		c.respondError(m.CID, "Invalid channel name")
		return
	}
	c.mu.Lock()
	if channels == nil { // no data: all
		for ch := range c.subs {
			channels = append(channels, ch)
		}
	}
	var removed []string
	for _, ch := range channels {
		if _, ok := c.subs[ch]; ok {
			delete(c.subs, ch)
			removed = append(removed, ch)
		}
	}
	if len(c.subs) == 0 {
		c.subs = nil // made again by the next subscribe
	}
	c.mu.Unlock()
	for _, ch := range removed {
		c.w.broker.unsubscribe(ch, c)
		c.w.hub.release(ch)
	}
	if m.CID != "" {
		c.Respond(m.CID, "", "")
	}
}

func (c *conn) publish(m scproto.Message) {
	if !c.w.opts.AllowClientPublish {
		c.respondError(m.CID, "Error: Client publish feature is disabled")
		return
	}
	var body struct {
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if m.Data == "" || json.Unmarshal([]byte(m.Data), &body) != nil || !clientChannel(body.Event) {
		c.respondError(m.CID, "Invalid publish message")
		return
	}
	data := string(body.Data)
	if c.w.js.HasMiddleware(jsapi.MWPublish) {
		if err := c.w.js.Publish(c.handle, body.Event, data); err != nil {
			c.respondMiddleware(m.CID, err)
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStoreCallTimeout)
	err := c.w.hub.publish(ctx, body.Event, data)
	cancel()
	if err != nil {
		c.respondError(m.CID, "Failed to publish - "+err.Error())
		return
	}
	if m.CID != "" {
		c.Respond(m.CID, "", "")
	}
	_ = c.w.js.LocalEvent(c.handle, "publish", m.Data)
}

func (c *conn) respondError(cid, text string) {
	if cid != "" {
		c.Respond(cid, jsonString(text), "")
	}
}

func (c *conn) respondMiddleware(cid string, err error) {
	if cid == "" {
		return
	}
	if me, ok := err.(*jsapi.MiddlewareError); ok {
		c.Respond(cid, me.JSON, "")
		return
	}
	c.Respond(cid, jsonString(err.Error()), "")
}

// remoteIP returns the IP part of r.RemoteAddr.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// forwardedFor returns the first X-Forwarded-For entry or "".
func forwardedFor(r *http.Request) string {
	xff := r.Header.Get("X-Forwarded-For")
	if xff == "" {
		return ""
	}
	if i := strings.IndexByte(xff, ','); i >= 0 {
		xff = xff[:i]
	}
	return strings.TrimSpace(xff)
}
