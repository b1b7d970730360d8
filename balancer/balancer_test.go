package balancer

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

// backend is a real HTTP server standing in for worker id: it answers
// "w<id> <X-Forwarded-For>" and echoes WebSocket messages prefixed by its id.
type backend struct {
	id   int
	addr string
	srv  *http.Server
}

func startBackend(t *testing.T, id int) *backend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := websocket.Upgrader{}
	be := &backend{id: id, addr: l.Addr().String()}
	be.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if websocket.IsWebSocketUpgrade(r) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			for {
				mt, b, err := c.ReadMessage()
				if err != nil {
					return
				}
				reply := "w" + strconv.Itoa(id) + " " + string(b) + " " + r.Header.Get("X-Forwarded-For")
				if err := c.WriteMessage(mt, []byte(reply)); err != nil {
					return
				}
			}
		}
		_, _ = io.WriteString(w, "w"+strconv.Itoa(id)+" "+r.Header.Get("X-Forwarded-For")+" "+r.Header.Get("X-Forwarded-Port"))
	})}
	go func() { _ = be.srv.Serve(l) }()
	t.Cleanup(func() { _ = be.srv.Close() })
	return be
}

// checkLeaks verifies, after every other cleanup of t, that no goroutine
// started during the test is left.
func checkLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func startBalancer(t *testing.T, cfg Config, table map[int]string) (*Balancer, string) {
	t.Helper()
	cfg.AppName = "app"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	b := New(cfg)
	b.SetWorkers(table)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, l, time.Second) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("balancer did not stop")
		}
	})
	return b, l.Addr().String()
}

func get(t *testing.T, c *http.Client, url string, cookie string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestWorkerFromID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		id   int
		want bool
	}{
		{"_w0_8000_0_abc", 0, true},
		{"host_w12_8000_1_a_b-c", 12, true},
		{"_w999999_1_0_x", 999999, true},
		{"_w1234567_1_0_x", 0, false},
		{"_w_8000_0_x", 0, false},
		{"_x1_8000_0_x", 0, false},
		{"_w1x_8000_0_x", 0, false},
		{"_w-1_8000_0_x", 0, false},
		{"_w1", 0, false},
		{"nounderscore", 0, false},
		{"", 0, false},
		{"_w1_" + strings.Repeat("a", 300), 0, false},
	} {
		id, ok := WorkerFromID(tc.in)
		if ok != tc.want || id != tc.id {
			t.Errorf("WorkerFromID(%q) = %d, %v; want %d, %v", tc.in, id, ok, tc.id, tc.want)
		}
	}
}

func FuzzWorkerFromID(f *testing.F) {
	f.Add("_w0_8000_0_abc")
	f.Add("a_w99_1_1_")
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := WorkerFromID(s)
		if ok && (id < 0 || id > 999999 || !strings.Contains(s, "_w"+strconv.Itoa(id)+"_")) {
			t.Fatalf("WorkerFromID(%q) = %d", s, id)
		}
	})
}

func TestRouting(t *testing.T) {
	checkLeaks(t)
	b0, b1, b2 := startBackend(t, 0), startBackend(t, 1), startBackend(t, 2)
	_, addr := startBalancer(t, Config{}, map[int]string{0: b0.addr, 1: b1.addr, 2: b2.addr})
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	base := "http://" + addr + "/socketcluster/?EIO=3&transport=polling"
	cases := []struct {
		name, query, cookie, want string
	}{
		{"sid names worker 1", "&sid=_w1_8000_0_abc", "", "w1 "},
		{"sid names worker 2", "&sid=h_w2_8000_0_abc", "", "w2 "},
		{"cookie names worker 0", "", "a=b; n/app/ssid=_w0_8000_0_xyz; c=d", "w0 "},
		{"sid wins over cookie", "&sid=_w2_8000_0_abc", "n/app/ssid=_w0_8000_0_xyz", "w2 "},
		{"other app's cookie ignored, sid used", "&sid=_w1_1_0_a", "n/other/ssid=_w0_8000_0_xyz", "w1 "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 5; i++ {
				code, body := get(t, c, base+tc.query, tc.cookie)
				if code != 200 || !strings.HasPrefix(body, tc.want) {
					t.Fatalf("got %d %q, want prefix %q", code, body, tc.want)
				}
				if !strings.Contains(body, " 127.0.0.1 ") {
					t.Fatalf("no X-Forwarded-For/Port in %q", body)
				}
			}
		})
	}
	t.Run("plain HTTP without an id sticks to one worker per client address", func(t *testing.T) {
		_, first := get(t, c, "http://"+addr+"/page", "")
		for i := 0; i < 10; i++ {
			if _, body := get(t, c, "http://"+addr+"/page?i="+strconv.Itoa(i), ""); body[:2] != first[:2] {
				t.Fatalf("plain request %d went to %q, the first to %q", i, body, first)
			}
		}
	})
	t.Run("new engine sessions spread over all workers", func(t *testing.T) {
		seen := map[string]bool{}
		for i := 0; i < 30 && len(seen) < 3; i++ {
			_, body := get(t, c, base, "")
			seen[body[:2]] = true
		}
		if len(seen) != 3 {
			t.Fatalf("new sessions reached %v, want all three workers", seen)
		}
	})
	t.Run("unknown worker falls back to a live one", func(t *testing.T) {
		code, body := get(t, c, base+"&sid=_w7_8000_0_abc", "")
		if code != 200 || body[0] != 'w' {
			t.Fatalf("got %d %q", code, body)
		}
		code, body = get(t, c, "http://"+addr+"/page?sid=_w7_8000_0_abc", "")
		if code != 200 || body[0] != 'w' {
			t.Fatalf("got %d %q", code, body)
		}
	})
}

