package cluster

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestRateLimiterTokenBucket(t *testing.T) {
	l := newRateLimiter(10) // 10/s, burst 20
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	take := func(key string, n int) (ok int) {
		for range n {
			if l.allow(key) {
				ok++
			}
		}
		return ok
	}
	if got := take("a", 25); got != 20 {
		t.Fatalf("burst: %d allowed, want 20", got)
	}
	if got := take("b", 1); got != 1 {
		t.Fatal("another address shares the bucket")
	}
	now = now.Add(500 * time.Millisecond)
	if got := take("a", 10); got != 5 {
		t.Fatalf("after 0.5 s: %d allowed, want 5", got)
	}
	now = now.Add(time.Hour)
	if got := take("a", 25); got != 20 {
		t.Fatalf("refill is capped at the burst: %d allowed, want 20", got)
	}
	now = now.Add(-time.Minute) // a clock step back never adds tokens
	if got := take("a", 1); got != 0 {
		t.Fatalf("after a clock step back: %d allowed", got)
	}
	for range 100 {
		if !l.allow("127.0.0.1") || !l.allow("::1") {
			t.Fatal("loopback addresses are not limited")
		}
	}
	var nilLimiter *rateLimiter
	if !nilLimiter.allow("x") || newRateLimiter(0) != nil || newRateLimiter(-1) != nil {
		t.Fatal("a zero or negative rate must mean no limit")
	}
}

func TestRateLimiterBoundedTable(t *testing.T) {
	l := newRateLimiter(1)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	for i := range maxRateBuckets {
		l.allow(fmt.Sprint(i))
	}
	l.allow("hot")
	l.allow("hot")
	if n := len(l.buckets); n > maxRateBuckets {
		t.Fatalf("%d buckets, bound %d", n, maxRateBuckets)
	}
	now = now.Add(10 * time.Second) // everything refilled: the sweep frees the table
	l.allow("new")
	if n := len(l.buckets); n > 2 {
		t.Fatalf("%d buckets after the sweep, want the refilled ones dropped", n)
	}
}

func TestRateKey(t *testing.T) {
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"203.0.113.7:5000", nil, "203.0.113.7"},
		{"203.0.113.7:5000", []string{"1.2.3.4"}, "203.0.113.7"}, // direct client: its XFF is ignored
		{"127.0.0.1:5000", []string{"1.2.3.4"}, "1.2.3.4"},
		{"127.0.0.1:5000", []string{"6.6.6.6, 1.2.3.4"}, "1.2.3.4"}, // client-written entry first
		{"[::1]:5000", []string{"6.6.6.6", "1.2.3.4"}, "1.2.3.4"},
		{"127.0.0.1:5000", nil, "127.0.0.1"},
	} {
		r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{"X-Forwarded-For": tc.xff}}
		if got := rateKey(r); got != tc.want {
			t.Errorf("%s %v: %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// TestWorkerHandshakeRateLimit: as behind the balancer (loopback peer, X-Forwarded-For appended), a client
// address past its burst gets the acceptance failure (polling 400
// {"code":null}, WebSocket: connection closed without a response) while sockets it already has keep working.
func TestWorkerHandshakeRateLimit(t *testing.T) {
	ts := startWorker(t, echoController(t), func(o *Options) { o.HandshakeRateLimit = 1 }) // burst 2
	url := "http://" + ts.addr + "/socketcluster/?EIO=2&transport=polling&b64=1"
	codes := make([]int, 0, 4)
	var bodies []string
	get := func(xff string) (*http.Response, error) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("X-Forwarded-For", xff)
		return http.DefaultClient.Do(req)
	}
	for range 4 {
		res, err := get("6.6.6.6, 203.0.113.9") // the client-written first entry does not choose the bucket
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		codes = append(codes, res.StatusCode)
		bodies = append(bodies, string(b))
	}
	// Four requests within far less than a second: the burst of two passes, the rest are refused (a refill of
	// one token per second cannot add more than one in a slow run; at least one must be refused).
	if codes[0] != 200 || codes[1] != 200 || codes[3] != 400 || bodies[3] != `{"code":null}` {
		t.Fatalf("codes %v bodies %q", codes, bodies)
	}
	if res, err := get("203.0.113.10"); err != nil || res.StatusCode != 200 {
		t.Fatalf("another address: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	hdr := http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	if ws, res, err := d.Dial("ws://"+ts.addr+"/socketcluster/?EIO=2&transport=websocket", hdr); err == nil || res != nil {
		if ws != nil {
			ws.Close()
		}
		t.Fatalf("websocket handshake over the limit: err %v res %v", err, res)
	}
}
