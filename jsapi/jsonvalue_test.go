package jsapi

import (
	"strconv"
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// jsonHarness is a bare goja runtime with the reference functions the builders are compared with.
type jsonHarness struct {
	vm        *goja.Runtime
	parse     goja.Callable // JSON.parse
	stringify goja.Callable // JSON.stringify
	same      goja.Callable // deep equality: types, Object.is, own property names in order, flags, prototypes
	// objectProto is Object.prototype
	objectProto *goja.Object
}

func newJSONHarness(t testing.TB) *jsonHarness {
	t.Helper()
	vm := goja.New()
	h := &jsonHarness{vm: vm}
	h.objectProto = vm.Get("Object").(*goja.Object).Get("prototype").(*goja.Object)
	h.parse, _ = goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	h.stringify, _ = goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	same, err := vm.RunString(`(function same(a, b) {
		if (typeof a !== typeof b) return false;
		if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b);
		if (Array.isArray(a) !== Array.isArray(b)) return false;
		if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
		var ka = Object.getOwnPropertyNames(a), kb = Object.getOwnPropertyNames(b);
		if (ka.length !== kb.length) return false;
		for (var i = 0; i < ka.length; i++) {
			if (ka[i] !== kb[i]) return false;
			var da = Object.getOwnPropertyDescriptor(a, ka[i]), db = Object.getOwnPropertyDescriptor(b, kb[i]);
			if (da.enumerable !== db.enumerable || da.writable !== db.writable || da.configurable !== db.configurable) return false;
			if (!same(a[ka[i]], b[kb[i]])) return false;
		}
		return true;
	})`)
	if err != nil {
		t.Fatal(err)
	}
	h.same, _ = goja.AssertFunction(same)
	return h
}

// check compares parseJSON(s) with JSON.parse(s): when the builder answers, JSON.parse must succeed with an equal
// value. It reports whether the builder answered.
func (h *jsonHarness) check(t testing.TB, s string) bool {
	t.Helper()
	got, ok := parseJSON(h.vm, h.objectProto, s)
	want, err := h.parse(goja.Undefined(), h.vm.ToValue(s))
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("parseJSON(%q) built a value, JSON.parse throws %v", s, err)
	}
	eq, err := h.same(goja.Undefined(), got, want)
	if err != nil || !eq.ToBoolean() {
		t.Fatalf("parseJSON(%q) differs from JSON.parse (%v)", s, err)
	}
	return true
}

