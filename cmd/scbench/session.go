package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultSessionSockets is the number of sockets of the one session of the sessfanout scenario.
	DefaultSessionSockets = 10
	// sessionWorkers is the least number of workers the sessfanout scenario starts: the session's sockets
	// are spread over them.
	sessionWorkers = 2
	// sessionEvent is the event the trigger socket emits (the worker answers with socket.session.emit) and
	// sessionBenchEvent the one every socket of the session receives (cmd/scbench/testdata/worker.js).
	sessionEvent      = "sessemit"
	sessionBenchEvent = "sessbench"
	// ssidCookie is the session cookie of the started server (--appName scbench).
	ssidCookie = "n/scbench/ssid"
)

// freeLoopbackPorts returns n ports of 127.0.0.1 that were free a moment ago.
func freeLoopbackPorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for len(ports) < n {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		_, p, _ := net.SplitHostPort(addr)
		port, err := strconv.Atoi(p)
		if err != nil {
			return nil, err
		}
		ports = append(ports, port)
	}
	return ports, nil
}

// runSessionFanout measures socket.session.emit: one session with n sockets spread over the workers (each
// socket connects straight to its worker's port, the way a session ends up on several workers when one of
// them is replaced or a tab reconnects elsewhere: the balancer itself keeps a session's sockets together), and
// one of them emits sessionEvent rate times per second for dur; the worker's JavaScript handler calls
// socket.session.emit, which reaches every socket of the session on every worker through the store. The
// baseline's figure for it is a channel fan-out to as many sockets (runScenario).
func runSessionFanout(ctx context.Context, t *target, n, rate int, dur time.Duration, progress io.Writer) (result, error) {
	r := result{Scenario: "session-fanout", Target: t.name, Params: map[string]string{
		"sockets": strconv.Itoa(n), "workers": strconv.Itoa(len(t.workerHosts)), "rate": strconv.Itoa(rate),
		"duration": dur.String()}}
	if len(t.workerHosts) < sessionWorkers {
		return r, fmt.Errorf("%w: session-fanout needs the workers' ports (started with --server-bin)", ErrUsage)
	}
	var dl deliveries
	onMsg := func(m *inbound) {
		if m.Event == sessionBenchEvent {
			dl.record(m.Data)
		}
	}
	url := func(i int) string {
		return "ws://" + t.workerHosts[i%len(t.workerHosts)] + enginePath + "?EIO=3&transport=websocket"
	}
	first, err := dialWS(ctx, url(0), nil, true, onMsg)
	if err != nil {
		return r, err
	}
	clients := []client{first}
	defer func() { closeAll(clients) }()
	hdr := http.Header{"Cookie": {ssidCookie + "=" + first.sid}}
	for i := 1; i < n; i++ {
		c, err := dialWS(ctx, url(i), hdr, true, onMsg)
		if err != nil {
			return r, err
		}
		clients = append(clients, c)
	}
	// every socket must be in the session before the measurement: one emit must reach all n
	if err := first.send(sessionMessage(time.Now())); err != nil {
		return r, err
	}
	deadline := time.Now().Add(connectWait)
	for dl.n.Load() < int64(n) {
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%s/session-fanout: a session.emit reached %d of %d sockets within %v (the ssid cookie was not adopted?)",
				t.name, dl.n.Load(), n, connectWait)
		}
		if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
			return r, err
		}
	}
	fmt.Fprintf(progress, "  %s/session-fanout: %d sockets of one session on %d workers, emitting %d/s for %v\n",
		t.name, n, len(t.workerHosts), rate, dur)
	err = dl.measure(ctx, t, &r, rate, dur, n, func(now time.Time) error { return first.send(sessionMessage(now)) })
	return r, err
}

// sessionMessage is the trigger event carrying its send time.
func sessionMessage(at time.Time) string {
	var b strings.Builder
	b.WriteString(`{"event":"` + sessionEvent + `","data":{"t":`)
	b.WriteString(strconv.FormatInt(at.UnixNano(), 10))
	b.WriteString(`}}`)
	return b.String()
}
