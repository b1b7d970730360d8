package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestWorkerExposesEveryMetric(t *testing.T) {
	w := NewWorker(3, Sources{
		Connections: func() map[string]int { return map[string]int{"websocket": 2} },
		MessagesIn:  func() int64 { return 7 },
		MessagesOut: func() int64 { return 9 },
	})
	w.BytesIn.Add(10)
	w.SlowConsumer.Inc()
	w.Disconnects.WithLabelValues("slow consumer").Inc()
	ObserveSince(w.RPC, time.Now())
	rec := httptest.NewRecorder()
	w.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/~metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`socketcluster_connections{transport="websocket",worker="3"} 2`,
		`socketcluster_connections{transport="polling",worker="3"} 0`,
		`socketcluster_messages_in_total{worker="3"} 7`,
		`socketcluster_messages_out_total{worker="3"} 9`,
		`socketcluster_bytes_in_total{worker="3"} 10`,
		`socketcluster_slow_consumer_disconnects_total{worker="3"} 1`,
		`socketcluster_disconnects_total{reason="slow consumer",worker="3"} 1`,
		`socketcluster_rpc_seconds_count{worker="3"} 1`,
		`socketcluster_js_dispatch_seconds_count{worker="3"} 0`,
		`socketcluster_event_loop_lag_seconds_count{worker="3"} 0`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if mfs, err := w.Registry().Gather(); err != nil || len(mfs) == 0 {
		t.Fatalf("gather: %d families, %v", len(mfs), err)
	}
}

func TestRunLoopLag(t *testing.T) {
	tests := []struct {
		name   string
		submit func(func()) bool
	}{
		{"loop runs the probe", func(fn func()) bool { go fn(); return true }},
		{"loop queue full", func(func()) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWorker(0, Sources{})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				w.RunLoopLag(ctx, time.Millisecond, tt.submit)
			}()
			deadline := time.Now().Add(5 * time.Second)
			for histCount(t, w) < 3 {
				if time.Now().After(deadline) {
					t.Fatal("no loop lag observations within 5s")
				}
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			<-done
		})
	}
}

func histCount(t *testing.T, w *Worker) uint64 {
	t.Helper()
	mfs, err := w.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "socketcluster_event_loop_lag_seconds" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	return 0
}
