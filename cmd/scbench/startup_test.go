package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStartupFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		ok   bool
	}{
		{"startup without worker", []string{"--server-bin", "x", "--scenarios", "startup"}, true},
		{"startup warm", []string{"--server-bin", "x", "--scenarios", "startup", "--startup-cache", "warm"}, true},
		{"startup and echo need a worker", []string{"--server-bin", "x", "--scenarios", "startup,echo"}, false},
		{"startup needs a binary", []string{"--url", "ws://127.0.0.1:1/", "--scenarios", "startup"}, false},
		{"bad cache mode", []string{"--server-bin", "x", "--scenarios", "startup", "--startup-cache", "hot"}, false},
		{"zero starts", []string{"--server-bin", "x", "--scenarios", "startup", "--startup-runs", "0"}, false},
		{"unbounded starts", []string{"--server-bin", "x", "--scenarios", "startup", "--startup-runs", "1000"}, false},
		{"app path", []string{"--server-bin", "x", "--scenarios", "startup", "--startup-app", "../x"}, false},
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

func TestStartMedians(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	wall, cpu := startMedians([]startSample{{ms(300), ms(10)}, {ms(100), ms(30)}, {ms(200), ms(20)}})
	if wall != ms(200) || cpu != ms(20) {
		t.Fatalf("medians = %v, %v; want 200ms, 20ms", wall, cpu)
	}
}

// TestStartupAgainstNode runs the startup scenario once for the binary (warm module cache) and once for node
// on the compat bench app: both must reach a 200 and report wall and CPU, the binary's with ratios to node's.
func TestStartupAgainstNode(t *testing.T) {
	compat, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "compat"))
	if _, err := os.Stat(filepath.Join(compat, "node_modules", "express")); err != nil {
		t.Fatal("testdata/compat/node_modules is not installed: run scripts/test (it runs npm ci there)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed (Node 20 is needed for the comparison)")
	}
	bin := buildServer(t)
	cfg, err := parseFlags([]string{"--server-bin", bin, "--scenarios", "startup", "--startup-runs", "1",
		"--startup-cache", "warm", "--compat-dir", compat}, io.Discard)
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
	for _, target := range []string{"server", "node"} {
		r := find(results, "startup", target)
		if r == nil {
			t.Fatalf("no startup result for %s: %+v", target, results)
		}
		for _, m := range []string{"ready_wall", "ready_cpu"} {
			if v, _ := r.get(m); v <= 0 {
				t.Errorf("%s %s = %v", target, m, v)
			}
		}
	}
	if r := find(results, "startup", "server"); r.Baseline != "startup/node" || r.Metrics[0].Ratio <= 0 {
		t.Errorf("the binary's startup has no ratio to node: %+v", r)
	}
}

// TestMeasureStartFailures: a command that exits before answering fails the start, with its output.
func TestMeasureStartFailures(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	exits := func(int, int) *exec.Cmd { return exec.CommandContext(ctx, "sh", "-c", "echo boom; exit 3") }
	if _, err := measureStart(ctx, exits, 0); !errors.Is(err, ErrServerStart) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("exiting command: err = %v", err)
	}
}
