package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// Defaults applied to zero-valued Options fields.
const (
	// DefaultHandlerBudget is how long one task, timer callback or nextTick/microtask drain may run before the
	// watchdog interrupts it.
	DefaultHandlerBudget = 10 * time.Second
	// DefaultMaxCallStackSize is the JS call depth after which a call fails with a RangeError.
	DefaultMaxCallStackSize = 10000
	// DefaultInboxSize is the capacity of the bounded inbox; Submit blocks while it is full.
	DefaultInboxSize = 4096
	// DefaultBatchSize is how many inbox tasks are run per loop iteration before timers and immediates get a turn.
	DefaultBatchSize = 256
)

// Sentinel errors.
var (
	// ErrClosed is returned by Submit after Stop.
	ErrClosed = errors.New("runtime: loop closed")
	// ErrInterrupted wraps the error of a call the watchdog interrupted.
	ErrInterrupted = errors.New("runtime: interrupted")
	// ErrOutsideAppDir is returned when require or fs names a path outside the app directory.
	ErrOutsideAppDir = errors.New("runtime: path outside the app directory")
	// ErrModuleNotFound is returned when require cannot resolve a module.
	ErrModuleNotFound = errors.New("runtime: module not found")
	// ErrSyntax wraps a compile error of a module; the message names file:line:col.
	ErrSyntax = errors.New("runtime: syntax error")
)

// JSError is a JavaScript exception that reached Go.
type JSError struct {
	Message string     // e.g. "TypeError: x is not a function"
	Stack   string     // the JS stack as Node prints it (message line followed by "    at ..." frames)
	Value   goja.Value // the thrown value (nil for uncatchable errors such as stack overflow); loop goroutine only

	reported bool
}

func (e *JSError) Error() string { return e.Message }

// Options configures a Loop. Every zero value has a documented default.
type Options struct {
	// AppDir is the directory of the user's worker.js. require() and fs may read under it (and its node_modules)
	// only. Made absolute; empty means the current directory.
	AppDir string
	// Logger receives uncaught exceptions, unhandled rejections and watchdog interrupts (Error level, with stack).
	// Nil means slog.Default().
	Logger *slog.Logger
	// Stdout receives console.log/info/debug/dir; Stderr console.error/warn/trace. Nil means os.Stdout/os.Stderr.
	Stdout, Stderr io.Writer
	// HandlerBudget is the watchdog budget of one task; 0 means DefaultHandlerBudget, negative disables the watchdog.
	HandlerBudget time.Duration
	// MaxCallStackSize is the JS call depth limit; 0 means DefaultMaxCallStackSize.
	MaxCallStackSize int
	// InboxSize is the inbox capacity; 0 means DefaultInboxSize.
	InboxSize int
	// Overlay holds virtual files (absolute path -> content) visible to require and fs only where no real file exists.
	Overlay map[string][]byte
	// Argv is process.argv; nil means os.Args.
	Argv []string
	// Env is process.env; nil means the process environment.
	Env map[string]string
	// OnExit is called (on the loop) when JS calls process.exit(code); nil means the call is logged and ignored.
	OnExit func(code int)
}

// Loop owns one goja.Runtime and runs everything that touches it on one goroutine.
//
// Submit, TrySubmit, Start, Stop and Done may be called from any goroutine. Every other method, and every
// goja.Value, belongs to the loop goroutine: call them inside a Submit'd function or a JS->Go callback.
type Loop struct {
	opts    Options
	log     *slog.Logger
	budget  time.Duration
	vm      *goja.Runtime
	fsys    *appFS
	started time.Time

	inbox     chan func(*goja.Runtime)
	quit      chan struct{}
	done      chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once

	// watchdog state, shared with the timer goroutine.
	wdMu       sync.Mutex
	wdActive   bool
	wdDeadline time.Time
	wdFired    bool
	wdTimer    *time.Timer

	// loop-owned state.
	runner            goja.Callable
	current           func()
	ticks             []tick
	rejections        []*goja.Promise
	rejected          map[*goja.Promise]struct{}
	timers            timerHeap
	timerByID         map[int64]*timer
	immediates        []*timer
	nextID            int64
	seq               uint64
	wake              *time.Timer
	interruptedLogged bool

	natives map[string]func(vm *goja.Runtime, module *goja.Object)
	core    map[string]*goja.Object // loaded core modules: name -> module object
	cache   *goja.Object            // require.cache
	process *goja.Object
	mainMod *goja.Object
}

type tick struct {
	fn   goja.Value
	args []goja.Value
}

