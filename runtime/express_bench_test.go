package runtime

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// BenchmarkExpressDispatch measures the JavaScript cost of one Express 4 request (routing, res.send, ETag) inside
// the loop, without HTTP: the part of the binary's per-request CPU that is goja's. Each request is its own loop
// task, so the process.nextTick work it queues (finish and close events) runs after it as in the worker. Reports
// cpu-ns/op: user+system CPU of the whole process (GC included) per request. SC_JSPROFILE=<file> also writes
// goja's JavaScript execution profile (go tool pprof format). Needs testdata/compat's node_modules (npm ci
// there); skipped otherwise.
func BenchmarkExpressDispatch(b *testing.B) {
	dir, _ := filepath.Abs(filepath.Join("..", "testdata", "compat"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "express")); err != nil {
		b.Skip("testdata/compat/node_modules not installed")
	}
	h := newHarness(b, Options{AppDir: dir})
	var dispatch goja.Callable
	h.do(b, func(vm *goja.Runtime) {
		app, err := h.l.Require("./apps/bench.js")
		if err != nil {
			b.Fatal(err)
		}
		httpMod, err := h.l.Require("http")
		if err != nil {
			b.Fatal(err)
		}
		_ = vm.Set("__app", app)
		_ = vm.Set("__http", httpMod)
		v, err := vm.RunString(`(function () {
			var http = __http;
			var handler = __app();
			var sock = new http._RequestSocket('127.0.0.1', 1, false);
			return function () {
				var req = new http.IncomingMessage(sock);
				req.method = 'GET'; req.url = '/'; req.headers = { host: 'x' }; req.httpVersion = '1.1';
				req.push(null);
				var res = new http.ServerResponse(req);
				handler(req, res);
				if (!res.finished) throw new Error('not finished');
			};
		})()`)
		if err != nil {
			b.Fatal(err)
		}
		dispatch, _ = goja.AssertFunction(v)
	})
	if p := os.Getenv("SC_JSPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := goja.StartProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() { goja.StopProfile(); _ = f.Close() }()
	}
	cpu0 := processCPU()
	b.ResetTimer()
	errs := make(chan error, 1)
	for i := 0; i < b.N; i++ {
		last := i == b.N-1
		if err := h.l.Submit(func(vm *goja.Runtime) {
			_, err := dispatch(goja.Undefined())
			if err != nil || last {
				select {
				case errs <- err:
				default:
				}
			}
		}); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case err := <-errs:
		if err != nil {
			b.Fatal(err)
		}
	case <-time.After(time.Minute):
		b.Fatal("requests did not finish in time")
	}
	// the last request's nextTick work (finish, close) runs after its task: wait for the loop to pass it
	h.do(b, func(*goja.Runtime) {})
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
