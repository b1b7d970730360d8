package engineio

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// idleConns is the number of idle WebSocket connections BenchmarkIdleWebSocket opens per iteration.
const idleConns = 2000

// nopHandler ignores messages; msgs counts them.
type countHandler struct{ msgs atomic.Int64 }

func (h *countHandler) OnMessage(*Socket, string) { h.msgs.Add(1) }
func (h *countHandler) OnClose(*Socket, string)   {}

// startBenchServer serves srv on a 127.0.0.1 listener and returns its address and a stop function.
func startBenchServer(b *testing.B, srv *Server) (string, func()) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	return ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = hs.Shutdown(ctx)
	}
}

// rawWSDial performs a WebSocket handshake over a plain TCP connection and reads the 101 response and the open
// packet's frame, keeping nothing but the net.Conn (so the client side adds little to the measured memory).
func rawWSDial(addr string) (net.Conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	req := "GET /engine.io/?EIO=3&transport=websocket HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" +
		"\r\nSec-WebSocket-Version: 13\r\nUser-Agent: idle-bench\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReaderSize(c, 512)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		if strings.HasPrefix(line, "HTTP/") && !strings.Contains(line, " 101 ") {
			c.Close()
			return nil, fmt.Errorf("handshake: %q", line)
		}
		if line == "\r\n" {
			break
		}
	}
	// The open packet: a short unmasked text frame.
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := io.CopyN(io.Discard, br, int64(hdr[1]&0x7f)); err != nil {
		c.Close()
		return nil, err
	}
	if br.Buffered() != 0 {
		c.Close()
		return nil, fmt.Errorf("unexpected %d bytes after the open packet", br.Buffered())
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, nil
}

// memInUse returns HeapInuse and StackInuse after two collections.
func memInUse() (heap, stack uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.StackInuse
}

// waitGoroutines polls until at most n goroutines run or the deadline passes.
func waitGoroutines(n int, deadline time.Time) int {
	for {
		g := runtime.NumGoroutine()
		if g <= n || time.Now().After(deadline) {
			return g
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkIdleWebSocket opens idleConns idle engine.io WebSocket connections against an in-process Server and
// reports the heap+stack bytes (runtime.MemStats HeapInuse+StackInuse after GC) and goroutines they add per
// connection. The client ends are bare TCP connections; "tcp-B/conn" is the same figure for idleConns plain TCP
// connection pairs (client and accepted end, nothing else) to show what of the total is the sockets themselves.
func BenchmarkIdleWebSocket(b *testing.B) {
	b.Run("engineio", func(b *testing.B) {
		for range b.N {
			h := &countHandler{}
			srv := NewServer(Config{OnConnection: func(s *Socket) { s.SetHandler(h) }})
			addr, stop := startBenchServer(b, srv)
			// one connection first: lazily started server machinery is not per connection
			c0, err := rawWSDial(addr)
			if err != nil {
				b.Fatal(err)
			}
			g0 := waitGoroutines(0, time.Now().Add(200*time.Millisecond))
			heap0, stack0 := memInUse()
			conns := make([]net.Conn, 0, idleConns)
			for range idleConns {
				c, err := rawWSDial(addr)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c)
			}
			g1 := waitGoroutines(g0, time.Now().Add(5*time.Second))
			heap1, stack1 := memInUse()
			if srv.Clients() != idleConns+1 {
				b.Fatalf("%d clients, want %d", srv.Clients(), idleConns+1)
			}
			heap, stack := float64(heap1)-float64(heap0), float64(stack1)-float64(stack0)
			b.ReportMetric((heap+stack)/idleConns, "B/conn")
			b.ReportMetric(heap/idleConns, "heap-B/conn")
			b.ReportMetric(stack/idleConns, "stack-B/conn")
			b.ReportMetric(float64(g1-g0)/idleConns, "goroutines/conn")
			for _, c := range conns {
				c.Close()
			}
			c0.Close()
			stop()
		}
	})
	b.Run("tcp", func(b *testing.B) {
		for range b.N {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			accepted := make(chan net.Conn, idleConns)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						close(accepted)
						return
					}
					accepted <- c
				}
			}()
			heap0, stack0 := memInUse()
			conns := make([]net.Conn, 0, idleConns)
			for range idleConns {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, c)
			}
			for range idleConns {
				conns = append(conns, <-accepted)
			}
			heap1, stack1 := memInUse()
			b.ReportMetric((float64(heap1+stack1)-float64(heap0+stack0))/idleConns, "tcp-B/conn")
			ln.Close()
			for _, c := range conns {
				c.Close()
			}
			for range accepted {
			}
		}
	})
}

// BenchmarkWSRead sends engine.io message packets over one WebSocket (pipelined) and waits until the server's
// handler has received them: the allocations per op are the server's read path plus the client's (gorilla)
// write; cpu-ns/op is the CPU time of the whole process (client included) per message.
func BenchmarkWSRead(b *testing.B) {
	h := &countHandler{}
	srv := NewServer(Config{OnConnection: func(s *Socket) { s.SetHandler(h) }})
	addr, stop := startBenchServer(b, srv)
	defer stop()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/engine.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	if _, _, err := ws.ReadMessage(); err != nil { // open packet
		b.Fatal(err)
	}
	msg := []byte(benchMessage)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for range b.N {
		if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.msgs.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("received %d of %d", h.msgs.Load(), b.N)
		}
		runtime.Gosched()
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// benchMessage is an engine.io message packet the size of a SocketCluster echo RPC.
const benchMessage = `4{"event":"echo","data":{"n":12345,"s":"hello world, this is an echo rpc"},"cid":17}`

// wsEchoHandler sends every message back.
type wsEchoHandler struct{}

func (wsEchoHandler) OnMessage(s *Socket, data string) { _ = s.Send(data) }
func (wsEchoHandler) OnClose(*Socket, string)          {}

// BenchmarkWSEcho is one request/response round trip over one WebSocket per op (the server's handler sends the
// message back): the server's read and write paths with one message in flight, as in an echo RPC.
func BenchmarkWSEcho(b *testing.B) {
	srv := NewServer(Config{OnConnection: func(s *Socket) { s.SetHandler(wsEchoHandler{}) }})
	addr, stop := startBenchServer(b, srv)
	defer stop()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/engine.io/?EIO=3&transport=websocket", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	if _, _, err := ws.ReadMessage(); err != nil { // open packet
		b.Fatal(err)
	}
	msg := []byte(benchMessage)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for range b.N {
		if err := ws.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		_, r, err := ws.NextReader()
		if err != nil {
			b.Fatal(err)
		}
		buf = buf[:0]
		for {
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil {
				break
			}
		}
		if len(buf) != len(msg) {
			b.Fatalf("echo %q", buf)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}