func TestWaitForFirstTable(t *testing.T) {
	b, addr := startBalancer(t, Config{}, nil)
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	type result struct {
		code int
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		res, err := c.Get("http://" + addr + "/socketcluster/?EIO=3&transport=polling")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		done <- result{code: res.StatusCode, body: string(b)}
	}()
	select {
	case r := <-done:
		t.Fatalf("answered before any worker was live: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	b.SetWorkers(map[int]string{0: startBackend(t, 0).addr})
	if r := <-done; r.err != nil || r.code != 200 || !strings.HasPrefix(r.body, "w0") {
		t.Fatalf("request waiting for a worker: %+v", r)
	}
}

func TestNoWorkersAndDeadWorker(t *testing.T) {
	b, addr := startBalancer(t, Config{NoWorkerWait: -1}, nil)
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	code, body := get(t, c, "http://"+addr+"/", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no live worker") {
		t.Fatalf("empty table: %d %q", code, body)
	}
	// a worker address that refuses connections: 500, then marked down
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	b.SetWorkers(map[int]string{0: deadAddr})
	code, body = get(t, c, "http://"+addr+"/?sid=_w0_1_0_x", "")
	if code != http.StatusInternalServerError || !strings.HasPrefix(body, "Load balancer error - ") {
		t.Fatalf("only a dead worker: %d %q", code, body)
	}
	// with a live one too, a refused request moves there (nothing was sent)
	live := startBackend(t, 1)
	b.SetWorkers(map[int]string{0: deadAddr, 1: live.addr})
	for i := 0; i < 5; i++ {
		if code, body = get(t, c, "http://"+addr+"/?sid=_w0_1_0_x", ""); code != 200 || !strings.HasPrefix(body, "w1") {
			t.Fatalf("refused request not moved to the live worker: %d %q", code, body)
		}
	}
	// a WebSocket upgrade too
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/?sid=_w0_1_0_x", nil)
	if err != nil {
		t.Fatalf("upgrade not moved to the live worker: %v", err)
	}
	ws.Close()
}

func TestWebSocketTunnel(t *testing.T) {
	checkLeaks(t)
	b0, b1 := startBackend(t, 0), startBackend(t, 1)
	_, addr := startBalancer(t, Config{}, map[int]string{0: b0.addr, 1: b1.addr})
	for _, want := range []int{0, 1, 1, 0} {
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		url := "ws://" + addr + "/socketcluster/?EIO=3&transport=websocket&sid=_w" + strconv.Itoa(want) + "_1_0_abc"
		ws, _, err := d.Dial(url, nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		for i := 0; i < 3; i++ {
			msg := "hello" + strconv.Itoa(i)
			if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
			_, got, err := ws.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if w := "w" + strconv.Itoa(want) + " " + msg + " 127.0.0.1"; string(got) != w {
				t.Fatalf("got %q, want %q", got, w)
			}
		}
		ws.Close()
	}
}

func TestMiddlewareRejects(t *testing.T) {
	_, addr := startBalancer(t, Config{
		Request: func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path == "/blocked" {
				http.Error(w, "blocked", http.StatusForbidden)
				return false
			}
			return true
		},
	}, map[int]string{0: startBackend(t, 0).addr})
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	if code, _ := get(t, c, "http://"+addr+"/blocked", ""); code != http.StatusForbidden {
		t.Fatalf("blocked: %d", code)
	}
	if code, body := get(t, c, "http://"+addr+"/ok", ""); code != 200 || !strings.HasPrefix(body, "w0") {
		t.Fatalf("ok: %d %q", code, body)
	}
}

func TestShutdownClosesTunnels(t *testing.T) {
	be := startBackend(t, 0)
	b := New(Config{AppName: "app", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.SetWorkers(map[int]string{0: be.addr})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Serve(ctx, l, 200*time.Millisecond) }()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+l.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return with an open tunnel")
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatal("tunnel still open after shutdown")
	}
}

func TestController(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctl, err := LoadController("testdata/controller.js", log, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	var cfg Config
	ctl.Apply(&cfg)
	b, addr := startBalancer(t, cfg, map[int]string{0: startBackend(t, 0).addr})
	c := &http.Client{Timeout: 15 * time.Second}
	defer c.CloseIdleConnections()
	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{"/ok", "w0", 200},
		{"/later", "w0", 200},
		{"/blocked", "blocked by 127.0.0.1", 403},
		{"/error", "Load balancer error - balancer middleware", 500},
		{"/throw", "Load balancer error - balancer middleware", 500},
	} {
		code, body := get(t, c, "http://"+addr+tc.path, "")
		if code != tc.code || !strings.HasPrefix(body, tc.want) {
			t.Errorf("%s: %d %q, want %d %q", tc.path, code, body, tc.code, tc.want)
		}
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/?deny=1", nil); err == nil || !strings.Contains(err.Error(), "bad handshake") {
		t.Errorf("denied upgrade: %v", err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatalf("allowed upgrade: %v", err)
	}
	ws.Close()
	// error middleware answers proxy errors
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	b.SetWorkers(map[int]string{0: deadAddr})
	if code, body := get(t, c, "http://"+addr+"/ok", ""); code != 502 || !strings.HasPrefix(body, "custom: ") {
		t.Errorf("error middleware: %d %q", code, body)
	}
}
