package engineio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every wait of these tests.
const testTimeout = 5 * time.Second

type recorder struct {
	msgs   chan string
	closed chan string
}

func newRecorder() *recorder {
	return &recorder{msgs: make(chan string, 256), closed: make(chan string, 2)}
}

func (r *recorder) OnMessage(_ *Socket, data string) { r.msgs <- data }
func (r *recorder) OnClose(_ *Socket, reason string) { r.closed <- reason }

func (r *recorder) nextMsg(t *testing.T) string {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for a message")
		return ""
	}
}

func (r *recorder) closeReason(t *testing.T) string {
	t.Helper()
	select {
	case m := <-r.closed:
		return m
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for OnClose")
		return ""
	}
}

func (r *recorder) assertOpen(t *testing.T) {
	t.Helper()
	select {
	case m := <-r.closed:
		t.Fatalf("socket closed unexpectedly: %s", m)
	default:
	}
}

type conn struct {
	sock *Socket
	rec  *recorder
}

type harness struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	conns chan conn
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, conns: make(chan conn, 16)}
	user := cfg.OnConnection
	cfg.OnConnection = func(s *Socket) {
		rec := newRecorder()
		s.SetHandler(rec)
		h.conns <- conn{s, rec}
		if user != nil {
			user(s)
		}
	}
	h.srv = NewServer(cfg)
	h.ts = httptest.NewServer(h.srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := h.srv.Shutdown(ctx); err != nil && !errors.Is(err, ErrServerClosed) {
			t.Errorf("Shutdown: %v", err)
		}
		h.ts.Close()
	})
	return h
}

func (h *harness) url(query string) string { return h.ts.URL + "/socketcluster/?" + query }

func (h *harness) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(h.ts.URL, "http") + "/socketcluster/?" + query
}

func (h *harness) nextConn() conn {
	h.t.Helper()
	select {
	case c := <-h.conns:
		return c
	case <-time.After(testTimeout):
		h.t.Fatal("timed out waiting for a connection")
		return conn{}
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (h *harness) doCtx(ctx context.Context, method, query string, hdr map[string]string, body []byte) response {
	req, err := http.NewRequestWithContext(ctx, method, h.url(query), bytes.NewReader(body))
	if err != nil {
		return response{err: err}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		return response{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b, err: err}
}

func (h *harness) do(method, query string, hdr map[string]string, body []byte) response {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	r := h.doCtx(ctx, method, query, hdr, body)
	if r.err != nil {
		h.t.Fatalf("%s %s: %v", method, query, r.err)
	}
	return r
}

// async issues a request in the background.
func (h *harness) async(method, query string, hdr map[string]string, body []byte) chan response {
	ch := make(chan response, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		ch <- h.doCtx(ctx, method, query, hdr, body)
	}()
	return ch
}

func wait(t *testing.T, ch chan response) response {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("request: %v", r.err)
		}
		return r
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for a response")
		return response{}
	}
}

type openData struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
}

// handshake performs a binary polling handshake and returns the sid and the server side of the socket.
func (h *harness) handshake() (string, conn) {
	h.t.Helper()
	r := h.do("GET", "EIO=2&transport=polling&t=1-0", nil, nil)
	ps, err := DecodePayloadBinary(r.body)
	if r.status != 200 || err != nil || len(ps) != 1 || ps[0].Type != Open {
		h.t.Fatalf("handshake: %d %q %v", r.status, r.body, err)
	}
	var od openData
	if err := json.Unmarshal([]byte(ps[0].Data), &od); err != nil {
		h.t.Fatal(err)
	}
	c := h.nextConn()
	if c.sock.ID() != od.SID {
		h.t.Fatalf("sid %q vs socket %q", od.SID, c.sock.ID())
	}
	return od.SID, c
}

func (h *harness) poll(sid string) []Packet {
	h.t.Helper()
	r := h.do("GET", "EIO=2&transport=polling&sid="+sid, nil, nil)
	if r.status != 200 {
		h.t.Fatalf("poll: %d %s", r.status, r.body)
	}
	ps, err := DecodePayloadBinary(r.body)
	if err != nil {
		h.t.Fatal(err)
	}
	return ps
}

func (h *harness) post(sid string, ps ...Packet) {
	h.t.Helper()
	r := h.do("POST", "EIO=2&transport=polling&sid="+sid, map[string]string{"Content-Type": contentTypeBinary},
		EncodePayloadBinary(nil, ps))
	if r.status != 200 || string(r.body) != "ok" {
		h.t.Fatalf("post: %d %q", r.status, r.body)
	}
}

