package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/socketcluster-go/socketcluster/cluster/engineio"
)

const (
	// connectWait bounds a client's handshake up to the SC connect event.
	connectWait = 10 * time.Second
	// pollBodyLimit bounds one polling response body.
	pollBodyLimit = 4 << 20
)

var (
	// ErrClosed is returned by send on a closed client.
	ErrClosed = errors.New("scbench: connection closed")
	// ErrHandshake reports a server that did not complete the engine.io/SC handshake.
	ErrHandshake = errors.New("scbench: handshake failed")
)

// readyMessage is what the SC 0.9 client sends after the connect event: the server emits 'connection' to JS on
// it. Without a cid the server sends no acknowledgement.
const readyMessage = `{"event":"ready"}`

// inbound is the part of an SC message the bench looks at.
type inbound struct {
	Event string          `json:"event"`
	CID   int64           `json:"cid"`
	Data  json.RawMessage `json:"data"`
}

// onMessage receives every SC message (JSON text) after the connect event, on the client's reader goroutine.
type onMessage func(m *inbound)

// client is one bench connection speaking SC JSON envelopes.
type client interface {
	send(text string) error
	ping()
	close()
	done() <-chan struct{}
}

// dialer builds clients for one target and transport.
type dialer struct {
	wsURL, pollURL string
	engineio       bool // false: raw SC JSON frames (the baseline)
	hc             *http.Client
}

// dial opens a client, waits for the SC connect event and then routes every message to fn.
func (d *dialer) dial(ctx context.Context, polling bool, fn onMessage) (client, error) {
	if polling {
		return dialPoll(ctx, d.hc, d.pollURL, fn)
	}
	return dialWS(ctx, d.wsURL, nil, d.engineio, fn)
}

// wsClient is an engine.io WebSocket (or a raw baseline WebSocket).
type wsClient struct {
	ws       *websocket.Conn
	engineio bool
	sid      string // the engine.io session id (the SC socket id); "" for the baseline
	mu       sync.Mutex
	closed   chan struct{}
}

var wsDialer = websocket.Dialer{HandshakeTimeout: connectWait}

