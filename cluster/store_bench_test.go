package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketcluster-go/socketcluster/cluster/engineio"
	"github.com/socketcluster-go/socketcluster/store"
)

// Fan-out benchmark shape: subscribers per worker and publishing sockets per worker.
const (
	benchSubsPerWorker = 25
	benchPubsPerWorker = 2
)

// BenchmarkPublishFanOut: client publishes on 2 workers reaching benchSubsPerWorker subscribers on each worker
// through the engine; reports deliveries per second. "store" is a store server in this process (loopback TCP),
// "redis" a real redis-server.
func BenchmarkPublishFanOut(b *testing.B) {
	b.Run("store", func(b *testing.B) {
		st := startStore(b, "")
		benchFanOut(b, func(id int) *testServer { return startClusterWorker(b, id, []string{st.addr}, nil) })
	})
	b.Run("redis", func(b *testing.B) {
		url := benchRedis(b)
		benchFanOut(b, func(id int) *testServer {
			relay := NewRelay()
			e, err := store.NewRedisEngine(store.RedisOptions{URL: url, OnMessage: relay.Deliver})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { e.Close() })
			return startWorkerWith(b, func(o *Options) { o.WorkerID = id }, func(cfg *WorkerConfig) {
				cfg.Private, cfg.Public, cfg.Relay = e, e, relay
			})
		})
	})
}

func benchRedis(b *testing.B) string {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		b.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(b, func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "redis-server")
	return "redis://127.0.0.1:" + port + "/0"
}

// benchConn is a WebSocket SC client that only counts deliveries of channel "bench".
type benchConn struct {
	ws    *websocket.Conn
	count atomic.Int64
	acks  atomic.Int64
}

func dialBench(b *testing.B, addr string) *benchConn {
	c := dialWS(b, addr, nil)
	c.handshake()
	bc := &benchConn{ws: c.ws}
	go func() {
		for s := range c.msgs {
			if bytes.Contains([]byte(s), []byte(`"event":"bench"`)) {
				bc.count.Add(1)
			} else if len(s) > 0 && s[0] == '{' && bytes.HasPrefix([]byte(s), []byte(`{"cid":`)) {
				bc.acks.Add(1)
			}
		}
	}()
	b.Cleanup(func() { c.ws.Close() })
	return bc
}

func (bc *benchConn) write(b *testing.B, v any) {
	raw, _ := json.Marshal(v)
	mt, frame := engineio.EncodePacketWS(engineio.Packet{Type: engineio.Message, Data: string(raw)})
	if err := bc.ws.WriteMessage(mt, frame); err != nil {
		b.Fatal(err)
	}
}

func benchFanOut(b *testing.B, start func(id int) *testServer) {
	workers := []*testServer{start(0), start(1)}
	var subs, pubs []*benchConn
	for _, w := range workers {
		for i := 0; i < benchSubsPerWorker; i++ {
			s := dialBench(b, w.addr)
			s.write(b, map[string]any{"event": "subscribe", "data": "bench", "cid": 2})
			subs = append(subs, s)
		}
		for i := 0; i < benchPubsPerWorker; i++ {
			pubs = append(pubs, dialBench(b, w.addr))
		}
	}
	waitFor(b, func() bool {
		for _, s := range subs {
			if s.acks.Load() < 1 { // the subscribe ack
				return false
			}
		}
		return true
	}, "subscriptions")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.ResetTimer()
	begin := time.Now()
	for i := 0; i < b.N; i++ {
		p := pubs[i%len(pubs)]
		p.write(b, map[string]any{"event": "publish", "data": map[string]any{"event": "bench", "data": i}, "cid": 10 + i})
	}
	want := int64(b.N)
	for _, s := range subs {
		for s.count.Load() < want {
			if ctx.Err() != nil {
				b.Fatalf("deliveries stalled: %d of %d", s.count.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	elapsed := time.Since(begin)
	b.StopTimer()
	b.ReportMetric(float64(int64(b.N)*int64(len(subs)))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "publishes/s")
}
