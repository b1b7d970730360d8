package runtime

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestEventOrder(t *testing.T) {
	h := newHarness(t, Options{})
	h.eval(t, `
		const log = (s) => console.log(s);
		Promise.resolve().then(() => log('p'));
		process.nextTick(() => log('t'));
		setTimeout(() => log('s'), 0);
		setImmediate(() => log('i'));
		log('sync');
		setTimeout(() => log('END'), 20);
	`)
	h.waitOut(t, "END")
	if got, want := h.out.String(), "sync\nt\np\ns\ni\nEND\n"; got != want {
		t.Fatalf("order = %q, want %q", got, want)
	}
}

func TestNestedTicksAndMicrotasks(t *testing.T) {
	h := newHarness(t, Options{})
	h.eval(t, `
		const log = (s) => console.log(s);
		Promise.resolve().then(() => { log('p1'); process.nextTick(() => log('t-from-p')); Promise.resolve().then(() => log('p2')); });
		process.nextTick(() => { log('t1'); process.nextTick(() => log('t2')); Promise.resolve().then(() => log('p-from-t')); });
		queueMicrotask(() => log('qm'));
		setTimeout(() => log('END'), 1);
	`)
	h.waitOut(t, "END")
	// Node: all ticks (incl. nested) before promise jobs; ticks scheduled by jobs run after the job queue drains.
	if got, want := h.out.String(), "t1\nt2\np1\nqm\np-from-t\np2\nt-from-p\nEND\n"; got != want {
		t.Fatalf("order = %q, want %q", got, want)
	}
}

func TestTimers(t *testing.T) {
	h := newHarness(t, Options{})
	h.eval(t, `
		const log = (s) => console.log(s);
		const t1 = setTimeout(() => log('cleared-timeout'), 5);
		clearTimeout(t1);
		const t2 = setTimeout(() => log('cleared-by-id'), 5);
		clearTimeout(+t2);
		const im = setImmediate(() => log('cleared-immediate'));
		clearImmediate(im);
		setTimeout((a, b) => log('args ' + a + b), 1, 'x', 'y');
		let n = 0;
		const iv = setInterval(function () { n++; log('tick ' + n + ' ' + (this === iv)); if (n === 3) { clearInterval(iv); setTimeout(() => log('END'), 10); } }, 1);
		const shape = setTimeout(() => {}, 1000);
		log('shape ' + [typeof shape.ref, shape.hasRef(), shape.unref() === shape, shape.hasRef(), shape.ref().hasRef(), typeof shape[Symbol.toPrimitive](), +shape > 0, shape.refresh() === shape].join(','));
		clearTimeout(shape);
		log('timers module ' + (require_timers_same()));
		function require_timers_same() { return true; }
	`)
	h.waitOut(t, "END")
	out := h.out.String()
	for _, s := range []string{"args xy", "tick 1 true", "tick 2 true", "tick 3 true", "shape function,true,true,false,true,number,true,true"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"cleared", "tick 4"} {
		if strings.Contains(out, s) {
			t.Errorf("output has %q:\n%s", s, out)
		}
	}
	v := requireEval(t, h, "timers", "m.setTimeout === setTimeout && typeof m.promises.setTimeout === 'function'")
	if v != true {
		t.Error("require('timers') does not expose the global timers")
	}
}

func TestGoSetTimeout(t *testing.T) {
	h := newHarness(t, Options{})
	fired := make(chan string, 2)
	h.do(t, func(vm *goja.Runtime) {
		cancel := h.l.SetTimeout(time.Millisecond, func() { fired <- "cancelled" })
		cancel()
		cancel()
		h.l.SetTimeout(time.Millisecond, func() { fired <- "fired" })
	})
	select {
	case s := <-fired:
		if s != "fired" {
			t.Fatalf("got %q", s)
		}
	case <-time.After(testDeadline):
		t.Fatal("timer did not fire")
	}
}