// dialWS opens a WebSocket client (with the request headers hdr, may be nil) and waits for the connect event.
func dialWS(ctx context.Context, url string, hdr http.Header, eio bool, fn onMessage) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(ctx, connectWait)
	defer cancel()
	ws, _, err := wsDialer.DialContext(ctx, url, hdr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	c := &wsClient{ws: ws, engineio: eio, closed: make(chan struct{})}
	_ = ws.SetReadDeadline(time.Now().Add(connectWait))
	if eio {
		mt, b, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
		}
		p, err := engineio.DecodePacketWS(mt, b)
		if err != nil || p.Type != engineio.Open {
			ws.Close()
			return nil, fmt.Errorf("%w: first packet %q", ErrHandshake, b)
		}
		var open struct {
			SID string `json:"sid"`
		}
		if json.Unmarshal([]byte(p.Data), &open) != nil || open.SID == "" {
			ws.Close()
			return nil, fmt.Errorf("%w: open packet without a sid: %q", ErrHandshake, b)
		}
		c.sid = open.SID
	}
	for {
		m, err := c.read()
		if err != nil {
			ws.Close()
			return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
		}
		if m != nil && m.Event == "connect" {
			break
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	if err := c.send(readyMessage); err != nil {
		ws.Close()
		return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	go func() {
		defer close(c.closed)
		for {
			m, err := c.read()
			if err != nil {
				return
			}
			if m != nil {
				fn(m)
			}
		}
	}()
	return c, nil
}

// read returns the next SC message, or nil for a non-message packet.
func (c *wsClient) read() (*inbound, error) {
	mt, b, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	text := b
	if c.engineio {
		p, err := engineio.DecodePacketWS(mt, b)
		if err != nil {
			return nil, err
		}
		if p.Type != engineio.Message {
			return nil, nil
		}
		text = []byte(p.Data)
	}
	m := new(inbound)
	if json.Unmarshal(text, m) != nil {
		return nil, nil
	}
	return m, nil
}

func (c *wsClient) send(text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.engineio {
		return c.ws.WriteMessage(websocket.TextMessage, []byte(text))
	}
	mt, frame := engineio.EncodePacketWS(engineio.Packet{Type: engineio.Message, Data: text})
	return c.ws.WriteMessage(mt, frame)
}

func (c *wsClient) ping() {
	if !c.engineio {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	mt, frame := engineio.EncodePacketWS(engineio.Packet{Type: engineio.Ping})
	_ = c.ws.WriteMessage(mt, frame)
}

func (c *wsClient) close()                { c.ws.Close() }
func (c *wsClient) done() <-chan struct{} { return c.closed }

// pollClient is an engine.io long-polling client with binary (XHR2) payloads: one GET is always pending, messages
// go out as POSTs.
type pollClient struct {
	hc     *http.Client
	base   string // pollURL&sid=...
	ctx    context.Context
	cancel context.CancelFunc
	closed chan struct{}
	postMu sync.Mutex
}

func dialPoll(ctx context.Context, hc *http.Client, pollURL string, fn onMessage) (*pollClient, error) {
	hctx, hcancel := context.WithTimeout(ctx, connectWait)
	defer hcancel()
	ps, err := pollGet(hctx, hc, pollURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
	}
	if len(ps) == 0 || ps[0].Type != engineio.Open {
		return nil, fmt.Errorf("%w: no open packet", ErrHandshake)
	}
	var hs struct {
		SID string `json:"sid"`
	}
	if json.Unmarshal([]byte(ps[0].Data), &hs) != nil || hs.SID == "" {
		return nil, fmt.Errorf("%w: bad open packet %q", ErrHandshake, ps[0].Data)
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &pollClient{hc: hc, base: pollURL + "&sid=" + hs.SID, ctx: cctx, cancel: cancel, closed: make(chan struct{})}
	connected := make(chan struct{})
	go c.pollLoop(ps[1:], connected, fn)
	select {
	case <-connected:
		if err := c.send(readyMessage); err != nil {
			c.close()
			return nil, fmt.Errorf("%w: %v", ErrHandshake, err)
		}
		return c, nil
	case <-c.closed:
		return nil, fmt.Errorf("%w: closed before connect", ErrHandshake)
	case <-hctx.Done():
		c.close()
		return nil, fmt.Errorf("%w: no connect event within %v", ErrHandshake, connectWait)
	}
}

func (c *pollClient) pollLoop(first []engineio.Packet, connected chan struct{}, fn onMessage) {
	defer close(c.closed)
	isConnected := false
	handle := func(ps []engineio.Packet) bool {
		for _, p := range ps {
			switch p.Type {
			case engineio.Close:
				return false
			case engineio.Message:
				m := new(inbound)
				if json.Unmarshal([]byte(p.Data), m) != nil {
					continue
				}
				if !isConnected {
					if m.Event == "connect" {
						isConnected = true
						close(connected)
					}
					continue
				}
				fn(m)
			}
		}
		return true
	}
	if !handle(first) {
		return
	}
	for c.ctx.Err() == nil {
		ps, err := pollGet(c.ctx, c.hc, c.base)
		if err != nil || !handle(ps) {
			return
		}
	}
}

func pollGet(ctx context.Context, hc *http.Client, url string) ([]engineio.Packet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, pollBodyLimit))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET status %d: %s", resp.StatusCode, body)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/octet-stream") {
		return engineio.DecodePayloadBinary(body)
	}
	return engineio.DecodePayloadText(body)
}

func (c *pollClient) post(p engineio.Packet) error {
	body := engineio.EncodePayloadBinary(nil, []engineio.Packet{p})
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, c.base, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrClosed, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, pollBodyLimit))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: POST status %d", ErrClosed, resp.StatusCode)
	}
	return nil
}

func (c *pollClient) send(text string) error {
	c.postMu.Lock()
	defer c.postMu.Unlock()
	return c.post(engineio.Packet{Type: engineio.Message, Data: text})
}

func (c *pollClient) ping() {
	c.postMu.Lock()
	defer c.postMu.Unlock()
	_ = c.post(engineio.Packet{Type: engineio.Ping})
}

func (c *pollClient) close() {
	c.postMu.Lock()
	_ = c.post(engineio.Packet{Type: engineio.Close})
	c.postMu.Unlock()
	c.cancel()
}

func (c *pollClient) done() <-chan struct{} { return c.closed }

// newHTTPClient returns the shared client of the polling clients: keep-alive, enough idle connections for every
// pending GET and POST.
func newHTTPClient(conns int) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        2*conns + 16,
		MaxIdleConnsPerHost: 2*conns + 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 0}
}
