package cluster

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

// shutdownGrace is far above shutdownPrompt: a Serve that waits for its deadline cannot pass.
const (
	shutdownGrace  = 20 * time.Second
	shutdownPrompt = 2 * time.Second
)

// startServing runs a worker of the echo controller with shutdownGrace and returns its address, the cancel of
// Serve's context and the channel closed when Serve returned.
func startServing(t *testing.T) (w *Worker, addr string, cancel context.CancelFunc, done <-chan struct{}) {
	t.Helper()
	logs := &testenv.Buffer{}
	w, err := NewWorker(WorkerConfig{
		Options: Options{AppName: "myapp", WorkerController: echoController(t), DataKey: "secret-key"},
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Stdout:  logs,
		Stderr:  logs,
	})
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		_ = w.Serve(ctx, l, shutdownGrace)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ch:
		case <-time.After(shutdownGrace + 10*time.Second):
			t.Error("worker did not stop")
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", logs.String())
		}
	})
	return w, l.Addr().String(), cancel, ch
}

// pollingHandshake opens a polling session (text framing) and returns its sid after the first poll took the
// queued connect message, so the next GET is held by the server.
func pollingHandshake(t *testing.T, client *http.Client, base string) string {
	t.Helper()
	body := clientGet(t, client, base)
	i := strings.Index(body, `"sid":"`)
	if i < 0 {
		t.Fatalf("handshake answer %q has no sid", body)
	}
	sid := body[i+len(`"sid":"`):]
	sid = sid[:strings.IndexByte(sid, '"')]
	if got := clientGet(t, client, base+"&sid="+sid); !strings.Contains(got, `"event":"connect"`) {
		t.Fatalf("first poll %q, want the connect message", got)
	}
	return sid
}

func clientGet(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// dialUnused opens a connection that never sends a request (what an HTTP client such as the balancer's
// transport keeps when it dialed for a request that then went out on another connection) and makes sure the
// worker accepted it: the listener accepts in order, so a request answered on a later connection proves it.
func dialUnused(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	clientGet(t, probe, "http://"+addr+"/hello")
	return c
}

// TestWorkerServeStopsPromptly: once Serve's context is done, every engine socket is closed and no user request
// is pending, Serve returns without waiting for its grace, whatever connections the clients keep open; a
// pending long-poll is answered with a close packet.
func TestWorkerServeStopsPromptly(t *testing.T) {
	cases := []struct {
		name    string
		unused  int  // connections that never sent a request
		idle    bool // a keep-alive connection idle after a finished request
		pending bool // a polling session with its GET held by the server
	}{
		{name: "nothing connected"},
		{name: "idle keep-alive connection", idle: true},
		{name: "connection without a request", unused: 1},
		{name: "pending poll", pending: true},
		{name: "pending poll, idle and unused connections", unused: 2, idle: true, pending: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, addr, cancel, done := startServing(t)
			client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			if tc.idle {
				clientGet(t, client, "http://"+addr+"/hello")
			}
			type answer struct {
				body string
				err  error
			}
			polled := make(chan answer, 1)
			if tc.pending {
				base := "http://" + addr + "/socketcluster/?EIO=2&transport=polling&b64=1"
				sid := pollingHandshake(t, client, base)
				// The poll goes out on a connection of its own, so its server-side state is the poll's.
				local := make(chan string, 1)
				poller := &http.Client{Transport: &http.Transport{
					DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
						c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
						if err == nil {
							local <- c.LocalAddr().String()
						}
						return c, err
					},
				}, Timeout: 10 * time.Second}
				go func() {
					resp, err := poller.Get(base + "&sid=" + sid)
					if err != nil {
						polled <- answer{err: err}
						return
					}
					defer resp.Body.Close()
					b, err := io.ReadAll(resp.Body)
					polled <- answer{string(b), err}
				}()
				addr := <-local
				waitFor(t, func() bool { return w.connState(addr) == http.StateActive }, "the poll to reach the worker")
			}
			for range tc.unused {
				dialUnused(t, addr)
			}
			start := time.Now()
			cancel()
			select {
			case <-done:
			case <-time.After(shutdownPrompt):
				t.Fatalf("Serve still running %v after its context ended (grace %v)", shutdownPrompt, shutdownGrace)
			}
			t.Logf("Serve returned after %v", time.Since(start))
			if tc.pending {
				// The close packet; a GET read but not yet held when the engine shut down learns the session
				// is gone (400 "Session ID unknown"), which closes the client as well.
				a := <-polled
				if a.err != nil || (a.body != "1:1" && !strings.Contains(a.body, "Session ID unknown")) {
					t.Errorf("pending poll answered %q, %v; want the close packet 1:1", a.body, a.err)
				}
			}
		})
	}
}

// connState is the state of the worker's connection from the client address remote (-1: none).
func (w *Worker) connState(remote string) http.ConnState {
	w.httpConns.Lock()
	defer w.httpConns.Unlock()
	for c, st := range w.httpConns.m {
		if c.RemoteAddr().String() == remote {
			return st
		}
	}
	return -1
}