// New creates a Loop with its VM and core modules; call Start to run it.
func New(opts Options) (*Loop, error) {
	if opts.AppDir == "" {
		opts.AppDir = "."
	}
	dir, err := filepath.Abs(opts.AppDir)
	if err != nil {
		return nil, fmt.Errorf("runtime: app dir: %w", err)
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	opts.AppDir = dir
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	budget := opts.HandlerBudget
	if budget == 0 {
		budget = DefaultHandlerBudget
	}
	if opts.MaxCallStackSize <= 0 {
		opts.MaxCallStackSize = DefaultMaxCallStackSize
	}
	if opts.InboxSize <= 0 {
		opts.InboxSize = DefaultInboxSize
	}
	if opts.Argv == nil {
		opts.Argv = os.Args
	}
	if opts.Env == nil {
		opts.Env = map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				opts.Env[k] = v
			}
		}
	}
	fsys, err := newAppFS(dir, opts.Overlay)
	if err != nil {
		return nil, err
	}
	l := &Loop{
		opts:      opts,
		log:       opts.Logger.With("component", "runtime"),
		budget:    budget,
		vm:        goja.New(),
		fsys:      fsys,
		started:   time.Now(),
		inbox:     make(chan func(*goja.Runtime), opts.InboxSize),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
		rejected:  map[*goja.Promise]struct{}{},
		timerByID: map[int64]*timer{},
		natives:   map[string]func(*goja.Runtime, *goja.Object){},
		core:      map[string]*goja.Object{},
	}
	l.vm.SetMaxCallStackSize(opts.MaxCallStackSize)
	l.vm.SetPromiseRejectionTracker(l.trackRejection)
	// The runner is a JS function calling back into Go: code run inside it (including vm.RunString) is then
	// nested, so goja runs the promise job queue only when the runner returns, after the nextTick queue.
	mk, err := l.vm.RunString("(function (run) { return function () { run(); }; })")
	if err != nil {
		fsys.close()
		return nil, fmt.Errorf("runtime: runner: %w", err)
	}
	mkFn, _ := goja.AssertFunction(mk)
	rv, err := mkFn(goja.Undefined(), l.vm.ToValue(func(goja.FunctionCall) goja.Value {
		l.runCurrent()
		return goja.Undefined()
	}))
	if err != nil {
		fsys.close()
		return nil, fmt.Errorf("runtime: runner: %w", err)
	}
	l.runner, _ = goja.AssertFunction(rv)
	if err := l.installGlobals(); err != nil {
		fsys.close()
		return nil, err
	}
	return l, nil
}

// Start starts the loop goroutine. Calling it more than once, or after Stop, does nothing.
func (l *Loop) Start() {
	l.startOnce.Do(func() {
		go l.run()
	})
}

// Submit queues fn to run on the loop. It may be called from any goroutine except the loop's own (use TrySubmit
// or SetTimeout there); it blocks while the inbox is full and returns ErrClosed once Stop was called.
func (l *Loop) Submit(fn func(vm *goja.Runtime)) error {
	if fn == nil {
		return nil
	}
	select {
	case <-l.quit:
		return ErrClosed
	default:
	}
	select {
	case l.inbox <- fn:
		return nil
	case <-l.quit:
		return ErrClosed
	}
}

// TrySubmit queues fn without blocking; it reports false when the inbox is full or the loop is stopped.
func (l *Loop) TrySubmit(fn func(vm *goja.Runtime)) bool {
	if fn == nil {
		return false
	}
	select {
	case <-l.quit:
		return false
	default:
	}
	select {
	case l.inbox <- fn:
		return true
	default:
		return false
	}
}

// Stop stops the loop after the task in progress and waits for the goroutine to exit. Queued tasks and pending
// timers are dropped. If ctx ends first, the running JS is interrupted and ctx's error returned. Stop must not be
// called on the loop goroutine (it would wait for itself); from there, hand it to another goroutine.
func (l *Loop) Stop(ctx context.Context) error {
	l.stopOnce.Do(func() {
		close(l.quit)
		l.startOnce.Do(func() { // never started: nothing to wait for
			l.fsys.close()
			close(l.done)
		})
	})
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		l.vm.Interrupt(ErrClosed)
		return ctx.Err()
	}
}

// Done is closed when the loop goroutine has exited.
func (l *Loop) Done() <-chan struct{} { return l.done }

// VM returns the runtime. Loop goroutine only.
func (l *Loop) VM() *goja.Runtime { return l.vm }

