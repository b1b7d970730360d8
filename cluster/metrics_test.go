package cluster

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socketcluster-go/socketcluster/cluster/metrics"
)

// scrape GETs /~metrics with the given bearer key ("" for none).
func scrape(t *testing.T, addr, key string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/~metrics", nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue finds the value of the sample line starting with name{labels}.
func metricValue(body, series string) (float64, bool) {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(m[1], 64)
	return v, err == nil
}

func TestWorkerMetricsAuth(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	tests := []struct {
		name string
		key  string
		want int
	}{
		{"no key", "", http.StatusUnauthorized},
		{"wrong key", "nope", http.StatusUnauthorized},
		{"cluster secret", "secret-key", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := scrape(t, ts.addr, tt.key)
			if code != tt.want {
				t.Fatalf("status %d, want %d", code, tt.want)
			}
			if code != http.StatusOK && strings.Contains(body, "socketcluster_") {
				t.Fatalf("metrics leaked without the secret: %s", body)
			}
		})
	}
}

func TestWorkerMetricsCountTraffic(t *testing.T) {
	ts := startWorker(t, echoController(t), nil)
	c := dialWS(t, ts.addr, nil)
	defer c.ws.Close()
	c.handshake()
	// RPC timing is sampled one event in JSSampleEvery; send enough for two samples
	const rpcs = 2 * metrics.JSSampleEvery
	for i := 0; i < rpcs; i++ {
		cid := c.emit("echo", "ping")
		c.next(responseTo(cid))
	}
	deadline := time.Now().Add(5 * time.Second)
	var body string
	for {
		_, body = scrape(t, ts.addr, "secret-key")
		lag, _ := metricValue(body, `socketcluster_event_loop_lag_seconds_count{worker="0"}`)
		if lag > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	checks := []struct {
		series string
		min    float64
	}{
		{`socketcluster_connections{transport="websocket",worker="0"}`, 1},
		{`socketcluster_messages_in_total{worker="0"}`, rpcs + 1},  // + ready
		{`socketcluster_messages_out_total{worker="0"}`, rpcs + 2}, // + connect, ready ack
		{`socketcluster_bytes_in_total{worker="0"}`, rpcs * float64(len(`{"event":"echo","data":"ping","cid":1}`))},
		{`socketcluster_bytes_out_total{worker="0"}`, 1},
		{`socketcluster_rpc_seconds_count{worker="0"}`, rpcs / metrics.JSSampleEvery},
		{`socketcluster_event_loop_lag_seconds_count{worker="0"}`, 1},
	}
	for _, ch := range checks {
		v, ok := metricValue(body, ch.series)
		if !ok || v < ch.min {
			t.Errorf("%s = %v (present %v), want >= %v", ch.series, v, ok, ch.min)
		}
	}
	if v, ok := metricValue(body, `socketcluster_connections{transport="polling",worker="0"}`); !ok || v != 0 {
		t.Errorf("polling connections = %v (present %v), want 0", v, ok)
	}
	c.ws.Close()
	deadline = time.Now().Add(5 * time.Second)
	for {
		_, body = scrape(t, ts.addr, "secret-key")
		v, _ := metricValue(body, `socketcluster_connections{transport="websocket",worker="0"}`)
		d, _ := metricValue(body, `socketcluster_disconnects_total{reason="transport close",worker="0"}`)
		if v == 0 && d == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after close: websocket connections %v, disconnects %v\n%s", v, d, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
