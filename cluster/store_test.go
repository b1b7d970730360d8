package cluster

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/store"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

const testSecret = "store-test-secret"

// storeServer runs a store server on a loopback port; restart replaces it on the same address (empty).
type storeServer struct {
	t    testing.TB
	addr string
	srv  *store.Server
	done chan struct{}
}

func startStore(t testing.TB, addr string) *storeServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	srv, err := store.NewServer(store.ServerOptions{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the old listener's port is being released
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &storeServer{t: t, addr: ln.Addr().String(), srv: srv, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(s.kill)
	return s
}

// kill closes the server and its connections at once (what a dead process looks like to its clients).
func (s *storeServer) kill() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	s.srv.Shutdown(ctx)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.t.Error("store server did not stop")
	}
}

// startClusterWorker starts worker id using the store at addr through a store.Cluster, as worker processes do.
func startClusterWorker(t testing.TB, id int, addrs []string, mutate func(*Options)) *testServer {
	t.Helper()
	relay := NewRelay()
	var clients []*store.Client
	for _, a := range addrs {
		c, err := store.NewClient(store.ClientOptions{Network: "tcp", Address: a, Secret: testSecret, OnMessage: relay.Deliver, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = c.WaitReady(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	priv, err := store.NewCluster(clients, store.PrivateMapper)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := store.NewCluster(clients, store.PublicMapper)
	t.Cleanup(func() { priv.Close() })
	return startWorkerWith(t, func(o *Options) {
		o.WorkerID = id
		if mutate != nil {
			mutate(o)
		}
	}, func(cfg *WorkerConfig) {
		cfg.Private, cfg.Public, cfg.Relay = priv, pub, relay
	})
}

// startWorkerWith is startWorker with access to the WorkerConfig.
func startWorkerWith(t testing.TB, mutate func(*Options), mutateCfg func(*WorkerConfig)) *testServer {
	t.Helper()
	controller, err := filepath.Abs("../testdata/workers/stores/worker.js")
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.Buffer{}
	opts := Options{
		AppName:            "myapp",
		WorkerController:   controller,
		AllowClientPublish: true,
		AckTimeout:         2 * time.Second,
		HandlerBudget:      time.Second,
		DataKey:            "secret-key",
	}
	if mutate != nil {
		mutate(&opts)
	}
	cfg := WorkerConfig{
		Options: opts,
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Stdout:  logs,
		Stderr:  logs,
	}
	if mutateCfg != nil {
		mutateCfg(&cfg)
	}
	return serveTestWorker(t, cfg, logs)
}

func ssidCookie(ssid string) http.Header {
	return http.Header{"Cookie": {"n/myapp/ssid=" + ssid}}
}

// sc is a test client that keeps the messages a wait skipped, so a delivery racing a response is not lost.
type sc struct {
	*wsClient
	backlog []scMsg
}

// next returns the first message matching pred, from the backlog or the connection (bounded).
func (c *sc) next(pred func(scMsg) bool) scMsg {
	c.t.Helper()
	for i, m := range c.backlog {
		if pred(m) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return m
		}
	}
	for {
		m := c.wsClient.next(func(scMsg) bool { return true })
		if pred(m) {
			return m
		}
		c.backlog = append(c.backlog, m)
	}
}

// call emits event and returns the response's data, failing on an error response.
func (c *sc) call(event string, data any) json.RawMessage {
	c.t.Helper()
	cid := c.emit(event, data)
	r := c.next(responseTo(cid))
	if len(r.Error) != 0 {
		c.t.Fatalf("%s: error %s", event, r.Error)
	}
	return r.Data
}

// callErr emits event and returns the response's error (nil for none).
func (c *sc) callErr(event string, data any) json.RawMessage {
	c.t.Helper()
	cid := c.emit(event, data)
	return c.next(responseTo(cid)).Error
}

func (c *sc) ssid() string {
	c.t.Helper()
	var who struct{ ID, SSID, SessionID string }
	_ = json.Unmarshal(c.call("whoami", nil), &who)
	if who.SSID != who.SessionID {
		c.t.Fatalf("socket.ssid %q but session.id %q", who.SSID, who.SessionID)
	}
	return who.SSID
}

// fence asserts that no message matching bad arrives before the answer to a round trip.
func (c *sc) fence(bad func(scMsg) bool, what string) {
	c.t.Helper()
	for _, m := range c.backlog {
		if bad(m) {
			c.t.Fatalf("%s: %s", what, m.raw)
		}
	}
	cid := c.emit("whoami", nil)
	if m := c.next(func(m scMsg) bool { return bad(m) || string(m.CID) == itoa(cid) }); bad(m) {
		c.t.Fatalf("%s: %s", what, m.raw)
	}
}

func connect(t testing.TB, addr string, header http.Header) *sc {
	t.Helper()
	c := dialWS(t, addr, header)
	t.Cleanup(func() { c.ws.Close() })
	c.handshake()
	return &sc{wsClient: c}
}

func TestSessionAcrossWorkers(t *testing.T) {
	st := startStore(t, "")
	w0 := startClusterWorker(t, 0, []string{st.addr}, nil)
	w1 := startClusterWorker(t, 1, []string{st.addr}, nil)

	a := connect(t, w0.addr, nil)
	ssid := a.ssid()
	if ssid != a.sid {
		t.Fatalf("a socket without cookie should start session = its id, got %q (id %q)", ssid, a.sid)
	}
	b := connect(t, w1.addr, ssidCookie(ssid))
	if got := b.ssid(); got != ssid {
		t.Fatalf("socket on the other worker with the issued cookie got session %q, want %q", got, ssid)
	}

	// data set in one socket's handler is read in the other's
	a.call("set", map[string]any{"key": "color", "value": map[string]any{"r": 1}})
	if got := string(b.call("get", map[string]any{"key": "color"})); got != `{"r":1}` {
		t.Fatalf("get on worker 1: %s", got)
	}
	if got := string(b.call("countSockets", nil)); got != "2" {
		t.Fatalf("countSockets %s, want 2", got)
	}
	a.call("setAuth", map[string]string{"user": "ann"})
	if got := string(b.call("getAuth", nil)); got != `{"user":"ann"}` {
		t.Fatalf("getAuth %s", got)
	}

	// session.emit reaches both sockets; transmit all but the sender
	a.call("sessEmit", "hi")
	for _, c := range []*sc{a, b} {
		if m := c.next(eventIs("hello")); string(m.Data) != `"hi"` {
			t.Fatalf("session event %s", m.raw)
		}
	}
	b.call("sessTransmit", "t1")
	if m := a.next(eventIs("hello")); string(m.Data) != `"t1"` {
		t.Fatalf("transmitted %s", m.raw)
	}
	// b must not get its own transmit
	b.fence(eventIs("hello"), "transmit reached its own socket")
	// global.emit(ssid, ...) from a third socket of another session
	c := connect(t, w1.addr, nil)
	c.call("emitTo", map[string]any{"ssid": ssid, "data": 7})
	for _, x := range []*sc{a, b} {
		if m := x.next(eventIs("direct")); string(m.Data) != "7" {
			t.Fatalf("global.emit %s", m.raw)
		}
	}

	// sessionend on a worker when its last socket of the session leaves
	b.ws.Close()
	waitFor(t, func() bool { return strings.Contains(httpGet(t, "http://"+w1.addr+"/ended"), ssid) }, "sessionend on worker 1")
	// the socket record is removed from the store asynchronously after the
	// leave (sessionend fires locally first), so poll for it
	waitFor(t, func() bool { return string(a.call("countSockets", nil)) == "1" }, "countSockets back to 1 after the leave")
}

func httpGet(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestSessionCookieAdoption(t *testing.T) {
	st := startStore(t, "")
	w0 := startClusterWorker(t, 0, []string{st.addr}, func(o *Options) { o.AddSessionToHTTPRequest = true })
	cases := []struct {
		name, cookie string
	}{
		{"forged well-formed", "_w0_8000_0_AAAAAAAAAAAAAAAAAAAAAA"},
		{"malformed", "not-a-session"},
		{"control bytes escaped", "%00_w0_1_0_x%0d%0a"},
		{"overlong", "_w0_8000_0_" + strings.Repeat("A", 400)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, w0.addr, ssidCookie(tc.cookie))
			if got := c.ssid(); got != c.sid {
				t.Fatalf("cookie %q adopted as %q; want a fresh session = socket id %q", tc.cookie, got, c.sid)
			}
			if got := c.call("get", map[string]any{"key": "color"}); len(got) != 0 {
				t.Fatalf("fresh session has data %s", got)
			}
		})
	}
	// a page request gets a cookie the cluster issued; a socket presenting it joins that session
	resp, err := http.Get("http://" + w0.addr + "/session")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	issued := issuedSession(resp)
	if issued == "" || issued != string(body) {
		t.Fatalf("page cookie %q, req.session.id %q", issued, body)
	}
	c := connect(t, w0.addr, ssidCookie(issued))
	if got := c.ssid(); got != issued {
		t.Fatalf("socket with the page's cookie got session %q, want %q", got, issued)
	}
	if got := string(c.call("get", map[string]any{"key": "page"})); got != `"seen"` {
		t.Fatalf("page data in the socket's session: %s", got)
	}
	// a request presenting the issued cookie gets no new one
	req, _ := http.NewRequest("GET", "http://"+w0.addr+"/session", nil)
	req.Header.Set("Cookie", "n/myapp/ssid="+issued)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != issued || issuedSession(resp) != "" {
		t.Fatalf("page with issued cookie: session %q, Set-Cookie %v", body, resp.Header.Values("Set-Cookie"))
	}
}

// issuedSession returns the ssid a response set (net/http's cookie parser refuses the '/' in the name).
func issuedSession(resp *http.Response) string {
	for _, v := range resp.Header.Values("Set-Cookie") {
		if rest, ok := strings.CutPrefix(v, "n/myapp/ssid="); ok {
			val, _, _ := strings.Cut(rest, ";")
			return val
		}
	}
	return ""
}

func TestSessionDataMethodsAndQuery(t *testing.T) {
	ts := startWorkerWith(t, nil, nil) // in-process store
	c := connect(t, ts.addr, nil)
	steps := []struct {
		event string
		data  any
		want  string
	}{
		{"set", map[string]any{"key": []any{"a", "b"}, "value": 1}, ""},
		{"get", map[string]any{"key": "a"}, `{"b":1}`},
		{"add", map[string]any{"key": "list", "value": "x"}, ""},
		{"add", map[string]any{"key": "list", "value": "y"}, ""},
		{"add", map[string]any{"key": "list", "value": "z"}, ""},
		{"getRange", map[string]any{"key": "list", "from": 1, "to": 3}, `["y","z"]`},
		{"count", map[string]any{"key": "list"}, "3"},
		{"pop", map[string]any{"key": "list"}, ""},
		{"get", map[string]any{"key": "list"}, `["x","y"]`},
		{"hasKey", map[string]any{"key": "list"}, "true"},
		{"remove", map[string]any{"key": "list"}, ""},
		{"hasKey", map[string]any{"key": "list"}, "false"},
		{"queryData", 21, "42"},
		{"query", nil, "42"},
	}
	for i, s := range steps {
		if got := string(c.call(s.event, s.data)); s.want != "" && got != s.want {
			t.Fatalf("step %d %s %v: got %s, want %s", i, s.event, s.data, got, s.want)
		}
	}
	all := string(c.call("getAll", nil))
	if !strings.Contains(all, `"__meta":{"sockets":{"`+c.sid+`":1}}`) || !strings.Contains(all, `"a":{"b":1}`) {
		t.Fatalf("getAll %s", all)
	}
	// query code that throws or loops is stopped and reported to the caller; the store keeps working
	if e := string(c.callErr("queryThrow", nil)); !strings.Contains(e, "boom in query") {
		t.Fatalf("throwing query error %q", e)
	}
	if e := string(c.callErr("queryLoop", nil)); !strings.Contains(e, "budget") {
		t.Fatalf("looping query error %q", e)
	}
	if got := string(c.call("get", map[string]any{"key": "q"})); got != "42" {
		t.Fatalf("store after bad queries: %s", got)
	}
	c.call("removeAll", nil)
	if got := string(c.call("getAll", nil)); got != "{}" {
		t.Fatalf("after removeAll %s", got)
	}
}

func TestPublishAcrossWorkersExactlyOnceInOrder(t *testing.T) {
	st := startStore(t, "")
	workers := []*testServer{
		startClusterWorker(t, 0, []string{st.addr}, nil),
		startClusterWorker(t, 1, []string{st.addr}, nil),
	}
	var subs, idle []*sc
	for _, w := range workers {
		for i := 0; i < 2; i++ {
			s := connect(t, w.addr, nil)
			s.call("subscribe", "news")
			subs = append(subs, s)
		}
		idle = append(idle, connect(t, w.addr, nil))
	}
	// two publishers on different workers: a client publish burst and a worker-side global.publish burst
	const n = 50
	p0 := connect(t, workers[0].addr, nil)
	p1 := connect(t, workers[1].addr, nil)
	for i := 1; i <= n; i++ {
		p0.emit("publish", map[string]any{"event": "news", "data": "a" + strconv.Itoa(i)})
	}
	p0.call("publish", map[string]any{"event": "news", "data": "a-end"})
	p1.call("gpublishMany", map[string]any{"channel": "news", "n": n})
	for si, s := range subs {
		var fromA, fromB []string
		doneA, doneB := false, false
		for !doneA || !doneB {
			m := s.next(eventIs("news"))
			v := string(m.Data)
			switch {
			case strings.HasPrefix(v, `"a`):
				fromA = append(fromA, v)
				doneA = v == `"a-end"`
			default:
				fromB = append(fromB, v)
				doneB = v == `"end"`
			}
		}
		for i := 0; i < n; i++ {
			if fromA[i] != `"a`+strconv.Itoa(i+1)+`"` || fromB[i] != strconv.Itoa(i+1) {
				t.Fatalf("subscriber %d: order broken at %d: %v / %v", si, i, fromA[i], fromB[i])
			}
		}
		if len(fromA) != n+1 || len(fromB) != n+1 {
			t.Fatalf("subscriber %d: %d + %d deliveries, want %d each (exactly once)", si, len(fromA), len(fromB), n+1)
		}
		// nothing more arrives (no duplicates)
		s.fence(eventIs("news"), "extra delivery")
	}
	for _, s := range idle {
		s.fence(eventIs("news"), "unsubscribed socket got a delivery")
	}
	// worker-side global.on('wch') on both workers hears a client publish from one of them
	p0.call("publish", map[string]any{"event": "wch", "data": map[string]int{"x": 1}})
	for _, w := range workers {
		waitFor(t, func() bool { return httpGet(t, "http://"+w.addr+"/heard") == `[{"x":1}]` }, "global.on delivery")
	}
	// internal channels are refused to clients
	if e := string(subs[0].callErr("subscribe", "__iocl/see/"+subs[1].sid)); e == "" {
		t.Fatal("client subscribed to a session channel")
	}
	// after the last local subscriber leaves, the worker drops its engine subscription
	for _, s := range subs[:2] {
		s.call("unsubscribe", "news")
	}
	waitFor(t, func() bool { return !workers[0].w.hub.subscribed("news") }, "worker 0 unsubscribes from news")
	if !workers[1].w.hub.subscribed("news") {
		t.Fatal("worker 1 lost its subscription")
	}
}

func TestSubscribeLimitKeepsOtherSubscriptions(t *testing.T) {
	st := startStore(t, "")
	ts := startClusterWorker(t, 0, []string{st.addr}, func(o *Options) { o.SocketEventLimit = 2 })
	c := connect(t, ts.addr, nil)
	c.call("subscribe", "a")
	c.call("subscribe", "b")
	if e := string(c.callErr("subscribe", "c")); !strings.Contains(e, "tried to exceed the event subscription limit of 2") {
		t.Fatalf("limit error %q", e)
	}
	c.call("publish", map[string]any{"event": "a", "data": 1})
	c.next(eventIs("a"))
	c.call("publish", map[string]any{"event": "b", "data": 2})
	c.next(eventIs("b"))
}

func TestAddressSocketLimitClusterWide(t *testing.T) {
	st := startStore(t, "")
	lim := func(o *Options) { o.AddressSocketLimit = 2 }
	w0 := startClusterWorker(t, 0, []string{st.addr}, lim)
	w1 := startClusterWorker(t, 1, []string{st.addr}, lim)
	connect(t, w0.addr, nil)
	b := connect(t, w1.addr, nil)
	c := dialWS(t, w0.addr, nil)
	defer c.ws.Close()
	m := c.next(eventIs("fail"))
	if !strings.Contains(string(m.Data), "Reached connection limit for the address 127.0.0.1") {
		t.Fatalf("fail event %s", m.raw)
	}
	// a socket leaving frees its place cluster-wide
	b.ws.Close()
	waitFor(t, func() bool {
		d := dialWS(t, w0.addr, nil)
		defer d.ws.Close()
		m := d.next(func(m scMsg) bool { return m.Event == "fail" || m.Event == "connect" })
		return m.Event == "connect"
	}, "a place after a socket left")
}

func TestStoreRestartLosesItsDataAndRecovers(t *testing.T) {
	st := startStore(t, "")
	ts := startClusterWorker(t, 0, []string{st.addr}, nil)
	c := connect(t, ts.addr, nil)
	c.call("subscribe", "news")
	c.call("set", map[string]any{"key": "k", "value": 1})
	st.kill()
	// during the outage calls fail with a clear error instead of hanging
	if e := string(c.callErr("get", map[string]any{"key": "k"})); !strings.Contains(e, "store unavailable") {
		t.Fatalf("error during the outage %q", e)
	}
	if e := string(c.callErr("publish", map[string]any{"event": "news", "data": 1})); !strings.Contains(e, "store unavailable") {
		t.Fatalf("publish error during the outage %q", e)
	}
	startStore(t, st.addr)
	// the replacement is empty (documented loss); the client reconnects and resubscribes
	waitFor(t, func() bool {
		cid := c.emit("get", map[string]any{"key": "k"})
		r := c.next(responseTo(cid))
		return len(r.Error) == 0
	}, "store calls work again")
	if got := c.call("get", map[string]any{"key": "k"}); len(got) != 0 {
		t.Fatalf("data survived a store restart: %s", got)
	}
	c.call("set", map[string]any{"key": "k", "value": 2})
	c.call("publish", map[string]any{"event": "news", "data": "back"})
	if m := c.next(eventIs("news")); string(m.Data) != `"back"` {
		t.Fatalf("delivery after restart %s", m.raw)
	}
}

func TestPageSessionOffByDefault(t *testing.T) {
	ts := startWorkerWith(t, nil, nil)
	resp, err := http.Get("http://" + ts.addr + "/heard")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := resp.Header.Values("Set-Cookie"); len(v) != 0 {
		t.Fatalf("page request got Set-Cookie %v without addSessionToHTTPRequest", v)
	}
}

func TestWorkerWithoutStoresStillServesChannels(t *testing.T) {
	ts := startWorkerWith(t, nil, nil)
	a := connect(t, ts.addr, nil)
	b := connect(t, ts.addr, ssidCookie(a.sid))
	if b.ssid() != a.sid {
		t.Fatal("in-process store: second socket did not join the session")
	}
	a.call("subscribe", "x")
	b.call("publish", map[string]any{"event": "x", "data": 1})
	a.next(eventIs("x"))
}

// TestAddressSocketLimitIgnoresForgedForwardedFor: behind the balancer the
// limit charges the address the balancer appended (the last
// X-Forwarded-For entry); entries a client wrote before it do not give it
// a fresh allowance.
func TestAddressSocketLimitIgnoresForgedForwardedFor(t *testing.T) {
	st := startStore(t, "")
	w0 := startClusterWorker(t, 0, []string{st.addr}, func(o *Options) { o.AddressSocketLimit = 2 })
	hdr := func(forged string) http.Header {
		return http.Header{"X-Forwarded-For": {forged + ", 203.0.113.7"}}
	}
	a := dialWS(t, w0.addr, hdr("198.51.100.1"))
	defer a.ws.Close()
	a.next(eventIs("connect"))
	b := dialWS(t, w0.addr, hdr("198.51.100.2"))
	defer b.ws.Close()
	b.next(eventIs("connect"))
	c := dialWS(t, w0.addr, hdr("198.51.100.3"))
	defer c.ws.Close()
	m := c.next(func(m scMsg) bool { return m.Event == "fail" || m.Event == "connect" })
	if m.Event != "fail" || !strings.Contains(string(m.Data), "Reached connection limit for the address 203.0.113.7") {
		t.Fatalf("third socket from 203.0.113.7 with a forged first entry: %s", m.raw)
	}
}