func TestBackPressure(t *testing.T) {
	h := newHarness(t, Options{InboxSize: 2})
	release := make(chan struct{})
	running := make(chan struct{})
	if err := h.l.Submit(func(*goja.Runtime) { close(running); <-release }); err != nil {
		t.Fatal(err)
	}
	<-running
	noop := func(*goja.Runtime) {}
	if !h.l.TrySubmit(noop) || !h.l.TrySubmit(noop) {
		t.Fatal("TrySubmit failed with room in the inbox")
	}
	if h.l.TrySubmit(noop) {
		t.Fatal("TrySubmit succeeded on a full inbox")
	}
	submitted := make(chan error, 1)
	go func() { submitted <- h.l.Submit(noop) }()
	select {
	case err := <-submitted:
		t.Fatalf("Submit returned (%v) while the inbox was full and the loop blocked", err)
	default:
	}
	close(release)
	select {
	case err := <-submitted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testDeadline):
		t.Fatal("Submit stayed blocked after the loop drained")
	}
}

func TestSubmitAfterStop(t *testing.T) {
	l, err := New(Options{AppDir: "testdata/app"})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	if err := l.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Submit(func(*goja.Runtime) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after Stop = %v, want ErrClosed", err)
	}
	if l.TrySubmit(func(*goja.Runtime) {}) {
		t.Fatal("TrySubmit after Stop succeeded")
	}
	select {
	case <-l.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	// A loop that never started stops at once.
	l2, err := New(Options{AppDir: "testdata/app"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWatchdog(t *testing.T) {
	h := newHarness(t, Options{HandlerBudget: 50 * time.Millisecond})
	err := h.evalErr(t, `function spin() { while (true) {} } spin();`)
	if err == nil {
		t.Fatal("endless loop was not interrupted")
	}
	if got := h.eval(t, `1 + 1`); got != int64(2) {
		t.Fatalf("loop not serving after interrupt: %v", got)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "handler exceeded budget of 50ms") {
		t.Fatalf("interrupt not logged:\n%s", logs)
	}
	// In a timer callback, through Call.
	h.eval(t, `setTimeout(function spinTimer() { while (true) {} }, 0); setTimeout(() => console.log('after'), 5);`)
	h.waitOut(t, "after")
	waitFor(t, "timer interrupt log", func() bool { return strings.Contains(h.logs.String(), "spinTimer") })
	// Call returns ErrInterrupted.
	h.do(t, func(vm *goja.Runtime) {
		fn, _ := vm.RunString(`(function () { for (;;) {} })`)
		_, err := h.l.Call(fn, nil)
		if !errors.Is(err, ErrInterrupted) {
			t.Errorf("Call error = %v, want ErrInterrupted", err)
		}
	})
	if got := h.eval(t, `'still ' + 'here'`); got != "still here" {
		t.Fatalf("got %v", got)
	}
}

func TestDeepRecursion(t *testing.T) {
	h := newHarness(t, Options{MaxCallStackSize: 500})
	h.do(t, func(vm *goja.Runtime) {
		fn, _ := vm.RunString(`(function f(n) { return f(n + 1) + 1; })`)
		_, err := h.l.Call(fn, nil, vm.ToValue(0))
		var je *JSError
		if !errors.As(err, &je) || !strings.HasPrefix(je.Message, "RangeError: Maximum call stack size exceeded") {
			t.Errorf("err = %#v, want RangeError", err)
		}
	})
	if got := h.eval(t, `'alive'`); got != "alive" {
		t.Fatal(got)
	}
}

func TestUncaughtException(t *testing.T) {
	h := newHarness(t, Options{})
	h.eval(t, `setTimeout(function boom() { null.x; }, 0); setTimeout(() => console.log('next'), 2);`)
	h.waitOut(t, "next")
	waitFor(t, "uncaught log", func() bool { return strings.Contains(h.logs.String(), "uncaught exception") })
	logs := h.logs.String()
	if !strings.Contains(logs, "TypeError") || !strings.Contains(logs, "at boom") {
		t.Fatalf("log lacks error and stack:\n%s", logs)
	}
	// Call returns *JSError with the stack.
	h.do(t, func(vm *goja.Runtime) {
		fn, _ := vm.RunString(`(function thrower() { throw new Error('bad thing'); })`)
		_, err := h.l.Call(fn, nil)
		var je *JSError
		if !errors.As(err, &je) || je.Message != "Error: bad thing" || !strings.Contains(je.Stack, "at thrower") || je.Value == nil {
			t.Errorf("err = %#v", err)
		}
	})
	// process 'uncaughtException' listeners see it instead of the log.
	h.eval(t, `process.on('uncaughtException', (e, origin) => console.log('caught ' + e.message + ' ' + origin));
		process.nextTick(() => { throw new Error('in tick'); });`)
	h.waitOut(t, "caught in tick uncaughtException")
}

func TestUnhandledRejection(t *testing.T) {
	h := newHarness(t, Options{})
	h.eval(t, `
		Promise.reject(new Error('handled later')).catch(() => {});
		(async function failing() { throw new Error('nobody cares'); })();
		setTimeout(() => console.log('next'), 1);
	`)
	h.waitOut(t, "next")
	waitFor(t, "rejection log", func() bool { return strings.Contains(h.logs.String(), "unhandled promise rejection") })
	logs := h.logs.String()
	if !strings.Contains(logs, "nobody cares") || !strings.Contains(logs, "failing") {
		t.Fatalf("log lacks reason/stack:\n%s", logs)
	}
	if strings.Contains(logs, "handled later") {
		t.Fatalf("handled rejection reported:\n%s", logs)
	}
	h.eval(t, `process.on('unhandledRejection', (r, p) => console.log('saw ' + r + ' ' + (p instanceof Promise)));
		Promise.reject('plain');`)
	h.waitOut(t, "saw plain true")
}

func TestStopLeavesNoGoroutines(t *testing.T) {
	for i := 0; i < 3; i++ {
		l, err := New(Options{AppDir: "testdata/app", HandlerBudget: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		l.Start()
		done := make(chan struct{})
		_ = l.Submit(func(vm *goja.Runtime) {
			_, _ = vm.RunString(`setTimeout(() => {}, 100000); setInterval(() => {}, 5);`)
			close(done)
		})
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		if err := l.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	goleak.VerifyNone(t)
}

func TestStopInterruptsOnDeadline(t *testing.T) {
	l, err := New(Options{AppDir: "testdata/app", HandlerBudget: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	running := make(chan struct{})
	_ = l.Submit(func(vm *goja.Runtime) {
		close(running)
		_, _ = vm.RunString(`while (true) {}`)
	})
	<-running
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want deadline exceeded", err)
	}
	select {
	case <-l.Done():
	case <-time.After(testDeadline):
		t.Fatal("loop did not exit after interrupt")
	}
}

func BenchmarkSubmitCall(b *testing.B) {
	l, err := New(Options{AppDir: "testdata/app"})
	if err != nil {
		b.Fatal(err)
	}
	l.Start()
	defer func() { _ = l.Stop(context.Background()) }()
	fnc := make(chan goja.Value, 1)
	_ = l.Submit(func(vm *goja.Runtime) {
		v, _ := vm.RunString(`(function echo(x) { return x + 1; })`)
		fnc <- v
	})
	fn := <-fnc
	done := make(chan struct{}, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = l.Submit(func(vm *goja.Runtime) {
			_, _ = l.Call(fn, nil, vm.ToValue(i))
			done <- struct{}{}
		})
		<-done
	}
}

func TestGoPanicInBinding(t *testing.T) {
	h := newHarness(t, Options{})
	h.do(t, func(vm *goja.Runtime) {
		_ = vm.Set("gopanic", func() {
			var m map[string]int
			m["x"] = 1
		})
		fn, _ := vm.RunString(`(function () { gopanic(); })`)
		if _, err := h.l.Call(fn, nil); err == nil {
			t.Error("Call of a panicking binding returned no error")
		}
	})
	h.do(t, func(vm *goja.Runtime) { panic("stray") })
	if got := h.eval(t, `'ok'`); got != "ok" {
		t.Fatal(got)
	}
	if !strings.Contains(h.logs.String(), "stray") {
		t.Errorf("stray panic not logged:\n%s", h.logs.String())
	}
}

func TestConcurrentSubmit(t *testing.T) {
	h := newHarness(t, Options{InboxSize: 8})
	const writers, each = 4, 200
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func() {
			for i := 0; i < each; i++ {
				if err := h.l.Submit(func(vm *goja.Runtime) {
					_, _ = vm.RunString(`globalThis.n = (globalThis.n || 0) + 1`)
				}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < writers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := h.eval(t, `globalThis.n`); got != int64(writers*each) {
		t.Fatalf("n = %v, want %d", got, writers*each)
	}
}
