package jsapi

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"unsafe"

	"github.com/dop251/goja"
)

// Handle identifies a connection between the network layer and JavaScript.
type Handle uint64

// NewHandle allocates the handle of a new connection. Any goroutine.
func (w *Worker) NewHandle() Handle { return Handle(w.nextHandle.Add(1)) }

// Open creates the JavaScript socket for c under handle h (after a
// successful bind). Call it before anything of c can reach the loop.
// Any goroutine; blocks while the loop inbox is full.
func (w *Worker) Open(hd Handle, c Conn) error {
	h := uint64(hd)
	return w.loop.Submit(func(vm *goja.Runtime) {
		// The socket is an object with SCSocket.prototype and its handle: api.js reads the rest through
		// native.scInfo on first use (socketInfo), so an idle socket holds no per-socket strings or functions.
		obj := vm.CreateObject(w.socketProto)
		if err := obj.Set("_handle", h); err != nil {
			w.log.Error("create socket object", "err", err)
			c.Close()
			return
		}
		w.conns[h] = &connEntry{conn: c, obj: obj}
	})
}

// connInfo is what api.js's socketInfo reads of a connection: id, ssid, address, clientAddress (undefined when
// there is none), and the cookie and request objects built from the handshake request. Loop only.
func (w *Worker) connInfo(vm *goja.Runtime, c Conn, which string) goja.Value {
	switch which {
	case "id":
		return vm.ToValue(c.ID())
	case "ssid":
		return vm.ToValue(c.SSID())
	case "address":
		return vm.ToValue(c.Address())
	case "clientAddress":
		if ca := c.ClientAddress(); ca != "" {
			return vm.ToValue(ca)
		}
	case "request":
		return w.newRequest(vm, 0, c.Request())
	case "cookie":
		cookies := vm.NewObject()
		for _, ck := range c.Request().Cookies() {
			_ = cookies.Set(ck.Name, unescapeCookie(ck.Value))
		}
		return cookies
	}
	return goja.Undefined()
}

// Ready handles the client's ready event: the socket joins scServer.clients
// and 'connection' is emitted. Any goroutine.
func (w *Worker) Ready(h Handle) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		e := w.conns[uint64(h)]
		if e == nil || e.ready {
			return
		}
		e.ready = true
		clients := w.scServer.Get("clients").ToObject(vm)
		_ = clients.Set(e.conn.ID(), e.obj)
		_ = w.scServer.Set("clientsCount", w.scServer.Get("clientsCount").ToInteger()+1)
		w.emit(w.scServer, vm.ToValue("connection"), e.obj)
	})
}

// Event delivers a client event (dataJSON "" = no data; cid raw JSON or "").
// Any goroutine.
func (w *Worker) Event(h Handle, event, dataJSON, cid string) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		e := w.conns[uint64(h)]
		if e == nil {
			return
		}
		// The data is built here by parseJSON; when it cannot (invalid JSON and the like) _onEvent gets the text
		// and runs JSON.parse itself, which throws as it always did.
		data, text := goja.Undefined(), goja.Undefined()
		if dataJSON != "" {
			if v, ok := parseJSON(vm, w.objectProto, dataJSON); ok {
				data = v
			} else {
				text = vm.ToValue(dataJSON)
			}
		}
		if goja.IsUndefined(text) && w.callHandler(vm, e, event, data, cid) {
			return
		}
		_, _ = w.loop.Call(w.sockOnEvent, e.obj, vm.ToValue(event), data, vm.ToValue(cid), text)
	})
}

// Response delivers the client's answer to a server emit. Any goroutine.
func (w *Worker) Response(h Handle, cid, errJSON, dataJSON string) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		e := w.conns[uint64(h)]
		if e == nil {
			return
		}
		_, _ = w.loop.Call(w.sockOnResponse, e.obj, vm.ToValue(cid), vm.ToValue(errJSON), vm.ToValue(dataJSON))
	})
}

// Raw delivers a raw (non-SC) message: the socket emits 'raw'. Any goroutine.
func (w *Worker) Raw(h Handle, text string) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		e := w.conns[uint64(h)]
		if e == nil {
			return
		}
		w.emit(e.obj, vm.ToValue("raw"), vm.ToValue(text))
	})
}

// LocalEvent emits a local event on the socket (e.g. 'publish' after a
// client publish succeeded). Any goroutine.
func (w *Worker) LocalEvent(h Handle, event, dataJSON string) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		e := w.conns[uint64(h)]
		if e == nil || w.listenerCount(e.obj, event) == 0 {
			return
		}
		var data goja.Value = goja.Undefined()
		if dataJSON != "" {
			v, err := w.parse(vm, dataJSON)
			if err != nil {
				return
			}
			data = v
		}
		w.emit(e.obj, vm.ToValue(event), data)
	})
}

