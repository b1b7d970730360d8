package main

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

// TestMain lets the test binary serve the baseline when re-executed by startBaseline, as scbench itself does.
func TestMain(m *testing.M) {
	if os.Getenv(baselineEnv) == "1" {
		main()
		return
	}
	os.Exit(testenv.WithTempModuleCache(m.Run))
}

// tinyArgs is a scenario set small enough for CI: a few clients, a few hundred milliseconds each.
var tinyArgs = []string{"--clients", "3", "--poll-clients", "2", "--subscribers", "3", "--session-sockets", "4", "--rate", "50",
	"--conns", "20", "--poll-conns", "5", "--storm-concurrency", "8",
	"--duration", "300ms", "--warmup", "100ms", "--settle", "100ms"}

// buildServer builds cmd/socketcluster into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "socketcluster")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/socketcluster-go/socketcluster/cmd/socketcluster").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestTinyRunAgainstBaselineAndServer(t *testing.T) {
	bin := buildServer(t)
	cfg, err := parseFlags(append([]string{"--server-bin", bin, "--worker", "testdata/worker.js"}, tinyArgs...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress strings.Builder
	results, err := run(ctx, cfg, &progress)
	if err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
	}
	want := []struct{ scenario, target, metric string }{
		{"echo-ws", "baseline", "rpc_per_s"},
		{"echo-ws", "server", "rpc_per_s"},
		{"echo-ws", "server", "server_cpu_per_rpc"},
		{"fanout", "baseline", "deliveries_per_s"},
		{"fanout", "server", "deliveries_per_s"},
		{"conns-ws", "baseline", "connections_per_s"},
		{"conns-ws", "server", "rss_per_conn"},
		{"conns-polling", "server", "connections_per_s"},
		{"echo-polling", "server", "rpc_per_s"},
		{"echo-ws", "server", "srv_messages_in"},
		{"echo-ws", "server", "srv_rpc_mean"},
		{"fanout", "server", "srv_messages_out"},
		{"session-fanout", "baseline", "deliveries_per_s"},
		{"session-fanout", "server", "deliveries_per_s"},
		{"session-fanout", "server", "server_cpu_per_delivery"},
	}
	for _, w := range want {
		r := find(results, w.scenario, w.target)
		if r == nil {
			t.Errorf("no %s result for %s", w.target, w.scenario)
			continue
		}
		if _, ok := r.get(w.metric); !ok {
			t.Errorf("%s/%s has no %s: %+v", w.target, w.scenario, w.metric, r.Metrics)
		}
	}
	for _, target := range []string{"baseline", "server"} {
		if r := find(results, "echo-ws", target); r != nil {
			if v, _ := r.get("rpc_per_s"); v <= 0 {
				t.Errorf("%s echo: rpc_per_s = %v", target, v)
			}
		}
		if r := find(results, "fanout", target); r != nil {
			if v, _ := r.get("delivered_fraction"); v != 1 {
				t.Errorf("%s fanout: delivered fraction %v, want 1", target, v)
			}
		}
	}
	if r := find(results, "session-fanout", "server"); r != nil {
		if v, _ := r.get("delivered_fraction"); v != 1 {
			t.Errorf("session-fanout: delivered fraction %v, want 1 (every socket of the session, on both workers)", v)
		}
		if r.Baseline != "session-fanout" || r.Params["workers"] != "2" || r.Metrics[0].Ratio <= 0 {
			t.Errorf("session-fanout: baseline %q, workers %q, ratio %v; want a ratio to the baseline's fan-out to as many sockets on 2 workers",
				r.Baseline, r.Params["workers"], r.Metrics[0].Ratio)
		}
	}
	if r := find(results, "echo-polling", "server"); r != nil {
		if r.Baseline != "echo-ws" || r.Metrics[0].Ratio <= 0 {
			t.Errorf("echo-polling: no ratio to the WebSocket baseline: %+v", r)
		}
	}
	if r := find(results, "echo-ws", "server"); r != nil {
		in, _ := r.get("srv_messages_in")
		rpc, _ := r.get("rpc_per_s")
		if in <= 0 || rpc <= 0 {
			t.Errorf("echo-ws: server counted %v messages in while the clients measured %v rpc/s", in, rpc)
		}
	}
	if r := find(results, "echo-ws", "baseline"); r != nil {
		if _, ok := r.get("srv_messages_in"); ok {
			t.Error("the baseline has server metrics")
		}
	}
	var table strings.Builder
	writeTable(&table, results)
	if !strings.Contains(table.String(), "server_cpu_per_rpc") {
		t.Errorf("table lacks server_cpu_per_rpc:\n%s", table.String())
	}
}

