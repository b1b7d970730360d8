package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef0123456789abcdef"

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startServer serves a new store on 127.0.0.1 and stops it at the end of the test.
func startServer(t testing.TB, opts ServerOptions) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, ln, opts), ln.Addr().String()
}

func serveOn(t testing.TB, ln net.Listener, opts ServerOptions) *Server {
	t.Helper()
	if opts.Secret == "" {
		opts.Secret = testSecret
	}
	opts.Logger = quietLogger()
	srv, err := NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return srv
}

func dialClient(t testing.TB, network, addr string, mod func(*ClientOptions)) *Client {
	t.Helper()
	opts := ClientOptions{Network: network, Address: addr, Secret: testSecret, Logger: quietLogger()}
	if mod != nil {
		mod(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func rawFrame(v string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(v))), v...)
}

func TestClientServerOps(t *testing.T) {
	_, addr := startServer(t, ServerOptions{})
	c := dialClient(t, "tcp", addr, nil)
	ctx := context.Background()
	steps := []struct {
		name string
		do   func() (any, error)
		want string
	}{
		{"set", func() (any, error) { return c.Set(ctx, Key{"a", "b"}, json.RawMessage(`{"x":1}`), true) }, `{"x":1}`},
		{"get", func() (any, error) { return c.Get(ctx, Key{"a"}) }, `{"b":{"x":1}}`},
		{"get missing", func() (any, error) { return c.Get(ctx, Key{"zz"}) }, `null`},
		{"add", func() (any, error) { return c.Add(ctx, Key{"l"}, json.RawMessage(`1`), true) }, `[1]`},
		{"concat", func() (any, error) { return c.Concat(ctx, Key{"l"}, json.RawMessage(`[2,3,4]`), true) }, `[1,2,3,4]`},
		{"getRange", func() (any, error) { return c.GetRange(ctx, Key{"l"}, json.RawMessage(`1`), json.RawMessage(`3`)) }, `[2,3]`},
		{"count", func() (any, error) { return c.Count(ctx, Key{"l"}) }, `4`},
		{"hasKey", func() (any, error) { return c.HasKey(ctx, Key{"a", "b", "x"}) }, `true`},
		{"pop", func() (any, error) { return c.Pop(ctx, Key{"l"}, true) }, `4`},
		{"removeRange", func() (any, error) {
			return c.RemoveRange(ctx, Key{"l"}, json.RawMessage(`0`), json.RawMessage(`1`), true)
		}, `[1]`},
		{"remove", func() (any, error) { return c.Remove(ctx, Key{"l", "0"}, true) }, `2`},
		{"getAll", func() (any, error) { return c.GetAll(ctx) }, `{"a":{"b":{"x":1}},"l":[3]}`},
		{"expire", func() (any, error) { return nil, c.Expire(ctx, []Key{{"a"}}, 100) }, `null`},
		{"getExpiry set", func() (any, error) { _, ok, err := c.GetExpiry(ctx, Key{"a"}); return ok, err }, `true`},
		{"unexpire", func() (any, error) { return nil, c.Unexpire(ctx, []Key{{"a"}}) }, `null`},
		{"getExpiry gone", func() (any, error) { _, ok, err := c.GetExpiry(ctx, Key{"a"}); return ok, err }, `false`},
		{"run", func() (any, error) {
			return c.Run(ctx, `function (D) { return D.get('x') + n; }`, RunOptions{BaseKey: Key{"a", "b"}, Data: json.RawMessage(`{"n":41}`)})
		}, `42`},
		{"removeAll", func() (any, error) { return nil, c.RemoveAll(ctx) }, `null`},
		{"getAll empty", func() (any, error) { return c.GetAll(ctx) }, `{}`},
	}
	for _, st := range steps {
		got, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var s string
		switch g := got.(type) {
		case json.RawMessage:
			s = string(g)
			if g == nil {
				s = "null"
			}
		default:
			b, _ := json.Marshal(g)
			s = string(b)
		}
		if s != st.want {
			t.Fatalf("%s = %s, want %s", st.name, s, st.want)
		}
	}
}

