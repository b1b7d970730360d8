package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dop251/goja"
)

// BenchmarkExpressDispatch measures the JavaScript cost of one Express 4 request (routing, res.send, ETag) inside
// the loop, without HTTP: the part of the binary's per-request CPU that is goja's. Needs testdata/compat's
// node_modules (npm ci there); skipped otherwise.
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
	b.ResetTimer()
	h.do(b, func(vm *goja.Runtime) {
		for i := 0; i < b.N; i++ {
			if _, err := dispatch(goja.Undefined()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
