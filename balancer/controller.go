package balancer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	jsrt "github.com/socketcluster-go/socketcluster/runtime"
)

// Middleware kinds of loadBalancer.addMiddleware (spec 6.2).
const (
	MiddlewareRequest = "request"
	MiddlewareUpgrade = "upgrade"
	MiddlewareError   = "error"
)

// DefaultMiddlewareTimeout bounds one middleware chain: a chain that neither
// answered nor called next by then rejects its request.
const DefaultMiddlewareTimeout = 10 * time.Second

// ErrMiddleware reports a middleware that rejected a request with
// next(err), threw, or timed out.
var ErrMiddleware = errors.New("balancer middleware")

var middlewareKinds = []string{MiddlewareRequest, MiddlewareUpgrade, MiddlewareError}

// Controller runs a balancerController module (exporting
// run(loadBalancer)) in its own JavaScript loop and applies its middleware.
// Unlike SocketCluster 0.9, where next(err) crashed the balancer process,
// an error rejects only that request (500, or a closed socket for an
// upgrade).
type Controller struct {
	loop    *jsrt.Loop
	log     *slog.Logger
	timeout time.Duration
	mw      map[string][]goja.Value // loop-owned
	count   map[string]*atomic.Int32
}

// LoadController loads path and calls its run(loadBalancer).
func LoadController(path string, log *slog.Logger, stdout, stderr io.Writer) (*Controller, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	loop, err := jsrt.New(jsrt.Options{AppDir: filepath.Dir(abs), Logger: log, Stdout: stdout, Stderr: stderr})
	if err != nil {
		return nil, err
	}
	c := &Controller{loop: loop, log: log, timeout: DefaultMiddlewareTimeout, mw: map[string][]goja.Value{}, count: map[string]*atomic.Int32{}}
	for _, k := range middlewareKinds {
		c.count[k] = &atomic.Int32{}
	}
	loop.Start()
	done := make(chan error, 1)
	if err := loop.Submit(func(vm *goja.Runtime) {
		exports, err := loop.RequireFile(abs)
		if err != nil {
			done <- err
			return
		}
		run, ok := goja.AssertFunction(exports.Get("run"))
		if !ok {
			done <- fmt.Errorf("%s: balancerController must export run(loadBalancer)", path)
			return
		}
		_, err = run(exports, c.loadBalancer(vm))
		done <- err
	}); err != nil {
		c.Close()
		return nil, err
	}
	if err := <-done; err != nil {
		c.Close()
		return nil, fmt.Errorf("balancerController: %w", err)
	}
	return c, nil
}

// Close stops the controller's loop.
func (c *Controller) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.loop.Stop(ctx)
}

// loadBalancer is the object given to run().
func (c *Controller) loadBalancer(vm *goja.Runtime) *goja.Object {
	lb := vm.NewObject()
	_ = lb.Set("MIDDLEWARE_REQUEST", MiddlewareRequest)
	_ = lb.Set("MIDDLEWARE_UPGRADE", MiddlewareUpgrade)
	_ = lb.Set("MIDDLEWARE_ERROR", MiddlewareError)
	_ = lb.Set("addMiddleware", func(kind string, fn goja.Value) {
		if _, ok := goja.AssertFunction(fn); !ok || c.count[kind] == nil {
			panic(vm.NewTypeError("addMiddleware(type, fn): type is one of request, upgrade, error; fn a function"))
		}
		c.mw[kind] = append(c.mw[kind], fn)
		c.count[kind].Add(1)
	})
	return lb
}

// Apply sets the hooks of cfg for the middleware kinds the controller
// registered.
func (c *Controller) Apply(cfg *Config) {
	if c.count[MiddlewareRequest].Load() > 0 {
		cfg.Request = func(w http.ResponseWriter, r *http.Request) bool { return c.run(MiddlewareRequest, w, r, nil) }
	}
	if c.count[MiddlewareUpgrade].Load() > 0 {
		cfg.Upgrade = func(w http.ResponseWriter, r *http.Request) bool { return c.run(MiddlewareUpgrade, w, r, nil) }
	}
	if c.count[MiddlewareError].Load() > 0 {
		cfg.ProxyError = func(w http.ResponseWriter, r *http.Request, err error) bool {
			return c.run(MiddlewareError, w, r, err)
		}
	}
}

// answer is what JavaScript wrote instead of letting the request through.
type answer struct {
	mu      sync.Mutex
	status  int
	header  http.Header
	body    []byte
	raw     []byte // upgrade: bytes for the socket before it closes
	decided chan bool
	once    sync.Once
}

func (a *answer) decide(pass bool) { a.once.Do(func() { a.decided <- pass }) }

