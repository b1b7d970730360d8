package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketcluster-go/socketcluster/cluster/engineio"
)

// Wire clients: one engine.io session each, over WebSocket or long polling, speaking the SC envelope. A session
// that stops hearing from the server for pingInterval+pingTimeout is declared dead, as the real clients do.

const (
	pingEvery    = 1 * time.Second // the cluster runs with --heartbeatInterval 1
	deadAfter    = 3 * time.Second // interval + --heartbeatTimeout 2
	callTimeout  = 3 * time.Second
	dialTimeout  = 3 * time.Second
	eventBufSize = 4096
)

var errClosed = errors.New("connection closed")

type reply struct {
	data json.RawMessage
	err  json.RawMessage
}

type envelope struct {
	Event string          `json:"event"`
	CID   int             `json:"cid"`
	Data  json.RawMessage `json:"data"`
	Error json.RawMessage `json:"error"`
}

// wireConn is one engine.io session. onEvent runs on the reader for every SC event other than connect.
type wireConn struct {
	sendPacket func(engineio.Packet) error
	closeFn    func()
	onEvent    func(event string, data json.RawMessage)

	mu      sync.Mutex
	cid     int
	pending map[int]chan reply

	connected chan struct{}
	done      chan struct{}
	doneOnce  sync.Once
	lastHeard atomic.Int64
}

func newWireConn(onEvent func(string, json.RawMessage)) *wireConn {
	c := &wireConn{onEvent: onEvent, pending: map[int]chan reply{}, connected: make(chan struct{}), done: make(chan struct{})}
	c.lastHeard.Store(time.Now().UnixNano())
	return c
}

func (c *wireConn) kill() {
	c.doneOnce.Do(func() {
		close(c.done)
		if c.closeFn != nil {
			c.closeFn()
		}
	})
}

func (c *wireConn) dead() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// packet handles one packet from the server.
func (c *wireConn) packet(p engineio.Packet) {
	c.lastHeard.Store(time.Now().UnixNano())
	switch p.Type {
	case engineio.Close:
		c.kill()
		return
	case engineio.Message:
	default:
		return
	}
	var m envelope
	if json.Unmarshal([]byte(p.Data), &m) != nil {
		return
	}
	switch {
	case m.Event == "connect":
		select {
		case <-c.connected:
		default:
			close(c.connected)
		}
	case m.Event == "fail":
		c.kill()
	case m.Event != "":
		if c.onEvent != nil {
			c.onEvent(m.Event, m.Data)
		}
	case m.CID > 0:
		c.mu.Lock()
		ch := c.pending[m.CID]
		delete(c.pending, m.CID)
		c.mu.Unlock()
		if ch != nil {
			ch <- reply{data: m.Data, err: m.Error}
		}
	}
}

// heartbeat pings every pingEvery and kills the session once the server is silent for deadAfter.
func (c *wireConn) heartbeat() {
	t := time.NewTicker(pingEvery / 4)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			if now.Sub(time.Unix(0, c.lastHeard.Load())) > deadAfter {
				c.kill()
				return
			}
			if now.Sub(last) >= pingEvery {
				last = now
				go func() {
					if c.sendPacket(engineio.Packet{Type: engineio.Ping}) != nil {
						c.kill()
					}
				}()
			}
		}
	}
}

// call emits event with a cid and waits for the answer.
func (c *wireConn) call(event string, data any, timeout time.Duration) (json.RawMessage, error) {
	c.mu.Lock()
	c.cid++
	cid := c.cid
	ch := make(chan reply, 1)
	c.pending[cid] = ch
	c.mu.Unlock()
	msg := map[string]any{"event": event, "cid": cid}
	if data != nil {
		msg["data"] = data
	}
	b, _ := json.Marshal(msg)
	if err := c.sendPacket(engineio.Packet{Type: engineio.Message, Data: string(b)}); err != nil {
		c.kill()
		return nil, err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		if len(r.err) > 0 && string(r.err) != "null" {
			return nil, fmt.Errorf("%s: error reply %s", event, r.err)
		}
		return r.data, nil
	case <-c.done:
		return nil, errClosed
	case <-t.C:
		return nil, fmt.Errorf("%s: no reply within %v", event, timeout)
	}
}

// ready waits for the connect event and sends ready.
func (c *wireConn) ready() error {
	t := time.NewTimer(dialTimeout)
	defer t.Stop()
	select {
	case <-c.connected:
	case <-c.done:
		return errClosed
	case <-t.C:
		c.kill()
		return errors.New("no connect event")
	}
	_, err := c.call("ready", nil, callTimeout)
	return err
}

func cookieHeader(ssid string) http.Header {
	if ssid == "" {
		return nil
	}
	return http.Header{"Cookie": {"n/" + appName + "/ssid=" + ssid}}
}

