package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// TestWorkerHTTPReq checks that the binary runs the e2e worker.js and routes plain HTTP requests to its 'req'
// handler; the client scenarios depend on it (they read /e2e/state), so this pinpoints the layer when they fail.
func TestWorkerHTTPReq(t *testing.T) {
	worker := filepath.Join(repoRoot, "testdata", "workers", "e2e", "worker.js")
	srv := startServer(t, worker)
	client := &http.Client{Timeout: 5 * time.Second}

	cases := []struct {
		path        string
		status      int
		contentType string
		check       func(t *testing.T, body []byte)
	}{
		{"/e2e/ping", 200, "text/plain", func(t *testing.T, body []byte) {
			if string(body) != "pong" {
				t.Fatalf("body = %q, want pong", body)
			}
		}},
		{"/e2e/state", 200, "application/json", func(t *testing.T, body []byte) {
			var st map[string]json.RawMessage
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatalf("state is not JSON: %v: %q", err, body)
			}
			for _, k := range []string{"connections", "disconnections", "socketDisconnects", "raw"} {
				if _, ok := st[k]; !ok {
					t.Fatalf("state lacks %q: %s", k, body)
				}
			}
		}},
		{"/nope", 404, "text/plain", nil},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := client.Get(srv.URL(tc.path))
			if err != nil {
				t.Fatalf("GET %s: %v (the worker's 'req' handler did not answer)", tc.path, err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("GET %s: status %d, want %d; body %q", tc.path, resp.StatusCode, tc.status, body)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.contentType {
				t.Fatalf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
			}
			if tc.check != nil {
				tc.check(t, body)
			}
		})
	}
}
