package jsapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/dop251/goja"
)

// maxBodyChunk is the size of the body pieces handed to req 'data' events.
const maxBodyChunk = 64 << 10

// exchange is one HTTP request/response between a handler goroutine and
// the loop. JavaScript appends to it (never blocking); the handler
// goroutine drains it into the http.ResponseWriter.
type exchange struct {
	mu      sync.Mutex
	status  int
	header  []string // name, value pairs; nil until the head was sent
	headed  bool
	chunks  [][]byte
	ended   bool
	aborted bool
	wake    chan struct{}
}

func (x *exchange) signal() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Fallback answers a request the JavaScript handlers left with 404 or
// without any 'req' listener (e.g. the built-in /socketcluster.js).
type Fallback func(rw http.ResponseWriter, r *http.Request) bool

// ServeHTTP hands an HTTP request outside the SC path to JavaScript: the
// HTTP server emits 'request' and then 'req' with Node-compatible objects,
// then the body arrives as 'data'/'end'. It returns when the response
// ended or the client went away. Not on the loop.
func (w *Worker) ServeHTTP(rw http.ResponseWriter, r *http.Request, fallback Fallback) {
	h := w.nextHandle.Add(1)
	x := &exchange{wake: make(chan struct{}, 1)}
	w.exchanges.Store(h, x)
	// A request without a body (GET, HEAD...) is complete once its head is read: its end is pushed in the task
	// that emits it, as Node's parser does, so it needs no body goroutine and no entry in reqObjects.
	hasBody := r.Body != nil && r.Body != http.NoBody
	defer func() {
		w.exchanges.Delete(h)
		if hasBody {
			_ = w.loop.Submit(func(*goja.Runtime) { delete(w.reqObjects, h) })
		}
	}()

	hasReq := make(chan bool, 1)
	var reqObj *goja.Object
	err := w.loop.Submit(func(vm *goja.Runtime) {
		reqObj = w.buildRequest(vm, h, r)
		if hasBody {
			w.reqObjects[h] = reqObj
		}
		// the JS ServerResponse links req.res and res.req
		res, err := vm.New(w.resCtor, vm.ToValue(h), reqObj, vm.ToValue(false))
		if err != nil {
			hasReq <- false
			return
		}
		n := w.listenerCount(w.httpServer, "req")
		hasReq <- n > 0
		if w.listenerCount(w.httpServer, "request") > 0 {
			w.emit(w.httpServer, vm.ToValue("request"), reqObj, res)
		}
		w.emit(w.httpServer, vm.ToValue("req"), reqObj, res)
		if !hasBody {
			_, _ = w.loop.Call(reqObj.Get("_end"), reqObj)
		}
	})
	if err != nil {
		http.Error(rw, "worker is shutting down", http.StatusServiceUnavailable)
		return
	}
	if !<-hasReq {
		if fallback == nil || !fallback(rw, r) {
			http.NotFound(rw, r)
		}
		return
	}

	if hasBody {
		go w.pumpBody(r.Context(), h, r.Body)
	}

	flusher, _ := rw.(http.Flusher)
	replaced := false
	for {
		select {
		case <-x.wake:
		case <-r.Context().Done():
			x.mu.Lock()
			x.aborted = true
			x.mu.Unlock()
			_ = w.loop.TrySubmit(func(vm *goja.Runtime) {
				if reqObj != nil {
					_ = reqObj.Set("aborted", true)
					w.emit(reqObj, vm.ToValue("aborted"))
					w.emit(reqObj, vm.ToValue("close"))
				}
			})
			return
		}
		x.mu.Lock()
		status, header, headed := x.status, x.header, x.headed
		chunks := x.chunks
		x.chunks = nil
		ended := x.ended
		x.header = nil
		x.mu.Unlock()
		if headed && header != nil {
			if status == http.StatusNotFound && fallback != nil && fallback(rw, r) {
				replaced = true
			} else {
				hdr := rw.Header()
				for i := 0; i+1 < len(header); i += 2 {
					hdr.Add(header[i], header[i+1])
				}
				if ended && hdr.Get("Content-Length") == "" && hdr.Get("Transfer-Encoding") == "" {
					// the whole body is known: send its length as Node does for res.end(data)
					n := 0
					for _, c := range chunks {
						n += len(c)
					}
					hdr.Set("Content-Length", strconv.Itoa(n))
				}
				rw.WriteHeader(status)
			}
		}
		if !replaced {
			for _, c := range chunks {
				if _, err := rw.Write(c); err != nil {
					break
				}
			}
			if flusher != nil && len(chunks) > 0 && !ended {
				flusher.Flush()
			}
		}
		if ended {
			return
		}
	}
}

