package cluster

import (
	"encoding/json"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/cluster/engineio"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEchoRPC is the hot path of one emit-with-ack echo: WebSocket
// frame -> engine.io decode -> SC envelope -> JS handler res.end(data) ->
// SC response -> engine.io encode -> frame. One client, closed loop.
// cpu-ns/op is the CPU of the whole test process (server and the small
// raw client) per RPC; allocs/op likewise.
func BenchmarkEchoRPC(b *testing.B) {
	ts := startWorker(b, echoController(b), nil)
	c := dialWS(b, ts.addr, nil)
	defer c.ws.Close()
	c.handshake()
	c.next(eventIs("hello"))
	// read packets directly from here on: stop using the msgs goroutine by
	// sending and waiting on the channel (it is already draining frames)
	payload := `{"n":12345,"text":"hello world"}`
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		c.cid++
		msg := `{"event":"echo","data":` + payload + `,"cid":` + strconv.Itoa(c.cid) + `}`
		mt, frame := engineio.EncodePacketWS(engineio.Packet{Type: engineio.Message, Data: msg})
		if err := c.ws.WriteMessage(mt, frame); err != nil {
			b.Fatal(err)
		}
		s, ok := <-c.msgs
		if !ok {
			b.Fatal("closed")
		}
		var r struct {
			CID int `json:"cid"`
		}
		if json.Unmarshal([]byte(s), &r) != nil || r.CID != c.cid {
			b.Fatalf("unexpected reply %s", s)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}