// waitFor polls cond until it holds or the test timeout passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHandshakeBinaryExact(t *testing.T) {
	h := newHarness(t, Config{
		CookieName:   "n/myapp/io",
		GenerateID:   func(*http.Request) string { return exampleSID },
		OnConnection: func(s *Socket) { _ = s.Send(`{"event":"connect","cid":1}`) },
	})
	r := h.do("GET", "EIO=2&transport=polling&t=1414822233123-0", map[string]string{"Cookie": "n/myapp/ssid=x"}, nil)
	want := append([]byte{0x00, 0x01, 0x00, 0x08, 0xFF}, exampleOpen...)
	if r.status != 200 || !bytes.Equal(r.body, want) {
		t.Fatalf("handshake: %d % x", r.status, r.body)
	}
	for k, v := range map[string]string{
		"Content-Type":                "application/octet-stream",
		"Content-Length":              "113",
		"Access-Control-Allow-Origin": "*",
		"Set-Cookie":                  "n/myapp/io=" + exampleSID,
	} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s: %q want %q", k, got, v)
		}
	}
	if r.header.Get("Access-Control-Allow-Credentials") != "" || r.header.Get("X-XSS-Protection") != "" {
		t.Errorf("unexpected headers %v", r.header)
	}
	c := h.nextConn()
	if c.sock.Transport() != TransportPolling || c.sock.Request().Header.Get("Cookie") != "n/myapp/ssid=x" {
		t.Fatalf("socket: %s %v", c.sock.Transport(), c.sock.Request().Header)
	}
	// What OnConnection sent comes with the next poll, after the open packet.
	if ps := h.poll(exampleSID); len(ps) != 1 || ps[0].Data != `{"event":"connect","cid":1}` {
		t.Fatalf("second poll: %+v", ps)
	}
}

func TestHandshakeTextAndJSONP(t *testing.T) {
	h := newHarness(t, Config{GenerateID: func(*http.Request) string { return exampleSID }})
	tests := []struct {
		name, query, ct, body string
		cors                  bool
	}{
		{"b64", "EIO=3&transport=polling&t=1-0&b64=1", "text/plain; charset=UTF-8", "108:" + exampleOpen, true},
		{"jsonp", "EIO=2&transport=polling&t=1-0&j=0&b64=1", "text/javascript; charset=UTF-8",
			`___eio[0]("108:0{\"sid\":\"` + exampleSID + `\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":60000}");`, false},
		{"jsonp j filtered", "EIO=2&transport=polling&j=a4b2&b64=1", "text/javascript; charset=UTF-8",
			`___eio[42]("108:0{\"sid\":\"` + exampleSID + `\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":60000}");`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("GET", tt.query, nil, nil)
			if r.status != 200 || string(r.body) != tt.body || r.header.Get("Content-Type") != tt.ct {
				t.Fatalf("%d %q %q", r.status, r.header.Get("Content-Type"), r.body)
			}
			if (r.header.Get("Access-Control-Allow-Origin") != "") != tt.cors {
				t.Fatalf("CORS headers: %v", r.header)
			}
			c := h.nextConn()
			c.sock.Close() // the ids collide on purpose; free this one before the next case
			h.do("GET", "EIO=2&transport=polling&sid="+exampleSID, nil, nil)
			if got := c.rec.closeReason(t); got != ReasonForcedClose {
				t.Fatalf("close reason %q", got)
			}
		})
	}
}

func TestCORSAndXSSHeaders(t *testing.T) {
	h := newHarness(t, Config{})
	sid, _ := h.handshake()
	_ = sid
	r := h.do("GET", "EIO=2&transport=polling", map[string]string{
		"Origin":     "http://example.com",
		"User-Agent": "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
	}, nil)
	if r.header.Get("Access-Control-Allow-Origin") != "http://example.com" ||
		r.header.Get("Access-Control-Allow-Credentials") != "true" || r.header.Get("X-XSS-Protection") != "0" {
		t.Fatalf("headers %v", r.header)
	}
	h.nextConn()
	// OPTIONS on an existing session.
	r = h.do("OPTIONS", "EIO=2&transport=polling&sid="+sid, map[string]string{"Origin": "http://a.b"}, nil)
	if r.status != 200 || r.header.Get("Access-Control-Allow-Headers") != "Content-Type" ||
		r.header.Get("Access-Control-Allow-Origin") != "http://a.b" || len(r.body) != 0 {
		t.Fatalf("OPTIONS: %d %v %q", r.status, r.header, r.body)
	}
	// Unsupported method on an existing session: bare 500.
	if r = h.do("PUT", "EIO=2&transport=polling&sid="+sid, nil, nil); r.status != 500 {
		t.Fatalf("PUT: %d", r.status)
	}
}

