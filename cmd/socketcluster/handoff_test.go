//go:build linux

package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/cluster/handoff"
)

var handoffBalancerRe = regexp.MustCompile(`ready child=balancer 0 addr=\S+ pid=(\d+)`)

func procFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func (tc *testCluster) balancerPID(t *testing.T) int {
	t.Helper()
	var pid int
	waitUntil(t, clusterStartWait, "the balancer's ready line", func() bool {
		m := handoffBalancerRe.FindStringSubmatch(tc.out.String())
		if m != nil {
			pid, _ = strconv.Atoi(m[1])
		}
		return pid > 0
	})
	return pid
}

// TestClusterHandoff: WebSocket connections through the balancer end up in
// the worker alone: the balancer process holds no descriptor for them.
func TestClusterHandoff(t *testing.T) {
	tc := startCluster(t, "--workers", "1", "--balancers", "1")
	bal := tc.balancerPID(t)
	wpid, _ := strconv.Atoi(tc.workers()[0][1])
	// the first connection opens the balancer's handoff connection
	first, err := dialSC(tc.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.ws.Close()
	balBefore, workerBefore := procFDs(t, bal), procFDs(t, wpid)
	const n = 20
	for i := 0; i < n; i++ {
		c, err := dialSC(tc.addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.ws.Close()
		if _, err := c.call("echo", "x", 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if d := procFDs(t, bal) - balBefore; d > handoff.DefaultIdleConns {
		t.Fatalf("balancer holds %d more descriptors for %d WebSockets (a tunnel holds 2 each)", d, n)
	}
	if d := procFDs(t, wpid) - workerBefore; d < n {
		t.Fatalf("worker holds %d more descriptors for %d WebSockets", d, n)
	}
}

// TestClusterHandoffForgedForwardedFor: a client's own X-Forwarded-For does
// not choose the address its socket is charged to (addressSocketLimit).
func TestClusterHandoffForgedForwardedFor(t *testing.T) {
	tc := startCluster(t, "--workers", "1", "--addressSocketLimit", "1")
	h := http.Header{}
	h.Set("X-Forwarded-For", "6.6.6.6")
	a, err := dialSC(tc.addr, h)
	if err != nil {
		t.Fatalf("first socket: %v", err)
	}
	defer a.ws.Close()
	h.Set("X-Forwarded-For", "7.7.7.7")
	if b, err := dialSC(tc.addr, h); err == nil {
		b.ws.Close()
		t.Fatal("a second socket from 127.0.0.1 was bound: the forged X-Forwarded-For was charged")
	}
}

// TestClusterHandoffOneRequest: a handed-off connection whose upgrade the
// worker refused is closed; the client cannot send a next request past the
// balancer on it.
func TestClusterHandoffOneRequest(t *testing.T) {
	tc := startCluster(t, "--workers", "1")
	c, err := net.Dial("tcp", tc.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET /socketcluster/?EIO=3&transport=websocket HTTP/1.1\r\nHost: " + tc.addr + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 99\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode == http.StatusSwitchingProtocols {
		t.Fatal("upgrade with a bad version accepted")
	}
	if _, err := io.WriteString(c, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n"); err == nil {
		// EOF or a reset: closed; a byte or a timeout: still open
		var ne net.Error
		if _, err := br.ReadByte(); err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still served after the refused upgrade (read: %v)", err)
		}
	}
}
