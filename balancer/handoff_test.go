//go:build linux

package balancer

import (
	"bufio"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketcluster-go/socketcluster/cluster/handoff"
)

// handoffBackend is a worker stand-in that also takes handed-off
// connections; it records the peer address of each WebSocket it upgraded.
type handoffBackend struct {
	entry string
	open  atomic.Int64 // upgraded WebSockets still open: its handoff answers' load
	mu    sync.Mutex
	peers []string
}

func startHandoffBackend(t *testing.T, id int) *handoffBackend {
	t.Helper()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "w.sock")
	be := &handoffBackend{entry: handoff.JoinEntry(tcp.Addr().String(), path)}
	l, err := handoff.Listen(tcp, handoff.Config{Path: path, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Load: func() int { return int(be.open.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	up := websocket.Upgrader{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/raw" {
			// answers the 5 bytes the client sent behind its head
			conn, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			be.mu.Lock()
			be.peers = append(be.peers, r.RemoteAddr)
			be.mu.Unlock()
			early := make([]byte, 5)
			if _, err := io.ReadFull(brw, early); err != nil {
				return
			}
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"+string(early))
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		be.open.Add(1)
		defer be.open.Add(-1)
		be.mu.Lock()
		be.peers = append(be.peers, r.RemoteAddr)
		be.mu.Unlock()
		for {
			mt, b, err := c.ReadMessage()
			if err != nil {
				return
			}
			reply := "w" + string(rune('0'+id)) + " " + string(b) + " " + r.Header.Get("X-Forwarded-For")
			if err := c.WriteMessage(mt, []byte(reply)); err != nil {
				return
			}
		}
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return be
}

func (be *handoffBackend) peerList() []string {
	be.mu.Lock()
	defer be.mu.Unlock()
	return append([]string(nil), be.peers...)
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func echo(t *testing.T, c *websocket.Conn, msg string) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestUpgradeHandedOff: the worker serves the client's own socket (it sees
// the client's address as its peer), the balancer keeps no tunnel and no
// descriptor for it, and X-Forwarded-For is what the tunnel would send.
func TestUpgradeHandedOff(t *testing.T) {
	checkLeaks(t)
	be := startHandoffBackend(t, 0)
	b, addr := startBalancer(t, Config{}, map[int]string{0: be.entry})
	const n = 20
	// warm the handoff connection pool so it does not count below
	c0, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/socketcluster/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c0.Close()
	echo(t, c0, "warm")
	before := openFDs(t)
	var clients []*websocket.Conn
	for i := 0; i < n; i++ {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/socketcluster/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
		if got := echo(t, c, "hi"); got != "w0 hi 127.0.0.1" {
			t.Fatalf("echo %q", got)
		}
	}
	// a tunnel costs 4 descriptors per connection in this process (client,
	// balancer's two, worker); a handoff 2 (client, worker)
	if d := openFDs(t) - before; d > 2*n+handoff.DefaultIdleConns {
		t.Fatalf("%d descriptors for %d connections: the balancer kept some", d, n)
	}
	if k := b.openTunnels(false); k != 0 {
		t.Fatalf("%d tunnels open, want 0", k)
	}
	peers := be.peerList()
	for i, c := range clients {
		if want := c.LocalAddr().String(); peers[i+1] != want {
			t.Fatalf("worker's peer %s, want the client itself %s", peers[i+1], want)
		}
	}
}

// TestHandoffCarriesEarlyBytes: bytes the client sent right behind the
// upgrade head (read by the balancer along with it) reach the worker first.
func TestHandoffCarriesEarlyBytes(t *testing.T) {
	checkLeaks(t)
	be := startHandoffBackend(t, 0)
	_, addr := startBalancer(t, Config{}, map[int]string{0: be.entry})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	head := "GET /raw HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
	// one write: the head and the first bytes of the new protocol
	if _, err := c.Write([]byte(head + "early")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if string(body) != "early" {
		t.Fatalf("worker read %q after the head, want %q", body, "early")
	}
	if p := be.peerList(); len(p) != 1 || p[0] != c.LocalAddr().String() {
		t.Fatalf("worker peers %v, want the client %s (handed off)", p, c.LocalAddr())
	}
}

// TestHandoffFallback: when the worker's handoff socket does not answer the
// connection is tunnelled; when the worker is gone too, the client gets the
// balancer's error page.
func TestHandoffFallback(t *testing.T) {
	checkLeaks(t)
	be := startBackend(t, 0)
	missing := filepath.Join(t.TempDir(), "gone.sock")
	b, addr := startBalancer(t, Config{}, map[int]string{0: handoff.JoinEntry(be.addr, missing)})
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/socketcluster/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := echo(t, c, "hi"); got != "w0 hi 127.0.0.1" {
		t.Fatalf("echo %q", got)
	}
	if k := b.openTunnels(false); k != 1 {
		t.Fatalf("%d tunnels, want 1 (fallback)", k)
	}

	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	_ = dead.Close()
	b.SetWorkers(map[int]string{0: handoff.JoinEntry(deadAddr, missing)})
	_, res, err := websocket.DefaultDialer.Dial("ws://"+addr+"/socketcluster/", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("dial to a dead worker: %v %v, want a 500", res, err)
	}
	body, _ := io.ReadAll(res.Body)
	if !strings.HasPrefix(string(body), "Load balancer error - ") {
		t.Fatalf("error page %q", body)
	}
}

// TestCanHandoff: only plain TCP to a worker with a handoff socket, and not
// while draining (TLS terminated here cannot move).
func TestCanHandoff(t *testing.T) {
	b := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.SetWorkers(map[int]string{0: "127.0.0.1:1", 1: handoff.JoinEntry("127.0.0.1:2", "/x/w.sock")})
	defer b.closeWorkerConns()
	plain, _ := http.NewRequest(http.MethodGet, "/", nil)
	secure, _ := http.NewRequest(http.MethodGet, "https://x/", nil)
	secure.TLS = &tls.ConnectionState{}
	w0, w1 := b.workers[0], b.workers[1]
	cases := []struct {
		name     string
		t        *target
		r        *http.Request
		draining bool
		want     bool
	}{
		{"no handoff socket", w0, plain, false, false},
		{"plain", w1, plain, false, true},
		{"tls", w1, secure, false, false},
		{"draining", w1, plain, true, false},
	}
	for _, tc := range cases {
		b.draining.Store(tc.draining)
		if got := b.canHandoff(tc.t, tc.r); got != tc.want {
			t.Errorf("%s: canHandoff = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := b.Workers()[1]; got != "127.0.0.1:2|/x/w.sock" {
		t.Errorf("Workers()[1] = %q", got)
	}
}

// TestHandoffLoadRouting: handed-off WebSockets never pass through the
// balancer's own counters, yet they count for the least-loaded pick: the
// worker's answers carry its open connections. After n connections on
// worker 0, new sessions go to the new worker 1 until it holds as many.
func TestHandoffLoadRouting(t *testing.T) {
	checkLeaks(t)
	be0, be1 := startHandoffBackend(t, 0), startHandoffBackend(t, 1)
	b, addr := startBalancer(t, Config{}, map[int]string{0: be0.entry})
	dial := func() *websocket.Conn {
		t.Helper()
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/socketcluster/", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	const n = 3
	for i := 0; i < n; i++ {
		if got := echo(t, dial(), "a"); got != "w0 a 127.0.0.1" {
			t.Fatalf("echo %q", got)
		}
	}
	if k := b.openTunnels(false); k != 0 {
		t.Fatalf("%d tunnels open, want 0 (handoffs)", k)
	}
	b.SetWorkers(map[int]string{0: be0.entry, 1: be1.entry})
	// worker 1 takes every new session until its load reaches worker 0's
	// (without the reported load both are 0 and the ties alternate)
	for i := 0; i < n-1; i++ {
		if got := echo(t, dial(), "b"); got != "w1 b 127.0.0.1" {
			t.Fatalf("session %d after %d on worker 0: %q, want worker 1", i, n, got)
		}
	}
}
