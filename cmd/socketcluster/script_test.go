package main

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestScriptArgs: the options object of new SocketCluster(options) becomes
// flags; paths are made absolute, port lists keep their list form, and
// options the server does not know are dropped.
func TestScriptArgs(t *testing.T) {
	cacheAbs, err := filepath.Abs("cache")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   map[string]any
		want []string
	}{
		{"0.9 options", map[string]any{"port": float64(8000), "workers": []any{float64(9100)}, "dataKey": "x"},
			[]string{"socketcluster", "--port=8000", "--workers=9100,"}},
		{"new options", map[string]any{"metricsListen": "9464", "shutdownGrace": float64(3), "moduleCache": "cache"},
			[]string{"socketcluster", "--metricsListen=9464", "--moduleCache=" + cacheAbs, "--shutdownGrace=3"}},
		{"transports list", map[string]any{"transports": []any{"websocket"}},
			[]string{"socketcluster", "--transports=websocket"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scriptArgs(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("scriptArgs = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := scriptArgs(map[string]any{"workers": []any{map[string]any{"host": "x"}}}); err == nil {
		t.Fatal("a worker entry without a port was accepted")
	}
}
