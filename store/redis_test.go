package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

const redisBinary = "/usr/bin/redis-server"

// redisProc is a redis-server started for a test.
type redisProc struct {
	cmd  *exec.Cmd
	port int
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRedis starts redis-server on port (0: a free one) without persistence and waits until PING answers.
func startRedis(t testing.TB, port int) *redisProc {
	t.Helper()
	if _, err := os.Stat(redisBinary); err != nil {
		t.Fatalf("redis-server not installed (%v): scripts/test installs it", err)
	}
	if port == 0 {
		port = freePort(t)
	}
	cmd := exec.Command(redisBinary, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &redisProc{cmd: cmd, port: port}
	t.Cleanup(p.kill)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if pingRedis(port) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %d did not answer PING", port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func pingRedis(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := c.Read(buf)
	return strings.HasPrefix(string(buf[:n]), "+PONG")
}

// kill stops redis with SIGKILL and reaps it (idempotent).
func (p *redisProc) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func (p *redisProc) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", p.port) }

func newRedisEngine(t testing.TB, url, prefix string, onMsg func(string, json.RawMessage)) *RedisEngine {
	t.Helper()
	e, err := NewRedisEngine(RedisOptions{URL: url, Prefix: prefix, OnMessage: onMsg, Logger: quietLogger(),
		RunBudget: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// engineConformance runs the operations sessions and global data use and checks the results every engine must
// give.
func engineConformance(t *testing.T, e Engine) {
	ctx := context.Background()
	sess := Key{"__iocl", "sed", "ssid1"}
	sub := func(k ...string) Key { return append(append(Key{}, sess...), k...) }
	type step struct {
		name string
		do   func() (any, error)
		want string
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	steps := []step{
		{"set", func() (any, error) { return e.Set(ctx, sub("__meta", "sockets", "s1"), raw(`1`), false) }, `null`},
		{"set auth", func() (any, error) { return e.Set(ctx, sub("__auth"), raw(`{"u":"x"}`), true) }, `{"u":"x"}`},
		{"get", func() (any, error) { return e.Get(ctx, sub("__meta")) }, `{"sockets":{"s1":1}}`},
		{"get missing", func() (any, error) { return e.Get(ctx, sub("nope")) }, `null`},
		{"add", func() (any, error) { return e.Add(ctx, sub("list"), raw(`"a"`), true) }, `["a"]`},
		{"add again", func() (any, error) { return e.Add(ctx, sub("list"), raw(`"b"`), true) }, `["a","b"]`},
		{"concat", func() (any, error) { return e.Concat(ctx, sub("list"), raw(`["c","d"]`), true) }, `["a","b","c","d"]`},
		{"getRange", func() (any, error) { return e.GetRange(ctx, sub("list"), raw(`1`), raw(`3`)) }, `["b","c"]`},
		{"count", func() (any, error) { return e.Count(ctx, sub("list")) }, `4`},
		{"hasKey", func() (any, error) { return e.HasKey(ctx, sub("__auth", "u")) }, `true`},
		{"hasKey missing", func() (any, error) { return e.HasKey(ctx, Key{"__iocl", "sed", "other", "x"}) }, `false`},
		{"remove splices", func() (any, error) { return e.Remove(ctx, sub("list", "0"), true) }, `"a"`},
		{"pop", func() (any, error) { return e.Pop(ctx, sub("list"), true) }, `"d"`},
		{"removeRange", func() (any, error) { return e.RemoveRange(ctx, sub("list"), raw(`0`), raw(`1`), true) }, `["b"]`},
		{"after", func() (any, error) { return e.Get(ctx, sub("list")) }, `["c"]`},
		{"query", func() (any, error) {
			return e.Run(ctx, `function (D) { D.set('q', n); return D.getAll(); }`, RunOptions{BaseKey: sess, Data: raw(`{"n":7}`)})
		}, `{"__meta":{"sockets":{"s1":1}},"__auth":{"u":"x"},"list":["c"],"q":7}`},
		{"query exception", func() (any, error) {
			_, err := e.Run(ctx, `function () { throw new Error('bad'); }`, RunOptions{BaseKey: sess})
			return strings.HasPrefix(errText(err), "nData Error - Exception at run(): Error: bad"), nil
		}, `true`},
		{"query loop", func() (any, error) {
			_, err := e.Run(ctx, `function () { for(;;){} }`, RunOptions{BaseKey: sess})
			return strings.Contains(errText(err), "exceeded its time budget"), nil
		}, `true`},
		{"expire", func() (any, error) { return nil, e.Expire(ctx, []Key{sess, {"__iocl", "gld", "x"}}, 3600) }, `null`},
		{"getExpiry", func() (any, error) {
			at, ok, err := e.GetExpiry(ctx, sess)
			now := float64(time.Now().UnixMilli()) / 1000
			return ok && at > now+3500 && at < now+3700, err
		}, `true`},
		{"unexpire", func() (any, error) { return nil, e.Unexpire(ctx, []Key{sess}) }, `null`},
		{"getExpiry none", func() (any, error) { _, ok, err := e.GetExpiry(ctx, sess); return ok, err }, `false`},
		{"global set", func() (any, error) { return e.Set(ctx, Key{"__iocl", "gld", "cfg"}, raw(`{"a":1}`), false) }, `null`},
		{"global removeAll", func() (any, error) { return e.Set(ctx, Key{"__iocl", "gld"}, raw(`{}`), false) }, `null`},
		{"global gone", func() (any, error) { return e.Get(ctx, Key{"__iocl", "gld", "cfg"}) }, `null`},
		{"address record", func() (any, error) {
			return e.Set(ctx, Key{"__iocl", "gld", "__meta", "addresses", "1.2.3.4", "sockets", "s1"}, raw(`1`), false)
		}, `null`},
		{"address count", func() (any, error) {
			return e.Count(ctx, Key{"__iocl", "gld", "__meta", "addresses", "1.2.3.4", "sockets"})
		}, `1`},
		{"session removeAll", func() (any, error) { return e.Set(ctx, sess, raw(`{}`), false) }, `null`},
		{"session empty", func() (any, error) { return e.Get(ctx, sess) }, `{}`},
	}
	for _, st := range steps {
		got, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		var s string
		if r, ok := got.(json.RawMessage); ok {
			s = string(r)
			if r == nil {
				s = "null"
			}
		} else {
			b, _ := json.Marshal(got)
			s = string(b)
		}
		if s != st.want {
			t.Fatalf("%s = %s, want %s", st.name, s, st.want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestConformanceStoreCluster(t *testing.T) {
	var clients []*Client
	for i := 0; i < 2; i++ {
		_, addr := startServer(t, ServerOptions{Store: StoreOptions{RunBudget: 200 * time.Millisecond}})
		clients = append(clients, dialClient(t, "tcp", addr, nil))
	}
	cl, err := NewCluster(clients, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Session queries run on the session's store (iocluster passes the ssid as the map index).
	engineConformance(t, &mapIndexEngine{Cluster: cl, index: "ssid1"})
}

// mapIndexEngine routes run to the store of a fixed map index, as iocluster does for session queries.
type mapIndexEngine struct {
	*Cluster
	index string
}

func (m *mapIndexEngine) Run(ctx context.Context, source string, opts RunOptions) (json.RawMessage, error) {
	opts.MapIndex = m.index
	return m.Cluster.Run(ctx, source, opts)
}

func TestConformanceRedis(t *testing.T) {
	r := startRedis(t, 0)
	engineConformance(t, newRedisEngine(t, r.url(), "t1:", nil))
}

func TestRedisExpiryAndSharing(t *testing.T) {
	r := startRedis(t, 0)
	now := time.Now()
	clock := func() time.Time { return now }
	a, err := NewRedisEngine(RedisOptions{URL: r.url(), Now: clock, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b := newRedisEngine(t, r.url(), "", nil) // a second "cluster" on the same Redis
	ctx := context.Background()
	sess := Key{"__iocl", "sed", "shared"}
	a.Set(ctx, append(sess, "x"), json.RawMessage(`1`), false)
	a.Set(ctx, append(sess, "y"), json.RawMessage(`2`), false)
	if v, err := b.Get(ctx, append(sess, "x")); err != nil || string(v) != "1" {
		t.Fatalf("shared read = %s %v", v, err)
	}
	// A deeper key's expiry applies when the document is read after the deadline.
	if err := a.Expire(ctx, []Key{append(sess, "y")}, 10); err != nil {
		t.Fatal(err)
	}
	now = now.Add(11 * time.Second)
	if v, _ := a.Get(ctx, sess); string(v) != `{"x":1}` {
		t.Fatalf("after deep expiry = %s", v)
	}
	// A session root's expiry is also the Redis key's TTL: Redis itself deletes the session.
	if err := b.Expire(ctx, []Key{sess}, 0.2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "redis TTL", 5*time.Second, func() bool {
		ok, err := b.HasKey(ctx, sess)
		return err == nil && !ok
	})
}

func TestRedisPubSubAcrossEnginesAndOutage(t *testing.T) {
	r := startRedis(t, 0)
	var got collector
	sub := newRedisEngine(t, r.url(), "", got.on)
	pub := newRedisEngine(t, r.url(), "", nil)
	ctx := context.Background()
	if err := sub.Subscribe(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	// The subscription is asynchronous in Redis: publish until the first message arrives.
	waitFor(t, "first delivery", 5*time.Second, func() bool {
		pub.Publish(ctx, "warmup-news", nil)
		return len(got.snapshot()) > 0 || pub.rdb.PubSubNumSub(ctx, "sc:ch:news").Val()["sc:ch:news"] == 1
	})
	for i := 0; i < 100; i++ {
		if err := pub.Publish(ctx, "news", json.RawMessage(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "100 in order", 5*time.Second, func() bool { return len(got.snapshot()) >= 100 })
	for i, m := range got.snapshot() {
		if m != fmt.Sprintf("news=%d", i) {
			t.Fatalf("message %d = %s", i, m)
		}
	}
	// kill -9 redis: publishes and data commands fail with a clear error, nothing hangs.
	r.kill()
	waitFor(t, "outage error", 5*time.Second, func() bool {
		return errors.Is(pub.Publish(ctx, "news", json.RawMessage(`"lost"`)), ErrUnavailable)
	})
	err := pub.Publish(ctx, "news", json.RawMessage(`"lost"`))
	if !strings.Contains(err.Error(), "store unavailable: redis 127.0.0.1:") {
		t.Fatalf("outage error = %v", err)
	}
	if _, err := pub.Set(ctx, Key{"__iocl", "sed", "s", "x"}, json.RawMessage(`1`), false); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("set during outage: %v", err)
	}
	// Restart on the same port: publish works again and the subscriber was resubscribed by go-redis.
	startRedis(t, r.port)
	waitFor(t, "delivery after restart", 15*time.Second, func() bool {
		pub.Publish(ctx, "news", json.RawMessage(`"back"`))
		s := got.snapshot()
		return s[len(s)-1] == `news="back"`
	})
	if _, err := pub.Set(ctx, Key{"__iocl", "sed", "s", "x"}, json.RawMessage(`1`), false); err != nil {
		t.Fatalf("set after restart: %v", err)
	}
}
