package jsapi

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"
	"time"

	"github.com/dop251/goja"

	"github.com/socketcluster-go/socketcluster/store"
)

// Backend is the cluster side of sessions, global data and channels (spec 3.5-3.8). jsapi calls it on its
// own goroutines, never on the loop, so every method may block (bounded by ctx).
type Backend interface {
	// Data runs one data command on the session engine (public false) or the global engine; index >= 0 picks
	// one store of a sharded global engine (global.setMapper), -1 the engine's own routing. mapIndex routes a run.
	Data(ctx context.Context, public bool, index int, req *store.Request, mapIndex string) (json.RawMessage, error)
	// StoreCount is the number of stores behind the global engine (the mapper's clientIds).
	StoreCount() int
	// Publish publishes dataJSON ("" = undefined) on channel across the cluster.
	Publish(ctx context.Context, channel, dataJSON string) error
	// SessionEmit sends event to every socket of session ssid on every worker except the socket exclude.
	SessionEmit(ctx context.Context, ssid, event, dataJSON, exclude string) error
	// Listen subscribes the worker to channel for JavaScript listeners (DeliverChannel); Unlisten undoes one Listen.
	Listen(ctx context.Context, channel string) error
	Unlisten(channel string)
	// WatchSession subscribes the worker to the events of session ssid for JavaScript (DeliverSession).
	WatchSession(ctx context.Context, ssid string) error
	UnwatchSession(ssid string)
}

// Bridge bounds.
const (
	// DefaultBackendTimeout bounds one store call made for JavaScript.
	DefaultBackendTimeout = 10 * time.Second
	// backendLanes is the number of ordered lanes store calls run on: calls with the same lane key (a session, the
	// global data, a channel) run one after another in call order, lanes run in parallel.
	backendLanes = 16
	// DefaultLaneQueue bounds the calls waiting on one lane; a call beyond it fails with ErrBackendBusy.
	DefaultLaneQueue = 4096
)

// Bridge errors.
var (
	// ErrNoBackend is reported to callbacks when the worker runs without a store backend.
	ErrNoBackend = errors.New("no store backend configured")
	// ErrBackendBusy is reported when too many store calls are waiting.
	ErrBackendBusy = errors.New("too many pending store calls")
)

type requestSessionKey struct{}

// WithSession marks a page request with its session id: the JavaScript req gets req.session for it.
func WithSession(r *http.Request, ssid string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), requestSessionKey{}, ssid))
}

func sessionOf(r *http.Request) string {
	s, _ := r.Context().Value(requestSessionKey{}).(string)
	return s
}

// startLanes starts the lane goroutines; they end with the loop.
func (w *Worker) startLanes() {
	for i := range w.lanes {
		ch := make(chan func(), DefaultLaneQueue)
		w.lanes[i] = ch
		go func() {
			for {
				select {
				case fn := <-ch:
					fn()
				case <-w.loop.Done():
					return
				}
			}
		}()
	}
}

// onLane queues fn on the lane of key without blocking; false when that lane is full.
func (w *Worker) onLane(key string, fn func()) bool {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	select {
	case w.lanes[h.Sum32()%backendLanes] <- fn:
		return true
	default:
		return false
	}
}

// backendCall runs op on the lane of key and calls cb(err, result) on the loop. Loop only.
func (w *Worker) backendCall(vm *goja.Runtime, key string, cb goja.Value, op func(ctx context.Context) (json.RawMessage, error)) {
	if _, ok := goja.AssertFunction(cb); !ok {
		cb = nil
	}
	done := func(res json.RawMessage, err error) {
		if cb == nil {
			return
		}
		_ = w.loop.Submit(func(vm *goja.Runtime) { w.callBack(vm, cb, res, err) })
	}
	if w.cfg.Backend == nil {
		w.later(vm, cb, ErrNoBackend)
		return
	}
	if !w.onLane(key, func() {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultBackendTimeout)
		res, err := op(ctx)
		cancel()
		done(res, err)
	}) {
		w.later(vm, cb, ErrBackendBusy)
	}
}

// later calls cb(err) on a later loop turn. Loop only.
func (w *Worker) later(vm *goja.Runtime, cb goja.Value, err error) {
	if _, ok := goja.AssertFunction(cb); !ok {
		return
	}
	w.loop.SetTimeout(0, func() { w.callBack(vm, cb, nil, err) })
}

func (w *Worker) callBack(vm *goja.Runtime, cb goja.Value, res json.RawMessage, err error) {
	if err != nil {
		e, nerr := vm.New(vm.Get("Error"), vm.ToValue(err.Error()))
		if nerr != nil {
			_, _ = w.loop.Call(cb, goja.Undefined(), vm.ToValue(err.Error()))
			return
		}
		_, _ = w.loop.Call(cb, goja.Undefined(), e)
		return
	}
	var v goja.Value = goja.Undefined()
	if len(res) > 0 {
		pv, perr := w.parse(vm, string(res))
		if perr == nil {
			v = pv
		}
	}
	_, _ = w.loop.Call(cb, goja.Undefined(), goja.Null(), v)
}