// Closed tells JavaScript the connection is gone: socket 'close' and
// 'disconnect', server 'disconnection' and 'disconnect'. Any goroutine.
func (w *Worker) Closed(h Handle, reason string) error {
	return w.loop.Submit(func(vm *goja.Runtime) {
		e := w.conns[uint64(h)]
		if e == nil {
			return
		}
		delete(w.conns, uint64(h))
		// The socket's info getters answer from this function from now on; it is made only when a socket closes.
		c := e.conn
		closed := vm.ToValue(func(call goja.FunctionCall) goja.Value { return w.connInfo(vm, c, call.Argument(0).String()) })
		_, _ = w.loop.Call(w.sockOnClose, e.obj, vm.ToValue(reason), closed)
		if e.ready {
			clients := w.scServer.Get("clients").ToObject(vm)
			_ = clients.Delete(e.conn.ID())
			_ = w.scServer.Set("clientsCount", w.scServer.Get("clientsCount").ToInteger()-1)
			w.emit(w.scServer, vm.ToValue("disconnection"), e.obj)
			w.emit(w.scServer, vm.ToValue("disconnect"), vm.ToValue("Socket was disconnected"))
		}
	})
}

// Handshake runs handshake middleware for a new connection's request.
// It must be called from a goroutine other than the loop; it blocks until
// the middleware chain finished. nil means accepted.
func (w *Worker) Handshake(r *http.Request) error {
	if !w.HasMiddleware(MWHandshake) {
		return nil
	}
	return w.runMiddlewareWait(MWHandshake, func(vm *goja.Runtime) []goja.Value {
		return []goja.Value{w.newRequest(vm, 0, r)}
	})
}

// Subscribe runs subscribe middleware for socket h and channel. Not on the loop.
func (w *Worker) Subscribe(h Handle, channel string) error {
	return w.runMiddlewareWait(MWSubscribe, func(vm *goja.Runtime) []goja.Value {
		e := w.conns[uint64(h)]
		if e == nil {
			return nil
		}
		return []goja.Value{e.obj, vm.ToValue(channel)}
	})
}

// Publish runs publish middleware for socket h. Not on the loop.
func (w *Worker) Publish(h Handle, channel, dataJSON string) error {
	return w.runMiddlewareWait(MWPublish, func(vm *goja.Runtime) []goja.Value {
		e := w.conns[uint64(h)]
		if e == nil {
			return nil
		}
		var data goja.Value = goja.Undefined()
		if dataJSON != "" {
			v, err := w.parse(vm, dataJSON)
			if err == nil {
				data = v
			}
		}
		return []goja.Value{e.obj, vm.ToValue(channel), data}
	})
}

func (w *Worker) runMiddlewareWait(kind int, args func(vm *goja.Runtime) []goja.Value) error {
	result := make(chan error, 1)
	err := w.loop.Submit(func(vm *goja.Runtime) {
		a := args(vm)
		if a == nil {
			result <- ErrRejected
			return
		}
		done := func(call goja.FunctionCall) goja.Value {
			errVal := call.Argument(0)
			if goja.IsNull(errVal) || goja.IsUndefined(errVal) || !errVal.ToBoolean() {
				result <- nil
				return goja.Undefined()
			}
			result <- w.middlewareError(vm, mwNames[kind], errVal)
			return goja.Undefined()
		}
		if _, cerr := w.loop.Call(w.runMW, w.scServer, vm.ToValue(mwNames[kind]), vm.NewArray(valuesToAny(a)...), vm.ToValue(done)); cerr != nil {
			select {
			case result <- &MiddlewareError{Kind: mwNames[kind], JSON: `"Middleware error"`, Text: cerr.Error()}:
			default:
			}
		}
	})
	if err != nil {
		return err
	}
	select {
	case e := <-result:
		return e
	case <-w.loop.Done():
		return ErrRejected
	}
}

func (w *Worker) middlewareError(vm *goja.Runtime, kind string, v goja.Value) *MiddlewareError {
	me := &MiddlewareError{Kind: kind, Text: v.String()}
	if obj, ok := v.(*goja.Object); ok {
		if obj.ClassName() == "Error" {
			plain := vm.NewObject()
			_ = plain.Set("name", obj.Get("name"))
			_ = plain.Set("message", obj.Get("message"))
			_ = plain.Set("stack", obj.Get("stack"))
			v = plain
		}
	}
	if s, err := jsonStringify(vm, v); err == nil && s != "" {
		me.JSON = s
	} else {
		me.JSON = `"` + strings.ReplaceAll(me.Text, `"`, `'`) + `"`
	}
	return me
}