func TestErrorResponses(t *testing.T) {
	h := newHarness(t, Config{
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("deny") != "" {
				return errors.New("denied")
			}
			return nil
		},
	})
	sid, _ := h.handshake()
	tests := []struct {
		name, method, query, body string
	}{
		{"unknown transport", "GET", "EIO=2&transport=flashsocket", `{"code":0,"message":"Transport unknown"}`},
		{"missing transport", "GET", "EIO=2", `{"code":0,"message":"Transport unknown"}`},
		{"unknown sid", "GET", "EIO=2&transport=polling&sid=nope", `{"code":1,"message":"Session ID unknown"}`},
		{"transport mismatch", "GET", "EIO=2&transport=websocket&sid=" + sid, `{"code":3,"message":"Bad request"}`},
		{"POST without sid", "POST", "EIO=2&transport=polling", `{"code":2,"message":"Bad handshake method"}`},
		{"OPTIONS without sid", "OPTIONS", "EIO=2&transport=polling", `{"code":2,"message":"Bad handshake method"}`},
		{"websocket without upgrade", "GET", "EIO=2&transport=websocket", `{"code":3,"message":"Bad request"}`},
		{"rejected by AllowRequest", "GET", "EIO=2&transport=polling&deny=1", `{"code":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.query, map[string]string{"Origin": "http://o.example"}, nil)
			if r.status != 400 || string(r.body) != tt.body {
				t.Fatalf("%d %q want 400 %q", r.status, r.body, tt.body)
			}
			if r.header.Get("Content-Type") != "application/json" ||
				r.header.Get("Access-Control-Allow-Origin") != "http://o.example" ||
				r.header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatalf("headers %v", r.header)
			}
		})
	}
	// A rejected WebSocket handshake gets no HTTP response at all.
	_, res, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket&deny=1"), nil)
	if err == nil || res != nil {
		t.Fatalf("rejected websocket: err %v res %v", err, res)
	}
	// So does an upgrade for an unknown sid.
	_, res, err = websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket&sid=nope"), nil)
	if err == nil || res != nil {
		t.Fatalf("unknown sid websocket: err %v res %v", err, res)
	}
}

func TestMessagesBothWaysPolling(t *testing.T) {
	h := newHarness(t, Config{})
	sid, c := h.handshake()
	h.post(sid, msg(`{"event":"ready","cid":1}`), msg("héllo €"), Packet{Type: Noop})
	if m := c.rec.nextMsg(t); m != `{"event":"ready","cid":1}` {
		t.Fatalf("got %q", m)
	}
	if m := c.rec.nextMsg(t); m != "héllo €" {
		t.Fatalf("got %q", m)
	}
	r := h.do("POST", "EIO=2&transport=polling&sid="+sid, map[string]string{"Content-Type": contentTypeBinary},
		EncodePayloadBinary(nil, []Packet{msg("x")}))
	if r.header.Get("Content-Type") != "text/html" || r.header.Get("Content-Length") != "2" ||
		r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("POST headers %v", r.header)
	}
	c.rec.nextMsg(t)

	// A pending GET is answered when the server sends; what is queued meanwhile travels together.
	pending := h.async("GET", "EIO=2&transport=polling&sid="+sid, nil, nil)
	waitFor(t, "poll pending", func() bool { c.sock.mu.Lock(); defer c.sock.mu.Unlock(); return c.sock.poll != nil })
	if err := c.sock.Send(`{"cid":1}`); err != nil {
		t.Fatal(err)
	}
	r = wait(t, pending)
	ps, err := DecodePayloadBinary(r.body)
	if err != nil || len(ps) == 0 || ps[0].Data != `{"cid":1}` {
		t.Fatalf("poll: %+v %v", ps, err)
	}
	if err := c.sock.SendBatch([]string{"a", "é"}); err != nil {
		t.Fatal(err)
	}
	if ps := h.poll(sid); len(ps) != 2 || ps[0].Data != "a" || ps[1].Data != "é" {
		t.Fatalf("batch: %+v", ps)
	}
}

func TestTextAndJSONPPosts(t *testing.T) {
	h := newHarness(t, Config{})
	// b64 client: text POST bodies, double UTF-8.
	r := h.do("GET", "EIO=3&transport=polling&b64=1", nil, nil)
	ps, err := DecodePayloadText(r.body)
	if err != nil {
		t.Fatal(err)
	}
	var od openData
	_ = json.Unmarshal([]byte(ps[0].Data), &od)
	c := h.nextConn()
	body := EncodePayloadText(nil, []Packet{msg(`{"event":"chat","data":"héllo €"}`), {Type: Ping}})
	r = h.do("POST", "EIO=3&transport=polling&b64=1&sid="+od.SID, map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, body)
	if r.status != 200 || string(r.body) != "ok" {
		t.Fatalf("%d %q", r.status, r.body)
	}
	if m := c.rec.nextMsg(t); m != `{"event":"chat","data":"héllo €"}` {
		t.Fatalf("got %q", m)
	}
	_ = c.sock.Send("é")
	r = h.do("GET", "EIO=3&transport=polling&b64=1&sid="+od.SID, nil, nil)
	if string(r.body) != "1:33:4\xc3\x83\xc2\xa9" || r.header.Get("Content-Type") != contentTypeText {
		t.Fatalf("text poll %q %v", r.body, r.header)
	}

	// JSONP client: form field d with escaped newlines.
	r = h.do("GET", "EIO=2&transport=polling&j=1&b64=1", nil, nil)
	sid := strings.SplitN(strings.SplitN(string(r.body), `\"sid\":\"`, 2)[1], `\"`, 2)[0]
	c = h.nextConn()
	form := "d=" + strings.NewReplacer(":", "%3A", "\n", `%5Cn`).Replace("6:4a\nb\xc3\x83\xc2\xa9")
	r = h.do("POST", "EIO=2&transport=polling&j=1&b64=1&sid="+sid, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, []byte(form))
	if r.status != 200 || string(r.body) != "ok" || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("jsonp post %d %q %v", r.status, r.body, r.header)
	}
	if m := c.rec.nextMsg(t); m != "a\nbé" {
		t.Fatalf("got %q", m)
	}
	// JSONP has no OPTIONS: 500.
	if r = h.do("OPTIONS", "EIO=2&transport=polling&j=1&sid="+sid, nil, nil); r.status != 500 {
		t.Fatalf("jsonp OPTIONS %d", r.status)
	}
}