func TestParseJSONMatchesJSONParse(t *testing.T) {
	h := newJSONHarness(t)
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		in     string
		builds bool // false: left to JSON.parse (invalid, or beyond what the builder handles)
	}{
		{`{"n":12345,"text":"hello world"}`, true},
		{` [1, -2, 3.5, -0, 0, 1e3, 1E-3, 123456789012345, 1234567890123456789, -9007199254740993] `, true},
		{`"héllo € 𝄞 日本"`, true},
		{`"\u00e9\u20AC\ud834\udd1e"`, true},                     // escapes and a surrogate pair
		{`"\ud834 \udd1e x\ud834"`, true},                        // unpaired surrogates become U+FFFD, as encoding/json does
		{"\"\xff\xfe bad utf-8 \xed\xa0\x80\"", true},            // invalid UTF-8 too
		{`"\/\b\f\n\r\t\"\\ \u0000"`, true},                      // every escape
		{`{"a":1,"a":2,"b":{"a":[]},"__proto__":{"x":1}}`, true}, // duplicate keys, __proto__ as an own key
		{`{"0":"zero","b":1,"1":"one"}`, true},
		{`{"toString":1,"constructor":2,"hasOwnProperty":3,"valueOf":{"__proto__":null}}`, true}, // keys Object.prototype has
		{`{}`, true}, {`[]`, true}, {`true`, true}, {`false`, true}, {`null`, true}, {`""`, true},
		{`"a long ascii string over sixteen bytes"`, true},
		{deep(maxJSONDepth), true},
		{deep(maxJSONDepth + 1), false}, // left to JSON.parse
		{`1e400`, false},                // JSON.parse throws (encoding/json's range error)
		{`{"a":1,}`, false}, {`[1,]`, false}, {`01`, false}, {`1.`, false}, {`.5`, false}, {`+1`, false},
		{`"\x"`, false}, {`"\u12"`, false}, {"\"a\tb\"", false}, {`{"a" 1}`, false}, {`[1 2]`, false},
		{`tru`, false}, {`nul`, false}, {`"open`, false}, {``, false}, {`   `, false}, {`1 2`, false}, {`{} x`, false},
		{`NaN`, false}, {`Infinity`, false}, {`'single'`, false}, {"[1]\x00", false},
	}
	for _, tt := range tests {
		if built := h.check(t, tt.in); built != tt.builds {
			t.Errorf("parseJSON(%q): built %v, want %v", tt.in, built, tt.builds)
		}
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"n":1,"t":"x"}`, `[1,[2,[3]]]`, `"\ud834\udd1e"`, `-0`, `1e308`, `{"a":{"a":null}}`, `"\u0000"`, "\"\xff\""} {
		f.Add(s)
	}
	h := newJSONHarness(f)
	f.Fuzz(func(t *testing.T, s string) {
		h.check(t, s)
	})
}

// encodeCase is a JavaScript expression and whether the encoder serialises it itself.
type encodeCase struct {
	expr    string
	encodes bool
}

var encodeCases = []encodeCase{
	{`({n: 12345, text: 'hello world'})`, true},
	{`'héllo € 𝄞 "q" \\ \n\t\r\b\f \u0001 \u007f \u2028'`, true},
	{`[1, -0, 1.5, 1e21, 1e-7, NaN, Infinity, -Infinity, 0.1 + 0.2, 2 ** 53 + 2, -123]`, true},
	{`[undefined, , null, true, false]`, true},
	{`({a: undefined, b: 1, c: null})`, true},
	{`({nested: {deep: [{x: [1, {y: 'z'}]}]}, empty: {}, list: []})`, true},
	{`Object.assign(Object.create(null), {a: 1})`, true},
	{`(function () { function C() { this.x = 1; } C.prototype.y = 2; return new C(); })()`, true},
	{`Object.defineProperty({a: 1}, 'hidden', {value: 2, enumerable: false})`, true},
	{`Object.defineProperty({}, 'g', {get: function () { return 'got'; }, enumerable: true})`, true},
	{`(function () { var o = {}; o[Symbol('s')] = 1; o.k = 2; return o; })()`, true},
	{`({type: 'Buffer', data: [1, 2]})`, true},
	{`'long ascii string well over sixteen bytes'`, true},
	{`null`, true}, {`true`, true}, {`0`, true}, {`''`, true},
	{`undefined`, true}, // api.js's stringify gives '': nothing is appended
	{`'\ud834 lone surrogate'`, false},
	{`({f: function () {}})`, false},
	{`[function () {}]`, false},
	{`({d: new Date(0)})`, false},
	{`({toJSON: function () { return 1; }})`, false},
	{`new Map()`, false},
	{`new Uint8Array([1, 2])`, false},
	{`({s: new String('x')})`, false},
	{`({s: Symbol('x')})`, false},
	{`(function () { var o = {}; o.self = o; return o; })()`, false},
	{`new Proxy({}, {})`, false},
	{`new Error('x')`, false},
	{`10n`, false},
}

func TestJSONEncoderMatchesStringify(t *testing.T) {
	h := newJSONHarness(t)
	for _, tc := range encodeCases {
		v, err := h.vm.RunString(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		var e jsonEncoder
		ok := e.encodeTop(v)
		if ok != tc.encodes {
			t.Errorf("%s: encoded %v, want %v", tc.expr, ok, tc.encodes)
			continue
		}
		if !ok {
			continue
		}
		want := ""
		if !goja.IsUndefined(v) {
			out, err := h.stringify(goja.Undefined(), v)
			if err != nil {
				t.Fatalf("%s: JSON.stringify: %v", tc.expr, err)
			}
			want = out.String()
		}
		if string(e.buf) != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.expr, e.buf, want)
		}
	}
}

func TestJSONEncoderDepth(t *testing.T) {
	h := newJSONHarness(t)
	for _, n := range []int{maxJSONDepth, maxJSONDepth + 1} {
		v, err := h.vm.RunString(`(function (n) { var v = 1; while (n--) v = [v]; return v; })(` + strconv.Itoa(n) + `)`)
		if err != nil {
			t.Fatal(err)
		}
		var e jsonEncoder
		if ok := e.encodeTop(v); ok != (n <= maxJSONDepth) {
			t.Errorf("depth %d: encoded %v", n, ok)
		}
	}
}

// FuzzJSONEncoder serialises JSON.parse(s) with the encoder and with JSON.stringify.
func FuzzJSONEncoder(f *testing.F) {
	for _, s := range []string{`{"n":1,"t":"x"}`, `[1.5,-0,1e21,null]`, `"\ud834\udd1e"`, `"\ud834"`, `{"a":[{"b":{}}]}`} {
		f.Add(s)
	}
	h := newJSONHarness(f)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := h.parse(goja.Undefined(), h.vm.ToValue(s))
		if err != nil {
			return
		}
		var e jsonEncoder
		if !e.encodeTop(v) {
			return
		}
		out, err := h.stringify(goja.Undefined(), v)
		if err != nil {
			t.Fatalf("JSON.stringify(JSON.parse(%q)): %v", s, err)
		}
		if string(e.buf) != out.String() {
			t.Fatalf("%q:\n got %s\nwant %s", s, e.buf, out.String())
		}
	})
}

func BenchmarkParseJSON(b *testing.B) {
	h := newJSONHarness(b)
	const msg = `{"n":12345,"text":"hello world","list":[1,2,3],"ok":true}`
	b.Run("builder", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, ok := parseJSON(h.vm, h.objectProto, msg); !ok {
				b.Fatal("not built")
			}
		}
	})
	b.Run("JSON.parse", func(b *testing.B) {
		b.ReportAllocs()
		arg := h.vm.ToValue(msg)
		for i := 0; i < b.N; i++ {
			if _, err := h.parse(goja.Undefined(), arg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJSONEncoder(b *testing.B) {
	h := newJSONHarness(b)
	v, _ := h.parse(goja.Undefined(), h.vm.ToValue(`{"n":12345,"text":"hello world","list":[1,2,3],"ok":true}`))
	b.Run("encoder", func(b *testing.B) {
		b.ReportAllocs()
		var e jsonEncoder
		for i := 0; i < b.N; i++ {
			e.buf, e.stack = e.buf[:0], e.stack[:0]
			if !e.encodeTop(v) {
				b.Fatal("not encoded")
			}
		}
	})
	b.Run("JSON.stringify", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := h.stringify(goja.Undefined(), v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestParseJSONPrototypeSetter: a setter someone put on Object.prototype does not run for a key JSON.parse
// creates as an own property, and frozen prototype properties do not make the key fail.
func TestParseJSONPrototypeSetter(t *testing.T) {
	h := newJSONHarness(t)
	if _, err := h.vm.RunString(`var trapped = 0;
		Object.defineProperty(Object.prototype, 'trap', { set: function () { trapped++; }, get: function () { return 'proto'; }, configurable: true });
		Object.defineProperty(Object.prototype, 'fixed', { value: 1, writable: false, configurable: true });`); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`{"trap":1,"fixed":2,"n":{"trap":[1]}}`} {
		if !h.check(t, s) {
			t.Fatalf("parseJSON(%s) left to JSON.parse", s)
		}
	}
	if n := h.vm.Get("trapped").ToInteger(); n != 0 {
		t.Fatalf("the prototype's setter ran %d times", n)
	}
}
