package runtime

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/socketcluster-go/socketcluster/internal/testenv"
)

type harness struct {
	l              *Loop
	out, err, logs *testenv.Buffer
}

const testDeadline = 5 * time.Second

func newHarness(t testing.TB, opts Options) *harness {
	t.Helper()
	h := &harness{out: &testenv.Buffer{}, err: &testenv.Buffer{}, logs: &testenv.Buffer{}}
	opts.Stdout, opts.Stderr = h.out, h.err
	opts.Logger = slog.New(slog.NewTextHandler(h.logs, nil))
	if opts.AppDir == "" {
		opts.AppDir = "testdata/app"
	}
	l, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.l = l
	l.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		if err := l.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return h
}

// do runs fn on the loop and waits for it.
func (h *harness) do(t testing.TB, fn func(vm *goja.Runtime)) {
	t.Helper()
	done := make(chan struct{})
	if err := h.l.Submit(func(vm *goja.Runtime) {
		defer close(done)
		fn(vm)
	}); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	select {
	case <-done:
	case <-time.After(testDeadline):
		t.Fatal("task did not run in time")
	}
}

// eval runs src as a script on the loop and returns its exported result.
func (h *harness) eval(t testing.TB, src string) any {
	t.Helper()
	var res any
	var err error
	h.do(t, func(vm *goja.Runtime) {
		var v goja.Value
		v, err = vm.RunString(src)
		if err == nil && v != nil {
			res = v.Export()
		}
	})
	if err != nil {
		t.Fatalf("eval %q: %v", src, err)
	}
	return res
}

// evalErr runs src and returns the error it raised.
func (h *harness) evalErr(t testing.TB, src string) error {
	t.Helper()
	var err error
	h.do(t, func(vm *goja.Runtime) { _, err = vm.RunString(src) })
	return err
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) waitOut(t testing.TB, want string) {
	t.Helper()
	waitFor(t, "stdout "+want, func() bool { return strings.Contains(h.out.String(), want) })
}