func TestPingPongPolling(t *testing.T) {
	h := newHarness(t, Config{})
	sid, _ := h.handshake()
	h.post(sid, Packet{Type: Ping})
	if ps := h.poll(sid); len(ps) != 1 || ps[0].Type != Pong || ps[0].Data != "" {
		t.Fatalf("got %+v", ps)
	}
}

func TestPingTimeout(t *testing.T) {
	h := newHarness(t, Config{PingInterval: 200 * time.Millisecond, PingTimeout: 400 * time.Millisecond})
	sid, c := h.handshake()
	// Pings keep the socket alive well past PingInterval+PingTimeout (600 ms).
	until := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(until) {
		h.post(sid, Packet{Type: Ping})
		h.poll(sid)
		time.Sleep(50 * time.Millisecond)
	}
	c.rec.assertOpen(t)
	// Silence closes it.
	if got := c.rec.closeReason(t); got != ReasonPingTimeout {
		t.Fatalf("reason %q", got)
	}
	if r := h.do("GET", "EIO=2&transport=polling&sid="+sid, nil, nil); r.status != 400 {
		t.Fatalf("after timeout: %d", r.status)
	}
	if h.srv.Clients() != 0 {
		t.Fatalf("clients %d", h.srv.Clients())
	}
}

func TestPollOverlap(t *testing.T) {
	h := newHarness(t, Config{})
	sid, c := h.handshake()
	first := h.async("GET", "EIO=2&transport=polling&sid="+sid, nil, nil)
	waitFor(t, "poll pending", func() bool { c.sock.mu.Lock(); defer c.sock.mu.Unlock(); return c.sock.poll != nil })
	if r := h.do("GET", "EIO=2&transport=polling&sid="+sid, nil, nil); r.status != 500 {
		t.Fatalf("overlapping GET: %d", r.status)
	}
	if got := c.rec.closeReason(t); got != ReasonTransportError {
		t.Fatalf("reason %q", got)
	}
	r := wait(t, first)
	if !bytes.Equal(r.body, []byte{0x00, 0x01, 0xFF, '1'}) {
		t.Fatalf("first poll got % x", r.body)
	}
}

func TestPostOverlap(t *testing.T) {
	block := make(chan struct{})
	h := newHarness(t, Config{})
	sid, c := h.handshake()
	c.sock.SetHandler(blockingHandler{rec: c.rec, block: block})
	first := h.async("POST", "EIO=2&transport=polling&sid="+sid, map[string]string{"Content-Type": contentTypeBinary},
		EncodePayloadBinary(nil, []Packet{msg("slow")}))
	waitFor(t, "POST in handler", func() bool { c.sock.mu.Lock(); defer c.sock.mu.Unlock(); return c.sock.posting })
	r := h.do("POST", "EIO=2&transport=polling&sid="+sid, map[string]string{"Content-Type": contentTypeBinary},
		EncodePayloadBinary(nil, []Packet{msg("x")}))
	if r.status != 500 {
		t.Fatalf("overlapping POST: %d", r.status)
	}
	close(block)
	if r := wait(t, first); string(r.body) != "ok" {
		t.Fatalf("first POST %q", r.body)
	}
	if got := c.rec.closeReason(t); got != ReasonTransportError {
		t.Fatalf("reason %q", got)
	}
}

type blockingHandler struct {
	rec   *recorder
	block chan struct{}
}

func (b blockingHandler) OnMessage(s *Socket, d string) { <-b.block; b.rec.OnMessage(s, d) }
func (b blockingHandler) OnClose(s *Socket, r string)   { b.rec.OnClose(s, r) }

func TestOversizedBody(t *testing.T) {
	h := newHarness(t, Config{MaxHTTPBufferSize: 100})
	sid, c := h.handshake()
	h.post(sid, msg(strings.Repeat("a", 90)))
	c.rec.nextMsg(t)
	r := h.do("POST", "EIO=2&transport=polling&sid="+sid, map[string]string{"Content-Type": contentTypeBinary},
		EncodePayloadBinary(nil, []Packet{msg(strings.Repeat("a", 200))}))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", r.status)
	}
	if got := c.rec.closeReason(t); got != ReasonTransportError {
		t.Fatalf("reason %q", got)
	}
	if r := h.do("GET", "EIO=2&transport=polling&sid="+sid, nil, nil); r.status != 400 {
		t.Fatalf("after refusal: %d", r.status)
	}
}

