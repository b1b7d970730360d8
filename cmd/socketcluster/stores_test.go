package main

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run real clusters with store processes (or a real redis-server) and check sessions,
// session events and channels across workers, and what survives kill -9 of a worker, a store or Redis.

type whoStore struct {
	ID     string `json:"id"`
	SSID   string `json:"ssid"`
	Worker int    `json:"worker"`
	PID    int    `json:"pid"`
}

// dialEv dials a socket that presents ssid as its session cookie ("" for none).
func dialEv(addr, ssid string) (*scClient, error) {
	var h http.Header
	if ssid != "" {
		h = http.Header{"Cookie": {"n/ctest/ssid=" + ssid}}
	}
	return dialSC(addr, h)
}

func startStoreCluster(t testing.TB, extra ...string) *testCluster {
	t.Helper()
	worker, err := filepath.Abs("../../testdata/workers/stores/worker.js")
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--workerController", worker, "--port", "0", "--listen", "127.0.0.1",
		"--appName", "ctest", "--logLevel", "3", "--shutdownGrace", "3"}, extra...)
	return startClusterIn(t, "", args...)
}

// workerAddrs waits for n workers and returns their direct addresses by id.
func (tc *testCluster) workerAddrs(t testing.TB, n int) map[int]string {
	t.Helper()
	waitUntil(t, clusterStartWait, "the workers' addresses", func() bool { return len(tc.workers()) >= n })
	out := map[int]string{}
	for id, w := range tc.workers() {
		out[id] = w[0]
	}
	return out
}

var storeReadyRe = regexp.MustCompile(`ready child=store (\d+) addr=\S+ pid=(\d+)`)

// storePIDs lists the pids the master reported for store id, oldest first.
func (tc *testCluster) storePIDs(id int) []int {
	var out []int
	for _, g := range storeReadyRe.FindAllStringSubmatch(tc.out.String(), -1) {
		if n, _ := strconv.Atoi(g[1]); n == id {
			p, _ := strconv.Atoi(g[2])
			out = append(out, p)
		}
	}
	return out
}

func dialEvT(t testing.TB, addr, ssid string) *scClient {
	t.Helper()
	c, err := dialEv(addr, ssid)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ws.Close() })
	return c
}

// TestStoresSessionAcrossWorkersAndWorkerKill9: a session's sockets on two worker processes share its data and
// its events; kill -9 of the worker holding it loses nothing.
func TestStoresSessionAcrossWorkersAndWorkerKill9(t *testing.T) {
	tc := startStoreCluster(t, "--workers", "2", "--stores", "1")
	addrs := tc.workerAddrs(t, 2)
	a := dialEvT(t, addrs[0], "")
	ssid := a.who(t).SSID
	b := dialEvT(t, addrs[1], ssid)
	if w := b.who(t); w.SSID != ssid || w.Worker != 1 {
		t.Fatalf("second socket %+v, want session %s on worker 1", w, ssid)
	}
	a.must(t, "set", map[string]any{"key": "cart", "value": []int{1, 2}})
	if got := string(b.must(t, "get", map[string]any{"key": "cart"})); got != "[1,2]" {
		t.Fatalf("data set on worker 0 read on worker 1: %s", got)
	}
	b.must(t, "sessEmit", "both")
	for _, c := range []*scClient{a, b} {
		if d := string(c.event(t, "hello")); d != `"both"` {
			t.Fatalf("session event %s", d)
		}
	}
	// kill -9 the worker holding the session's first socket; reconnect with the cookie
	pid := a.who(t).PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.closed
	var c *scClient
	waitUntil(t, 30*time.Second, "a reconnect to the replacement of worker 0", func() bool {
		addrs = tc.workerAddrs(t, 2)
		x, err := dialEv(addrs[0], ssid)
		if err != nil {
			return false
		}
		if w := x.who(t); w.PID == pid {
			x.ws.Close()
			return false
		}
		c = x
		return true
	})
	defer c.ws.Close()
	if w := c.who(t); w.SSID != ssid {
		t.Fatalf("after the worker's kill -9 the cookie started session %q, want %q", w.SSID, ssid)
	}
	if got := string(c.must(t, "get", map[string]any{"key": "cart"})); got != "[1,2]" {
		t.Fatalf("session data after the worker's kill -9: %s", got)
	}
	// the session's event still reaches the socket on the other worker
	c.must(t, "sessEmit", "again")
	if d := string(b.event(t, "hello")); d != `"again"` {
		t.Fatalf("session event after the kill %s", d)
	}
}

// TestStoresPublishAcrossWorkers: a publish reaches the subscribers on every worker process exactly once, in
// order per publisher; unsubscribed sockets get nothing.
func TestStoresPublishAcrossWorkers(t *testing.T) {
	tc := startStoreCluster(t, "--workers", "2", "--stores", "2")
	addrs := tc.workerAddrs(t, 2)
	var subs, idle []*scClient
	for id := 0; id < 2; id++ {
		s := dialEvT(t, addrs[id], "")
		s.must(t, "subscribe", "news")
		subs = append(subs, s)
		idle = append(idle, dialEvT(t, addrs[id], ""))
	}
	pub := dialEvT(t, addrs[1], "")
	const n = 100
	for i := 1; i <= n; i++ {
		if _, err := pub.send("publish", map[string]any{"event": "news", "data": i}); err != nil {
			t.Fatal(err)
		}
	}
	pub.must(t, "publish", map[string]any{"event": "news", "data": "end"})
	for si, s := range subs {
		for i := 1; i <= n; i++ {
			if d := string(s.event(t, "news")); d != strconv.Itoa(i) {
				t.Fatalf("subscriber on worker %d: delivery %d is %s", si, i, d)
			}
		}
		if d := string(s.event(t, "news")); d != `"end"` {
			t.Fatalf("subscriber on worker %d: last delivery %s", si, d)
		}
		s.noEvent(t, "news")
	}
	for _, s := range idle {
		s.noEvent(t, "news")
	}
}

