//go:build linux

package handoff

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

const testTimeout = 5 * time.Second

// tcpPair returns a client connection and the accepted server side.
func tcpPair(t *testing.T) (client net.Conn, server *net.TCPConn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close(); _ = s.Close() })
	return client, s.(*net.TCPConn)
}

// startListener is a worker side: a TCP listener merged with a handoff
// socket in a private directory.
func startListener(t *testing.T, cfg Config) *Listener {
	t.Helper()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Path = filepath.Join(t.TempDir(), "w.sock")
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := Listen(tcp, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func acceptOne(t *testing.T, l *Listener) net.Conn {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := l.Accept(); ch <- res{c, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatal(r.err)
		}
		t.Cleanup(func() { _ = r.c.Close() })
		return r.c
	case <-time.After(testTimeout):
		t.Fatal("no connection accepted")
		return nil
	}
}

// checkLeaks verifies, after every other cleanup of t, that no goroutine
// started during the test is left.
func checkLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

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

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestHandoffPayloadFirst: the worker reads the payload, then what the
// client sends later, in order; its writes reach the client after the
// sender closed its copy.
func TestHandoffPayloadFirst(t *testing.T) {
	checkLeaks(t)
	l := startListener(t, Config{})
	client, server := tcpPair(t)
	// what the balancer read: the head and the start of a first frame
	if _, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\nframe-1")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = server.SetReadDeadline(time.Now().Add(testTimeout))
	n, err := io.ReadAtLeast(server, buf, len("GET / HTTP/1.1\r\nHost: x\r\n\r\nframe-1"))
	if err != nil {
		t.Fatal(err)
	}
	_ = server.SetReadDeadline(time.Time{})
	payload := append([]byte("REWRITTEN-HEAD\r\n"), buf[:n]...)
	s := NewSender(l.Path())
	defer s.Close()
	got := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); got <- c }()
	if err := s.Send(server, payload); err != nil {
		t.Fatalf("Send: %v", err)
	}
	_ = server.Close()
	var wc net.Conn
	select {
	case wc = <-got:
	case <-time.After(testTimeout):
		t.Fatal("worker did not get the connection")
	}
	defer wc.Close()
	if _, ok := wc.(*Conn); !ok {
		t.Fatalf("accepted %T, want *Conn", wc)
	}
	if _, err := client.Write([]byte("|frame-2")); err != nil {
		t.Fatal(err)
	}
	want := string(payload) + "|frame-2"
	all := make([]byte, len(want))
	_ = wc.SetReadDeadline(time.Now().Add(testTimeout))
	if _, err := io.ReadFull(wc, all); err != nil {
		t.Fatalf("worker read: %v", err)
	}
	if string(all) != want {
		t.Fatalf("worker read %q, want %q", all, want)
	}
	if _, err := wc.Write([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(testTimeout))
	reply := make([]byte, 5)
	if _, err := io.ReadFull(client, reply); err != nil || string(reply) != "reply" {
		t.Fatalf("client read %q, %v", reply, err)
	}
	if a, ok := wc.RemoteAddr().(*net.TCPAddr); !ok || a.String() != client.LocalAddr().String() {
		t.Fatalf("worker sees peer %v, want the client %v", wc.RemoteAddr(), client.LocalAddr())
	}
}

