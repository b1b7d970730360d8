// Package metrics defines the Prometheus metrics of one worker process (issue 7) and serves them in the text
// exposition format. It owns no goroutine except the loop-lag probe started by RunLoopLag.
//
// Every metric is prefixed "socketcluster_". Counters that the worker already keeps as atomics are exposed
// through CounterFunc/GaugeFunc so that the message path pays nothing extra for them; the rest are plain
// client_golang collectors (lock-free atomics for counters, a few atomics per histogram observation).
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const (
	// Namespace prefixes every metric name.
	Namespace = "socketcluster"
	// DefaultLoopLagInterval is how often RunLoopLag probes the JavaScript event loop.
	DefaultLoopLagInterval = 500 * time.Millisecond
	// JSSampleEvery is the sampling period of JSDispatch: one inbound event in this many is timed (timing costs
	// an extra loop task).
	JSSampleEvery = 64
)

// latencyBuckets are the histogram buckets in seconds: 50 us to 10 s.
var latencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}

// Sources are read at scrape time from state the worker already keeps.
type Sources struct {
	// Connections returns the current connections by transport ("websocket", "polling").
	Connections func() map[string]int
	MessagesIn  func() int64
	MessagesOut func() int64
}

// Worker holds the metrics of one worker process.
type Worker struct {
	reg *prometheus.Registry

	// BytesIn and BytesOut count SC message text (engine.io message packet data) received and queued.
	BytesIn  prometheus.Counter
	BytesOut prometheus.Counter
	// RPC observes, for the same sample of inbound events as JSDispatch (those with a cid), the acknowledgement
	// round trip: from the message's arrival to the JS handler's res.end/res.error being queued.
	RPC prometheus.Histogram
	// JSDispatch observes, for a sample of inbound events, the time from arrival until the JS handler returned
	// (queue wait on the event loop plus handler run time).
	JSDispatch prometheus.Histogram
	// LoopLag observes how long a no-op task waits for the JS event loop.
	LoopLag prometheus.Histogram
	// SlowConsumer counts sockets closed because their outbound queue overflowed.
	SlowConsumer prometheus.Counter
	// Disconnects counts closed sockets by reason.
	Disconnects *prometheus.CounterVec
}

// NewWorker creates the metrics of worker id; src may have nil fields (those metrics are then absent).
func NewWorker(id int, src Sources) *Worker {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{"worker": strconv.Itoa(id)}
	f := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: Namespace, Name: name, Help: help, ConstLabels: labels}
	}
	h := func(name, help string) prometheus.HistogramOpts {
		return prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, ConstLabels: labels, Buckets: latencyBuckets}
	}
	w := &Worker{
		reg:          reg,
		BytesIn:      prometheus.NewCounter(prometheus.CounterOpts(f("bytes_in_total", "SC message bytes received."))),
		BytesOut:     prometheus.NewCounter(prometheus.CounterOpts(f("bytes_out_total", "SC message bytes queued for sending."))),
		RPC:          prometheus.NewHistogram(h("rpc_seconds", "Client emit-with-ack round trip inside the worker: arrival to JS response queued.")),
		JSDispatch:   prometheus.NewHistogram(h("js_dispatch_seconds", "Sampled inbound events: arrival until the JS handler returned (loop wait + handler).")),
		LoopLag:      prometheus.NewHistogram(h("event_loop_lag_seconds", "Wait of a no-op task for the JS event loop.")),
		SlowConsumer: prometheus.NewCounter(prometheus.CounterOpts(f("slow_consumer_disconnects_total", "Sockets closed because their outbound queue overflowed."))),
		Disconnects: prometheus.NewCounterVec(prometheus.CounterOpts(f("disconnects_total", "Closed sockets by reason.")),
			[]string{"reason"}),
	}
	reg.MustRegister(w.BytesIn, w.BytesOut, w.RPC, w.JSDispatch, w.LoopLag, w.SlowConsumer, w.Disconnects,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.MessagesIn != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts(f("messages_in_total", "SC messages received.")),
			func() float64 { return float64(src.MessagesIn()) }))
	}
	if src.MessagesOut != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts(f("messages_out_total", "SC messages queued for sending.")),
			func() float64 { return float64(src.MessagesOut()) }))
	}
	if src.Connections != nil {
		reg.MustRegister(&connCollector{
			desc: prometheus.NewDesc(Namespace+"_connections", "Open SC connections by current transport.", []string{"transport"}, labels),
			fn:   src.Connections,
		})
	}
	return w
}

// Registry returns the worker's registry (for tests and for adding collectors).
func (w *Worker) Registry() *prometheus.Registry { return w.reg }

// Handler serves the text exposition format.
func (w *Worker) Handler() http.Handler {
	return promhttp.HandlerFor(w.reg, promhttp.HandlerOpts{})
}

// ObserveSince records the seconds since start in h.
func ObserveSince(h prometheus.Histogram, start time.Time) { h.Observe(time.Since(start).Seconds()) }

// RunLoopLag submits a no-op to the event loop every interval and observes its wait in LoopLag, until ctx is
// done. submit must not block for long (a full loop queue returns false and the probe counts the interval as
// lag).
func (w *Worker) RunLoopLag(ctx context.Context, interval time.Duration, submit func(func()) bool) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			start := time.Now()
			ran := make(chan struct{})
			if !submit(func() { close(ran) }) {
				w.LoopLag.Observe(interval.Seconds())
				continue
			}
			select {
			case <-ran:
				ObserveSince(w.LoopLag, start)
			case <-ctx.Done():
				return
			}
		}
	}
}

type connCollector struct {
	desc *prometheus.Desc
	fn   func() map[string]int
}

func (c *connCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *connCollector) Collect(ch chan<- prometheus.Metric) {
	counts := c.fn()
	for _, tr := range []string{"polling", "websocket"} {
		if _, ok := counts[tr]; !ok {
			counts[tr] = 0
		}
	}
	for tr, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), tr)
	}
}
