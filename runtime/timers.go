package runtime

import (
	"container/heap"
	"math"
	"strconv"
	"time"

	"github.com/dop251/goja"
)

// minRepeat is the shortest interval period.
const minRepeat = time.Millisecond

// timer is one setTimeout/setInterval/setImmediate or Go-side SetTimeout. Loop goroutine only.
type timer struct {
	id        int64
	when      time.Time
	delay     time.Duration
	seq       uint64
	index     int // position in the heap; -1 when not scheduled
	repeat    bool
	immediate bool
	cleared   bool
	ref       bool
	this      goja.Value
	fn        goja.Value
	args      []goja.Value
	goFn      func()
}

// timerHeap orders timers by due time, then by creation order.
type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}
func (h timerHeap) peek() *timer {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

func (l *Loop) schedule(t *timer) {
	l.seq++
	t.seq = l.seq
	t.when = time.Now().Add(t.delay)
	heap.Push(&l.timers, t)
}

func (l *Loop) unschedule(t *timer) {
	if t.index >= 0 && t.index < len(l.timers) && l.timers[t.index] == t {
		heap.Remove(&l.timers, t.index)
	}
	t.index = -1
}

func (l *Loop) newTimer() *timer {
	l.nextID++
	t := &timer{id: l.nextID, index: -1, ref: true}
	l.timerByID[t.id] = t
	return t
}

func (l *Loop) clearTimer(t *timer) {
	t.cleared = true
	l.unschedule(t)
	delete(l.timerByID, t.id)
}

// runDueTimers runs every timer that was due when the phase started, each as its own macrotask.
func (l *Loop) runDueTimers() {
	now := time.Now()
	var due []*timer
	for len(l.timers) > 0 && !l.timers[0].when.After(now) {
		due = append(due, heap.Pop(&l.timers).(*timer))
	}
	for _, t := range due {
		if t.cleared {
			continue
		}
		if !t.repeat {
			delete(l.timerByID, t.id)
		}
		l.fire(t)
		if t.repeat && !t.cleared && t.index < 0 {
			if t.delay < minRepeat {
				t.delay = minRepeat // as Node: an interval never repeats faster than every millisecond
			}
			l.schedule(t)
		}
	}
}

// runImmediates runs the immediates queued before this phase.
func (l *Loop) runImmediates() {
	list := l.immediates
	l.immediates = nil
	for _, t := range list {
		if t.cleared {
			continue
		}
		delete(l.timerByID, t.id)
		t.cleared = true
		l.fire(t)
	}
}

func (l *Loop) fire(t *timer) {
	if t.goFn != nil {
		l.macrotask(t.goFn)
		return
	}
	l.macrotask(func() { _, _ = l.Call(t.fn, t.this, t.args...) })
}

// SetTimeout runs fn on the loop after d, as its own task. The returned cancel is idempotent. Both SetTimeout and
// cancel must be called on the loop goroutine.
func (l *Loop) SetTimeout(d time.Duration, fn func()) (cancel func()) {
	if d < 0 {
		d = 0
	}
	t := l.newTimer()
	t.delay = d
	t.goFn = fn
	l.schedule(t)
	return func() {
		if !t.cleared {
			l.clearTimer(t)
		}
	}
}

// delayOf converts a JS delay argument as Node does: non-numbers, NaN, negatives and values above 2^31-1 are 0.
func delayOf(v goja.Value) time.Duration {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	ms := v.ToFloat()
	if math.IsNaN(ms) || ms < 1 || ms > math.MaxInt32 {
		return 0
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// timerNatives is the Go half of js/timers.js.
func (l *Loop) timerNatives() map[string]any {
	vm := l.vm
	args := func(v goja.Value) []goja.Value {
		o, ok := v.(*goja.Object)
		if !ok {
			return nil
		}
		n := int(o.Get("length").ToInteger())
		out := make([]goja.Value, n)
		for i := range out {
			out[i] = o.Get(strconv.Itoa(i))
		}
		return out
	}
	return map[string]any{
		"add": func(this, fn, ms goja.Value, repeat bool, extra goja.Value) int64 {
			t := l.newTimer()
			t.this, t.fn, t.args, t.repeat = this, fn, args(extra), repeat
			t.delay = delayOf(ms)
			l.schedule(t)
			return t.id
		},
		"addImmediate": func(this, fn goja.Value, extra goja.Value) int64 {
			t := l.newTimer()
			t.this, t.fn, t.args, t.immediate = this, fn, args(extra), true
			l.immediates = append(l.immediates, t)
			return t.id
		},
		"clear": func(id goja.Value) {
			if id == nil || goja.IsUndefined(id) || goja.IsNull(id) {
				return
			}
			f := id.ToFloat()
			if math.IsNaN(f) {
				return
			}
			if t, ok := l.timerByID[int64(f)]; ok {
				l.clearTimer(t)
			}
		},
		"ref": func(id int64, on bool) {
			if t, ok := l.timerByID[id]; ok {
				t.ref = on
			}
		},
		"hasRef": func(id int64) bool {
			t, ok := l.timerByID[id]
			return ok && t.ref
		},
		"refresh": func(id int64) {
			t, ok := l.timerByID[id]
			if !ok || t.immediate {
				return
			}
			l.unschedule(t)
			l.schedule(t)
		},
		"nextTick": func(call goja.FunctionCall) goja.Value {
			fn := call.Argument(0)
			if _, ok := goja.AssertFunction(fn); !ok {
				panic(vm.NewTypeError("The \"callback\" argument must be of type function. Received " + describe(fn)))
			}
			var rest []goja.Value
			if len(call.Arguments) > 1 {
				rest = append(rest, call.Arguments[1:]...)
			}
			l.ticks = append(l.ticks, tick{fn: fn, args: rest})
			return goja.Undefined()
		},
	}
}

func describe(v goja.Value) string {
	if v == nil || goja.IsUndefined(v) {
		return "undefined"
	}
	if goja.IsNull(v) {
		return "null"
	}
	return "type " + v.ExportType().String() + " (" + v.String() + ")"
}