func TestParseErrorIsolation(t *testing.T) {
	h := newHarness(t, Config{})
	sidA, a := h.handshake()
	sidB, b := h.handshake()
	bad := []struct {
		ct   string
		body []byte
	}{
		{contentTypeBinary, []byte{0x00, 0x01, 0x36}}, // no 0xFF: engine.io-parser 1.0.6 would loop forever
	}
	for _, tt := range bad {
		r := h.do("POST", "EIO=2&transport=polling&sid="+sidA, map[string]string{"Content-Type": tt.ct}, tt.body)
		if r.status != 200 || string(r.body) != "ok" {
			t.Fatalf("%d %q", r.status, r.body)
		}
	}
	if got := a.rec.closeReason(t); got != ReasonParseError {
		t.Fatalf("reason %q", got)
	}
	h.post(sidB, msg("still here"))
	if m := b.rec.nextMsg(t); m != "still here" {
		t.Fatalf("got %q", m)
	}
	b.rec.assertOpen(t)

	// Text payload with single-encoded UTF-8 (what crashed engine.io 1.3.1): packets before the fault arrive.
	sidC, c := h.handshake()
	r := h.do("POST", "EIO=2&transport=polling&sid="+sidC, map[string]string{"Content-Type": "text/plain;charset=UTF-8"},
		[]byte("2:4a3:4é"))
	if r.status != 200 {
		t.Fatalf("%d", r.status)
	}
	if m := c.rec.nextMsg(t); m != "a" {
		t.Fatalf("got %q", m)
	}
	if got := c.rec.closeReason(t); got != ReasonParseError {
		t.Fatalf("reason %q", got)
	}
}

func TestServerCloseSemanticsPolling(t *testing.T) {
	h := newHarness(t, Config{})
	tests := []struct {
		name    string
		prepare func(c conn)
		want    []byte
	}{
		{"no poll pending, nothing queued: noop+close", func(c conn) { c.sock.Close() }, []byte{0, 1, 0xFF, '6', 0, 1, 0xFF, '1'}},
		{"no poll pending, queued message first", func(c conn) { _ = c.sock.Send("bye"); c.sock.Close() },
			[]byte{0, 4, 0xFF, '4', 'b', 'y', 'e', 0, 1, 0xFF, '1'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sid, c := h.handshake()
			tt.prepare(c)
			if err := c.sock.Send("late"); !errors.Is(err, ErrClosed) {
				t.Fatalf("Send after Close: %v", err)
			}
			r := h.do("GET", "EIO=2&transport=polling&sid="+sid, nil, nil)
			if !bytes.Equal(r.body, tt.want) {
				t.Fatalf("got % x want % x", r.body, tt.want)
			}
			if got := c.rec.closeReason(t); got != ReasonForcedClose {
				t.Fatalf("reason %q", got)
			}
			if r := h.do("GET", "EIO=2&transport=polling&sid="+sid, nil, nil); r.status != 400 {
				t.Fatalf("after close: %d", r.status)
			}
		})
	}
	t.Run("poll pending: close alone", func(t *testing.T) {
		sid, c := h.handshake()
		pending := h.async("GET", "EIO=2&transport=polling&sid="+sid, nil, nil)
		waitFor(t, "poll pending", func() bool { c.sock.mu.Lock(); defer c.sock.mu.Unlock(); return c.sock.poll != nil })
		c.sock.Close()
		c.sock.Close() // idempotent
		if r := wait(t, pending); !bytes.Equal(r.body, []byte{0, 1, 0xFF, '1'}) {
			t.Fatalf("got % x", r.body)
		}
		if got := c.rec.closeReason(t); got != ReasonForcedClose {
			t.Fatalf("reason %q", got)
		}
	})
	t.Run("client close packet", func(t *testing.T) {
		sid, c := h.handshake()
		h.post(sid, Packet{Type: Close}, msg("ignored"))
		if got := c.rec.closeReason(t); got != ReasonTransportClose {
			t.Fatalf("reason %q", got)
		}
		select {
		case m := <-c.rec.msgs:
			t.Fatalf("message after close packet delivered: %q", m)
		default:
		}
	})
	t.Run("poll aborted by client", func(t *testing.T) {
		sid, c := h.handshake()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan response, 1)
		go func() { done <- h.doCtx(ctx, "GET", "EIO=2&transport=polling&sid="+sid, nil, nil) }()
		waitFor(t, "poll pending", func() bool { c.sock.mu.Lock(); defer c.sock.mu.Unlock(); return c.sock.poll != nil })
		cancel()
		<-done
		if got := c.rec.closeReason(t); got != ReasonTransportError {
			t.Fatalf("reason %q", got)
		}
	})
}

func TestSlowConsumer(t *testing.T) {
	h := newHarness(t, Config{MaxOutboundBytes: 100})
	_, c := h.handshake()
	if err := c.sock.Send(strings.Repeat("x", 50)); err != nil {
		t.Fatal(err)
	}
	err := c.sock.Send(strings.Repeat("x", 60))
	if !errors.Is(err, ErrSlowConsumer) || !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v", err)
	}
	if got := c.rec.closeReason(t); got != ReasonSlowConsumer {
		t.Fatalf("reason %q", got)
	}
}

