package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// rpcTimeout bounds one echo RPC; a client whose reply does not come stops its loop and counts an error.
	rpcTimeout = 10 * time.Second
	// drainWait bounds how long fan-out waits for the last deliveries after the publisher stopped.
	drainWait = 3 * time.Second
	// dialConcurrency is the number of clients the echo and fan-out scenarios connect at once.
	dialConcurrency = 32
	// keepAliveInterval is how often idle clients send an engine.io ping (the server's default pingInterval is 25 s).
	keepAliveInterval = 20 * time.Second
	// benchChannel is the channel of the fan-out scenario.
	benchChannel = "scbench"
	// maxSamples bounds the latency samples kept per scenario (memory stays bounded on long runs).
	maxSamples = 1 << 21
)

// metric is one figure of a result.
type metric struct {
	Name  string  `json:"name"`
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
	// Ratio is Value divided by the baseline's value of the same metric (0 when there is none).
	Ratio float64 `json:"ratio,omitempty"`
}

// result is one scenario against one target.
type result struct {
	Scenario string            `json:"scenario"`
	Target   string            `json:"target"`
	Params   map[string]string `json:"params"`
	Metrics  []metric          `json:"metrics"`
	// Baseline names the baseline scenario the ratios refer to.
	Baseline string `json:"baseline,omitempty"`
}

func (r *result) add(name, unit string, v float64) {
	r.Metrics = append(r.Metrics, metric{Name: name, Unit: unit, Value: v})
}

func (r *result) get(name string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// samples is a bounded, concurrency-safe set of latencies.
type samples struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *samples) add(d time.Duration) {
	s.mu.Lock()
	if len(s.d) < maxSamples {
		s.d = append(s.d, d)
	}
	s.mu.Unlock()
}

// reset drops every sample.
func (s *samples) reset() {
	s.mu.Lock()
	s.d = s.d[:0]
	s.mu.Unlock()
}

// quantile returns the q-quantile in milliseconds (0 without samples).
func (s *samples) quantile(q float64) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d) == 0 {
		return 0
	}
	slices.Sort(s.d)
	i := int(q * float64(len(s.d)-1))
	return float64(s.d[i]) / float64(time.Millisecond)
}

// snapshot is the server and client resource use at one instant.
type snapshot struct {
	cpu     time.Duration
	cpuOK   bool
	mallocs uint64
	at      time.Time
}

func take(t *target) snapshot {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cpu, ok := t.cpu()
	return snapshot{cpu: cpu, cpuOK: ok, mallocs: ms.Mallocs, at: time.Now()}
}

// dialAll connects n clients, at most conc at a time, recording each handshake's duration in hs (may be nil).
func dialAll(ctx context.Context, d *dialer, polling bool, n, conc int, hs *samples, fn func(i int) onMessage) ([]client, error) {
	clients := make([]client, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			closeAll(clients)
			return nil, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			start := time.Now()
			c, err := d.dial(ctx, polling, fn(i))
			if err != nil {
				errs <- err
				return
			}
			if hs != nil {
				hs.add(time.Since(start))
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		closeAll(clients)
		return nil, fmt.Errorf("connecting %d clients: %w", n, err)
	}
	return clients, nil
}

// closeAll closes clients and waits (bounded) for their readers to end.
func closeAll(clients []client) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, dialConcurrency)
	for _, c := range clients {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.close()
			select {
			case <-c.done():
			case <-time.After(connectWait):
			}
		}()
	}
	wg.Wait()
}

// keepAlive pings every client every keepAliveInterval until stop is closed.
func keepAlive(clients []client, stop <-chan struct{}) {
	t := time.NewTicker(keepAliveInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			for _, c := range clients {
				c.ping()
			}
		}
	}
}

// sleepCtx sleeps d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// echoPayload is the data of every echo RPC (a small JSON object, as a chat message).
const echoPayload = `{"n":12345,"text":"hello world"}`