func (l *Loop) run() {
	defer close(l.done)
	defer l.fsys.close()
	defer func() {
		if l.wake != nil {
			l.wake.Stop()
		}
		l.wdMu.Lock()
		if l.wdTimer != nil {
			l.wdTimer.Stop()
		}
		l.wdMu.Unlock()
	}()
	for {
		select {
		case <-l.quit:
			return
		default:
		}
		busy := false
		for i := 0; i < DefaultBatchSize; i++ {
			select {
			case fn := <-l.inbox:
				l.macrotask(func() { fn(l.vm) })
				continue
			case <-l.quit:
				return
			default:
			}
			break
		}
		if len(l.inbox) > 0 {
			busy = true
		}
		l.runDueTimers()
		l.runImmediates()
		if busy || len(l.immediates) > 0 {
			continue
		}
		var timerC <-chan time.Time
		if next := l.timers.peek(); next != nil {
			d := time.Until(next.when)
			if d <= 0 {
				continue
			}
			if l.wake == nil {
				l.wake = time.NewTimer(d)
			} else {
				l.wake.Reset(d)
			}
			timerC = l.wake.C
		}
		select {
		case <-l.quit:
			return
		case fn := <-l.inbox:
			l.macrotask(func() { fn(l.vm) })
		case <-timerC:
		}
	}
}

// macrotask runs fn as one unit of work under the watchdog, followed by the nextTick queue and promise jobs in
// Node's order, then reports promise rejections nobody handled.
func (l *Loop) macrotask(fn func()) {
	l.armWatchdog()
	l.interruptedLogged = false
	l.runOuter(fn)
	for {
		if len(l.ticks) > 0 {
			if l.watchdogFired() {
				l.ticks = nil
				break
			}
			l.runOuter(nil)
			continue
		}
		if len(l.rejections) > 0 {
			l.runOuter(l.reportRejections)
			continue
		}
		break
	}
	l.disarmWatchdog()
}

// runOuter calls fn (then the nextTick queue) from the outermost JS frame, so that goja runs the promise job
// queue only after both have finished.
func (l *Loop) runOuter(fn func()) {
	l.current = fn
	_, err := l.runner(goja.Undefined())
	l.current = nil
	if err != nil {
		l.reportError(err)
	}
}

// runCurrent runs inside the runner frame.
func (l *Loop) runCurrent() {
	if fn := l.current; fn != nil {
		l.current = nil
		l.protect(fn)
	}
	l.drainTicks()
}

// protect runs fn and turns a stray Go panic into a logged error.
func (l *Loop) protect(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			switch v := r.(type) {
			case *goja.Object: // a JS exception thrown into Go code outside a JS frame
				l.reportError(&JSError{Message: v.String(), Stack: stackOf(v), Value: v})
				return
			case *goja.Exception:
				l.reportError(l.convertError(v))
				return
			}
			l.log.Error("panic in loop task", "panic", fmt.Sprint(r))
		}
	}()
	fn()
}

func (l *Loop) drainTicks() {
	for len(l.ticks) > 0 {
		t := l.ticks[0]
		l.ticks[0] = tick{}
		l.ticks = l.ticks[1:]
		if _, err := l.Call(t.fn, goja.Undefined(), t.args...); err != nil && errors.Is(err, ErrInterrupted) {
			l.ticks = nil
			return
		}
	}
	l.ticks = nil
}

// Call calls a JS function on the loop. A thrown exception is reported (process 'uncaughtException' listeners,
// else the Logger, with its JS stack) and returned as *JSError; an interrupt by the watchdog returns an error
// wrapping ErrInterrupted. Call never panics. Loop goroutine only.
func (l *Loop) Call(fn goja.Value, this goja.Value, args ...goja.Value) (ret goja.Value, err error) {
	callable, ok := goja.AssertFunction(fn)
	if !ok {
		return nil, &JSError{Message: "TypeError: callback is not a function"}
	}
	if this == nil {
		this = goja.Undefined()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("runtime: panic in call: %v", r)
			l.log.Error("panic in JS call", "panic", fmt.Sprint(r))
		}
	}()
	ret, err = callable(this, args...)
	if err != nil {
		err = l.convertError(err)
		l.reportError(err)
	}
	return ret, err
}

// convertError maps goja errors to *JSError or an ErrInterrupted wrapper.
func (l *Loop) convertError(err error) error {
	var ex *goja.Exception
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	var je *JSError
	switch {
	case errors.As(err, &je):
		return je
	case errors.As(err, &ie):
		return &interruptError{msg: fmt.Sprint(ie.Value()), stack: ie.String()}
	case errors.As(err, &so):
		return &JSError{Message: "RangeError: Maximum call stack size exceeded", Stack: "RangeError: Maximum call stack size exceeded\n" + stackLines(so.Error())}
	case errors.As(err, &ex):
		v := ex.Value()
		msg := ""
		if v != nil {
			msg = v.String()
		}
		st := stackOf(v)
		if st == "" {
			st = ex.String()
		}
		return &JSError{Message: msg, Stack: st, Value: v}
	}
	return err
}

type interruptError struct{ msg, stack string }

func (e *interruptError) Error() string { return ErrInterrupted.Error() + ": " + e.msg }
func (e *interruptError) Unwrap() error { return ErrInterrupted }

