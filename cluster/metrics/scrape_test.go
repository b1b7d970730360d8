package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

func findMetric(fams []*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
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
			return m
		}
	}
	return nil
}

func TestServeLoopbackAndFetch(t *testing.T) {
	reg := NewProcessRegistry()
	ops := NewStoreOps(reg, []string{"get", "set"})
	ops.Count("get", nil)
	ops.Count("get", errors.New("boom"))
	ops.Count("nonsense", nil)
	RegisterBalancer(reg, func() int { return 3 })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := ServeLoopback(ctx, "secret", reg)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr + Path
	c := &http.Client{Timeout: 5 * time.Second}
	fams, err := Fetch(ctx, c, url, "secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"socketcluster_store_ops_total", map[string]string{"command": "get"}, 2},
		{"socketcluster_store_ops_total", map[string]string{"command": "set"}, 0},
		{"socketcluster_store_ops_total", map[string]string{"command": "other"}, 1},
		{"socketcluster_store_op_errors_total", map[string]string{"command": "get"}, 1},
		{"socketcluster_balancer_workers", nil, 3},
	} {
		m := findMetric(fams, tt.name, tt.labels)
		if m == nil {
			t.Errorf("%s%v missing", tt.name, tt.labels)
			continue
		}
		if got := m.GetCounter().GetValue() + m.GetGauge().GetValue(); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if findMetric(fams, "go_goroutines", nil) == nil {
		t.Error("go_goroutines missing")
	}
	for _, key := range []string{"", "wrong", "secretx"} {
		if _, err := Fetch(ctx, c, url, key); !errors.Is(err, ErrScrape) {
			t.Errorf("key %q: err %v, want ErrScrape", key, err)
		}
	}
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no Authorization header: HTTP %d, want 401", res.StatusCode)
	}
	cancel()
	waitFor(t, "the listener to close", func() bool {
		_, err := Fetch(context.Background(), c, url, "secret")
		return err != nil
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFetchFormatsAndFailures(t *testing.T) {
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "h"})
	g.Set(4)
	reg.MustRegister(g)
	text := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = rw.Write([]byte("# HELP g h\n# TYPE g gauge\ng 4\n"))
	})
	garbage := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = rw.Write([]byte("g{ 4 not metrics\n"))
	})
	hang := make(chan struct{})
	defer close(hang)
	slow := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	tests := []struct {
		name    string
		h       http.Handler
		wantErr bool
	}{
		{"text format", Protect("k", text), false},
		{"negotiated protobuf", Protect("k", promHandler(reg)), false},
		{"unparsable body", Protect("k", garbage), true},
		{"server error", Protect("k", http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(500) })), true},
		{"no answer within the deadline", Protect("k", slow), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.h)
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			fams, err := Fetch(ctx, srv.Client(), srv.URL, "k")
			if tt.wantErr {
				if !errors.Is(err, ErrScrape) {
					t.Fatalf("err %v, want ErrScrape", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m := findMetric(fams, "g", nil); m == nil || m.GetGauge().GetValue() != 4 {
				t.Fatalf("g not read: %v", fams)
			}
		})
	}
}

func promHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}
