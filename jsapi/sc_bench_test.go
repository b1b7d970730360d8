package jsapi

import (
	"net/http"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// benchConn is a Conn whose responses go to a channel (the benchmark's closed loop) instead of a socket.
type benchConn struct{ responses chan string }

func (c *benchConn) ID() string                { return "bench" }
func (c *benchConn) SSID() string              { return "bench" }
func (c *benchConn) Request() *http.Request    { return &http.Request{Header: http.Header{}} }
func (c *benchConn) Address() string           { return "127.0.0.1" }
func (c *benchConn) ClientAddress() string     { return "" }
func (c *benchConn) Transport() string         { return "websocket" }
func (c *benchConn) Emit(string, string) int64 { return 1 }
func (c *benchConn) SendRaw(string)            {}
func (c *benchConn) Close()                    {}
func (c *benchConn) Respond(cid, errJSON, data string) {
	c.responses <- data // the benchmark reads it before the next event: no copy needed for the check
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEventDispatch is this package's part of an echo RPC: Worker.Event -> loop task -> data built from JSON ->
// the JavaScript handler (socket.on('echo', (data, res) => res.end(data))) -> res.end serialised -> Conn.Respond.
// No network. cpu-ns/op is the whole process's CPU per event.
func BenchmarkEventDispatch(b *testing.B) {
	w := startScript(b, "echo.js")
	c := &benchConn{responses: make(chan string, 1)}
	h := w.NewHandle()
	if err := w.Open(h, c); err != nil {
		b.Fatal(err)
	}
	if err := w.Ready(h); err != nil {
		b.Fatal(err)
	}
	const payload = `{"n":12345,"text":"hello world"}`
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := w.Event(h, "echo", payload, "7"); err != nil {
			b.Fatal(err)
		}
		if got := <-c.responses; got != payload {
			b.Fatalf("response %s", got)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// idConn is a benchConn with its own socket id (scServer.clients is keyed by it).
type idConn struct {
	benchConn
	id string
}

func (c *idConn) ID() string { return c.id }

// BenchmarkIdleSocketHeap opens b.N sockets on the echo controller (each gets its 'echo' listener) and reports the
// live heap each one adds (heap-B/socket, after a GC): the JavaScript socket and its Go bookkeeping in this package.
func BenchmarkIdleSocketHeap(b *testing.B) {
	w := startScript(b, "echo.js")
	conns := make([]*idConn, b.N)
	for i := range conns {
		conns[i] = &idConn{id: "socket-" + strconv.Itoa(i)}
	}
	heap := func() uint64 {
		if err := w.submitWait(func(*goja.Runtime) {}); err != nil { // every Open and Ready ran
			b.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	h0 := heap()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := w.NewHandle()
		if err := w.Open(h, conns[i]); err != nil {
			b.Fatal(err)
		}
		if err := w.Ready(h); err != nil {
			b.Fatal(err)
		}
	}
	h1 := heap()
	b.StopTimer()
	b.ReportMetric(float64(int64(h1)-int64(h0))/float64(b.N), "heap-B/socket")
	runtime.KeepAlive(conns)
}