// TestSendFailures: every failure but ErrUnconfirmed leaves the connection
// usable by the sender (it can tunnel it instead).
func TestSendFailures(t *testing.T) {
	checkLeaks(t)
	cases := []struct {
		name string
		run  func(t *testing.T, server *net.TCPConn) error
		want error
	}{
		{"no worker socket", func(t *testing.T, server *net.TCPConn) error {
			s := NewSender(filepath.Join(t.TempDir(), "none.sock"))
			defer s.Close()
			return s.Send(server, []byte("x"))
		}, syscall.ENOENT},
		{"too large", func(t *testing.T, server *net.TCPConn) error {
			l := startListener(t, Config{})
			s := NewSender(l.Path())
			defer s.Close()
			return s.Send(server, make([]byte, MaxMessage+1))
		}, ErrTooLarge},
		{"closed sender", func(t *testing.T, server *net.TCPConn) error {
			l := startListener(t, Config{})
			s := NewSender(l.Path())
			s.Close()
			return s.Send(server, []byte("x"))
		}, ErrClosed},
		{"worker stopping", func(t *testing.T, server *net.TCPConn) error {
			l := startListener(t, Config{})
			s := NewSender(l.Path())
			defer s.Close()
			errc := make(chan error, 1)
			go func() { errc <- s.Send(server, []byte("x")) }()
			// nobody accepts: the message waits in the worker until Close
			waitFor(t, "the worker to read the message", func() bool { return l.received.Load() == 1 })
			_ = l.Close()
			return <-errc
		}, ErrRefused},
		{"worker draining", func(t *testing.T, server *net.TCPConn) error {
			l := startListener(t, Config{})
			s := NewSender(l.Path())
			defer s.Close()
			l.CloseHandoff()
			// TCP is still served
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = acceptOne(t, l)
			return s.Send(server, []byte("x"))
		}, syscall.ENOENT},
		{"worker closed", func(t *testing.T, server *net.TCPConn) error {
			l := startListener(t, Config{})
			_ = l.Close()
			s := NewSender(l.Path())
			defer s.Close()
			return s.Send(server, []byte("x"))
		}, syscall.ENOENT},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			err := tc.run(t, server)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Send: %v, want %v", err, tc.want)
			}
			if errors.Is(err, ErrUnconfirmed) {
				t.Fatal("failure reported as unconfirmed")
			}
			// the sender still owns a working connection
			if _, err := client.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			b := make([]byte, 4)
			_ = server.SetReadDeadline(time.Now().Add(testTimeout))
			if _, err := io.ReadFull(server, b); err != nil || string(b) != "ping" {
				t.Fatalf("sender's connection after failure: %q %v", b, err)
			}
		})
	}
}

// TestReceiveRejects: malformed messages are answered AckBad and every
// descriptor in them is closed.
func TestReceiveRejects(t *testing.T) {
	checkLeaks(t)
	cases := []struct {
		name    string
		payload int
		fds     int
	}{
		{"oversized", 200, 1},
		{"no descriptor", 10, 0},
		{"two descriptors", 10, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := startListener(t, Config{MaxMessage: 100})
			_, server := tcpPair(t)
			uc, err := net.Dial(unixNet, l.Path())
			if err != nil {
				t.Fatal(err)
			}
			defer uc.Close()
			// settle the listener's own descriptors (the accepted peer)
			waitFor(t, "the worker to accept the sender", func() bool {
				l.mu.Lock()
				defer l.mu.Unlock()
				return len(l.peers) == 1
			})
			f, err := server.File()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			before := openFDs(t)
			var rights []byte
			if tc.fds > 0 {
				fds := make([]int, tc.fds)
				for i := range fds {
					fds[i] = int(f.Fd())
				}
				rights = syscall.UnixRights(fds...)
			}
			if _, _, err := uc.(*net.UnixConn).WriteMsgUnix(bytes.Repeat([]byte("h"), tc.payload), rights, nil); err != nil {
				t.Fatal(err)
			}
			_ = uc.SetReadDeadline(time.Now().Add(testTimeout))
			ack := make([]byte, 1)
			if _, err := uc.Read(ack); err != nil || ack[0] != AckBad {
				t.Fatalf("answer %q %v, want %q", ack, err, AckBad)
			}
			waitFor(t, "the worker to close the received descriptors", func() bool { return openFDs(t) == before })
		})
	}
}

// TestIdleSenderConnRedialed: a pooled connection the worker closed for
// idleness is replaced transparently.
func TestIdleSenderConnRedialed(t *testing.T) {
	checkLeaks(t)
	l := startListener(t, Config{IdleTimeout: 50 * time.Millisecond})
	s := NewSender(l.Path())
	defer s.Close()
	for i := range 2 {
		_, server := tcpPair(t)
		got := make(chan net.Conn, 1)
		go func() { c, _ := l.Accept(); got <- c }()
		if err := s.Send(server, []byte("x")); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		_ = (<-got).Close()
		waitFor(t, "the worker to drop the idle sender", func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return len(l.peers) == 0
		})
	}
}

