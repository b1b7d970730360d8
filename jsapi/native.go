package jsapi

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/dop251/goja"
)

// nativeObject is the bridge api.js calls into. Every function runs on the
// loop goroutine and never blocks.
func (w *Worker) nativeObject(vm *goja.Runtime) *goja.Object {
	n := vm.NewObject()
	set := func(name string, fn func(goja.FunctionCall) goja.Value) { _ = n.Set(name, fn) }

	set("httpHead", func(c goja.FunctionCall) goja.Value {
		x := w.exchangeFor(uint64(c.Argument(0).ToInteger()))
		if x == nil {
			return goja.Undefined()
		}
		status := int(c.Argument(1).ToInteger())
		if status < 100 || status > 999 {
			panic(vm.NewTypeError("Invalid status code: " + strconv.Itoa(status)))
		}
		flat := splitHeaderPairs(c.Argument(2).String())
		for i := 0; i+1 < len(flat); i += 2 {
			if !validHeaderName(flat[i]) {
				panic(vm.NewTypeError("Invalid header name: " + strconv.Quote(flat[i])))
			}
		}
		x.mu.Lock()
		// Like Node, the head goes out with the first write or the end
		// (or flushHeaders), so end(data) can carry a Content-Length.
		x.status, x.header, x.headed = status, flat, true
		x.mu.Unlock()
		return goja.Undefined()
	})
	set("httpFlush", func(c goja.FunctionCall) goja.Value {
		if x := w.exchangeFor(uint64(c.Argument(0).ToInteger())); x != nil {
			x.signal()
		}
		return goja.Undefined()
	})
	set("httpWrite", func(c goja.FunctionCall) goja.Value {
		x := w.exchangeFor(uint64(c.Argument(0).ToInteger()))
		if x == nil {
			return goja.Undefined()
		}
		b := chunkBytes(vm, c.Argument(1), c.Argument(2).String())
		if len(b) == 0 {
			return goja.Undefined()
		}
		x.mu.Lock()
		if !x.aborted && !x.ended {
			x.chunks = append(x.chunks, b)
		}
		x.mu.Unlock()
		x.signal()
		return goja.Undefined()
	})
	set("httpEnd", func(c goja.FunctionCall) goja.Value {
		x := w.exchangeFor(uint64(c.Argument(0).ToInteger()))
		if x == nil {
			return goja.Undefined()
		}
		var last []byte
		if len(c.Arguments) > 1 {
			last = chunkBytes(vm, c.Argument(1), c.Argument(2).String())
		}
		x.mu.Lock()
		if len(last) > 0 && !x.aborted && !x.ended {
			x.chunks = append(x.chunks, last)
		}
		x.ended = true
		x.mu.Unlock()
		x.signal()
		return goja.Undefined()
	})
	set("httpAbort", func(c goja.FunctionCall) goja.Value {
		x := w.exchangeFor(uint64(c.Argument(0).ToInteger()))
		if x == nil {
			return goja.Undefined()
		}
		x.mu.Lock()
		if !x.headed {
			x.status, x.header, x.headed = http.StatusInternalServerError, []string{}, true
		}
		x.ended = true
		x.mu.Unlock()
		x.signal()
		return goja.Undefined()
	})
	set("setRequestListeners", func(c goja.FunctionCall) goja.Value {
		w.requestListeners.Store(int32(c.Argument(0).ToInteger()))
		return goja.Undefined()
	})
	set("setMiddleware", func(c goja.FunctionCall) goja.Value {
		name := c.Argument(0).String()
		for k, n := range mwNames {
			if n == name {
				w.middleware[k].Store(int32(c.Argument(1).ToInteger()))
			}
		}
		return goja.Undefined()
	})
	set("address", func(c goja.FunctionCall) goja.Value {
		return vm.ToValue(map[string]any{"port": w.cfg.Options["port"], "family": "IPv4", "address": "0.0.0.0"})
	})
	set("status", func(c goja.FunctionCall) goja.Value {
		var st Status
		if w.cfg.Status != nil {
			st = w.cfg.Status()
		}
		obj := vm.NewObject()
		_ = obj.Set("clientCount", st.ClientCount)
		_ = obj.Set("httpRPM", st.HTTPRPM)
		_ = obj.Set("ioRPM", st.IORPM)
		return obj
	})
	conn := func(c goja.FunctionCall) Conn {
		e := w.conns[uint64(c.Argument(0).ToInteger())]
		if e == nil {
			return nil
		}
		return e.conn
	}
	set("transport", func(c goja.FunctionCall) goja.Value {
		if cn := conn(c); cn != nil {
			return vm.ToValue(cn.Transport())
		}
		return vm.ToValue("closed")
	})
	set("scEmit", func(c goja.FunctionCall) goja.Value {
		cn := conn(c)
		if cn == nil {
			return vm.ToValue(0)
		}
		return vm.ToValue(cn.Emit(c.Argument(1).String(), c.Argument(2).String()))
	})
	set("scSend", func(c goja.FunctionCall) goja.Value {
		if cn := conn(c); cn != nil {
			cn.SendRaw(c.Argument(1).String())
		}
		return goja.Undefined()
	})
	set("scClose", func(c goja.FunctionCall) goja.Value {
		if cn := conn(c); cn != nil {
			cn.Close()
		}
		return goja.Undefined()
	})
	set("scRespond", func(c goja.FunctionCall) goja.Value {
		if cn := conn(c); cn != nil {
			cn.Respond(c.Argument(1).String(), c.Argument(2).String(), c.Argument(3).String())
		}
		return goja.Undefined()
	})
	w.addBackendNatives(vm, n)
	return n
}

// splitHeaderPairs splits the head's "name\nvalue\nname\nvalue" string (api.js WIRE.head) into pairs; never nil.
func splitHeaderPairs(s string) []string {
	if s == "" {
		return []string{}
	}
	flat := strings.Split(s, "\n")
	return flat[:len(flat)&^1]
}

// chunkBytes converts a res.write chunk (string with encoding, Buffer or
// Uint8Array) to bytes owned by Go.
func chunkBytes(vm *goja.Runtime, v goja.Value, encoding string) []byte {
	if obj, ok := v.(*goja.Object); ok {
		// a Buffer or Uint8Array exports as a []byte sharing its memory
		if b, ok := obj.Export().([]byte); ok {
			out := make([]byte, len(b))
			copy(out, b)
			return out
		}
	}
	if s, ok := v.Export().(string); ok {
		switch encoding {
		case "latin1", "binary":
			out := make([]byte, 0, len(s))
			for _, r := range s {
				out = append(out, byte(r))
			}
			return out
		case "base64":
			b, _ := base64.StdEncoding.DecodeString(s)
			return b
		case "hex":
			b, _ := hex.DecodeString(s)
			return b
		case "utf16le", "ucs2", "ucs-2", "utf-16le":
			u := utf16.Encode([]rune(s))
			out := make([]byte, 0, len(u)*2)
			for _, c := range u {
				out = append(out, byte(c), byte(c>>8))
			}
			return out
		default:
			return []byte(s)
		}
	}
	if obj, ok := v.(*goja.Object); ok {
		var b []byte
		if err := vm.ExportTo(obj, &b); err == nil {
			out := make([]byte, len(b))
			copy(out, b)
			return out
		}
	}
	return []byte(v.String())
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ':' || c == '(' || c == ')' || c == ',' || c == '/' || c == ';' || c == '<' ||
			c == '=' || c == '>' || c == '?' || c == '@' || c == '[' || c == '\\' || c == ']' || c == '{' || c == '}' || c == '"' {
			return false
		}
	}
	return true
}
