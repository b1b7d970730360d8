package jsapi

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dop251/goja"

	"github.com/socketcluster-go/socketcluster/cluster/scproto"
)

// The JSON <-> JavaScript value fast paths of the event hot path. goja's JSON.parse goes through encoding/json's
// token API (an interface value and an allocation per token) and JSON.stringify through a generic property walk
// plus a string round trip into api.js; for the plain data SC events carry these builders do the same work
// directly. Both fall back to goja's own functions for anything they do not handle, so results are identical.

// maxJSONDepth bounds the nesting both builders handle themselves; deeper values take goja's path.
const maxJSONDepth = scproto.MaxDepth

// parseJSON returns the value JSON.parse(s) returns (no reviver), or false when s is not valid JSON, has a number
// strconv cannot represent, or nests deeper than maxJSONDepth: the caller then uses JSON.parse itself, which
// throws the same SyntaxError as before. Strings decode exactly as encoding/json (which goja's JSON.parse uses)
// decodes them: an unpaired surrogate escape and invalid UTF-8 become U+FFFD. Loop only.
//
// objectProto is the runtime's Object.prototype (the prototype of the objects built).
func parseJSON(vm *goja.Runtime, objectProto *goja.Object, s string) (goja.Value, bool) {
	end, ok := scproto.ScanValue(s, scproto.SkipSpace(s, 0), maxJSONDepth)
	if !ok || scproto.SkipSpace(s, end) != len(s) {
		return nil, false
	}
	p := jsonBuilder{vm: vm, objectProto: objectProto, s: s}
	v := p.value(scproto.SkipSpace(s, 0))
	if p.failed {
		return nil, false
	}
	return v, true
}

// jsonBuilder builds values from text scproto.ScanValue has validated; it only tracks its position.
type jsonBuilder struct {
	vm          *goja.Runtime
	objectProto *goja.Object
	s           string
	i           int
	failed      bool
}