// wsRead reads one frame with a deadline.
func wsRead(t *testing.T, ws *websocket.Conn) (int, []byte) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(testTimeout))
	mt, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("ws read: %v", err)
	}
	return mt, data
}

func wsWrite(t *testing.T, ws *websocket.Conn, s string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("ws write: %v", err)
	}
}

// wsExpectClose reads until the server's close frame and returns its code.
func wsExpectClose(t *testing.T, ws *websocket.Conn) int {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(testTimeout))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("expected a close frame, got %v", err)
	}
}

func TestWebSocketFirst(t *testing.T) {
	h := newHarness(t, Config{
		GenerateID:   func(*http.Request) string { return exampleSID },
		OnConnection: func(s *Socket) { _ = s.Send(`{"event":"connect","cid":1}`) },
	})
	ws, res, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if res.Header.Get("Set-Cookie") != "" {
		t.Fatalf("unexpected cookie on websocket: %v", res.Header)
	}
	c := h.nextConn()
	mt, data := wsRead(t, ws)
	want := `0{"sid":"` + exampleSID + `","upgrades":[],"pingInterval":25000,"pingTimeout":60000}`
	if mt != websocket.TextMessage || string(data) != want {
		t.Fatalf("open frame %d %q", mt, data)
	}
	if _, data = wsRead(t, ws); string(data) != `4{"event":"connect","cid":1}` {
		t.Fatalf("second frame %q", data)
	}
	if c.sock.Transport() != TransportWebSocket {
		t.Fatal(c.sock.Transport())
	}
	// Non-ASCII both ways, exact bytes (example D).
	if err := ws.WriteMessage(websocket.TextMessage, unhexSpaced(t, "34 68 c3 83 c2 a9 6c 6c 6f 20 c3 a2 c2 82 c2 ac")); err != nil {
		t.Fatal(err)
	}
	if m := c.rec.nextMsg(t); m != "héllo €" {
		t.Fatalf("got %q", m)
	}
	_ = c.sock.Send("héllo €")
	if _, data = wsRead(t, ws); !bytes.Equal(data, unhexSpaced(t, "34 68 c3 83 c2 a9 6c 6c 6f 20 c3 a2 c2 82 c2 ac")) {
		t.Fatalf("frame % x", data)
	}
	wsWrite(t, ws, "2")
	if _, data = wsRead(t, ws); string(data) != "3" {
		t.Fatalf("pong %q", data)
	}
	// Server close: queued message, then a close frame.
	_ = c.sock.Send("last")
	c.sock.Close()
	if _, data = wsRead(t, ws); string(data) != "4last" {
		t.Fatalf("got %q", data)
	}
	if code := wsExpectClose(t, ws); code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d", code)
	}
	if got := c.rec.closeReason(t); got != ReasonForcedClose {
		t.Fatalf("reason %q", got)
	}
}