// run executes the chain of kind for r and reports whether the request
// goes on; when it does not, it writes what JavaScript answered (or a 500).
func (c *Controller) run(kind string, w http.ResponseWriter, r *http.Request, perr error) bool {
	a := &answer{status: http.StatusOK, header: http.Header{}, decided: make(chan bool, 1)}
	var failure atomic.Value
	submitted := c.loop.Submit(func(vm *goja.Runtime) {
		chain := c.mw[kind]
		req := c.requestObject(vm, r)
		res := c.responseObject(vm, a, kind == MiddlewareUpgrade)
		var i int
		var next func(goja.FunctionCall) goja.Value
		next = func(call goja.FunctionCall) goja.Value {
			if e := call.Argument(0); !goja.IsUndefined(e) && !goja.IsNull(e) {
				failure.Store(e.String())
				a.decide(false)
				return goja.Undefined()
			}
			if i >= len(chain) {
				a.decide(true)
				return goja.Undefined()
			}
			fn := chain[i]
			i++
			args := []goja.Value{req, res, vm.ToValue(next)}
			if kind == MiddlewareError {
				args = append([]goja.Value{vm.NewGoError(perr)}, args...)
			}
			if _, err := c.loop.Call(fn, goja.Undefined(), args...); err != nil {
				failure.Store(err.Error())
				a.decide(false)
			}
			return goja.Undefined()
		}
		next(goja.FunctionCall{})
	})
	if submitted != nil {
		failure.Store(submitted.Error())
		a.decide(false)
	}
	var pass bool
	select {
	case pass = <-a.decided:
	case <-time.After(c.timeout):
		failure.Store(fmt.Sprintf("no answer and no next() within %v", c.timeout))
	case <-r.Context().Done():
		return false
	}
	if pass {
		return true
	}
	msg, failed := failure.Load().(string)
	if failed {
		c.log.Warn("middleware rejected a request", "type", kind, "err", fmt.Errorf("%w: %s", ErrMiddleware, msg))
	}
	if kind == MiddlewareUpgrade {
		c.rejectUpgrade(w, a, failed)
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if failed {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "Load balancer error - "+ErrMiddleware.Error())
		return false
	}
	for k, v := range a.header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
	return false
}

func (c *Controller) rejectUpgrade(w http.ResponseWriter, a *answer, failed bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	a.mu.Lock()
	raw := a.raw
	a.mu.Unlock()
	if failed && len(raw) == 0 {
		raw = []byte("HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	}
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = conn.Write(raw)
}

func (c *Controller) requestObject(vm *goja.Runtime, r *http.Request) *goja.Object {
	req := vm.NewObject()
	_ = req.Set("method", r.Method)
	_ = req.Set("url", r.URL.RequestURI())
	_ = req.Set("httpVersion", fmt.Sprintf("%d.%d", r.ProtoMajor, r.ProtoMinor))
	headers := vm.NewObject()
	for k, v := range r.Header {
		_ = headers.Set(strings.ToLower(k), strings.Join(v, ", "))
	}
	if r.Host != "" {
		_ = headers.Set("host", r.Host)
	}
	_ = req.Set("headers", headers)
	sock := vm.NewObject()
	_ = sock.Set("remoteAddress", clientIP(r))
	_ = req.Set("socket", sock)
	_ = req.Set("connection", sock)
	return req
}

// responseObject is res for request/error middleware, or the socket for
// upgrade middleware (write/end/destroy).
func (c *Controller) responseObject(vm *goja.Runtime, a *answer, upgrade bool) *goja.Object {
	o := vm.NewObject()
	chunk := func(v goja.Value) []byte {
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return nil
		}
		if b, ok := v.Export().([]byte); ok {
			return b
		}
		return []byte(v.String())
	}
	if upgrade {
		_ = o.Set("write", func(v goja.Value) bool {
			a.mu.Lock()
			a.raw = append(a.raw, chunk(v)...)
			a.mu.Unlock()
			return true
		})
		end := func(call goja.FunctionCall) goja.Value {
			a.mu.Lock()
			a.raw = append(a.raw, chunk(call.Argument(0))...)
			a.mu.Unlock()
			a.decide(false)
			return goja.Undefined()
		}
		_ = o.Set("end", end)
		_ = o.Set("destroy", end)
		return o
	}
	_ = o.Set("statusCode", 200)
	_ = o.Set("setHeader", func(k string, v goja.Value) {
		a.mu.Lock()
		a.header.Set(k, v.String())
		a.mu.Unlock()
	})
	_ = o.Set("writeHead", func(call goja.FunctionCall) goja.Value {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.status = int(call.Argument(0).ToInteger())
		for _, arg := range call.Arguments[1:] {
			if h, ok := arg.Export().(map[string]any); ok {
				for k, v := range h {
					a.header.Set(k, fmt.Sprint(v))
				}
			}
		}
		return goja.Undefined()
	})
	_ = o.Set("write", func(v goja.Value) bool {
		a.mu.Lock()
		a.body = append(a.body, chunk(v)...)
		a.mu.Unlock()
		return true
	})
	_ = o.Set("end", func(call goja.FunctionCall) goja.Value {
		a.mu.Lock()
		a.body = append(a.body, chunk(call.Argument(0))...)
		if sc := o.Get("statusCode"); a.status == http.StatusOK && sc != nil && sc.ToInteger() != 200 {
			a.status = int(sc.ToInteger())
		}
		a.mu.Unlock()
		a.decide(false)
		return goja.Undefined()
	})
	return o
}
