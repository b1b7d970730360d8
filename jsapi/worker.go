package jsapi

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	jsrt "github.com/socketcluster-go/socketcluster/runtime"
)

//go:embed js/api.js
var apiSource string

var apiProgram = goja.MustCompile("socketcluster/api.js", apiSource, true)

// Errors returned by Run.
var (
	ErrNoRunExport = errors.New("worker controller does not export a run(worker) function")
	// ErrRejected is returned by middleware checks when JavaScript middleware
	// called next(err); the error's text is in a *MiddlewareError.
	ErrRejected = errors.New("rejected by middleware")
)

// MiddlewareError carries the JSON of the error a middleware passed to next.
type MiddlewareError struct {
	Kind string
	JSON string // JSON of the error value, for the client's error ack
	Text string // for logs
}

func (e *MiddlewareError) Error() string { return e.Kind + " middleware: " + e.Text }
func (e *MiddlewareError) Unwrap() error { return ErrRejected }

// Config configures a Worker. Zero values are documented per field.
type Config struct {
	Loop     *jsrt.Loop
	Logger   *slog.Logger
	ID       int  // worker id, 0-based
	IsLeader bool // worker 0
	AppName  string
	Path     string // SC engine path, e.g. "/socketcluster/"
	// AckTimeout bounds server emits with a callback. Zero means 10s.
	AckTimeout         time.Duration
	AllowClientPublish bool
	Origins            string
	// Options is exposed to JavaScript as worker.options (SC option names).
	Options map[string]any
	// Status returns the figures for worker.getStatus(); may be nil.
	Status func() Status
	// Backend serves sessions, global data and channels; nil makes their calls fail with ErrNoBackend.
	Backend Backend
}

// DefaultAckTimeout is the SC ackTimeout default (10 s).
const DefaultAckTimeout = 10 * time.Second

// Worker is the Go side of the objects run(worker) receives.
type Worker struct {
	cfg  Config
	loop *jsrt.Loop
	log  *slog.Logger

	// loop-owned
	vm         *goja.Runtime
	api        *goja.Object
	worker     *goja.Object
	httpServer *goja.Object
	scServer   *goja.Object
	// socketProto is api.js's SCSocket.prototype; sockOn* are its _onEvent, _onResponse and _onClose.
	socketProto    *goja.Object
	sockOnEvent    goja.Value
	sockOnResponse goja.Value
	sockOnClose    goja.Value
	reqCtor        goja.Value
	resCtor        goja.Value
	emitFn         goja.Value // EventEmitter.prototype.emit
	runMW          goja.Value
	conns          map[uint64]*connEntry
	reqObjects     map[uint64]*goja.Object
	bufferFrom     goja.Callable
	// stringifyFn is api.js's stringify; enc is the response encoder kept between responses (nil while in use)
	stringifyFn   goja.Callable
	enc           *jsonEncoder
	responseProto *goja.Object // api.js's Response.prototype (the res of socket events)
	objectProto   *goja.Object // Object.prototype

	nextHandle atomic.Uint64

	requestListeners atomic.Int32
	middleware       [mwKinds]atomic.Int32

	exchanges sync.Map // uint64 -> *exchange

	lanes [backendLanes]chan func()
}

type connEntry struct {
	conn  Conn
	obj   *goja.Object
	ready bool
}

// Middleware kinds.
const (
	MWHandshake = iota
	MWEmit
	MWSubscribe
	MWPublish
	mwKinds
)

var mwNames = [mwKinds]string{"handshake", "emit", "subscribe", "publish"}

