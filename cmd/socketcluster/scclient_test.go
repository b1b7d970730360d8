package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketcluster-go/socketcluster/cluster/engineio"
)

// replyWait bounds one emit-with-ack of the test clients (and an awaited event).
const replyWait = 5 * time.Second

// scClient is the tests' raw engine.io + SC client over WebSocket: emit-with-ack (call), fire-and-forget (send)
// and a bounded queue of the events it receives (event, noEvent). A fail event closes it, as the server does.
type scClient struct {
	ws     *websocket.Conn
	sid    string // the engine.io session id, which is the SC socket id
	mu     sync.Mutex
	cid    int
	resp   map[int]chan scReply
	events chan evMsg
	closed chan struct{}
}

type scReply struct {
	Data  json.RawMessage
	Error json.RawMessage
}

type evMsg struct {
	Event string
	Data  json.RawMessage
}

// dialSC connects to addr with the request headers header (may be nil), waits for the connect event and sends
// the client's ready event, as the 0.9 client does.
func dialSC(addr string, header http.Header) (*scClient, error) {
	d := websocket.Dialer{HandshakeTimeout: replyWait}
	ws, _, err := d.Dial("ws://"+addr+"/socketcluster/?EIO=3&transport=websocket", header)
	if err != nil {
		return nil, err
	}
	_ = ws.SetReadDeadline(time.Now().Add(replyWait))
	mt, b, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, err
	}
	open, err := engineio.DecodePacketWS(mt, b)
	var hs struct {
		SID string `json:"sid"`
	}
	if err != nil || open.Type != engineio.Open || json.Unmarshal([]byte(open.Data), &hs) != nil {
		ws.Close()
		return nil, fmt.Errorf("bad open packet %q", b)
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := &scClient{ws: ws, sid: hs.SID, resp: map[int]chan scReply{}, events: make(chan evMsg, 1024),
		closed: make(chan struct{})}
	connected := make(chan struct{}, 1)
	go c.read(connected)
	select {
	case <-connected:
	case <-c.closed:
		return nil, errors.New("closed before connect")
	case <-time.After(replyWait):
		ws.Close()
		return nil, errors.New("no connect event")
	}
	if _, err := c.call("ready", nil, replyWait); err != nil {
		ws.Close()
		return nil, err
	}
	return c, nil
}

func (c *scClient) read(connected chan struct{}) {
	defer close(c.closed)
	for {
		mt, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		p, err := engineio.DecodePacketWS(mt, b)
		if err != nil || p.Type != engineio.Message {
			continue
		}
		var m struct {
			Event string          `json:"event"`
			CID   int             `json:"cid"`
			Data  json.RawMessage `json:"data"`
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal([]byte(p.Data), &m) != nil {
			continue
		}
		switch {
		case m.Event == "connect":
			select {
			case connected <- struct{}{}:
			default:
			}
		case m.Event == "fail":
			c.ws.Close()
		case m.Event != "":
			select {
			case c.events <- evMsg{Event: m.Event, Data: m.Data}:
			default: // a test that does not read events must not block the reader
			}
		case m.CID > 0:
			c.mu.Lock()
			ch := c.resp[m.CID]
			delete(c.resp, m.CID)
			c.mu.Unlock()
			if ch != nil {
				ch <- scReply{Data: m.Data, Error: m.Error}
			}
		}
	}
}

// send emits event with a cid and returns the channel its answer will arrive on.
func (c *scClient) send(event string, data any) (chan scReply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cid++
	ch := make(chan scReply, 1)
	c.resp[c.cid] = ch
	msg := map[string]any{"event": event, "cid": c.cid}
	if data != nil {
		msg["data"] = data
	}
	b, _ := json.Marshal(msg)
	mt, frame := engineio.EncodePacketWS(engineio.Packet{Type: engineio.Message, Data: string(b)})
	return ch, c.ws.WriteMessage(mt, frame)
}

// call emits event and waits up to timeout for its answer; an error answer is an error.
func (c *scClient) call(event string, data any, timeout time.Duration) (json.RawMessage, error) {
	ch, err := c.send(event, data)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if len(r.Error) > 0 && string(r.Error) != "null" {
			return nil, fmt.Errorf("error reply %s", r.Error)
		}
		return r.Data, nil
	case <-c.closed:
		return nil, errors.New("connection closed")
	case <-time.After(timeout):
		return nil, fmt.Errorf("no reply to %s within %v", event, timeout)
	}
}

func (c *scClient) whoami() (who, error) {
	d, err := c.call("whoami", nil, replyWait)
	var w who
	if err == nil {
		err = json.Unmarshal(d, &w)
	}
	return w, err
}

func (c *scClient) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// must is call with replyWait, failing the test on an error.
func (c *scClient) must(t testing.TB, event string, data any) json.RawMessage {
	t.Helper()
	d, err := c.call(event, data, replyWait)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	return d
}

// who is whoami of the store fixture (testdata/workers/stores/worker.js).
func (c *scClient) who(t testing.TB) whoStore {
	t.Helper()
	var w whoStore
	if err := json.Unmarshal(c.must(t, "whoami", nil), &w); err != nil {
		t.Fatal(err)
	}
	return w
}

// event waits for the next event named name (other events are skipped).
func (c *scClient) event(t testing.TB, name string) json.RawMessage {
	t.Helper()
	deadline := time.After(replyWait)
	for {
		select {
		case m := <-c.events:
			if m.Event == name {
				return m.Data
			}
		case <-deadline:
			t.Fatalf("socket %s: no %q event within %v", c.sid, name, replyWait)
		}
	}
}

// noEvent fails if an event named name is queued after a round trip.
func (c *scClient) noEvent(t testing.TB, name string) {
	t.Helper()
	c.must(t, "whoami", nil)
	for {
		select {
		case m := <-c.events:
			if m.Event == name {
				t.Fatalf("socket %s: unexpected %s %s", c.sid, m.Event, m.Data)
			}
		default:
			return
		}
	}
}