func stackLines(s string) string {
	if i := strings.Index(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// stackOf returns v.stack when v is an Error-like object.
func stackOf(v goja.Value) string {
	o, ok := v.(*goja.Object)
	if !ok {
		return ""
	}
	s := o.Get("stack")
	if s == nil || goja.IsUndefined(s) || goja.IsNull(s) {
		return ""
	}
	return s.String()
}

// reportError logs or emits an error that escaped a callback. Interrupts are logged once per macrotask.
func (l *Loop) reportError(err error) {
	var ie *interruptError
	if errors.As(err, &ie) {
		if !l.interruptedLogged {
			l.interruptedLogged = true
			l.log.Error(ie.msg, "stack", ie.stack)
		}
		return
	}
	var ie2 *goja.InterruptedError
	if errors.As(err, &ie2) {
		l.reportError(l.convertError(err))
		return
	}
	var je *JSError
	if !errors.As(err, &je) {
		if c := l.convertError(err); c != err {
			l.reportError(c)
			return
		}
		l.log.Error("uncaught error", "error", err.Error())
		return
	}
	if je.reported {
		return
	}
	je.reported = true
	if je.Value != nil && l.emitProcess("uncaughtException", je.Value, l.vm.ToValue("uncaughtException")) {
		return
	}
	l.log.Error("uncaught exception", "error", je.Message, "stack", je.Stack)
}

// emitProcess emits ev on process when it has listeners and reports whether it did.
func (l *Loop) emitProcess(ev string, args ...goja.Value) bool {
	if l.process == nil {
		return false
	}
	lc, ok := goja.AssertFunction(l.process.Get("listenerCount"))
	if !ok {
		return false
	}
	n, err := lc(l.process, l.vm.ToValue(ev))
	if err != nil || n.ToInteger() == 0 {
		return false
	}
	emit, ok := goja.AssertFunction(l.process.Get("emit"))
	if !ok {
		return false
	}
	all := append([]goja.Value{l.vm.ToValue(ev)}, args...)
	if _, err := emit(l.process, all...); err != nil {
		c := l.convertError(err)
		var je *JSError
		if errors.As(c, &je) {
			l.log.Error("uncaught exception in "+ev+" listener", "error", je.Message, "stack", je.Stack)
			return true
		}
		l.reportError(c)
	}
	return true
}

func (l *Loop) trackRejection(p *goja.Promise, op goja.PromiseRejectionOperation) {
	switch op {
	case goja.PromiseRejectionReject:
		l.rejected[p] = struct{}{}
		l.rejections = append(l.rejections, p)
	case goja.PromiseRejectionHandle:
		delete(l.rejected, p)
	}
}

func (l *Loop) reportRejections() {
	list := l.rejections
	l.rejections = nil
	for _, p := range list {
		if _, still := l.rejected[p]; !still {
			continue
		}
		delete(l.rejected, p)
		reason := p.Result()
		if l.emitProcess("unhandledRejection", reason, l.vm.ToValue(p)) {
			continue
		}
		msg := "undefined"
		if reason != nil {
			msg = reason.String()
		}
		st := stackOf(reason)
		if st == "" {
			st = msg
		}
		l.log.Error("unhandled promise rejection", "error", msg, "stack", st)
	}
}

// armWatchdog starts the budget for one macrotask.
func (l *Loop) armWatchdog() {
	if l.budget < 0 {
		return
	}
	l.wdMu.Lock()
	l.wdActive = true
	l.wdFired = false
	l.wdDeadline = time.Now().Add(l.budget)
	if l.wdTimer == nil {
		l.wdTimer = time.AfterFunc(l.budget, l.watchdogCheck)
	} else {
		l.wdTimer.Reset(l.budget)
	}
	l.wdMu.Unlock()
}

// watchdogCheck runs on the timer goroutine.
func (l *Loop) watchdogCheck() {
	l.wdMu.Lock()
	defer l.wdMu.Unlock()
	if !l.wdActive || l.wdFired {
		return
	}
	if d := time.Until(l.wdDeadline); d > 0 {
		l.wdTimer.Reset(d)
		return
	}
	l.wdFired = true
	l.vm.Interrupt(fmt.Sprintf("handler exceeded budget of %s", l.budget))
}

func (l *Loop) watchdogFired() bool {
	l.wdMu.Lock()
	defer l.wdMu.Unlock()
	return l.wdFired
}

func (l *Loop) disarmWatchdog() {
	if l.budget < 0 {
		return
	}
	l.wdMu.Lock()
	l.wdActive = false
	fired := l.wdFired
	l.wdFired = false
	l.wdTimer.Stop()
	l.wdMu.Unlock()
	if fired {
		// The interrupt may not have been observed (the task was in Go code); clear it so the next task runs.
		l.vm.ClearInterrupt()
	}
}