func TestRemoteErrors(t *testing.T) {
	_, addr := startServer(t, ServerOptions{Store: StoreOptions{RunBudget: 300 * time.Millisecond}})
	c := dialClient(t, "tcp", addr, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"exception", func() error { _, err := c.Run(ctx, `function () { null.x; }`, RunOptions{}); return err },
			"nData Error - Exception at run(): TypeError"},
		{"endless loop", func() error { _, err := c.Run(ctx, `function () { for(;;){} }`, RunOptions{}); return err },
			"run() exceeded its time budget"},
		{"bad value", func() error { _, err := c.Set(ctx, Key{}, json.RawMessage(`1`), false); return err },
			"nData Error - invalid value"},
		{"unknown action", func() error { _, err := c.Do(ctx, &Request{Action: "nope"}); return err },
			"nData Error - unknown action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			var re *RemoteError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want RemoteError containing %q", err, tc.want)
			}
		})
	}
	// The connection keeps serving after errors.
	if _, err := c.Set(ctx, Key{"ok"}, json.RawMessage(`1`), false); err != nil {
		t.Fatal(err)
	}
}

func TestHandshakeRefused(t *testing.T) {
	srv, addr := startServer(t, ServerOptions{MaxFrameSize: 1024})
	tests := []struct {
		name    string
		send    []byte
		wantErr string // error text in the answer; "" = connection just closed
	}{
		{"wrong secret", rawFrame(`{"action":"init","secret":"guess"}`), ErrBadSecret.Error()},
		{"empty secret", rawFrame(`{"action":"init"}`), ErrBadSecret.Error()},
		{"secret prefix", rawFrame(`{"action":"init","secret":"0123456789abcdef"}`), ErrBadSecret.Error()},
		{"command before init", rawFrame(`{"id":1,"action":"get","key":"a"}`), ErrNotInitialized.Error()},
		{"garbage JSON", rawFrame(`{nope`), ErrNotInitialized.Error()},
		{"oversized frame", binary.BigEndian.AppendUint32(nil, 1<<30), ""},
		{"short frame then EOF", []byte{0, 0}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.ClosedCount(CloseBadHandshake)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			conn.Write(tc.send)
			if tc.name == "short frame then EOF" {
				conn.(*net.TCPConn).CloseWrite()
			}
			r := bufio.NewReader(conn)
			body, err := readFrame(r, DefaultMaxFrameSize)
			if tc.wantErr != "" {
				if err != nil {
					t.Fatalf("no answer: %v", err)
				}
				res, _ := parseResponse(body)
				if res == nil || res.Error != tc.wantErr {
					t.Fatalf("answer = %s, want error %q", body, tc.wantErr)
				}
				_, err = readFrame(r, DefaultMaxFrameSize)
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("connection not closed: %v", err)
			}
			waitFor(t, "close counted", 2*time.Second, func() bool { return srv.ClosedCount(CloseBadHandshake) == before+1 })
		})
	}
	// A client with the wrong secret never becomes ready and says why.
	c, err := NewClient(ClientOptions{Network: "tcp", Address: addr, Secret: "wrong", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "refusal reported", 10*time.Second, func() bool {
		_, err := c.Get(context.Background(), Key{"a"})
		return errors.Is(err, ErrUnavailable) && strings.Contains(err.Error(), "Invalid password")
	})
}