// runEcho runs C closed-loop clients doing emit-with-ack "echo" for warmup+dur.
func runEcho(ctx context.Context, t *target, d *dialer, polling bool, n int, warmup, dur time.Duration, progress io.Writer) (result, error) {
	name := "echo-ws"
	if polling {
		name = "echo-polling"
	}
	r := result{Scenario: name, Target: t.name, Params: map[string]string{"clients": strconv.Itoa(n), "duration": dur.String()}}
	replies := make([]chan int64, n)
	for i := range replies {
		replies[i] = make(chan int64, 4)
	}
	clients, err := dialAll(ctx, d, polling, n, dialConcurrency, nil, func(i int) onMessage {
		return func(m *inbound) {
			if m.Event == "" && m.CID > 0 {
				select {
				case replies[i] <- m.CID:
				default:
				}
			}
		}
	})
	if err != nil {
		return r, err
	}
	defer closeAll(clients)
	fmt.Fprintf(progress, "  %s/%s: %d clients connected, warming up %v\n", t.name, name, n, warmup)
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		ops       atomic.Int64
		failures  atomic.Int64
		lat       samples
		wg        sync.WaitGroup
	)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 128)
			for cid := int64(1); !stop.Load() && ctx.Err() == nil; cid++ {
				buf = append(buf[:0], `{"event":"echo","data":`...)
				buf = append(buf, echoPayload...)
				buf = append(buf, `,"cid":`...)
				buf = strconv.AppendInt(buf, cid, 10)
				buf = append(buf, '}')
				start := time.Now()
				if err := c.send(string(buf)); err != nil {
					failures.Add(1)
					return
				}
				if !waitReply(replies[i], cid) {
					failures.Add(1)
					return
				}
				if measuring.Load() {
					lat.add(time.Since(start))
					ops.Add(1)
				}
			}
		}()
	}
	if err := sleepCtx(ctx, warmup); err != nil {
		stop.Store(true)
		wg.Wait()
		return r, err
	}
	s0 := take(t)
	measuring.Store(true)
	err = sleepCtx(ctx, dur)
	measuring.Store(false)
	s1 := take(t)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		return r, err
	}
	if f := failures.Load(); f > 0 {
		return r, fmt.Errorf("%s/%s: %d clients failed (no reply within %v or connection lost)", t.name, name, f, rpcTimeout)
	}
	total := ops.Load()
	secs := s1.at.Sub(s0.at).Seconds()
	r.add("rpc_per_s", "1/s", float64(total)/secs)
	r.add("latency_p50", "ms", lat.quantile(0.50))
	r.add("latency_p99", "ms", lat.quantile(0.99))
	if s0.cpuOK && total > 0 {
		r.add("server_cpu_per_rpc", "us", float64((s1.cpu-s0.cpu).Microseconds())/float64(total))
	}
	if total > 0 {
		r.add("client_allocs_per_rpc", "allocs", float64(s1.mallocs-s0.mallocs)/float64(total))
	}
	return r, nil
}

// waitReply waits for the reply to cid (stale replies are skipped).
func waitReply(ch chan int64, cid int64) bool {
	t := time.NewTimer(rpcTimeout)
	defer t.Stop()
	for {
		select {
		case got := <-ch:
			if got == cid {
				return true
			}
		case <-t.C:
			return false
		}
	}
}

// runFanout subscribes S clients to one channel and publishes rate messages per second for dur from another
// client; every delivery carries its publish time.
func runFanout(ctx context.Context, t *target, d *dialer, subs, rate int, dur time.Duration, progress io.Writer) (result, error) {
	r := result{Scenario: "fanout", Target: t.name, Params: map[string]string{
		"subscribers": strconv.Itoa(subs), "rate": strconv.Itoa(rate), "duration": dur.String()}}
	var dl deliveries
	acks := make(chan struct{}, subs)
	clients, err := dialAll(ctx, d, false, subs, dialConcurrency, nil, func(int) onMessage {
		return func(m *inbound) {
			switch {
			case m.Event == benchChannel:
				dl.record(m.Data)
			case m.Event == "" && m.CID == 1:
				acks <- struct{}{}
			}
		}
	})
	if err != nil {
		return r, err
	}
	defer closeAll(clients)
	for _, c := range clients {
		if err := c.send(`{"event":"subscribe","data":"` + benchChannel + `","cid":1}`); err != nil {
			return r, err
		}
	}
	deadline := time.After(connectWait)
	for i := 0; i < subs; i++ {
		select {
		case <-acks:
		case <-deadline:
			return r, fmt.Errorf("%s/fanout: %d of %d subscriptions acknowledged within %v", t.name, i, subs, connectWait)
		}
	}
	pub, err := d.dial(ctx, false, func(*inbound) {})
	if err != nil {
		return r, err
	}
	defer closeAll([]client{pub})
	fmt.Fprintf(progress, "  %s/fanout: %d subscribers ready, publishing %d/s for %v\n", t.name, subs, rate, dur)
	buf := make([]byte, 0, 96)
	err = dl.measure(ctx, t, &r, rate, dur, subs, func(now time.Time) error {
		buf = append(buf[:0], `{"event":"publish","data":{"event":"`+benchChannel+`","data":{"t":`...)
		buf = strconv.AppendInt(buf, now.UnixNano(), 10)
		buf = append(buf, `}}}`...)
		return pub.send(string(buf))
	})
	return r, err
}