// addBackendNatives adds the store natives api.js uses. Loop only; none of them blocks.
func (w *Worker) addBackendNatives(vm *goja.Runtime, n *goja.Object) {
	set := func(name string, fn func(goja.FunctionCall) goja.Value) { _ = n.Set(name, fn) }
	// data(public, index, requestJSON, mapIndex, laneKey, cb)
	set("data", func(c goja.FunctionCall) goja.Value {
		public := c.Argument(0).ToBoolean()
		index := int(c.Argument(1).ToInteger())
		var req store.Request
		if err := json.Unmarshal([]byte(c.Argument(2).String()), &req); err != nil {
			w.later(vm, c.Argument(5), store.ErrBadArgument)
			return goja.Undefined()
		}
		mapIndex := c.Argument(3).String()
		if goja.IsUndefined(c.Argument(3)) || goja.IsNull(c.Argument(3)) {
			mapIndex = ""
		}
		w.backendCall(vm, c.Argument(4).String(), c.Argument(5), func(ctx context.Context) (json.RawMessage, error) {
			return w.cfg.Backend.Data(ctx, public, index, &req, mapIndex)
		})
		return goja.Undefined()
	})
	// publish(channel, dataJSON, cb)
	set("publish", func(c goja.FunctionCall) goja.Value {
		ch, data := c.Argument(0).String(), c.Argument(1).String()
		w.backendCall(vm, "c/"+ch, c.Argument(2), func(ctx context.Context) (json.RawMessage, error) {
			return nil, w.cfg.Backend.Publish(ctx, ch, data)
		})
		return goja.Undefined()
	})
	// sessionEmit(ssid, event, dataJSON, exclude, cb)
	set("sessionEmit", func(c goja.FunctionCall) goja.Value {
		ssid, ev, data, ex := c.Argument(0).String(), c.Argument(1).String(), c.Argument(2).String(), c.Argument(3).String()
		w.backendCall(vm, "s/"+ssid, c.Argument(4), func(ctx context.Context) (json.RawMessage, error) {
			return nil, w.cfg.Backend.SessionEmit(ctx, ssid, ev, data, ex)
		})
		return goja.Undefined()
	})
	// listen(channel, cb) / unlisten(channel)
	set("listen", func(c goja.FunctionCall) goja.Value {
		ch := c.Argument(0).String()
		w.backendCall(vm, "c/"+ch, c.Argument(1), func(ctx context.Context) (json.RawMessage, error) {
			return nil, w.cfg.Backend.Listen(ctx, ch)
		})
		return goja.Undefined()
	})
	set("unlisten", func(c goja.FunctionCall) goja.Value {
		ch := c.Argument(0).String()
		w.backendCall(vm, "c/"+ch, nil, func(context.Context) (json.RawMessage, error) {
			w.cfg.Backend.Unlisten(ch)
			return nil, nil
		})
		return goja.Undefined()
	})
	// watchSession(ssid, cb) / unwatchSession(ssid)
	set("watchSession", func(c goja.FunctionCall) goja.Value {
		ssid := c.Argument(0).String()
		w.backendCall(vm, "s/"+ssid, c.Argument(1), func(ctx context.Context) (json.RawMessage, error) {
			return nil, w.cfg.Backend.WatchSession(ctx, ssid)
		})
		return goja.Undefined()
	})
	set("unwatchSession", func(c goja.FunctionCall) goja.Value {
		ssid := c.Argument(0).String()
		w.backendCall(vm, "s/"+ssid, nil, func(context.Context) (json.RawMessage, error) {
			w.cfg.Backend.UnwatchSession(ssid)
			return nil, nil
		})
		return goja.Undefined()
	})
	set("storeCount", func(goja.FunctionCall) goja.Value {
		if w.cfg.Backend == nil {
			return vm.ToValue(1)
		}
		return vm.ToValue(w.cfg.Backend.StoreCount())
	})
}

// DeliverChannel calls the worker-side listeners of channel (global.on). Any goroutine except the loop.
func (w *Worker) DeliverChannel(channel, dataJSON string) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		_, _ = w.loop.Call(w.api.Get("deliverChannel"), goja.Undefined(), vm.ToValue(channel), vm.ToValue(dataJSON))
	})
}

// DeliverSession calls the session watchers of ssid for event. Any goroutine except the loop.
func (w *Worker) DeliverSession(ssid, event, dataJSON string) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		_, _ = w.loop.Call(w.api.Get("deliverSession"), goja.Undefined(), vm.ToValue(ssid), vm.ToValue(event), vm.ToValue(dataJSON))
	})
}

// SessionEnd emits 'sessionend', 'sessiondestroy' and 'sessionEnd' with ssid on the SC server: the last socket of
// the session on this worker is gone. Any goroutine except the loop.
func (w *Worker) SessionEnd(ssid string) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		for _, ev := range []string{"sessionend", "sessiondestroy", "sessionEnd"} {
			w.emit(w.scServer, vm.ToValue(ev), vm.ToValue(ssid))
		}
	})
}
