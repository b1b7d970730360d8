package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/socketcluster-go/socketcluster/cluster/metrics"
)

var (
	masterMetricsRe = regexp.MustCompile(`metrics endpoint addr=(\S+)`)
	childMetricsRe  = regexp.MustCompile(`metrics at kind=(\w+) id=(\d+) addr=(\S+)`)
	balancerReadyRe = regexp.MustCompile(`ready child=balancer (\d+) addr=\S+ pid=(\d+)`)
)

// scrapeWait bounds a master scrape in these tests (the master bounds each child to 1 s).
const scrapeWait = 10 * time.Second

// metricsURL waits for the master's metrics endpoint in its log.
func (tc *testCluster) metricsURL(t *testing.T) string {
	t.Helper()
	var url string
	waitUntil(t, clusterStartWait, "the metrics endpoint in the master's log", func() bool {
		m := masterMetricsRe.FindStringSubmatch(tc.out.String())
		if m != nil {
			url = "http://" + m[1] + "/metrics"
		}
		return m != nil
	})
	return url
}

// scrape reads the master's endpoint; a failed scrape fails the test.
func scrape(t *testing.T, url string) []*dto.MetricFamily {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeWait)
	defer cancel()
	fams, err := metrics.Fetch(ctx, http.DefaultClient, url, "")
	if err != nil {
		t.Fatalf("master scrape: %v", err)
	}
	return fams
}

// value sums the counter, gauge or histogram count of the metrics of name whose labels include labels; ok is false
// when there is none.
func value(fams []*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	sum, ok := 0.0, false
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == k && lp.GetValue() == v)
				}
				if !found {
					continue next
				}
			}
			ok = true
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount()) +
				m.GetUntyped().GetValue()
		}
	}
	return sum, ok
}

func proc(kind string, id int) map[string]string {
	return map[string]string{"kind": kind, "process": kind + "-" + strconv.Itoa(id)}
}

// TestMasterMetricsEveryProcess: one scrape of the master has the families of every worker, balancer and store
// (process label) and the master's own; counters follow RPC traffic; child endpoints refuse scrapers without the
// cluster secret.
func TestMasterMetricsEveryProcess(t *testing.T) {
	tc := startStoreCluster(t, "--workers", "2", "--balancers", "1", "--stores", "1", "--metricsListen", "0")
	url := tc.metricsURL(t)
	addrs := tc.workerAddrs(t, 2)
	var fams []*dto.MetricFamily
	waitUntil(t, clusterStartWait, "every child up and the balancer's table complete", func() bool {
		fams = scrape(t, url)
		if v, _ := value(fams, "socketcluster_balancer_workers", proc("balancer", 0)); v != 2 {
			return false // the balancer can be up before the master sent it both workers
		}
		for _, p := range []map[string]string{proc("worker", 0), proc("worker", 1), proc("balancer", 0), proc("store", 0)} {
			if v, _ := value(fams, "socketcluster_up", p); v != 1 {
				return false
			}
		}
		return true
	})
	for _, tt := range []struct {
		name   string
		labels map[string]string
	}{
		{"go_goroutines", proc("worker", 0)},
		{"go_goroutines", proc("worker", 1)},
		{"go_goroutines", proc("balancer", 0)},
		{"go_goroutines", proc("store", 0)},
		{"go_goroutines", map[string]string{"kind": "master", "process": "master"}},
		{"socketcluster_connections", map[string]string{"kind": "worker", "process": "worker-1", "transport": "websocket"}},
		{"socketcluster_messages_in_total", proc("worker", 0)},
		{"socketcluster_rpc_seconds", proc("worker", 0)},
		{"socketcluster_event_loop_lag_seconds", proc("worker", 1)},
		{"socketcluster_slow_consumer_disconnects_total", proc("worker", 0)},
		{"socketcluster_balancer_workers", proc("balancer", 0)},
		{"socketcluster_store_ops_total", map[string]string{"kind": "store", "process": "store-0", "command": "set"}},
		{"socketcluster_respawns_total", map[string]string{"kind": "worker"}},
		{"socketcluster_scrape_errors_total", nil},
	} {
		if _, ok := value(fams, tt.name, tt.labels); !ok && tt.name != "socketcluster_scrape_errors_total" {
			t.Errorf("%s%v missing from the master's scrape", tt.name, tt.labels)
		}
	}
	if v, _ := value(fams, "socketcluster_balancer_workers", proc("balancer", 0)); v != 2 {
		t.Errorf("balancer_workers = %v, want 2", v)
	}

	// traffic on worker 0: RPCs that write to the store
	const calls = 2*metrics.JSSampleEvery + 10
	before, _ := value(fams, "socketcluster_messages_in_total", proc("worker", 0))
	setsBefore, _ := value(fams, "socketcluster_store_ops_total", map[string]string{"kind": "store", "command": "set"})
	c := dialEvT(t, addrs[0], "")
	for i := 0; i < calls; i++ {
		c.must(t, "gset", map[string]any{"key": "k", "value": i})
	}
	waitUntil(t, 20*time.Second, "the counters to reflect the RPCs", func() bool {
		fams = scrape(t, url)
		in, _ := value(fams, "socketcluster_messages_in_total", proc("worker", 0))
		out, _ := value(fams, "socketcluster_messages_out_total", proc("worker", 0))
		bytesIn, _ := value(fams, "socketcluster_bytes_in_total", proc("worker", 0))
		rpc, _ := value(fams, "socketcluster_rpc_seconds", proc("worker", 0))
		sets, _ := value(fams, "socketcluster_store_ops_total", map[string]string{"kind": "store", "command": "set"})
		conns, _ := value(fams, "socketcluster_connections", map[string]string{"process": "worker-0", "transport": "websocket"})
		return in-before >= calls && out >= calls && bytesIn > 0 && rpc >= 1 && sets-setsBefore >= calls && conns == 1
	})
	if v, _ := value(fams, "socketcluster_messages_in_total", proc("worker", 1)); v >= calls {
		t.Errorf("worker 1 counted %v messages it never received", v)
	}

	// every child endpoint wants the secret
	m := childMetricsRe.FindAllStringSubmatch(tc.out.String(), -1)
	urls := []string{"http://" + addrs[0] + metrics.Path}
	for _, g := range m {
		urls = append(urls, "http://"+g[3]+metrics.Path)
	}
	if len(m) < 2 {
		t.Fatalf("balancer and store metrics addresses not logged: %v", m)
	}
	for _, u := range urls {
		for _, auth := range []string{"", "Bearer ", "Bearer wrong", "Basic x"} {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s with Authorization %q: HTTP %d, want 401", u, auth, res.StatusCode)
			}
		}
	}
}

