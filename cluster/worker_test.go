package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socketcluster-go/socketcluster/cluster/engineio"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

type testServer struct {
	w    *Worker
	addr string
	logs *testenv.Buffer
	stop func()
}

func startWorker(t testing.TB, controller string, mutate func(*Options)) *testServer {
	t.Helper()
	logs := &testenv.Buffer{}
	opts := Options{
		AppName:            "myapp",
		WorkerController:   controller,
		AllowClientPublish: true,
		AckTimeout:         300 * time.Millisecond,
		HandlerBudget:      300 * time.Millisecond,
		DataKey:            "secret-key",
	}
	if mutate != nil {
		mutate(&opts)
	}
	return serveTestWorker(t, WorkerConfig{
		Options: opts,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Stdout:  logs,
		Stderr:  logs,
		Fallback: map[string]StaticFile{
			"/socketcluster.js": {Body: []byte("/* client */"), ContentType: "application/javascript"},
		},
	}, logs)
}

// serveTestWorker makes the worker of cfg serve on a loopback port until the test ends (its log, in logs, is
// printed when the test failed).
func serveTestWorker(t testing.TB, cfg WorkerConfig, logs *testenv.Buffer) *testServer {
	t.Helper()
	w, err := NewWorker(cfg)
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Serve(ctx, l, 2*time.Second)
	}()
	ts := &testServer{w: w, addr: l.Addr().String(), logs: logs}
	ts.stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("worker did not stop within 10s")
		}
	}
	t.Cleanup(func() {
		ts.stop()
		if t.Failed() {
			t.Logf("worker %d log:\n%s", cfg.Options.WorkerID, logs.String())
		}
	})
	return ts
}

// wsClient speaks engine.io + SC over a raw WebSocket.
type wsClient struct {
	t    testing.TB
	ws   *websocket.Conn
	sid  string
	cid  int
	msgs chan string
}

func dialWS(t testing.TB, addr string, header http.Header) *wsClient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws://"+addr+"/socketcluster/?EIO=3&transport=websocket", header)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &wsClient{t: t, ws: ws, msgs: make(chan string, 256)}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	open := c.readPacket()
	if open.Type != engineio.Open {
		t.Fatalf("first packet %v, want open", open.Type)
	}
	var hs struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(open.Data), &hs); err != nil {
		t.Fatalf("open packet %q: %v", open.Data, err)
	}
	c.sid = hs.SID
	_ = ws.SetReadDeadline(time.Time{})
	go func() {
		defer close(c.msgs)
		for {
			p, err := c.readPacketErr()
			if err != nil {
				return
			}
			if p.Type == engineio.Message {
				c.msgs <- p.Data
			}
		}
	}()
	return c
}

func (c *wsClient) readPacketErr() (engineio.Packet, error) {
	mt, b, err := c.ws.ReadMessage()
	if err != nil {
		return engineio.Packet{}, err
	}
	return engineio.DecodePacketWS(mt, b)
}

func (c *wsClient) readPacket() engineio.Packet {
	c.t.Helper()
	p, err := c.readPacketErr()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return p
}

func (c *wsClient) send(data string) {
	c.t.Helper()
	mt, frame := engineio.EncodePacketWS(engineio.Packet{Type: engineio.Message, Data: data})
	if err := c.ws.WriteMessage(mt, frame); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) emit(event string, data any) int {
	c.cid++
	m := map[string]any{"event": event, "cid": c.cid}
	if data != nil {
		m["data"] = data
	}
	b, _ := json.Marshal(m)
	c.send(string(b))
	return c.cid
}

type scMsg struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	CID   json.RawMessage `json:"cid"`
	Error json.RawMessage `json:"error"`
	raw   string
}

// next waits for a message matching pred (bounded).
func (c *wsClient) next(pred func(scMsg) bool) scMsg {
	c.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case s, ok := <-c.msgs:
			if !ok {
				c.t.Fatal("connection closed while waiting for a message")
			}
			var m scMsg
			_ = json.Unmarshal([]byte(s), &m)
			if testing.Verbose() {
				c.t.Logf("<- %s", s)
			}
			m.raw = s
			if pred(m) {
				return m
			}
		case <-deadline:
			c.t.Fatal("timed out waiting for a message")
		}
	}
}

func eventIs(name string) func(scMsg) bool { return func(m scMsg) bool { return m.Event == name } }
func responseTo(cid int) func(scMsg) bool {
	return func(m scMsg) bool { return m.Event == "" && string(m.CID) == itoa(cid) }
}
func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func (c *wsClient) handshake() {
	c.t.Helper()
	m := c.next(eventIs("connect"))
	if string(m.CID) != "1" {
		c.t.Fatalf("connect cid %s, want 1", m.CID)
	}
	var d struct{ Soid, AppName string }
	_ = json.Unmarshal(m.Data, &d)
	if d.Soid != c.sid || d.AppName != "myapp" {
		c.t.Fatalf("connect data %s (sid %s)", m.Data, c.sid)
	}
	cid := c.emit("ready", nil)
	c.next(responseTo(cid))
}

