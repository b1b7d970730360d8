package balancer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// pageBackend is a worker stand-in for plain pages: /len answers with a
// Content-Length, /chunked in two flushed chunks, /close close-delimited,
// /trailer chunked with trailers, /stream a first chunk then the rest once release is closed; every body
// reports the request as the worker saw it.
type pageBackend struct {
	addr    string
	release chan struct{}
}

func startPageBackend(t *testing.T) *pageBackend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	be := &pageBackend{addr: l.Addr().String(), release: make(chan struct{})}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s %s host=%s cl=%d te=%v body=%q\n", r.Method, r.RequestURI, r.Host, r.ContentLength, r.TransferEncoding, body)
		for _, k := range keys {
			fmt.Fprintf(&sb, "%s=%q\n", k, r.Header[k])
		}
		seen := sb.String()
		h := w.Header()
		h["Set-Cookie"] = []string{"a=1", "b=2"}
		h.Set("Connection", "X-Drop")
		h.Set("X-Drop", "1")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("Pragma", "no-cache")
		switch r.URL.Path {
		case "/len":
			_, _ = io.WriteString(w, seen)
		case "/chunked":
			_, _ = io.WriteString(w, seen)
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, "second part")
		case "/close":
			c, bw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			_, _ = bw.WriteString("HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Raw: yes\r\n\r\n" + seen)
			_ = bw.Flush()
			_ = c.Close()
		case "/trailer":
			h.Set("Trailer", "X-Sum, x-more")
			_, _ = io.WriteString(w, seen)
			w.(http.Flusher).Flush()
			h.Set("X-Sum", "42")
			h.Set(http.TrailerPrefix+"X-Extra", "yes")
		case "/stream":
			h.Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "data: one\n\n")
			w.(http.Flusher).Flush()
			<-be.release
			_, _ = io.WriteString(w, "data: two\n\n")
		}
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return be
}

// startPageFront serves b on a loopback port; with viaProxy set, requests
// skip the lean path and take the ReverseProxy, as before it existed.
func startPageFront(t *testing.T, b *Balancer, viaProxy *atomic.Bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !viaProxy.Load() {
			b.ServeHTTP(w, r)
			return
		}
		t := b.pickWait(r)
		b.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, t)))
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String()
}

// rawExchange sends req (a raw request head and body) on a new connection
// and returns the response read from it.
func rawExchange(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(req, " ")
	res, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%.40q: %v", req, err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%.40q: body: %v", req, err)
	}
	res.Header.Del("Date")
	return res, string(body)
}

func idleConns(b *Balancer) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := 0
	for _, t := range b.workers {
		t.pool.mu.Lock()
		n += len(t.pool.idle)
		t.pool.mu.Unlock()
	}
	return n
}