func valuesToAny(vs []goja.Value) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// parse is JSON.parse(s): parseJSON's fast path, and goja's JSON.parse for what that leaves (invalid JSON and the
// like, which it throws on). Loop only.
func (w *Worker) parse(vm *goja.Runtime, s string) (goja.Value, error) {
	if v, ok := parseJSON(vm, w.objectProto, s); ok {
		return v, nil
	}
	return jsonParse(vm, s)
}

func jsonParse(vm *goja.Runtime, s string) (goja.Value, error) {
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	return parse(goja.Undefined(), vm.ToValue(s))
}

func jsonStringify(vm *goja.Runtime, v goja.Value) (string, error) {
	str, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	out, err := str(goja.Undefined(), v)
	if err != nil {
		return "", err
	}
	if goja.IsUndefined(out) {
		return "", nil
	}
	return out.String(), nil
}

// unescapeCookie URI-decodes a cookie value as the original server did
// (decodeURIComponent), keeping the raw value when it is not valid
// percent-encoding.
func unescapeCookie(v string) string {
	if d, err := url.PathUnescape(v); err == nil {
		return d
	}
	return v
}

// maxPooledEncoderBuffer bounds the response encoder buffer a worker keeps between responses.
const maxPooledEncoderBuffer = 64 << 10

// addSCNatives adds the socket natives of the event hot path to the bridge object. Loop only.
func (w *Worker) addSCNatives(vm *goja.Runtime, n *goja.Object) {
	// scEnd(handle, cid, data) is res.end(data): data is serialised here (jsonEncoder), or by api.js's stringify
	// when the encoder leaves it to JSON.stringify; an exception of that propagates to the caller.
	// scInfo(handle, which) is connInfo of an open connection (undefined for an unknown handle).
	_ = n.Set("scInfo", func(c goja.FunctionCall) goja.Value {
		e := w.conns[uint64(c.Argument(0).ToInteger())]
		if e == nil {
			return goja.Undefined()
		}
		return w.connInfo(vm, e.conn, c.Argument(1).String())
	})
	_ = n.Set("scEnd", func(c goja.FunctionCall) goja.Value {
		e := w.conns[uint64(c.Argument(0).ToInteger())]
		if e == nil {
			return goja.Undefined()
		}
		enc := w.enc
		w.enc = nil // a getter run by the encoder may answer another response: it gets its own encoder
		if enc == nil {
			enc = &jsonEncoder{}
		}
		enc.buf, enc.stack = enc.buf[:0], enc.stack[:0]
		var data string
		if enc.encodeTop(c.Argument(2)) {
			data = unsafe.String(unsafe.SliceData(enc.buf), len(enc.buf))
		} else {
			data = w.stringify(c.Argument(2))
		}
		e.conn.Respond(c.Argument(1).String(), "", data) // Respond does not keep data: enc.buf is reused
		if cap(enc.buf) <= maxPooledEncoderBuffer {
			w.enc = enc
		}
		return goja.Undefined()
	})
}

// stringify is api.js's stringify(v); a thrown exception is re-thrown into the calling JavaScript. Loop only.
func (w *Worker) stringify(v goja.Value) string {
	out, err := w.stringifyFn(goja.Undefined(), v)
	if err != nil {
		panic(err)
	}
	return out.String()
}

// typeJSFunc is the ExportType of JavaScript and native functions.
var typeJSFunc = reflect.TypeOf((func(goja.FunctionCall) goja.Value)(nil))

// callHandler is _onEvent's common case done from Go: no emit middleware and exactly one listener function for
// event, which is called with (data, new Response(socket, cid)) and the socket as this, like emit2 does. It
// reports false (having done nothing) in every other case, which _onEvent handles. Loop only.
func (w *Worker) callHandler(vm *goja.Runtime, e *connEntry, event string, data goja.Value, cid string) bool {
	if event == "error" || w.HasMiddleware(MWEmit) || w.responseProto == nil {
		return false
	}
	events, ok := e.obj.Get("_events").(*goja.Object)
	if !ok {
		return false
	}
	// An ordinary function (typeof 'function'); classes, proxies and bound functions export other types and
	// take _onEvent's path. ExportType allocates nothing, unlike AssertFunction.
	handler, ok := events.Get(event).(*goja.Object)
	if !ok || handler.ExportType() != typeJSFunc {
		return false
	}
	// new Response(socket, cid) without running the constructor through goja's New: the same own properties,
	// set in the same order, on an object with Response.prototype.
	res := vm.CreateObject(w.responseProto)
	if res.Set("socket", e.obj) != nil || res.Set("cid", cid) != nil || res.Set("sent", false) != nil {
		return false
	}
	_, _ = w.loop.Call(handler, e.obj, data, res)
	return true
}