func TestPipelinedConcurrent(t *testing.T) {
	_, addr := startServer(t, ServerOptions{})
	c := dialClient(t, "tcp", addr, nil)
	const workers, each = 16, 200
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				k := Key{"w", fmt.Sprint(w), fmt.Sprint(i)}
				if _, err := c.Set(ctx, k, json.RawMessage(fmt.Sprint(w*1000+i)), false); err != nil {
					errs <- err
					return
				}
				v, err := c.Get(ctx, k)
				if err != nil || string(v) != fmt.Sprint(w*1000+i) {
					errs <- fmt.Errorf("get %v = %s, %v", k, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := c.Count(ctx, Key{"w"})
	if err != nil || n != workers {
		t.Fatalf("count = %d %v", n, err)
	}
}

// collector gathers published messages.
type collector struct {
	mu   sync.Mutex
	msgs []string
}

func (c *collector) on(channel string, msg json.RawMessage) {
	c.mu.Lock()
	c.msgs = append(c.msgs, channel+"="+string(msg))
	c.mu.Unlock()
}

func (c *collector) snapshot() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

func TestPubSubOrderAndUnsubscribe(t *testing.T) {
	_, addr := startServer(t, ServerOptions{})
	var a, b, idle collector
	ca := dialClient(t, "tcp", addr, func(o *ClientOptions) { o.OnMessage = a.on })
	cb := dialClient(t, "tcp", addr, func(o *ClientOptions) { o.OnMessage = b.on })
	ci := dialClient(t, "tcp", addr, func(o *ClientOptions) { o.OnMessage = idle.on })
	pub := dialClient(t, "tcp", addr, nil)
	ctx := context.Background()
	for _, c := range []*Client{ca, cb, ci} {
		if err := c.Subscribe(ctx, "ch"); err != nil {
			t.Fatal(err)
		}
	}
	if err := ci.Unsubscribe(ctx, "ch"); err != nil {
		t.Fatal(err)
	}
	const n = 500
	var want []string
	for i := 0; i < n; i++ {
		if err := pub.Publish(ctx, "ch", json.RawMessage(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("ch=%d", i))
	}
	pub.Publish(ctx, "other", json.RawMessage(`1`))
	for _, col := range []*collector{&a, &b} {
		waitFor(t, "deliveries", 5*time.Second, func() bool { return len(col.snapshot()) >= n })
		got := col.snapshot()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("got %d messages out of order or extra: %v...", len(got), got[:min(5, len(got))])
		}
	}
	// A marker published after everything proves the unsubscribed client got nothing.
	ci.Subscribe(ctx, "marker")
	pub.Publish(ctx, "marker", json.RawMessage(`"end"`))
	waitFor(t, "marker", 5*time.Second, func() bool { return len(idle.snapshot()) == 1 })
	if got := idle.snapshot(); got[0] != `marker="end"` {
		t.Fatalf("unsubscribed client got %v", got)
	}
}

func TestSlowConsumerDisconnected(t *testing.T) {
	srv, addr := startServer(t, ServerOptions{MaxPendingBytes: 64 << 10})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	conn.Write(rawFrame(`{"action":"init","secret":"` + testSecret + `"}`))
	conn.Write(rawFrame(`{"id":1,"action":"subscribe","channel":"flood"}`))
	// Never read from conn. Wait until the subscription exists, then flood.
	waitFor(t, "subscription", 5*time.Second, func() bool {
		srv.store.subMu.RLock()
		defer srv.store.subMu.RUnlock()
		return len(srv.store.subs["flood"]) == 1
	})
	pub := dialClient(t, "tcp", addr, nil)
	big := json.RawMessage(`"` + strings.Repeat("x", 32<<10) + `"`)
	waitFor(t, "slow consumer disconnect", 10*time.Second, func() bool {
		pub.Publish(context.Background(), "flood", big)
		return srv.ClosedCount(CloseSlowConsumer) == 1
	})
}

func TestCommandTimeout(t *testing.T) {
	// A fake store that completes the handshake and then never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		readFrame(r, DefaultMaxFrameSize)
		f, _ := appendFrame(nil, &Response{Type: TypeResponse, Action: ActionInit})
		c.Write(f)
		io.Copy(io.Discard, r)
	}()
	c := dialClient(t, "tcp", ln.Addr().String(), func(o *ClientOptions) { o.Timeout = 100 * time.Millisecond })
	_, err = c.Get(context.Background(), Key{"a"})
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, ErrTimeout) || err.Error() != "nData Error - The get action timed out" {
		t.Fatalf("err = %v", err)
	}
	c.Close()
	ln.Close()
	wg.Wait()
}