// TestLeanPageMatchesProxy: page GETs and POSTs on the lean path give the
// client the same status, headers and body as through the ReverseProxy,
// and the worker sees the same request, for every way a worker delimits a
// response.
func TestLeanPageMatchesProxy(t *testing.T) {
	checkLeaks(t)
	be := startPageBackend(t)
	close(be.release)
	b := New(Config{AppName: "app", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.SetWorkers(map[int]string{0: be.addr})
	t.Cleanup(func() { b.SetWorkers(nil) })
	var viaProxy atomic.Bool
	addr := startPageFront(t, b, &viaProxy)
	hdr := "Host: example.test\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: 300\r\nTe: trailers, deflate\r\n" +
		"X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil\r\nX-Forwarded-Proto: https\r\nForwarded: for=6.6.6.6\r\n" +
		"X-Forwarded-Ssl: on\r\nX-Forwarded-Port: 1\r\nX-Custom: a\r\nX-Custom: b\r\nUser-Agent: test/1\r\n"
	cases := []struct{ name, req string }{
		{"GET len", "GET /len?a=1&b=%41 HTTP/1.1\r\n" + hdr + "\r\n"},
		{"GET chunked", "GET /chunked HTTP/1.1\r\n" + hdr + "\r\n"},
		{"GET close", "GET /close HTTP/1.1\r\n" + hdr + "\r\n"},
		{"GET trailer", "GET /trailer HTTP/1.1\r\n" + hdr + "\r\n"},
		{"GET stream", "GET /stream HTTP/1.1\r\n" + hdr + "\r\n"},
		{"GET len 1.0", "GET /len HTTP/1.0\r\n" + hdr + "\r\n"},
		{"GET empty body", "GET /len HTTP/1.1\r\n" + hdr + "Content-Length: 0\r\n\r\n"},
		{"POST len", "POST /len HTTP/1.1\r\n" + hdr + "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"},
		{"POST empty", "POST /len HTTP/1.1\r\n" + hdr + "\r\n"},
		{"POST chunked", "POST /chunked HTTP/1.1\r\n" + hdr + "Content-Length: 3\r\n\r\nabc"},
		{"POST close", "POST /close HTTP/1.1\r\n" + hdr + "Content-Length: 3\r\n\r\nabc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			viaProxy.Store(true)
			want, wantBody := rawExchange(t, addr, tc.req)
			viaProxy.Store(false)
			idle := idleConns(b)
			got, gotBody := rawExchange(t, addr, tc.req)
			if tc.name != "GET stream" && !strings.Contains(wantBody, "X-Forwarded-For=[\"127.0.0.1\"]") || strings.Contains(wantBody, "6.6.6.6") {
				t.Fatalf("proxy baseline not as expected: %q", wantBody)
			}
			if got.StatusCode != want.StatusCode || got.Proto != want.Proto || got.ContentLength != want.ContentLength ||
				!slices.Equal(got.TransferEncoding, want.TransferEncoding) || got.Close != want.Close {
				t.Errorf("lean: %d %s len=%d te=%v close=%v\nproxy: %d %s len=%d te=%v close=%v", got.StatusCode, got.Proto,
					got.ContentLength, got.TransferEncoding, got.Close, want.StatusCode, want.Proto, want.ContentLength,
					want.TransferEncoding, want.Close)
			}
			if fmt.Sprint(got.Trailer) != fmt.Sprint(want.Trailer) {
				t.Errorf("trailer\n lean: %v\nproxy: %v", got.Trailer, want.Trailer)
			}
			if fmt.Sprint(got.Header) != fmt.Sprint(want.Header) {
				t.Errorf("headers\n lean: %v\nproxy: %v", got.Header, want.Header)
			}
			if gotBody != wantBody {
				t.Errorf("body\n lean: %q\nproxy: %q", gotBody, wantBody)
			}
			// the lean path ran: a response that keeps its worker
			// connection alive leaves it in the pool
			if tc.name == "GET len" && idleConns(b) != idle+1 {
				t.Errorf("no pooled worker connection after a lean GET (%d idle before, %d after)", idle, idleConns(b))
			}
		})
	}
}

// TestLeanPageStreams: a streamed response reaches the client chunk by
// chunk while the worker is still writing it.
func TestLeanPageStreams(t *testing.T) {
	checkLeaks(t)
	be := startPageBackend(t)
	_, addr := startBalancer(t, Config{}, map[int]string{0: be.addr})
	for _, path := range []string{"/stream", "/stream?post"} {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		method := "GET"
		if strings.HasSuffix(path, "post") {
			method = "POST"
		}
		_, _ = io.WriteString(c, method+" "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
		br := bufio.NewReader(c)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(res.Body).ReadString('\n')
		if err != nil || line != "data: one\n" {
			t.Fatalf("%s first chunk before the worker finished: %q %v", path, line, err)
		}
		if !slices.Equal(res.TransferEncoding, []string{"chunked"}) {
			t.Fatalf("%s transfer encoding %v", path, res.TransferEncoding)
		}
		be.release <- struct{}{} // the handler goes on
		_ = res.Body.Close()
		_ = c.Close()
	}
}

// TestLeanPageHead: HEAD requests (the ReverseProxy's) still work.
func TestLeanPageHead(t *testing.T) {
	checkLeaks(t)
	be := startPageBackend(t)
	close(be.release)
	_, addr := startBalancer(t, Config{}, map[int]string{0: be.addr})
	res, body := rawExchange(t, addr, "HEAD /len HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if res.StatusCode != http.StatusOK || body != "" || res.Header.Get("X-Drop") != "" || len(res.Header["Set-Cookie"]) != 2 {
		t.Fatalf("HEAD: %d %v %q", res.StatusCode, res.Header, body)
	}
}
