package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
	"github.com/socketcluster-go/socketcluster/cluster/scproto"
)

// The baseline is the floor every figure is compared with: a minimal gorilla/websocket server that speaks the
// same SC JSON envelopes ({"event","data","cid"} / {"cid","data"}) directly in WebSocket text frames, without
// engine.io, without JavaScript, with one reader goroutine per connection and a mutex around writes.

// baselineMaxMessage bounds one inbound message (the server's default maxHttpBufferSize).
const baselineMaxMessage = 1 << 20

type baselineConn struct {
	ws  *websocket.Conn
	mu  sync.Mutex
	cid atomic.Int64
}

func (c *baselineConn) send(b []byte) {
	c.mu.Lock()
	_ = c.ws.WriteMessage(websocket.TextMessage, b)
	c.mu.Unlock()
}

type baselineServer struct {
	upgrader websocket.Upgrader
	mu       sync.RWMutex
	channels map[string]map[*baselineConn]struct{}
}

func newBaselineServer() *baselineServer {
	return &baselineServer{
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		channels: map[string]map[*baselineConn]struct{}{},
	}
}

func (s *baselineServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(baselineMaxMessage)
	c := &baselineConn{ws: ws}
	c.cid.Store(1)
	c.send([]byte(`{"event":"connect","data":{"soid":"baseline"},"cid":1}`))
	var subs []string
	defer func() {
		s.mu.Lock()
		for _, ch := range subs {
			delete(s.channels[ch], c)
		}
		s.mu.Unlock()
		ws.Close()
	}()
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		var m struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
			CID   json.RawMessage `json:"cid"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Event {
		case "subscribe":
			var ch string
			if json.Unmarshal(m.Data, &ch) != nil {
				continue
			}
			s.mu.Lock()
			if s.channels[ch] == nil {
				s.channels[ch] = map[*baselineConn]struct{}{}
			}
			s.channels[ch][c] = struct{}{}
			s.mu.Unlock()
			subs = append(subs, ch)
		case "publish":
			var p struct {
				Event string          `json:"event"`
				Data  json.RawMessage `json:"data"`
			}
			if json.Unmarshal(m.Data, &p) != nil {
				continue
			}
			prefix := scproto.AppendEvent(nil, p.Event, string(p.Data), 0)
			prefix = prefix[:len(prefix)-1]
			s.mu.RLock()
			for sub := range s.channels[p.Event] {
				buf := make([]byte, 0, len(prefix)+24)
				buf = append(buf, prefix...)
				buf = append(buf, `,"cid":`...)
				buf = strconv.AppendInt(buf, sub.cid.Add(1), 10)
				buf = append(buf, '}')
				sub.send(buf)
			}
			s.mu.RUnlock()
		}
		if len(m.CID) > 0 {
			c.send(scproto.AppendResponse(nil, string(m.CID), "", string(m.Data)))
		}
	}
}

// serveBaseline listens on an ephemeral loopback port, prints it on out and serves until ctx is done.
func serveBaseline(ctx context.Context, out io.Writer) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newBaselineServer()}
	fmt.Fprintf(out, "baseline listening on %s\n", l.Addr())
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