// New builds the worker objects inside the loop's VM. It may be called from
// any goroutine; it waits for the loop.
func New(cfg Config) (*Worker, error) {
	if cfg.Loop == nil {
		return nil, errors.New("jsapi: Config.Loop is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.Path == "" {
		cfg.Path = "/socketcluster/"
	}
	w := &Worker{cfg: cfg, loop: cfg.Loop, log: cfg.Logger, conns: make(map[uint64]*connEntry), reqObjects: make(map[uint64]*goja.Object)}
	w.startLanes()
	var err error
	if serr := w.submitWait(func(vm *goja.Runtime) { err = w.setup(vm) }); serr != nil {
		return nil, serr
	}
	return w, err
}

func (w *Worker) setup(vm *goja.Runtime) error {
	w.vm = vm
	ee, err := w.loop.Require("events")
	if err != nil {
		return fmt.Errorf("jsapi: load events: %w", err)
	}
	eeObj := ee.ToObject(vm)
	if e := eeObj.Get("EventEmitter"); e != nil && !goja.IsUndefined(e) {
		eeObj = e.ToObject(vm)
	}
	emit := eeObj.Get("prototype").ToObject(vm).Get("emit")
	if _, ok := goja.AssertFunction(emit); !ok {
		return errors.New("jsapi: EventEmitter.prototype.emit is not a function")
	}
	w.emitFn = emit
	if obj, ok := vm.Get("Object").(*goja.Object); ok {
		w.objectProto, _ = obj.Get("prototype").(*goja.Object)
	}
	if buf := vm.Get("Buffer"); buf != nil && !goja.IsUndefined(buf) {
		w.bufferFrom, _ = goja.AssertFunction(buf.ToObject(vm).Get("from"))
	}
	httpMod, err := w.loop.Require("http")
	if err != nil {
		return fmt.Errorf("jsapi: load http: %w", err)
	}
	factoryVal, err := vm.RunProgram(apiProgram)
	if err != nil {
		return fmt.Errorf("jsapi: evaluate api.js: %w", err)
	}
	factory, _ := goja.AssertFunction(factoryVal)
	natives := w.nativeObject(vm)
	w.addSCNatives(vm, natives)
	apiVal, err := factory(goja.Undefined(), natives, eeObj, httpMod)
	if err != nil {
		return fmt.Errorf("jsapi: build api: %w", err)
	}
	w.api = apiVal.ToObject(vm)
	ctor, ok := w.api.Get("SCSocket").(*goja.Object)
	if !ok {
		return errors.New("jsapi: api.js has no SCSocket")
	}
	if w.socketProto, ok = ctor.Get("prototype").(*goja.Object); !ok {
		return errors.New("jsapi: SCSocket has no prototype")
	}
	w.sockOnEvent = w.socketProto.Get("_onEvent")
	w.sockOnResponse = w.socketProto.Get("_onResponse")
	w.sockOnClose = w.socketProto.Get("_onClose")
	w.stringifyFn, _ = goja.AssertFunction(w.api.Get("stringify"))
	if ctor, ok := w.api.Get("Response").(*goja.Object); ok {
		w.responseProto, _ = ctor.Get("prototype").(*goja.Object)
	}
	w.reqCtor = w.api.Get("IncomingMessage")
	w.resCtor = w.api.Get("ServerResponse")

	opts := vm.NewObject()
	_ = opts.Set("id", w.cfg.ID)
	_ = opts.Set("isLeader", w.cfg.IsLeader)
	_ = opts.Set("ackTimeout", w.cfg.AckTimeout.Milliseconds())
	_ = opts.Set("allowClientPublish", w.cfg.AllowClientPublish)
	_ = opts.Set("origins", w.cfg.Origins)
	_ = opts.Set("path", w.cfg.Path)
	options := vm.NewObject()
	for k, v := range w.cfg.Options {
		_ = options.Set(k, v)
	}
	_ = opts.Set("options", options)
	workerObj, err := vm.New(w.api.Get("Worker"), opts)
	if err != nil {
		return fmt.Errorf("jsapi: new Worker: %w", err)
	}
	w.worker = workerObj
	hs, _ := goja.AssertFunction(workerObj.Get("getHTTPServer"))
	v, _ := hs(workerObj)
	w.httpServer = v.ToObject(vm)
	ss, _ := goja.AssertFunction(workerObj.Get("getSCServer"))
	v, _ = ss(workerObj)
	w.scServer = v.ToObject(vm)
	w.runMW = w.scServer.Get("_runMiddleware")
	return nil
}

// Run loads the worker controller (absolute path) and calls its
// run(worker). It may be called from any goroutine and waits for run to
// return. A load error names the file and line.
func (w *Worker) Run(controller string) error {
	var err error
	serr := w.submitWait(func(vm *goja.Runtime) {
		var exports *goja.Object
		exports, err = w.loop.RequireFile(controller)
		if err != nil {
			var je *jsrt.JSError
			if errors.As(err, &je) && je.Stack != "" {
				err = fmt.Errorf("%s threw while loading:\n%s", controller, je.Stack)
			} else if !strings.Contains(err.Error(), controller) {
				err = fmt.Errorf("%s: %w", controller, err)
			}
			return
		}
		run := exports.Get("run")
		if _, ok := goja.AssertFunction(run); !ok {
			err = fmt.Errorf("%s: %w", controller, ErrNoRunExport)
			return
		}
		if _, cerr := w.loop.Call(run, exports, w.worker); cerr != nil {
			var je *jsrt.JSError
			if errors.As(cerr, &je) && je.Stack != "" {
				err = fmt.Errorf("%s: run(worker) threw:\n%s", controller, je.Stack)
			} else {
				err = fmt.Errorf("%s: run(worker) threw: %w", controller, cerr)
			}
		}
	})
	if serr != nil {
		return serr
	}
	return err
}

// EmitWorker emits an event on the worker object (e.g. "leaderstart").
// Any goroutine.
func (w *Worker) EmitWorker(event string) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		_, _ = w.loop.Call(w.emitFn, w.worker, vm.ToValue(event))
	})
}

