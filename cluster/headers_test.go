package cluster

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestWorkerRefusesOversizedHeaders: request headers over
// DefaultMaxHeaderBytes get 431 and the worker keeps serving.
func TestWorkerRefusesOversizedHeaders(t *testing.T) {
	ts := startWorker(t, httpxController(t), nil)
	req, _ := http.NewRequest("GET", "http://"+ts.addr+"/headers", nil)
	req.Header.Set("X-Big", strings.Repeat("a", DefaultMaxHeaderBytes+4096))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized headers: status %d, want 431", resp.StatusCode)
	}
	if r, body := get(t, "http://"+ts.addr+"/arrayhead", nil); r.StatusCode != 202 || body != "ok" {
		t.Fatalf("worker after oversized headers: %d %q", r.StatusCode, body)
	}
}

// TestWorkerDropsSlowHeaders: a client that never finishes its headers
// (slowloris) is disconnected after HeaderTimeout, while others are served.
func TestWorkerDropsSlowHeaders(t *testing.T) {
	ts := startWorker(t, httpxController(t), func(o *Options) { o.HeaderTimeout = 300 * time.Millisecond })
	conn, err := net.DialTimeout("tcp", ts.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /arrayhead HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second)) // well under the 10 s default: only HeaderTimeout closes it in time
	_, err = bufio.NewReader(conn).ReadString('\n')
	if err == nil {
		// net/http may answer 408 before closing; what matters is the close
		_, err = io.Copy(io.Discard, conn)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("slow-header connection still open after %v", time.Since(start))
	}
	if r, body := get(t, "http://"+ts.addr+"/arrayhead", nil); r.StatusCode != 202 || body != "ok" {
		t.Fatalf("worker while a slow client lingered: %d %q", r.StatusCode, body)
	}
}