// TestStoresStoreKill9: the store's data is lost as documented, calls fail with a clear error while it is down,
// the master restarts it on the same socket and the workers reconnect; nothing hangs.
func TestStoresStoreKill9(t *testing.T) {
	tc := startStoreCluster(t, "--workers", "1", "--stores", "1")
	addrs := tc.workerAddrs(t, 1)
	c := dialEvT(t, addrs[0], "")
	c.must(t, "subscribe", "news")
	c.must(t, "set", map[string]any{"key": "k", "value": "v"})
	pids := tc.storePIDs(0)
	if len(pids) != 1 {
		t.Fatalf("store pids %v", pids)
	}
	start := time.Now()
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	sawError := false
	waitUntil(t, 30*time.Second, "store calls working again after the restart", func() bool {
		d, err := c.call("get", map[string]any{"key": "k"}, replyWait)
		if err != nil {
			if !strings.Contains(err.Error(), "store unavailable") && !strings.Contains(err.Error(), "timed out") {
				t.Fatalf("unclear error during the store outage: %v", err)
			}
			sawError = true
			return false
		}
		if string(d) == `"v"` {
			return false // the store has not died yet
		}
		return true
	})
	t.Logf("store kill -9 to working calls: %v (errors seen meanwhile: %v)", time.Since(start), sawError)
	if got := tc.storePIDs(0); len(got) != 2 || got[1] == pids[0] {
		t.Fatalf("store not restarted: pids %v", got)
	}
	if !strings.Contains(tc.out.String(), "Store 0 died") {
		t.Fatal("master did not report the store's death")
	}
	c.must(t, "set", map[string]any{"key": "k", "value": "new"})
	c.must(t, "publish", map[string]any{"event": "news", "data": "after"})
	if d := string(c.event(t, "news")); d != `"after"` {
		t.Fatalf("delivery after the store restart %s", d)
	}
}

// redisServer runs a real redis-server on port (0: a free one) without persistence.
type redisServer struct {
	cmd  *exec.Cmd
	port int
	done chan struct{}
}

func startRedis(t testing.TB, port int) *redisServer {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is required (Debian package redis-server): %v", err)
	}
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	r := &redisServer{port: port, done: make(chan struct{})}
	r.cmd = exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(r.kill)
	waitUntil(t, 10*time.Second, "redis-server listening", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return r
}

func (r *redisServer) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

// TestStoresRedisTwoClusters: two clusters sharing one redis-server share sessions and channels; kill -9 of
// Redis makes publishes fail with a clear error, and they work again after its restart.
func TestStoresRedisTwoClusters(t *testing.T) {
	r := startRedis(t, 0)
	url := "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0"
	ca := startStoreCluster(t, "--workers", "1", "--store", url)
	cb := startStoreCluster(t, "--workers", "1", "--store", url)
	if len(ca.storePIDs(0)) != 0 {
		t.Fatal("a store process started although --store redis was given")
	}
	a := dialEvT(t, ca.addr, "")
	ssid := a.who(t).SSID
	a.must(t, "set", map[string]any{"key": "user", "value": "ann"})
	b := dialEvT(t, cb.addr, ssid)
	if w := b.who(t); w.SSID != ssid {
		t.Fatalf("cluster B did not adopt cluster A's session: %+v", w)
	}
	if got := string(b.must(t, "get", map[string]any{"key": "user"})); got != `"ann"` {
		t.Fatalf("session data on cluster B: %s", got)
	}
	b.must(t, "subscribe", "news")
	a.must(t, "publish", map[string]any{"event": "news", "data": 1})
	if d := string(b.event(t, "news")); d != "1" {
		t.Fatalf("publish from A on B: %s", d)
	}
	// session events cross clusters too
	a.must(t, "sessEmit", "x")
	if d := string(b.event(t, "hello")); d != `"x"` {
		t.Fatalf("session event from A on B: %s", d)
	}

	r.kill()
	_, err := a.call("publish", map[string]any{"event": "news", "data": 2}, replyWait)
	if err == nil || !strings.Contains(err.Error(), "store unavailable") {
		t.Fatalf("publish during the Redis outage: %v", err)
	}
	startRedis(t, r.port)
	waitUntil(t, 30*time.Second, "publishes working after the Redis restart", func() bool {
		_, err := a.call("publish", map[string]any{"event": "news", "data": 3}, replyWait)
		return err == nil
	})
	waitUntil(t, 30*time.Second, "B's subscription restored", func() bool {
		select {
		case m := <-b.events:
			return m.Event == "news" && string(m.Data) == "3"
		default:
			_, _ = a.call("publish", map[string]any{"event": "news", "data": 3}, replyWait)
			return false
		}
	})
	for _, tc := range []*testCluster{ca, cb} {
		if tc.exited() {
			t.Fatal("a cluster exited during the Redis outage")
		}
	}
}
