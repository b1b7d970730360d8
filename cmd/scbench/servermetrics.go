package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/socketcluster-go/socketcluster/cluster/metrics"
)

// serverMetricsWait bounds the read of the server's /metrics at the end of a scenario.
const serverMetricsWait = 10 * time.Second

// freeLoopbackAddr returns 127.0.0.1:<a port free a moment ago> for the server's --metricsListen.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// addServerMetrics reads the started server's own figures (master /metrics, all processes, over the server's
// life: warm-up included) and adds them to r as srv_* metrics. A failure is reported on progress and adds nothing.
func addServerMetrics(ctx context.Context, t *target, r *result, progress io.Writer) {
	if t.metricsURL == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, serverMetricsWait)
	defer cancel()
	fams, err := metrics.Fetch(ctx, http.DefaultClient, t.metricsURL, "")
	if err != nil {
		fmt.Fprintf(progress, "  server metrics not read: %v\n", err)
		return
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	sum := func(name string) float64 {
		var s float64
		for _, m := range byName[name].GetMetric() {
			s += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		return s
	}
	r.add("srv_messages_in", "msgs", sum("socketcluster_messages_in_total"))
	r.add("srv_messages_out", "msgs", sum("socketcluster_messages_out_total"))
	r.add("srv_slow_consumer", "sockets", sum("socketcluster_slow_consumer_disconnects_total"))
	if h := mergedHistogram(byName["socketcluster_rpc_seconds"]); h.count > 0 {
		r.add("srv_rpc_mean", "ms", 1000*h.sum/float64(h.count))
		r.add("srv_rpc_p99", "ms", 1000*h.quantile(0.99))
	}
	if h := mergedHistogram(byName["socketcluster_event_loop_lag_seconds"]); h.count > 0 {
		r.add("srv_loop_lag_p99", "ms", 1000*h.quantile(0.99))
	}
}

// histogram is the sum of a family's histograms (every process; same buckets).
type histogram struct {
	count  uint64
	sum    float64
	bounds []float64 // upper bounds, ascending, +Inf last
	cum    []uint64  // cumulative counts per bound
}

func mergedHistogram(f *dto.MetricFamily) histogram {
	var h histogram
	cum := map[float64]uint64{}
	for _, m := range f.GetMetric() {
		mh := m.GetHistogram()
		if mh == nil {
			continue
		}
		h.count += mh.GetSampleCount()
		h.sum += mh.GetSampleSum()
		for _, b := range mh.GetBucket() {
			cum[b.GetUpperBound()] += b.GetCumulativeCount()
		}
	}
	if h.count == 0 {
		return h
	}
	cum[math.Inf(1)] = h.count
	for b := range cum {
		h.bounds = append(h.bounds, b)
	}
	sort.Float64s(h.bounds)
	for _, b := range h.bounds {
		h.cum = append(h.cum, cum[b])
	}
	return h
}

// quantile estimates the q-quantile by linear interpolation inside its bucket (as Prometheus'
// histogram_quantile); in the +Inf bucket it is the highest finite bound.
func (h histogram) quantile(q float64) float64 {
	if h.count == 0 {
		return 0
	}
	rank := q * float64(h.count)
	lower, below := 0.0, uint64(0)
	for i, b := range h.bounds {
		if float64(h.cum[i]) >= rank {
			if math.IsInf(b, 1) {
				return lower
			}
			in := h.cum[i] - below
			if in == 0 {
				return b
			}
			return lower + (b-lower)*(rank-float64(below))/float64(in)
		}
		lower, below = b, h.cum[i]
	}
	return lower
}