// TestSenderReapsIdle: a sender closes its idle connections after its idle
// timeout (and the worker's side of them goes too).
func TestSenderReapsIdle(t *testing.T) {
	checkLeaks(t)
	l := startListener(t, Config{})
	s := NewSender(l.Path())
	s.IdleTimeout = 50 * time.Millisecond
	defer s.Close()
	_, server := tcpPair(t)
	go func() {
		if c, err := l.Accept(); err == nil {
			_ = c.Close()
		}
	}()
	if err := s.Send(server, []byte("x")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the idle connection to be closed on both sides", func() bool {
		s.mu.Lock()
		idle := len(s.idle)
		s.mu.Unlock()
		l.mu.Lock()
		defer l.mu.Unlock()
		return idle == 0 && len(l.peers) == 0
	})
}

func TestEntry(t *testing.T) {
	cases := []struct{ addr, path, entry string }{
		{"127.0.0.1:80", "", "127.0.0.1:80"},
		{"127.0.0.1:80", "/tmp/a|b/w.sock", "127.0.0.1:80|/tmp/a|b/w.sock"},
		{"[::1]:80", "/x", "[::1]:80|/x"},
	}
	for _, c := range cases {
		e := JoinEntry(c.addr, c.path)
		if e != c.entry {
			t.Fatalf("JoinEntry = %q, want %q", e, c.entry)
		}
		if a, p := SplitEntry(e); a != c.addr || p != c.path {
			t.Fatalf("SplitEntry(%q) = %q %q", e, a, p)
		}
	}
	if !strings.Contains(JoinEntry("a", "b"), entrySep) {
		t.Fatal("no separator")
	}
}

func TestAnswerCodec(t *testing.T) {
	cases := []struct {
		name string
		ack  byte
		load int
		wire []byte
	}{
		{"no load", AckAccepted, NoLoad, []byte{'A'}},
		{"zero", AckAccepted, 0, []byte{'A', 0, 0, 0, 0}},
		{"refused", AckRefused, 258, []byte{'R', 0, 0, 1, 2}},
		{"large", AckAccepted, 1 << 24, []byte{'A', 1, 0, 0, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wire := encodeAnswer(c.ack, c.load)
			if string(wire) != string(c.wire) {
				t.Fatalf("encodeAnswer = %v, want %v", wire, c.wire)
			}
			ack, load, ok := decodeAnswer(wire)
			if !ok || ack != c.ack || load != c.load {
				t.Fatalf("decodeAnswer = %q %d %v", ack, load, ok)
			}
		})
	}
	for _, bad := range [][]byte{nil, {'A', 0}, {'A', 0, 0, 0, 0, 0}} {
		if _, _, ok := decodeAnswer(bad); ok {
			t.Fatalf("decodeAnswer(%v) accepted", bad)
		}
	}
}

// TestAnswerCarriesLoad: SendLoad returns what the worker's load function
// says at the time of each answer, and NoLoad from a worker without one.
func TestAnswerCarriesLoad(t *testing.T) {
	checkLeaks(t)
	var open atomic.Int64
	cases := []struct {
		name string
		cfg  Config
		load func() int
	}{
		{"no load function", Config{}, nil},
		{"config", Config{Load: func() int { return int(open.Load()) }}, func() int { return int(open.Load()) }},
		{"negative clamps to zero", Config{Load: func() int { return -3 }}, func() int { return 0 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := startListener(t, c.cfg)
			s := NewSender(l.Path())
			defer s.Close()
			for i := 0; i < 3; i++ {
				open.Store(int64(10 * i))
				_, server := tcpPair(t)
				got := make(chan net.Conn, 1)
				go func() { wc, _ := l.Accept(); got <- wc }()
				load, err := s.SendLoad(server, []byte("GET / HTTP/1.1\r\n\r\n"))
				if err != nil {
					t.Fatalf("SendLoad: %v", err)
				}
				_ = server.Close()
				(<-got).Close()
				want := NoLoad
				if c.load != nil {
					want = c.load()
				}
				if load != want {
					t.Fatalf("handoff %d: load %d, want %d", i, load, want)
				}
			}
		})
	}
	// SetLoad replaces the function of a running listener
	l := startListener(t, Config{})
	l.SetLoad(func() int { return 7 })
	s := NewSender(l.Path())
	defer s.Close()
	_, server := tcpPair(t)
	defer server.Close()
	go func() {
		if wc, err := l.Accept(); err == nil {
			wc.Close()
		}
	}()
	if load, err := s.SendLoad(server, []byte("x")); err != nil || load != 7 {
		t.Fatalf("SendLoad after SetLoad = %d, %v; want 7", load, err)
	}
}
