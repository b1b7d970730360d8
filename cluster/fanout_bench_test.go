package cluster

import (
	"bytes"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fanOutSubscribers is the subscriber count of BenchmarkFanOutDelivery (scbench's fan-out default).
const fanOutSubscribers = 100

// fanOutWindow bounds the publishes in flight ahead of the slowest subscriber, far below the outbound limit.
const fanOutWindow = 32

// rawSub is a WebSocket client that only counts frames carrying the bench event; it reads into one reused
// buffer so that its own allocations stay out of the per-delivery figures.
type rawSub struct {
	ws    *websocket.Conn
	count atomic.Int64
}

func (s *rawSub) read() {
	buf := make([]byte, 4096)
	for {
		_, r, err := s.ws.NextReader()
		if err != nil {
			return
		}
		n, err := io.ReadFull(r, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return
		}
		if bytes.Contains(buf[:n], []byte(`"event":"bench"`)) {
			s.count.Add(1)
		}
	}
}

// BenchmarkFanOutDelivery is the per-delivery path of a channel publish inside one worker: localBroker.publish
// -> conn.appendDelivery/sendOwned -> engineio Socket.Send -> the WebSocket writer's encode and write, to fanOutSubscribers
// local WebSocket subscribers. It reports CPU (of this whole process: server and the counting clients), wall
// time and allocations per delivery.
func BenchmarkFanOutDelivery(b *testing.B) {
	ts := startWorker(b, echoController(b), nil)
	subs := make([]*rawSub, fanOutSubscribers)
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	for i := range subs {
		ws, _, err := d.Dial("ws://"+ts.addr+"/socketcluster/?EIO=3&transport=websocket", nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ws.Close() })
		subs[i] = &rawSub{ws: ws}
		go subs[i].read()
	}
	waitFor(b, func() bool {
		n := 0
		ts.w.conns.Range(func(_, _ any) bool { n++; return true })
		return n == fanOutSubscribers
	}, "connections")
	ts.w.conns.Range(func(k, _ any) bool {
		ts.w.broker.subscribe("bench", k.(*conn))
		return true
	})
	const data = `{"n":12345,"text":"hello world","list":[1,2,3],"ok":true}`
	waitAll := func(want int64) {
		deadline := time.Now().Add(30 * time.Second)
		for _, s := range subs {
			for s.count.Load() < want {
				if time.Now().After(deadline) {
					b.Fatalf("deliveries stalled: %d of %d", s.count.Load(), want)
				}
				runtime.Gosched()
			}
		}
	}
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	b.ResetTimer()
	begin, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		if got := ts.w.broker.publish("bench", data); got != fanOutSubscribers {
			b.Fatalf("publish reached %d subscribers", got)
		}
		if i >= fanOutWindow {
			waitAll(int64(i - fanOutWindow))
		}
	}
	waitAll(int64(b.N))
	elapsed, cpu := time.Since(begin), cpuTime()-cpu0
	b.StopTimer()
	runtime.ReadMemStats(&ms1)
	deliveries := float64(b.N) * fanOutSubscribers
	b.ReportMetric(float64(elapsed.Nanoseconds())/deliveries, "ns/delivery")
	b.ReportMetric(float64(cpu.Nanoseconds())/deliveries, "cpu-ns/delivery")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/deliveries, "allocs/delivery")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/deliveries, "B/delivery")
}