// TestMasterMetricsDeadAndStuckChildren: a stopped (SIGSTOP) worker is a scrape error, a killed one is down, the
// scrape succeeds meanwhile; a killed balancer is respawned and counted.
func TestMasterMetricsDeadAndStuckChildren(t *testing.T) {
	tc := startCluster(t, "--workers", "3", "--balancers", "1", "--rebootWorkerOnCrash=false", "--metricsListen", "0")
	url := tc.metricsURL(t)
	waitUntil(t, clusterStartWait, "three workers", func() bool { return len(tc.workers()) == 3 })
	pid := func(id int) int {
		p, _ := strconv.Atoi(tc.workers()[id][1])
		return p
	}
	waitUntil(t, clusterStartWait, "every worker up", func() bool {
		v, _ := value(scrape(t, url), "socketcluster_up", map[string]string{"kind": "worker"})
		return v == 3
	})

	// stuck: the master's read times out; the others are still there
	if err := syscall.Kill(pid(1), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = syscall.Kill(pid(1), syscall.SIGCONT)
		}
	}()
	fams := scrape(t, url)
	if v, _ := value(fams, "socketcluster_up", proc("worker", 1)); v != 0 {
		t.Errorf("stopped worker up = %v", v)
	}
	if v, _ := value(fams, "socketcluster_scrape_errors_total", proc("worker", 1)); v < 1 {
		t.Errorf("stopped worker: scrape errors %v", v)
	}
	for _, id := range []int{0, 2} {
		if v, _ := value(fams, "go_goroutines", proc("worker", id)); v == 0 {
			t.Errorf("worker %d missing while worker 1 is stopped", id)
		}
	}
	_ = syscall.Kill(pid(1), syscall.SIGCONT)
	stopped = false

	// dead and not respawned (--rebootWorkerOnCrash=false)
	if err := syscall.Kill(pid(2), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "worker 2 reported dead", func() bool {
		fams = scrape(t, url)
		up, _ := value(fams, "socketcluster_up", proc("worker", 2))
		deaths, _ := value(fams, "socketcluster_child_deaths_total", map[string]string{"kind": "worker"})
		return up == 0 && deaths == 1
	})
	if v, _ := value(fams, "socketcluster_up", map[string]string{"kind": "worker"}); v != 2 {
		t.Errorf("workers up %v, want 2 (0 and 1)", v)
	}
	if v, _ := value(fams, "socketcluster_respawns_total", map[string]string{"kind": "worker"}); v != 0 {
		t.Errorf("worker respawns %v with rebootWorkerOnCrash off", v)
	}

	// balancers are always respawned
	var bpid int
	if g := balancerReadyRe.FindStringSubmatch(tc.out.String()); g != nil {
		bpid, _ = strconv.Atoi(g[2])
	}
	if bpid == 0 {
		t.Fatal("balancer pid not in the master's log")
	}
	if err := syscall.Kill(bpid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "the balancer respawned and counted", func() bool {
		fams = scrape(t, url)
		r, _ := value(fams, "socketcluster_respawns_total", map[string]string{"kind": "balancer"})
		up, _ := value(fams, "socketcluster_up", proc("balancer", 0))
		return r == 1 && up == 1
	})
}

// TestMetricsListenRefused: a bad --metricsListen is a usage error; a port in use stops the boot.
func TestMetricsListenRefused(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	worker, err := filepath.Abs("testdata/cluster/worker.js")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, listen string
		code         int
	}{
		{"not an address", "nonsense", 2},
		{"port out of range", "70000", 2},
		{"port in use", held.Addr().String(), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), clusterStartWait)
			defer cancel()
			code, err := run(ctx, []string{"socketcluster", "--workerController", worker, "--port", "0", "--listen", "127.0.0.1",
				"--workers", "1", "--metricsListen", tt.listen}, &out, &errb)
			if code != tt.code || err == nil || !strings.Contains(err.Error(), "metrics listen address") {
				t.Fatalf("exit %d, err %v; want %d naming the metrics listen address", code, err, tt.code)
			}
		})
	}
}