func echoController(t testing.TB) string {
	p, err := filepath.Abs("testdata/echo/worker.js")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWorkerEchoOverWebSocket(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	c := dialWS(t, ts.addr, nil)
	defer c.ws.Close()
	c.handshake()
	hello := c.next(eventIs("hello"))
	if !strings.Contains(string(hello.Data), c.sid) {
		t.Fatalf("hello %s does not carry the socket id %s", hello.Data, c.sid)
	}
	if len(strings.Split(c.sid, "_")) < 5 || !strings.HasPrefix(c.sid, "_w0_") {
		t.Fatalf("socket id %q is not <host>_w0_<port>_<secure>_<random>", c.sid)
	}
	payload := "héllo € 𝄞 日本"
	cid := c.emit("echo", payload)
	r := c.next(responseTo(cid))
	var got string
	_ = json.Unmarshal(r.Data, &got)
	if got != payload {
		t.Fatalf("echo = %q, want %q", got, payload)
	}
}

func TestWorkerErrorsAndMiddleware(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	c := dialWS(t, ts.addr, nil)
	defer c.ws.Close()
	c.handshake()

	cid := c.emit("fail", 5)
	r := c.next(responseTo(cid))
	if string(r.Error) != `"nope"` || string(r.Data) != "5" {
		t.Fatalf("fail response %s", r.raw)
	}
	cid = c.emit("failError", nil)
	r = c.next(responseTo(cid))
	var e struct{ Name, Message string }
	_ = json.Unmarshal(r.Error, &e)
	if e.Name != "Error" || e.Message != "bad thing" {
		t.Fatalf("failError response %s", r.raw)
	}
	cid = c.emit("forbidden", nil)
	r = c.next(responseTo(cid))
	if string(r.Error) != `"forbidden event"` {
		t.Fatalf("middleware rejection %s", r.raw)
	}
}

func TestWorkerSurvivesThrowAndEndlessLoop(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	c := dialWS(t, ts.addr, nil)
	defer c.ws.Close()
	c.handshake()
	c.emit("throw", nil)
	c.emit("spin", nil)
	cid := c.emit("echo", "still here")
	r := c.next(responseTo(cid))
	if string(r.Data) != `"still here"` {
		t.Fatalf("echo after faults: %s", r.raw)
	}
	waitFor(t, func() bool { return strings.Contains(ts.logs.String(), "handler blew up") }, "thrown error logged")
	logs := ts.logs.String()
	if !strings.Contains(logs, "worker.js") {
		t.Errorf("thrown error logged without a JS stack naming worker.js:\n%s", logs)
	}
	waitFor(t, func() bool { return strings.Contains(strings.ToLower(ts.logs.String()), "budget") }, "endless loop interrupted and logged")
}

func TestWorkerServerAckAndTimeout(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	c := dialWS(t, ts.addr, nil)
	defer c.ws.Close()
	c.handshake()
	c.emit("ask", "q1")
	q := c.next(eventIs("question"))
	b, _ := json.Marshal(map[string]any{"cid": json.RawMessage(q.CID), "data": "a1"})
	c.send(string(b))
	a := c.next(eventIs("answer"))
	if string(a.Data) != `{"answer":"a1"}` {
		t.Fatalf("answer %s", a.Data)
	}
	c.emit("ask", "q2")
	c.next(eventIs("question")) // not answered: the server's ackTimeout fires
	a = c.next(eventIs("answer"))
	if !strings.Contains(string(a.Data), "Event response for 'question' timed out") {
		t.Fatalf("timeout answer %s", a.Data)
	}
}

func TestWorkerRawBothWays(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	c := dialWS(t, ts.addr, nil)
	defer c.ws.Close()
	c.handshake()
	c.emit("rawplease", "x")
	c.next(func(m scMsg) bool { return m.raw == "raw x" })
	c.send("plain text from client")
	m := c.next(eventIs("gotRaw"))
	if string(m.Data) != `"plain text from client"` {
		t.Fatalf("gotRaw %s", m.Data)
	}
}

func TestWorkerPubSub(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	a := dialWS(t, ts.addr, nil)
	defer a.ws.Close()
	a.handshake()
	b := dialWS(t, ts.addr, nil)
	defer b.ws.Close()
	b.handshake()
	cid := a.emit("subscribe", "news")
	if r := a.next(responseTo(cid)); len(r.Error) != 0 {
		t.Fatalf("subscribe: %s", r.raw)
	}
	cid = b.emit("publish", map[string]any{"event": "news", "data": map[string]int{"n": 1}})
	if r := b.next(responseTo(cid)); len(r.Error) != 0 {
		t.Fatalf("publish: %s", r.raw)
	}
	m := a.next(eventIs("news"))
	if string(m.Data) != `{"n":1}` || len(m.CID) == 0 {
		t.Fatalf("delivery %s", m.raw)
	}
	cid = a.emit("unsubscribe", "news")
	a.next(responseTo(cid))
	cid = b.emit("publish", map[string]any{"event": "news", "data": 2})
	b.next(responseTo(cid))
	cid = a.emit("echo", "fence")
	m = a.next(func(m scMsg) bool { return m.Event == "news" || string(m.CID) == itoa(cid) })
	if m.Event == "news" {
		t.Fatalf("delivery after unsubscribe: %s", m.raw)
	}
}

func TestWorkerSubscribeLimit(t *testing.T) {
	ts := startWorker(t, echoController(t), func(o *Options) { o.SocketEventLimit = 2 })
	c := dialWS(t, ts.addr, nil)
	defer c.ws.Close()
	c.handshake()
	for _, ch := range []string{"a", "b"} {
		cid := c.emit("subscribe", ch)
		if r := c.next(responseTo(cid)); len(r.Error) != 0 {
			t.Fatalf("subscribe %s: %s", ch, r.raw)
		}
	}
	cid := c.emit("subscribe", "c")
	r := c.next(responseTo(cid))
	if !strings.Contains(string(r.Error), "tried to exceed the event subscription limit of 2") {
		t.Fatalf("limit response %s", r.raw)
	}
	// the other subscriptions still work
	cid = c.emit("publish", map[string]any{"event": "a", "data": 1})
	c.next(eventIs("a"))
}

func TestWorkerClientPublishDisabled(t *testing.T) {
	ts := startWorker(t, echoController(t), func(o *Options) { o.AllowClientPublish = false })
	c := dialWS(t, ts.addr, nil)
	defer c.ws.Close()
	c.handshake()
	cid := c.emit("publish", map[string]any{"event": "x", "data": 1})
	r := c.next(responseTo(cid))
	if string(r.Error) != `"Error: Client publish feature is disabled"` {
		t.Fatalf("publish disabled response %s", r.raw)
	}
}

func TestWorkerHTTP(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	base := "http://" + ts.addr
	resp, err := http.Get(base + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(body) != "hello GET" || resp.Header.Get("X-Test") != "yes" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("GET /hello: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, err = http.Post(base+"/body", "text/plain", strings.NewReader("payload ü"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "got payload ü" {
		t.Fatalf("POST /body: %q", body)
	}
	// a 404 from worker.js on /socketcluster.js is replaced by the built-in client
	resp, err = http.Get(base + "/socketcluster.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "/* client */" || resp.Header.Get("Cache-Control") == "" {
		t.Fatalf("GET /socketcluster.js: %d %q", resp.StatusCode, body)
	}
	resp, err = http.Get(base + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("GET /other: %d", resp.StatusCode)
	}
}

func TestWorkerStatusEndpoint(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	url := "http://" + ts.addr + "/~status"
	for _, tc := range []struct {
		body string
		code int
	}{
		{`{"dataKey":"secret-key"}`, 200},
		{`{"dataKey":"wrong"}`, 401},
		{`not json`, 401},
		{``, 401},
	} {
		resp, err := http.Post(url, "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Fatalf("status with %q: %d %s", tc.body, resp.StatusCode, b)
		}
		if tc.code == 200 && !strings.Contains(string(b), `"clientCount"`) {
			t.Fatalf("status body %s", b)
		}
	}
}

func TestWorkerOrigins(t *testing.T) {
	ts := startWorker(t, echoController(t), func(o *Options) { o.Origins = "good.example:* *:9999" })
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	url := "ws://" + ts.addr + "/socketcluster/?EIO=3&transport=websocket"
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"http://good.example", true},
		{"https://good.example:8443", true},
		{"http://evil.example:9999", true},
		{"evil.example:9999", true},
		{"http://evil.example", false},
		{"", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		ws, _, err := d.Dial(url, h)
		if (err == nil) != tc.ok {
			t.Errorf("origin %q: err=%v, want ok=%v", tc.origin, err, tc.ok)
		}
		if ws != nil {
			ws.Close()
		}
	}
}

func TestWorkerControllerErrors(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"syntax", "worker.js:2"},
		{"norun", "run(worker)"},
		{"missing", "no such file"},
	} {
		p, _ := filepath.Abs(filepath.Join("testdata", tc.dir, "worker.js"))
		_, err := NewWorker(WorkerConfig{Options: Options{AppName: "x", WorkerController: p}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrWorkerController) {
			t.Errorf("%s: err = %v, want mention of %q", tc.dir, err, tc.want)
		}
	}
}

func waitFor(t testing.TB, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for: %s", what)
}