// value builds the value starting at s[i] and leaves p.i after it.
func (p *jsonBuilder) value(i int) goja.Value {
	s := p.s
	switch c := s[i]; c {
	case '"':
		str, end := p.str(i)
		p.i = end
		return p.vm.ToValue(str)
	case '{':
		obj := p.vm.NewObject()
		i = scproto.SkipSpace(s, i+1)
		if s[i] == '}' {
			p.i = i + 1
			return obj
		}
		for {
			key, end := p.str(i)
			i = scproto.SkipSpace(s, end) // at ':'
			v := p.value(scproto.SkipSpace(s, i+1))
			if p.failed {
				return nil
			}
			// A data property of its own, as JSON.parse creates it: no setter on the prototype chain may run and
			// "__proto__" stays an ordinary key. A plain assignment does exactly that (and is cheaper) when no
			// object on the chain, which is Object.prototype alone, has the key.
			var err error
			if p.objectProto != nil && p.objectProto.Get(key) == nil {
				err = obj.Set(key, v)
			} else {
				err = obj.DefineDataProperty(key, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
			}
			if err != nil {
				p.failed = true
				return nil
			}
			i = scproto.SkipSpace(s, p.i)
			if s[i] == '}' {
				p.i = i + 1
				return obj
			}
			i = scproto.SkipSpace(s, i+1) // after ','
		}
	case '[':
		var items []any
		i = scproto.SkipSpace(s, i+1)
		if s[i] == ']' {
			p.i = i + 1
			return p.vm.NewArray()
		}
		for {
			v := p.value(i)
			if p.failed {
				return nil
			}
			items = append(items, v)
			i = scproto.SkipSpace(s, p.i)
			if s[i] == ']' {
				p.i = i + 1
				return p.vm.NewArray(items...)
			}
			i = scproto.SkipSpace(s, i+1)
		}
	case 't':
		p.i = i + 4
		return p.vm.ToValue(true)
	case 'f':
		p.i = i + 5
		return p.vm.ToValue(false)
	case 'n':
		p.i = i + 4
		return goja.Null()
	default:
		return p.number(i)
	}
}

// str decodes the string literal at s[i] and returns it with the index after its closing quote.
func (p *jsonBuilder) str(i int) (string, int) {
	s := p.s
	plain := true
	j := i + 1
	for ; s[j] != '"'; j++ {
		switch c := s[j]; {
		case c == '\\':
			plain = false
			j++ // the escaped byte; a \u escape's hex digits never hold a quote
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	if plain {
		return s[i+1 : j], j + 1
	}
	return scproto.UnquoteString(s[i : j+1]), j + 1
}

// number converts the number at s[i] as encoding/json does (strconv.ParseFloat), short integers without it.
func (p *jsonBuilder) number(i int) goja.Value {
	s := p.s
	j := i
	integer := true
	for j < len(s) {
		c := s[j]
		if c == '.' || c == 'e' || c == 'E' {
			integer = false
		} else if (c < '0' || c > '9') && c != '-' && c != '+' {
			break
		}
		j++
	}
	p.i = j
	lit := s[i:j]
	if integer && len(lit) <= 15 && lit != "-0" {
		var n int64
		neg := lit[0] == '-'
		k := 0
		if neg {
			k = 1
		}
		for ; k < len(lit); k++ {
			n = n*10 + int64(lit[k]-'0')
		}
		if neg {
			n = -n
		}
		return p.vm.ToValue(n)
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		p.failed = true
		return nil
	}
	return p.vm.ToValue(f)
}

// jsonEncoder appends JSON.stringify(v) for plain data: primitives, and objects and arrays whose every member is
// plain data. It reports false, having called no user code beyond property getters, for anything whose
// serialisation JSON.stringify (or api.js's stringify around it) handles specially: a toJSON method, Buffers and
// typed arrays, primitive wrappers, Maps, Proxies, Go values, functions, BigInts, strings holding unpaired
// surrogates, cycles, and nesting deeper than maxJSONDepth.
type jsonEncoder struct {
	buf   []byte
	stack []*goja.Object
}

var (
	typeInt64   = reflect.TypeOf(int64(0))
	typeFloat64 = reflect.TypeOf(float64(0))
	typeString  = reflect.TypeOf("")
	typeBool    = reflect.TypeOf(false)
	typeMap     = reflect.TypeOf(map[string]any(nil))
	typeArray   = reflect.TypeOf([]any(nil))
)

// encodeTop encodes v as api.js's stringify does: undefined gives "" (ok true, nothing appended).
func (e *jsonEncoder) encodeTop(v goja.Value) bool {
	if v == nil || goja.IsUndefined(v) {
		return true
	}
	return e.encode(v)
}

func (e *jsonEncoder) encode(v goja.Value) bool {
	if obj, isObj := v.(*goja.Object); isObj {
		return e.object(obj)
	}
	if goja.IsNull(v) {
		e.buf = append(e.buf, "null"...)
		return true
	}
	if _, sym := v.(*goja.Symbol); sym { // its ExportType is string's
		return false
	}
	switch v.ExportType() {
	case typeInt64:
		e.buf = strconv.AppendInt(e.buf, v.ToInteger(), 10)
	case typeFloat64:
		if f := v.ToFloat(); math.IsNaN(f) || math.IsInf(f, 0) {
			e.buf = append(e.buf, "null"...)
		} else {
			e.buf = append(e.buf, v.String()...) // JavaScript's Number::toString
		}
	case typeString:
		return e.str(v.String())
	case typeBool:
		if v.ToBoolean() {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	default: // undefined inside a container is handled by the caller; symbols, BigInts
		return false
	}
	return true
}

// str quotes s as JSON.stringify does. goja turns an unpaired surrogate into U+FFFD when it converts a string to
// Go, where JSON.stringify would write a \u escape: such strings are left to it.
func (e *jsonEncoder) str(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			if strings.Contains(s[i:], "\uFFFD") {
				return false
			}
			break
		}
	}
	e.buf = scproto.AppendString(e.buf, s)
	return true
}

func (e *jsonEncoder) object(obj *goja.Object) bool {
	if len(e.stack) >= maxJSONDepth {
		return false
	}
	for _, o := range e.stack {
		if o == obj { // a cycle: JSON.stringify throws its TypeError
			return false
		}
	}
	if tj := obj.Get("toJSON"); tj != nil {
		if _, callable := goja.AssertFunction(tj); callable {
			return false
		}
	}
	et, class := obj.ExportType(), obj.ClassName()
	switch {
	case et == typeMap && class == "Object":
		e.stack = append(e.stack, obj)
		e.buf = append(e.buf, '{')
		first := true
		for _, k := range obj.Keys() {
			v := obj.Get(k)
			if v == nil || goja.IsUndefined(v) {
				continue
			}
			if !first {
				e.buf = append(e.buf, ',')
			}
			first = false
			if !e.str(k) {
				return false
			}
			e.buf = append(e.buf, ':')
			if !e.encode(v) {
				return false
			}
		}
		e.buf = append(e.buf, '}')
	case et == typeArray && class == "Array":
		e.stack = append(e.stack, obj)
		e.buf = append(e.buf, '[')
		n := obj.Get("length").ToInteger()
		for i := int64(0); i < n; i++ {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			v := obj.Get(strconv.FormatInt(i, 10))
			if v == nil || goja.IsUndefined(v) {
				e.buf = append(e.buf, "null"...)
				continue
			}
			if !e.encode(v) {
				return false
			}
		}
		e.buf = append(e.buf, ']')
	default:
		return false
	}
	e.stack = e.stack[:len(e.stack)-1]
	return true
}