func TestWebSocketClientCloseAndParseError(t *testing.T) {
	h := newHarness(t, Config{})
	dial := func() (*websocket.Conn, conn) {
		ws, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=3&transport=websocket"), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := h.nextConn()
		wsRead(t, ws) // open
		return ws, c
	}
	ws, c := dial()
	_ = ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	if got := c.rec.closeReason(t); got != ReasonTransportClose {
		t.Fatalf("reason %q", got)
	}
	ws.Close()

	ws, c = dial()
	defer ws.Close()
	other, oc := dial()
	defer other.Close()
	wsWrite(t, ws, "4h\xc3\xa9llo") // single-encoded UTF-8
	if got := c.rec.closeReason(t); got != ReasonParseError {
		t.Fatalf("reason %q", got)
	}
	wsExpectClose(t, ws)
	wsWrite(t, other, "4fine")
	if m := oc.rec.nextMsg(t); m != "fine" {
		t.Fatalf("got %q", m)
	}

	// A message over the read limit closes the socket.
	h2 := newHarness(t, Config{MaxHTTPBufferSize: 64})
	big, _, err := websocket.DefaultDialer.Dial(h2.wsURL("EIO=3&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	bc := h2.nextConn()
	wsRead(t, big)
	wsWrite(t, big, "4"+strings.Repeat("a", 100))
	if got := bc.rec.closeReason(t); got != ReasonTransportError {
		t.Fatalf("reason %q", got)
	}
}

func TestProbeAndUpgrade(t *testing.T) {
	h := newHarness(t, Config{})
	sid, c := h.handshake()
	pending := h.async("GET", "EIO=2&transport=polling&sid="+sid, nil, nil)
	waitFor(t, "poll pending", func() bool { c.sock.mu.Lock(); defer c.sock.mu.Unlock(); return c.sock.poll != nil })

	ws, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	wsWrite(t, ws, "2probe")
	if _, data := wsRead(t, ws); string(data) != "3probe" {
		t.Fatalf("probe answer %q", data)
	}
	// The held GET is released with a noop by the 100 ms nudge.
	if r := wait(t, pending); !bytes.Equal(r.body, []byte{0, 1, 0xFF, '6'}) {
		t.Fatalf("nudge: % x", r.body)
	}
	// A new GET while still probing is nudged as well.
	if ps := h.poll(sid); len(ps) != 1 || ps[0].Type != Noop {
		t.Fatalf("second nudge %+v", ps)
	}
	if c.sock.Transport() != TransportPolling {
		t.Fatal("upgraded too early")
	}
	// Messages queued before the upgrade are flushed over the WebSocket.
	_ = c.sock.Send("queued")
	wsWrite(t, ws, "5")
	if _, data := wsRead(t, ws); string(data) != "4queued" {
		t.Fatalf("flush %q", data)
	}
	if c.sock.Transport() != TransportWebSocket || !c.sock.Upgraded() {
		t.Fatal("not upgraded")
	}
	wsWrite(t, ws, `4{"cid":1}`)
	if m := c.rec.nextMsg(t); m != `{"cid":1}` {
		t.Fatalf("got %q", m)
	}
	wsWrite(t, ws, "2")
	if _, data := wsRead(t, ws); string(data) != "3" {
		t.Fatalf("pong %q", data)
	}
	// Polling is over for this socket.
	if r := h.do("GET", "EIO=2&transport=polling&sid="+sid, nil, nil); r.status != 400 || !strings.Contains(string(r.body), `"code":3`) {
		t.Fatalf("poll after upgrade: %d %s", r.status, r.body)
	}
	// A second upgrade is refused.
	ws2, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.Close()
	wsExpectClose(t, ws2)
	c.rec.assertOpen(t)
}

func TestUpgradeReleasesPendingPoll(t *testing.T) {
	h := newHarness(t, Config{})
	sid, c := h.handshake()
	pending := h.async("GET", "EIO=2&transport=polling&sid="+sid, nil, nil)
	waitFor(t, "poll pending", func() bool { c.sock.mu.Lock(); defer c.sock.mu.Unlock(); return c.sock.poll != nil })
	ws, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	wsWrite(t, ws, "5") // upgrade without probe (allowed by engine.io 1.3.1)
	if r := wait(t, pending); !bytes.Equal(r.body, []byte{0, 1, 0xFF, '6'}) {
		t.Fatalf("pending poll after upgrade: % x", r.body)
	}
	waitFor(t, "upgrade", c.sock.Upgraded)
}

func TestUpgradeTimeoutAndBadProbe(t *testing.T) {
	h := newHarness(t, Config{UpgradeTimeout: 200 * time.Millisecond})
	sid, c := h.handshake()
	ws, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	wsWrite(t, ws, "2probe")
	wsRead(t, ws)
	wsExpectClose(t, ws) // no "5" within UpgradeTimeout
	c.rec.assertOpen(t)
	if c.sock.Transport() != TransportPolling {
		t.Fatal("transport changed")
	}
	// Anything but ping-probe/upgrade on a probe closes the probe only.
	ws2, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.Close()
	wsWrite(t, ws2, "4hello")
	wsExpectClose(t, ws2)
	h.post(sid, msg("polling still works"))
	if m := c.rec.nextMsg(t); m != "polling still works" {
		t.Fatalf("got %q", m)
	}
}

func TestShutdown(t *testing.T) {
	h := newHarness(t, Config{})
	sid, pc := h.handshake()
	pending := h.async("GET", "EIO=2&transport=polling&sid="+sid, nil, nil)
	waitFor(t, "poll pending", func() bool { pc.sock.mu.Lock(); defer pc.sock.mu.Unlock(); return pc.sock.poll != nil })
	ws, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	wc := h.nextConn()
	wsRead(t, ws)
	if h.srv.Clients() != 2 {
		t.Fatalf("clients %d", h.srv.Clients())
	}

	// The WebSocket client answers the close frame (as browsers do) while Shutdown waits.
	closed := make(chan int, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					closed <- ce.Code
				} else {
					closed <- -1
				}
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if r := wait(t, pending); !bytes.Equal(r.body, []byte{0, 1, 0xFF, '1'}) {
		t.Fatalf("pending poll on shutdown: % x", r.body)
	}
	if code := <-closed; code != websocket.CloseNormalClosure {
		t.Fatalf("ws close code %d", code)
	}
	for _, c := range []conn{pc, wc} {
		if got := c.rec.closeReason(t); got != ReasonServerShutdown {
			t.Fatalf("reason %q", got)
		}
	}
	if h.srv.Clients() != 0 {
		t.Fatalf("clients %d", h.srv.Clients())
	}
	if r := h.do("GET", "EIO=2&transport=polling", nil, nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("handshake after shutdown: %d", r.status)
	}
	if err := h.srv.Shutdown(ctx); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("second Shutdown: %v", err)
	}
}

// TestHandlerSerialisation checks that OnMessage is never called concurrently for one socket and OnClose
// comes last, even when messages arrive on polling and WebSocket around an upgrade.
func TestHandlerSerialisation(t *testing.T) {
	var (
		mu      sync.Mutex
		active  int
		bad     bool
		closedN int
		got     []string
	)
	done := make(chan struct{})
	h := newHarness(t, Config{})
	sid, c := h.handshake()
	c.sock.SetHandler(handlerFuncs{
		onMessage: func(d string) {
			mu.Lock()
			active++
			if active > 1 || closedN > 0 {
				bad = true
			}
			got = append(got, d)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			active--
			mu.Unlock()
		},
		onClose: func(string) {
			mu.Lock()
			closedN++
			if active > 0 {
				bad = true
			}
			mu.Unlock()
			close(done)
		},
	})
	for i := 0; i < 5; i++ {
		h.post(sid, msg("p"), msg("q"))
	}
	ws, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket&sid="+sid), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	wsWrite(t, ws, "5")
	for i := 0; i < 10; i++ {
		wsWrite(t, ws, "4w")
	}
	waitFor(t, "20 messages", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 20 })
	c.sock.Close()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatal("no OnClose")
	}
	mu.Lock()
	defer mu.Unlock()
	if bad || closedN != 1 {
		t.Fatalf("concurrent or late delivery (closed %d)", closedN)
	}
}

