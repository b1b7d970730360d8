package balancer

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// engineBackend is a worker stand-in for polling requests: it answers
// "<method> <uri> <body> | <headers>" and counts its connections.
type engineBackend struct {
	addr    string
	srv     *http.Server
	opened  atomic.Int64
	closed  atomic.Int64
	aborted atomic.Int64
	hold    chan struct{} // GET /socketcluster/?hold waits for the client to go
}

func startEngineBackend(t *testing.T, idle time.Duration) *engineBackend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	be := &engineBackend{addr: l.Addr().String(), hold: make(chan struct{}, 1)}
	be.srv = &http.Server{IdleTimeout: idle, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "hold" {
			be.hold <- struct{}{}
			<-r.Context().Done()
			be.aborted.Add(1)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var hs []string
		for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Port", "X-Custom", "Forwarded", "Connection", "Keep-Alive"} {
			hs = append(hs, k+"="+strings.Join(r.Header.Values(k), ";"))
		}
		w.Header().Set("X-Answer", "yes")
		w.Header().Set("Keep-Alive", "timeout=5")
		_, _ = io.WriteString(w, r.Method+" "+r.RequestURI+" "+string(body)+" | "+strings.Join(hs, " "))
	}), ConnState: func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			be.opened.Add(1)
		case http.StateClosed:
			be.closed.Add(1)
		}
	}}
	go func() { _ = be.srv.Serve(l) }()
	t.Cleanup(func() { _ = be.srv.Close() })
	return be
}

func do(t *testing.T, c *http.Client, method, url, body string, h http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if body == "" {
		req.Body = nil
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestEngineProxy: polling requests reach the worker as through the
// ReverseProxy (forwarding headers replaced, hop-by-hop headers dropped,
// body intact) over one reused connection.
func TestEngineProxy(t *testing.T) {
	checkLeaks(t)
	be := startEngineBackend(t, 0)
	_, addr := startBalancer(t, Config{}, map[int]string{0: be.addr})
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	h := http.Header{"X-Forwarded-For": {"6.6.6.6"}, "Forwarded": {"for=6.6.6.6"}, "X-Custom": {"a", "b"},
		"Connection": {"X-Drop"}, "X-Drop": {"1"}}
	_, port, _ := net.SplitHostPort(addr)
	cases := []struct {
		method, uri, body string
	}{
		{http.MethodGet, "/socketcluster/?EIO=3&transport=polling&t=1", ""},
		{http.MethodPost, "/socketcluster/?EIO=3&transport=polling&sid=x", "4:42[1]"},
		{http.MethodPost, "/socketcluster/?EIO=3&transport=polling&sid=x", strings.Repeat("z", 40<<10)},
		{http.MethodGet, "/socketcluster/?EIO=3&transport=polling&t=2", ""},
	}
	for _, tc := range cases {
		res, got := do(t, c, tc.method, "http://"+addr+tc.uri, tc.body, h)
		want := tc.method + " " + tc.uri + " " + tc.body + " | X-Forwarded-For=127.0.0.1 X-Forwarded-Proto=http " +
			"X-Forwarded-Host=" + addr + " X-Forwarded-Port=" + port + " X-Custom=a;b Forwarded= Connection= Keep-Alive="
		if res.StatusCode != http.StatusOK || got != want {
			t.Fatalf("%s %s:\n got %d %.200q\nwant %.200q", tc.method, tc.uri, res.StatusCode, got, want)
		}
		if res.Header.Get("X-Answer") != "yes" || res.Header.Get("Keep-Alive") != "" {
			t.Fatalf("response headers %v", res.Header)
		}
	}
	// one kept-alive connection of the lean path, one of the ReverseProxy
	// (the body above engineBodyLimit)
	if n := be.opened.Load(); n != 2 {
		t.Fatalf("worker saw %d connections for %d sequential requests, want 2 (kept alive)", n, len(cases))
	}
}

// TestEngineProxyStaleConn: a pooled connection the worker closed while it
// was idle is replaced without the client noticing.
func TestEngineProxyStaleConn(t *testing.T) {
	checkLeaks(t)
	be := startEngineBackend(t, 50*time.Millisecond)
	_, addr := startBalancer(t, Config{}, map[int]string{0: be.addr})
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	for i := 0; i < 3; i++ {
		if res, got := do(t, c, http.MethodPost, "http://"+addr+"/socketcluster/?sid=x", "b", nil); res.StatusCode != 200 ||
			!strings.HasPrefix(got, "POST /socketcluster/?sid=x b |") {
			t.Fatalf("request %d: %d %q", i, res.StatusCode, got)
		}
		waitUntilTrue(t, "the worker to close the idle connection", func() bool { return be.closed.Load() == int64(i+1) })
	}
}

// TestEngineProxyClientGone: a client that leaves a long poll ends the
// worker's request too.
func TestEngineProxyClientGone(t *testing.T) {
	checkLeaks(t)
	be := startEngineBackend(t, 0)
	_, addr := startBalancer(t, Config{}, map[int]string{0: be.addr})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/socketcluster/?hold", nil)
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := c.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	select {
	case <-be.hold:
	case <-time.After(5 * time.Second):
		t.Fatal("long poll did not reach the worker")
	}
	cancel()
	<-done
	waitUntilTrue(t, "the worker's request to end", func() bool { return be.aborted.Load() == 1 })
}

// TestEngineProxyDeadWorker: no connection to the worker gives the
// balancer's error page, as the ReverseProxy did.
func TestEngineProxyDeadWorker(t *testing.T) {
	checkLeaks(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	_ = dead.Close()
	_, addr := startBalancer(t, Config{}, map[int]string{0: deadAddr})
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	res, body := do(t, c, http.MethodPost, "http://"+addr+"/socketcluster/?sid=_w0_1_0_x", "x", nil)
	if res.StatusCode != http.StatusInternalServerError || !bytes.HasPrefix([]byte(body), []byte("Load balancer error - ")) {
		t.Fatalf("dead worker: %d %q", res.StatusCode, body)
	}
}

func waitUntilTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
