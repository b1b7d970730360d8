package runtime

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// BenchmarkExpressDispatch measures the JavaScript cost of one Express 4 request inside the loop, without HTTP:
// the part of the binary's per-request CPU that is goja's. hello is a trivial route (routing, res.send, ETag),
// static an express.static file (fs.stat, ReadStream piped to the response), plain the hello response written
// without Express (the floor set by our http, stream and events modules). Each request is its own loop task
// and the next one starts when the response emitted 'finish', so the process.nextTick and setImmediate work it
// queues runs as in the worker. Reports cpu-ns/op: user+system CPU of the whole process (GC included) per
// request. SC_JSPROFILE=<file> also writes goja's JavaScript execution profile (go tool pprof format). Needs
// testdata/compat's node_modules (npm ci there); skipped otherwise.
func BenchmarkExpressDispatch(b *testing.B) {
	dir, _ := filepath.Abs(filepath.Join("..", "testdata", "compat"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "express")); err != nil {
		b.Fatal("testdata/compat/node_modules is not installed: run scripts/test (it runs npm ci there)")
	}
	h := newHarness(b, Options{AppDir: dir})
	var dispatch goja.Callable
	finished := make(chan struct{}, 1)
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
		_ = vm.Set("__finished", func(goja.FunctionCall) goja.Value {
			finished <- struct{}{}
			return goja.Undefined()
		})
		v, err := vm.RunString(`(function () {
			var http = __http;
			var app = __app();
			// plain is the same response without Express: the share of the cost that is our http/stream/events
			var plain = function (req, res) {
				res.setHeader('Content-Type', 'text/html; charset=utf-8');
				res.end('Hello World!');
			};
			var sock = new http._RequestSocket('127.0.0.1', 1, false);
			var finished = __finished;
			return function (url) {
				var handler = url === 'plain' ? plain : app;
				var req = new http.IncomingMessage(sock);
				req.method = 'GET'; req.url = url; req.headers = { host: 'x' }; req.httpVersion = '1.1';
				req.push(null);
				var res = new http.ServerResponse(req);
				res.on('finish', function () {
					if (res.statusCode !== 200) throw new Error('status ' + res.statusCode);
					finished();
				});
				handler(req, res);
			};
		})()`)
		if err != nil {
			b.Fatal(err)
		}
		dispatch, _ = goja.AssertFunction(v)
	})
	for _, tc := range []struct{ name, url string }{{"hello", "/"}, {"static", "/static/hello.txt"}, {"plain", "plain"}} {
		b.Run(tc.name, func(b *testing.B) {
			url := goja.Value(nil)
			h.do(b, func(vm *goja.Runtime) { url = vm.ToValue(tc.url) })
			if p := os.Getenv("SC_JSPROFILE"); p != "" {
				f, err := os.Create(p + "." + tc.name)
				if err != nil {
					b.Fatal(err)
				}
				if err := goja.StartProfile(f); err != nil {
					b.Fatal(err)
				}
				defer func() { goja.StopProfile(); _ = f.Close() }()
			}
			errs := make(chan error, 1)
			cpu0 := processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := h.l.Submit(func(vm *goja.Runtime) {
					if _, err := dispatch(goja.Undefined(), url); err != nil {
						errs <- err
					}
				}); err != nil {
					b.Fatal(err)
				}
				select {
				case <-finished:
				case err := <-errs:
					b.Fatal(err)
				case <-time.After(time.Minute):
					b.Fatal("request did not finish in time")
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
