package runtime

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// compatDir returns testdata/compat; the benchmark fails when its node_modules are not installed.
func compatDir(b *testing.B) string {
	dir, _ := filepath.Abs(filepath.Join("..", "testdata", "compat"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "express")); err != nil {
		b.Fatal("testdata/compat/node_modules is not installed: run scripts/test (it runs npm ci there)")
	}
	return dir
}

// resetProgramCache empties the process-wide compiled-module cache (a cold worker process).
func resetProgramCache() {
	programCache.Lock()
	programCache.m = nil
	programCache.Unlock()
}

// BenchmarkStartupExpress measures one worker's JavaScript start-up with Express loaded: a new Loop, then
// require of the bench app and one app instance. cold: the process-wide program cache is emptied before each
// iteration (a new worker process without a module cache); prefetched: emptied too, but a ModuleCache manifest
// recorded earlier is prefetched on background goroutines while the Loop loads (a new worker process with a warm
// module cache); warm: programs are kept (a second Loop in the same process). The core modules are compiled once
// per process (first iteration only) in the other variants; fresh is cold with the core modules compiled anew
// too (the first Loop of a new worker process). Reports cpu-ns/op (user+system CPU of the process, the
// prefetcher's goroutines and GC included) and resolve-ns/op (the Loops' require resolution, LoadStats.Resolve).
func BenchmarkStartupExpress(b *testing.B) {
	dir := compatDir(b)
	cache, err := OpenModuleCache(b.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	startExpressWorker(b, dir)
	if err := cache.Record(dir); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"fresh", "cold", "prefetched", "warm"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			before, cpu0 := ReadLoadStats(), processCPU()
			defer func() {
				s := ReadLoadStats()
				b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64((s.Resolve-before.Resolve).Nanoseconds())/float64(b.N), "resolve-ns/op")
			}()
			for i := 0; i < b.N; i++ {
				if mode != "warm" {
					resetProgramCache()
				}
				if mode == "fresh" {
					resetCore()
				}
				if mode == "prefetched" {
					p := cache.Prefetch(dir)
					startExpressWorker(b, dir)
					p.Stop()
				} else {
					startExpressWorker(b, dir)
				}
			}
		})
	}
}

// startExpressWorker builds a Loop, loads the bench app, makes one app instance and stops the loop.
func startExpressWorker(b testing.TB, dir string) {
	l, err := New(Options{AppDir: dir, Stdout: io.Discard, Stderr: io.Discard, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	l.Start()
	done := make(chan error, 1)
	if err := l.Submit(func(vm *goja.Runtime) {
		app, err := l.Require("./apps/bench.js")
		if err == nil {
			fn, _ := goja.AssertFunction(app)
			_, err = fn(goja.Undefined())
		}
		done <- err
	}); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if err := l.Stop(ctx); err != nil {
		b.Fatal(err)
	}
}

// TestStartupSplit logs where one cold worker start-up with Express goes (go test -run StartupSplit -v); it
// fails only when the app does not load.
func TestStartupSplit(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join("..", "testdata", "compat"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "express")); err != nil {
		t.Fatal("testdata/compat/node_modules is not installed: run scripts/test (it runs npm ci there)")
	}
	resetProgramCache()
	before := ReadLoadStats()
	t0 := time.Now()
	startExpressWorker(t, dir)
	total := time.Since(t0)
	s := ReadLoadStats()
	t.Logf("total %v modules %d hits %d resolve %v read %v rewrite %v parse %v compile %v json %v",
		total, s.Modules-before.Modules, s.CacheHits-before.CacheHits, s.Resolve-before.Resolve, s.Read-before.Read,
		s.Rewrite-before.Rewrite, s.Parse-before.Parse, s.Compile-before.Compile, s.JSON-before.JSON)
}