// dialWS opens an SC session over WebSocket.
func dialWS(addr, ssid string, onEvent func(string, json.RawMessage)) (*wireConn, error) {
	d := websocket.Dialer{HandshakeTimeout: dialTimeout, NetDialContext: (&net.Dialer{Timeout: dialTimeout}).DialContext}
	ws, _, err := d.Dial("ws://"+addr+"/socketcluster/?EIO=3&transport=websocket", cookieHeader(ssid))
	if err != nil {
		return nil, err
	}
	c := newWireConn(onEvent)
	var wmu sync.Mutex
	c.sendPacket = func(p engineio.Packet) error {
		mt, frame := engineio.EncodePacketWS(p)
		wmu.Lock()
		defer wmu.Unlock()
		_ = ws.SetWriteDeadline(time.Now().Add(callTimeout))
		return ws.WriteMessage(mt, frame)
	}
	c.closeFn = func() { _ = ws.Close() }
	go func() {
		defer c.kill()
		for {
			_ = ws.SetReadDeadline(time.Now().Add(deadAfter + time.Second))
			mt, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			p, err := engineio.DecodePacketWS(mt, b)
			if err != nil {
				continue
			}
			c.packet(p)
		}
	}()
	go c.heartbeat()
	if err := c.ready(); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

// dialPolling opens an SC session over long polling (text payloads); it owns an http.Transport so that closing
// the session closes its TCP connections.
func dialPolling(addr, ssid string, onEvent func(string, json.RawMessage)) (*wireConn, error) {
	tr := &http.Transport{DialContext: (&net.Dialer{Timeout: dialTimeout}).DialContext, MaxIdleConnsPerHost: 4}
	hc := &http.Client{Transport: tr, Timeout: deadAfter + time.Second}
	base := "http://" + addr + "/socketcluster/?EIO=3&transport=polling&b64=1"
	get := func(url string) ([]engineio.Packet, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range cookieHeader(ssid) {
			req.Header[k] = v
		}
		res, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return nil, err
		}
		if res.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET: %d %s", res.StatusCode, b)
		}
		return engineio.DecodePayloadText(b)
	}
	ps, err := get(base)
	var hs struct {
		SID string `json:"sid"`
	}
	if err != nil || len(ps) == 0 || ps[0].Type != engineio.Open || json.Unmarshal([]byte(ps[0].Data), &hs) != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("polling handshake: %v %v", ps, err)
	}
	url := base + "&sid=" + hs.SID
	c := newWireConn(onEvent)
	var pmu sync.Mutex // one POST at a time, as engine.io requires
	c.sendPacket = func(p engineio.Packet) error {
		pmu.Lock()
		defer pmu.Unlock()
		if c.dead() {
			return errClosed
		}
		body := engineio.EncodePayloadText(nil, []engineio.Packet{p})
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("POST: %d", res.StatusCode)
		}
		return nil
	}
	c.closeFn = func() {
		// tell the server, best effort, then drop the connections
		go func() {
			body := engineio.EncodePayloadText(nil, []engineio.Packet{{Type: engineio.Close}})
			if res, err := hc.Post(url, "text/plain;charset=UTF-8", bytes.NewReader(body)); err == nil {
				res.Body.Close()
			}
			tr.CloseIdleConnections()
		}()
	}
	go func() {
		defer c.kill()
		for _, p := range ps[1:] {
			c.packet(p)
		}
		for !c.dead() {
			ps, err := get(url)
			if err != nil {
				return
			}
			for _, p := range ps {
				c.packet(p)
			}
		}
	}()
	go c.heartbeat()
	if err := c.ready(); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

// neverReader is a WebSocket SC session that subscribes to a channel and then never reads (its receive buffer
// is 4 KiB); it keeps pinging so the server cannot blame a heartbeat.
type neverReader struct {
	ws   *websocket.Conn
	stop chan struct{}
}

func dialNeverReader(addr, channel string) (*neverReader, error) {
	nd := &net.Dialer{Timeout: dialTimeout, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	d := websocket.Dialer{HandshakeTimeout: dialTimeout, NetDialContext: nd.DialContext}
	ws, _, err := d.Dial("ws://"+addr+"/socketcluster/?EIO=3&transport=websocket", nil)
	if err != nil {
		return nil, err
	}
	n := &neverReader{ws: ws, stop: make(chan struct{})}
	send := func(s string) error {
		_ = ws.SetWriteDeadline(time.Now().Add(callTimeout))
		mt, frame := engineio.EncodePacketWS(engineio.Packet{Type: engineio.Message, Data: s})
		return ws.WriteMessage(mt, frame)
	}
	if err := send(`{"event":"ready","cid":1}`); err != nil {
		ws.Close()
		return nil, err
	}
	if err := send(`{"event":"subscribe","data":` + strconv.Quote(channel) + `,"cid":2}`); err != nil {
		ws.Close()
		return nil, err
	}
	go func() {
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		for {
			select {
			case <-n.stop:
				return
			case <-t.C:
				_ = ws.SetWriteDeadline(time.Now().Add(callTimeout))
				mt, frame := engineio.EncodePacketWS(engineio.Packet{Type: engineio.Ping})
				if ws.WriteMessage(mt, frame) != nil {
					return
				}
			}
		}
	}()
	return n, nil
}

// drain stops pinging, reads everything the kernel buffered, and reports how many bytes came and whether the
// server had closed the connection (EOF or reset) before the deadline.
func (n *neverReader) drain(within time.Duration) (int64, bool) {
	close(n.stop)
	defer n.ws.Close()
	nc := n.ws.NetConn()
	_ = nc.SetReadDeadline(time.Now().Add(within))
	got, err := io.Copy(io.Discard, nc)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return got, false
	}
	return got, true
}

// proxy is an in-process TCP proxy with adjustable one-way latency and a cut that closes every connection.
type proxy struct {
	ln      net.Listener
	target  string
	latency atomic.Int64 // nanoseconds added to each chunk, each direction
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

func startProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.DialTimeout("tcp", p.target, dialTimeout)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		p.conns[u] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, u)
		go p.pipe(u, c)
	}
}

type chunk struct {
	b   []byte
	due time.Time
}

// pipe copies src to dst, each chunk held back by the current latency; a bounded queue gives back-pressure.
func (p *proxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	q := make(chan chunk, 64)
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 {
				q <- chunk{b: b[:n], due: time.Now().Add(time.Duration(p.latency.Load()))}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	p.drop(src)
	p.drop(dst)
	for range q { // let the reader end
	}
}

func (p *proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// cut closes every proxied connection; new ones are accepted.
func (p *proxy) cut() int {
	p.mu.Lock()
	n := len(p.conns) / 2
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	return n
}

func (p *proxy) close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}