// deliveries counts the timestamped deliveries ({"t": <send time in ns>}) of a fan-out scenario.
type deliveries struct {
	n   atomic.Int64
	lat samples
}

// record counts one delivery whose data carries its send time (anything else is ignored).
func (dl *deliveries) record(data json.RawMessage) {
	var p struct {
		T int64 `json:"t"`
	}
	if json.Unmarshal(data, &p) == nil && p.T > 0 {
		dl.lat.add(time.Duration(time.Now().UnixNano() - p.T))
		dl.n.Add(1)
	}
}

// measure resets the counts, calls send rate times per second for dur (each send should reach perSend
// sockets), waits up to drainWait for the last deliveries and adds the fan-out figures to r.
func (dl *deliveries) measure(ctx context.Context, t *target, r *result, rate int, dur time.Duration, perSend int,
	send func(now time.Time) error) error {
	dl.n.Store(0)
	dl.lat.reset()
	tick := time.NewTicker(time.Second / time.Duration(max(rate, 1)))
	defer tick.Stop()
	s0 := take(t)
	end := time.Now().Add(dur)
	sent := 0
	for time.Now().Before(end) && ctx.Err() == nil {
		<-tick.C
		if err := send(time.Now()); err != nil {
			return err
		}
		sent++
	}
	secs := time.Since(s0.at).Seconds()
	want := int64(sent * perSend)
	drainEnd := time.Now().Add(drainWait)
	for dl.n.Load() < want && time.Now().Before(drainEnd) {
		_ = sleepCtx(ctx, 10*time.Millisecond)
	}
	s1 := take(t)
	got := dl.n.Load()
	r.add("deliveries_per_s", "1/s", float64(got)/secs)
	r.add("delivered_fraction", "", float64(got)/float64(max(want, 1)))
	r.add("latency_p50", "ms", dl.lat.quantile(0.50))
	r.add("latency_p99", "ms", dl.lat.quantile(0.99))
	if s0.cpuOK && got > 0 {
		r.add("server_cpu_per_delivery", "us", float64((s1.cpu-s0.cpu).Microseconds())/float64(got))
	}
	return nil
}

// runConns opens a storm of n connections (conc in flight), then keeps them idle for settle and reads the
// server's resident memory.
func runConns(ctx context.Context, t *target, d *dialer, polling bool, n, conc int, settle time.Duration, progress io.Writer) (result, error) {
	name := "conns-ws"
	if polling {
		name = "conns-polling"
	}
	r := result{Scenario: name, Target: t.name, Params: map[string]string{"connections": strconv.Itoa(n), "concurrency": strconv.Itoa(conc)}}
	rss0, rssOK := t.rss()
	var hs samples
	start := time.Now()
	clients, err := dialAll(ctx, d, polling, n, conc, &hs, func(int) onMessage { return func(*inbound) {} })
	if err != nil {
		return r, err
	}
	elapsed := time.Since(start)
	defer closeAll(clients)
	stop := make(chan struct{})
	defer close(stop)
	go keepAlive(clients, stop)
	fmt.Fprintf(progress, "  %s/%s: %d connections in %v, idle for %v\n", t.name, name, n, elapsed.Round(time.Millisecond), settle)
	if err := sleepCtx(ctx, settle); err != nil {
		return r, err
	}
	for _, c := range clients {
		select {
		case <-c.done():
			return r, fmt.Errorf("%s/%s: a connection closed while idle", t.name, name)
		default:
		}
	}
	r.add("connections_per_s", "1/s", float64(n)/elapsed.Seconds())
	r.add("handshake_p50", "ms", hs.quantile(0.50))
	r.add("handshake_p99", "ms", hs.quantile(0.99))
	if rss1, ok := t.rss(); ok && rssOK {
		r.add("rss_per_conn", "KB", float64(rss1-rss0)/1024/float64(n))
		r.add("rss_total", "MB", float64(rss1)/(1<<20))
	}
	return r, nil
}