func find(rs []result, scenario, target string) *result {
	for i := range rs {
		if rs[i].Scenario == scenario && rs[i].Target == target {
			return &rs[i]
		}
	}
	return nil
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"server", []string{"--server-bin", "x", "--worker", "w.js"}, true},
		{"url", []string{"--url", "ws://127.0.0.1:8000/socketcluster/"}, true},
		{"neither", nil, false},
		{"both", []string{"--server-bin", "x", "--worker", "w.js", "--url", "ws://127.0.0.1:1/"}, false},
		{"no worker", []string{"--server-bin", "x"}, false},
		{"unknown scenario", []string{"--url", "ws://127.0.0.1:1/", "--scenarios", "echo,nope"}, false},
		{"too many clients", []string{"--url", "ws://127.0.0.1:1/", "--clients", "1000000"}, false},
		{"unbounded duration", []string{"--url", "ws://127.0.0.1:1/", "--duration", "1h"}, false},
		{"zero runs", []string{"--url", "ws://127.0.0.1:1/", "--runs", "0"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrUsage) {
				t.Fatalf("err = %v, not ErrUsage", err)
			}
		})
	}
}

func TestURLTargetLoopbackOnly(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"ws://127.0.0.1:8000/socketcluster/", true},
		{"ws://localhost:8000/", true},
		{"ws://[::1]:8000/", true},
		{"ws://127.3.2.1:8000/", true},
		{"ws://10.0.0.1:8000/", false},
		{"ws://example.com:80/", false},
		{"ws://192.168.1.1:80/", false},
		{"ws://127.0.0.1/", false},
	}
	for _, tt := range tests {
		_, err := urlTarget(tt.url, 0)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: err = %v, not ErrNotLoopback", tt.url, err)
		}
	}
}

func TestMedians(t *testing.T) {
	mk := func(target string, v float64) result {
		r := result{Scenario: "echo-ws", Target: target, Params: map[string]string{}}
		r.add("rpc_per_s", "1/s", v)
		return r
	}
	got := medians([][]result{
		{mk("baseline", 10), mk("server", 5)},
		{mk("baseline", 30), mk("server", 1)},
		{mk("baseline", 20), mk("server", 3)},
	})
	if v, _ := got[0].get("rpc_per_s"); v != 20 {
		t.Errorf("baseline median = %v, want 20", v)
	}
	if v, _ := got[1].get("rpc_per_s"); v != 3 {
		t.Errorf("server median = %v, want 3", v)
	}
}

func TestHistogramQuantile(t *testing.T) {
	bucket := func(ub float64, n uint64) *dto.Bucket {
		return &dto.Bucket{UpperBound: proto.Float64(ub), CumulativeCount: proto.Uint64(n)}
	}
	hist := func(count uint64, sum float64, bs ...*dto.Bucket) *dto.Metric {
		return &dto.Metric{Histogram: &dto.Histogram{SampleCount: proto.Uint64(count), SampleSum: proto.Float64(sum), Bucket: bs}}
	}
	// two processes, buckets 1, 2, 4 (+Inf implied)
	f := &dto.MetricFamily{Metric: []*dto.Metric{
		hist(4, 5, bucket(1, 2), bucket(2, 4), bucket(4, 4)),
		hist(6, 15, bucket(1, 0), bucket(2, 2), bucket(4, 5)),
	}}
	h := mergedHistogram(f)
	tests := []struct {
		q, want float64
	}{
		{0.2, 1},    // rank 2 = all of bucket (0,1]
		{0.1, 0.5},  // rank 1: half of (0,1]
		{0.5, 1.75}, // rank 5: 3 of the 4 in (1,2]
		{0.9, 4},    // rank 9 = all 9 in the finite buckets
		{0.95, 4},   // rank 9.5 falls in +Inf: the highest finite bound
	}
	if h.count != 10 || h.sum != 20 {
		t.Fatalf("merged count %d sum %v", h.count, h.sum)
	}
	for _, tt := range tests {
		got := h.quantile(tt.q)
		if math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("q%v = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := mergedHistogram(&dto.MetricFamily{}).quantile(0.5); got != 0 {
		t.Errorf("empty histogram quantile %v", got)
	}
}
