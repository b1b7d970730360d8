package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var startupRe = regexp.MustCompile(`\[worker (\d+)\] start-up .*prefetched=(\d+) `)

// startupLines returns, per worker id, the prefetched count of its start-up Debug line.
func startupLines(out string) map[string]string {
	m := map[string]string{}
	for _, g := range startupRe.FindAllStringSubmatch(out, -1) {
		m[g[1]] = g[2]
	}
	return m
}

// TestClusterModuleCache: with --moduleCache DIR the worker of a first boot records the app's manifest there,
// and the workers of the next boot prefetch from it; with "off" nothing is recorded.
func TestClusterModuleCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "modules")
	manifests := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		return m
	}
	// One worker on the first boot: with two, one may start after the other wrote the manifest and prefetch.
	first := startCluster(t, "--workers", "1", "--moduleCache", dir)
	waitUntil(t, clusterStartWait, "the worker's start-up line and a manifest", func() bool {
		return len(startupLines(first.out.String())) == 1 && len(manifests()) == 1
	})
	for id, n := range startupLines(first.out.String()) {
		if n != "0" {
			t.Errorf("worker %s of the first boot prefetched %s modules from an empty cache", id, n)
		}
	}
	data, err := os.ReadFile(manifests()[0])
	if err != nil || !strings.Contains(string(data), `"worker.js"`) {
		t.Fatalf("manifest %s: %v\n%s", manifests()[0], err, data)
	}
	first.cleanup()

	second := startCluster(t, "--workers", "2", "--moduleCache", dir)
	waitUntil(t, clusterStartWait, "both workers' start-up lines", func() bool {
		return len(startupLines(second.out.String())) == 2
	})
	for id, n := range startupLines(second.out.String()) {
		if n == "0" {
			t.Errorf("worker %s of the second boot prefetched nothing", id)
		}
	}
	second.cleanup()

	off := filepath.Join(t.TempDir(), "unused")
	t.Setenv("SOCKETCLUSTER_MODULE_CACHE", off) // the flag wins over the environment
	third := startCluster(t, "--workers", "1", "--moduleCache", "off")
	waitUntil(t, clusterStartWait, "the worker's start-up line", func() bool {
		return len(startupLines(third.out.String())) == 1
	})
	if strings.Contains(third.out.String(), "manifest written") {
		t.Errorf("--moduleCache off wrote a manifest")
	}
	if _, err := os.Stat(off); err == nil {
		t.Errorf("--moduleCache off still used the directory of the environment")
	}
}