// EmitNotice emits 'notice' with msg on the SC server. Any goroutine.
func (w *Worker) EmitNotice(msg string) {
	_ = w.loop.TrySubmit(func(vm *goja.Runtime) {
		if w.listenerCount(w.scServer, "notice") > 0 {
			_, _ = w.loop.Call(w.emitFn, w.scServer, vm.ToValue("notice"), vm.ToValue(msg))
		}
	})
}

// HasMiddleware reports whether JavaScript registered middleware of kind.
// Any goroutine.
func (w *Worker) HasMiddleware(kind int) bool { return w.middleware[kind].Load() > 0 }

func (w *Worker) listenerCount(obj *goja.Object, event string) int {
	fn, ok := goja.AssertFunction(obj.Get("listenerCount"))
	if !ok {
		return 0
	}
	v, err := fn(obj, w.vm.ToValue(event))
	if err != nil {
		return 0
	}
	return int(v.ToInteger())
}

func (w *Worker) emit(obj *goja.Object, args ...goja.Value) {
	_, _ = w.loop.Call(w.emitFn, obj, args...)
}

// headersObject builds Node's req.headers (lower-case names, repeated
// headers joined with ", ", set-cookie as an array) and rawHeaders.
func headersObject(vm *goja.Runtime, h http.Header, host string) (*goja.Object, *goja.Object) {
	obj := vm.NewObject()
	raw := make([]any, 0, len(h)*2+2)
	if host != "" {
		_ = obj.Set("host", host)
		raw = append(raw, "Host", host)
	}
	for name, values := range h {
		lname := strings.ToLower(name)
		for _, v := range values {
			raw = append(raw, name, v)
		}
		if lname == "set-cookie" {
			arr := make([]any, len(values))
			for i, v := range values {
				arr[i] = v
			}
			_ = obj.Set(lname, vm.NewArray(arr...))
			continue
		}
		sep := ", "
		if lname == "cookie" {
			sep = "; "
		}
		_ = obj.Set(lname, strings.Join(values, sep))
	}
	return obj, vm.NewArray(raw...)
}

// submitWait runs fn on the loop and waits for it. Never call it on the loop.
func (w *Worker) submitWait(fn func(vm *goja.Runtime)) error {
	done := make(chan struct{})
	if err := w.loop.Submit(func(vm *goja.Runtime) {
		defer close(done)
		fn(vm)
	}); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-w.loop.Done():
		return jsrt.ErrClosed
	}
}