type handlerFuncs struct {
	onMessage func(string)
	onClose   func(string)
}

func (f handlerFuncs) OnMessage(_ *Socket, d string) { f.onMessage(d) }
func (f handlerFuncs) OnClose(_ *Socket, r string)   { f.onClose(r) }

func TestPollingOnlyServer(t *testing.T) {
	h := newHarness(t, Config{Transports: []string{"polling"}})
	r := h.do("GET", "EIO=2&transport=polling", nil, nil)
	ps, _ := DecodePayloadBinary(r.body)
	if len(ps) != 1 || !strings.Contains(ps[0].Data, `"upgrades":[]`) {
		t.Fatalf("open %+v", ps)
	}
	h.nextConn()
	if r := h.do("GET", "EIO=2&transport=websocket", nil, nil); string(r.body) != `{"code":0,"message":"Transport unknown"}` {
		t.Fatalf("%s", r.body)
	}
	if _, res, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket"), nil); err == nil || res != nil {
		t.Fatalf("websocket on polling-only server: %v %v", err, res)
	}
}

func TestHandshakeEdgeCases(t *testing.T) {
	h := newHarness(t, Config{
		GenerateID: func(*http.Request) string { return "fixed" },
		OnConnection: func(s *Socket) {
			if s.Request().URL.Query().Get("closeNow") != "" {
				_ = s.Send("hi")
				s.Close()
			}
		},
	})
	// An empty b64 is absent (JavaScript falsy): binary framing.
	r := h.do("GET", "EIO=2&transport=polling&b64=", nil, nil)
	if r.header.Get("Content-Type") != contentTypeBinary {
		t.Fatalf("b64= : %v", r.header)
	}
	c := h.nextConn()
	// A generated id that is still in use is refused.
	if r := h.do("GET", "EIO=2&transport=polling", nil, nil); r.status != http.StatusServiceUnavailable {
		t.Fatalf("duplicate id: %d", r.status)
	}
	c.sock.Close()
	h.do("GET", "EIO=2&transport=polling&sid=fixed", nil, nil)
	c.rec.closeReason(t)

	// Close inside OnConnection: the handshake still answers the open packet, the next poll [hi, close].
	r = h.do("GET", "EIO=2&transport=polling&closeNow=1", nil, nil)
	if ps, err := DecodePayloadBinary(r.body); err != nil || len(ps) != 1 || ps[0].Type != Open {
		t.Fatalf("handshake %+v %v", ps, err)
	}
	c = h.nextConn()
	if ps := h.poll("fixed"); len(ps) != 2 || ps[0].Data != "hi" || ps[1].Type != Close {
		t.Fatalf("after close in OnConnection: %+v", ps)
	}
	if got := c.rec.closeReason(t); got != ReasonForcedClose {
		t.Fatalf("reason %q", got)
	}
	// Same over a WebSocket-first connection: open, hi, close frame.
	ws, _, err := websocket.DefaultDialer.Dial(h.wsURL("EIO=2&transport=websocket&closeNow=1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c = h.nextConn()
	if _, data := wsRead(t, ws); !strings.HasPrefix(string(data), `0{"sid":"fixed"`) {
		t.Fatalf("open %q", data)
	}
	if _, data := wsRead(t, ws); string(data) != "4hi" {
		t.Fatalf("got %q", data)
	}
	wsExpectClose(t, ws)
	if got := c.rec.closeReason(t); got != ReasonForcedClose {
		t.Fatalf("reason %q", got)
	}
}

func TestJSONPXSSHeader(t *testing.T) {
	h := newHarness(t, Config{})
	r := h.do("GET", "EIO=2&transport=polling&j=0&b64=1", map[string]string{"User-Agent": "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)"}, nil)
	if r.header.Get("X-XSS-Protection") != "0" || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("headers %v", r.header)
	}
	h.nextConn()
}