func TestReconnectAndResubscribe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv1, err := NewServer(ServerOptions{Secret: testSecret, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	go srv1.Serve(ln)
	var got collector
	connects := make(chan struct{}, 10)
	c := dialClient(t, "unix", path, func(o *ClientOptions) {
		o.OnMessage = got.on
		o.OnConnect = func() { connects <- struct{}{} }
	})
	<-connects
	ctx := context.Background()
	if err := c.Subscribe(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set(ctx, Key{"k"}, json.RawMessage(`1`), false); err != nil {
		t.Fatal(err)
	}
	// The store dies: commands fail at once with a clear error, nothing hangs.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := srv1.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "client notices", 5*time.Second, func() bool {
		_, err := c.Get(ctx, Key{"k"})
		return errors.Is(err, ErrUnavailable)
	})
	_, err = c.Get(ctx, Key{"k"})
	if !strings.Contains(err.Error(), "store unavailable") || !strings.Contains(err.Error(), path) {
		t.Fatalf("outage error = %v", err)
	}
	// A replacement store on the same path: the client reconnects and resubscribes; the data is gone.
	ln2, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, ln2, ServerOptions{})
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := c.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connects:
	case <-wctx.Done():
		t.Fatal("no reconnect callback")
	}
	v, err := c.Get(ctx, Key{"k"})
	if err != nil || v != nil {
		t.Fatalf("after store restart get = %s, %v (want undefined)", v, err)
	}
	pub := dialClient(t, "unix", path, nil)
	if err := pub.Publish(ctx, "news", json.RawMessage(`"back"`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "message after resubscribe", 5*time.Second, func() bool { return len(got.snapshot()) == 1 })
	if s := got.snapshot(); s[0] != `news="back"` {
		t.Fatalf("got %v", s)
	}
}

func TestExpirySweepOverProtocol(t *testing.T) {
	_, addr := startServer(t, ServerOptions{Store: StoreOptions{ExpiryAccuracy: 10 * time.Millisecond}})
	c := dialClient(t, "tcp", addr, nil)
	ctx := context.Background()
	c.Set(ctx, Key{"__iocl", "sed", "s1", "x"}, json.RawMessage(`1`), false)
	c.Set(ctx, Key{"keep"}, json.RawMessage(`1`), false)
	before := float64(time.Now().UnixMilli()) / 1000
	if err := c.Expire(ctx, []Key{{"__iocl", "sed", "s1"}}, 0.05); err != nil {
		t.Fatal(err)
	}
	at, ok, err := c.GetExpiry(ctx, Key{"__iocl", "sed", "s1"})
	if err != nil || !ok || at < before+0.04 || at > before+5 {
		t.Fatalf("getExpiry = %v %v %v (now %v)", at, ok, err, before)
	}
	waitFor(t, "expiry sweep", 5*time.Second, func() bool {
		ok, _ := c.HasKey(ctx, Key{"__iocl", "sed", "s1"})
		return !ok
	})
	if ok, _ := c.HasKey(ctx, Key{"keep"}); !ok {
		t.Fatal("unexpired key removed")
	}
}

func TestClientClosed(t *testing.T) {
	_, addr := startServer(t, ServerOptions{})
	c := dialClient(t, "tcp", addr, nil)
	c.Close()
	if _, err := c.Get(context.Background(), Key{"a"}); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("err = %v", err)
	}
	c.Close() // idempotent
}

func TestNewServerNeedsSecret(t *testing.T) {
	if _, err := NewServer(ServerOptions{}); !errors.Is(err, ErrBadArgument) {
		t.Fatalf("err = %v", err)
	}
}

var _ = bytes.NewReader

func TestListenAndServeUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	// A stale socket file from a crashed store must not block the replacement.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ListenAndServe(ctx, "unix", path, ServerOptions{Secret: testSecret, Logger: quietLogger()})
	}()
	c, err := NewClient(ClientOptions{Network: "unix", Address: path, Secret: testSecret, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := c.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Set(context.Background(), Key{"a"}, json.RawMessage(`1`), false); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not return")
	}
	if err := ListenAndServe(context.Background(), "tcp", "127.0.0.1:bad", ServerOptions{Secret: "x"}); err == nil {
		t.Fatal("bad address accepted")
	}
}