// bodyBuffers holds the read buffers of pumpBody (each chunk is copied out before it goes to the loop).
var bodyBuffers = sync.Pool{New: func() any {
	b := make([]byte, maxBodyChunk)
	return &b
}}

// pumpBody feeds the request body to JavaScript as 'data' then 'end'.
func (w *Worker) pumpBody(ctx context.Context, h uint64, body io.ReadCloser) {
	defer body.Close()
	bp := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(bp)
	buf := *bp
	for {
		n, err := body.Read(buf)
		if n > 0 {
			chunk := make([]byte, n)
			copy(chunk, buf[:n])
			if w.loop.Submit(func(vm *goja.Runtime) { w.deliverChunk(vm, h, chunk) }) != nil {
				return
			}
		}
		if err != nil {
			if err == io.EOF {
				_ = w.loop.Submit(func(vm *goja.Runtime) { w.deliverEnd(vm, h) })
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (w *Worker) deliverChunk(vm *goja.Runtime, h uint64, chunk []byte) {
	req := w.requestObject(h)
	if req == nil {
		return
	}
	fn := req.Get("_chunk")
	_, _ = w.loop.Call(fn, req, w.newBuffer(vm, chunk))
}

func (w *Worker) deliverEnd(vm *goja.Runtime, h uint64) {
	req := w.requestObject(h)
	if req == nil {
		return
	}
	_, _ = w.loop.Call(req.Get("_end"), req)
}

// requestObject finds the JS request for handle h; loop only.
func (w *Worker) requestObject(h uint64) *goja.Object {
	v, ok := w.reqObjects[h]
	if !ok {
		return nil
	}
	return v
}

func (w *Worker) newBuffer(vm *goja.Runtime, b []byte) goja.Value {
	ab := vm.NewArrayBuffer(b)
	if w.bufferFrom != nil {
		v, err := w.bufferFrom(goja.Undefined(), vm.ToValue(ab))
		if err == nil {
			return v
		}
	}
	return vm.ToValue(ab)
}

// newRequest builds an IncomingMessage for r; h 0 means no body will flow.
func (w *Worker) newRequest(vm *goja.Runtime, h uint64, r *http.Request) *goja.Object {
	obj := w.buildRequest(vm, h, r)
	if h != 0 {
		w.reqObjects[h] = obj
	}
	return obj
}

// buildRequest builds the IncomingMessage for r without registering it for body delivery.
func (w *Worker) buildRequest(vm *goja.Runtime, h uint64, r *http.Request) *goja.Object {
	headers, raw := headersObject(vm, r.Header, r.Host)
	host, port, _ := net.SplitHostPort(r.RemoteAddr)
	p, _ := strconv.Atoi(port)
	version := httpVersion(r.ProtoMajor, r.ProtoMinor)
	obj, err := vm.New(w.reqCtor, vm.ToValue(h), vm.ToValue(r.Method), vm.ToValue(r.RequestURI), headers, raw,
		vm.ToValue(version), vm.ToValue(host), vm.ToValue(p), vm.ToValue(r.ProtoMajor), vm.ToValue(r.ProtoMinor))
	if err != nil {
		return vm.NewObject()
	}
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		_ = obj.Set("clientAddress", firstForwarded(xff))
	}
	if ssid := sessionOf(r); ssid != "" {
		_, _ = w.loop.Call(w.api.Get("decorateRequest"), goja.Undefined(), obj, vm.ToValue(ssid))
	}
	return obj
}

// httpVersion is req.httpVersion, without formatting for the usual versions.
func httpVersion(major, minor int) string {
	switch {
	case major == 1 && minor == 1:
		return "1.1"
	case major == 1 && minor == 0:
		return "1.0"
	case major == 2 && minor == 0:
		return "2.0"
	}
	return strconv.Itoa(major) + "." + strconv.Itoa(minor)
}

func (w *Worker) exchangeFor(h uint64) *exchange {
	v, ok := w.exchanges.Load(h)
	if !ok {
		return nil
	}
	return v.(*exchange)
}

// firstForwarded is the first entry of an X-Forwarded-For header.
func firstForwarded(xff string) string {
	first, _, _ := strings.Cut(xff, ",")
	return strings.TrimSpace(first)
}

// EmitEngineRequest shows an SC engine request to 'request' listeners (the
// engine owns the response: the res given to them is inert). Fire and
// forget; it does nothing when nobody listens. Any goroutine.
func (w *Worker) EmitEngineRequest(r *http.Request) {
	if w.requestListeners.Load() == 0 {
		return
	}
	_ = w.loop.TrySubmit(func(vm *goja.Runtime) {
		req := w.newRequest(vm, 0, r)
		res, err := vm.New(w.resCtor, vm.ToValue(0), req, vm.ToValue(true))
		if err != nil {
			return
		}
		w.emit(w.httpServer, vm.ToValue("request"), req, res)
	})
}
