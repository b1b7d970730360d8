package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// op is one command of a table test, written compactly: key/value/from/to are JSON texts ("" = absent).
type op struct {
	action     string
	key, value string
	from, to   string
	getValue   bool
}

func (o op) request() *Request {
	r := &Request{Action: o.action, GetValue: o.getValue}
	if o.key != "" {
		r.Key = json.RawMessage(o.key)
	}
	if o.value != "" {
		r.Value = json.RawMessage(o.value)
	}
	if o.from != "" {
		r.From = json.RawMessage(o.from)
	}
	if o.to != "" {
		r.To = json.RawMessage(o.to)
	}
	return r
}

func mustExec(t *testing.T, d *Data, o op) json.RawMessage {
	t.Helper()
	v, err := execData(d, nil, o.request(), 1000)
	if err != nil {
		t.Fatalf("%s %s: %v", o.action, o.key, err)
	}
	return v
}

func TestDataOps(t *testing.T) {
	tests := []struct {
		name    string
		setup   []op
		do      op
		want    string // JSON of the result; "" = undefined
		wantAll string // JSON of the whole store afterwards ("" = not checked)
	}{
		{name: "set creates missing levels", do: op{action: "set", key: `["a","b","c"]`, value: `1`},
			wantAll: `{"a":{"b":{"c":1}}}`},
		{name: "dots are not split", do: op{action: "set", key: `"a.b"`, value: `1`}, wantAll: `{"a.b":1}`},
		{name: "set getValue returns value", do: op{action: "set", key: `"x"`, value: `{"q":[1,2]}`, getValue: true},
			want: `{"q":[1,2]}`},
		{name: "set without getValue returns undefined", do: op{action: "set", key: `"x"`, value: `1`}, want: ``},
		{name: "set replaces", setup: []op{{action: "set", key: `"x"`, value: `{"a":1}`}},
			do: op{action: "set", key: `"x"`, value: `2`}, wantAll: `{"x":2}`},
		{name: "set through a scalar", setup: []op{{action: "set", key: `"x"`, value: `5`}},
			do: op{action: "set", key: `["x","y"]`, value: `2`}, wantAll: `{"x":{"y":2}}`},
		{name: "numeric key element", do: op{action: "set", key: `["l",0]`, value: `"a"`}, wantAll: `{"l":{"0":"a"}}`},
		{name: "get missing is undefined", do: op{action: "get", key: `"nope"`}, want: ``},
		{name: "get through scalar is undefined", setup: []op{{action: "set", key: `"x"`, value: `1`}},
			do: op{action: "get", key: `["x","y"]`}, want: ``},
		{name: "array stays array", setup: []op{{action: "set", key: `"l"`, value: `[1,2,3]`}},
			do: op{action: "get", key: `"l"`}, want: `[1,2,3]`},
		{name: "array element", setup: []op{{action: "set", key: `"l"`, value: `[1,{"a":2},3]`}},
			do: op{action: "get", key: `["l","1","a"]`}, want: `2`},
		{name: "array with a string key becomes object",
			setup: []op{{action: "set", key: `"l"`, value: `[1,2]`}, {action: "set", key: `["l","k"]`, value: `3`}},
			do:    op{action: "get", key: `"l"`}, want: `{"0":1,"1":2,"k":3}`},
		{name: "array with a gap becomes object",
			setup: []op{{action: "set", key: `"l"`, value: `[1,2]`}, {action: "set", key: `["l",5]`, value: `3`}},
			do:    op{action: "get", key: `"l"`}, want: `{"0":1,"1":2,"5":3}`},
		{name: "object from numeric keys stays object",
			setup: []op{{action: "set", key: `["o",0]`, value: `1`}, {action: "set", key: `["o",1]`, value: `2`}},
			do:    op{action: "get", key: `"o"`}, want: `{"0":1,"1":2}`},
		{name: "object key order: numbers first, then insertion", setup: []op{{action: "set", key: `"o"`, value: `{"b":1,"2":2,"a":3,"1":4}`}},
			do: op{action: "get", key: `"o"`}, want: `{"1":4,"2":2,"b":1,"a":3}`},
		{name: "add to missing", do: op{action: "add", key: `"l"`, value: `"a"`}, wantAll: `{"l":["a"]}`},
		{name: "add to array", setup: []op{{action: "set", key: `"l"`, value: `[1]`}},
			do: op{action: "add", key: `"l"`, value: `2`, getValue: true}, want: `[1,2]`},
		{name: "add to scalar wraps", setup: []op{{action: "set", key: `"l"`, value: `"x"`}},
			do: op{action: "add", key: `"l"`, value: `"y"`}, wantAll: `{"l":["x","y"]}`},
		{name: "add to object uses next numeric index", setup: []op{{action: "set", key: `"o"`, value: `{"a":1,"3":2}`}},
			do: op{action: "add", key: `"o"`, value: `9`}, wantAll: `{"o":{"3":2,"4":9,"a":1}}`},
		{name: "concat array", setup: []op{{action: "set", key: `"l"`, value: `[1]`}},
			do: op{action: "concat", key: `"l"`, value: `[2,3]`}, wantAll: `{"l":[1,2,3]}`},
		{name: "concat array to missing", do: op{action: "concat", key: `"l"`, value: `[2,3]`}, wantAll: `{"l":[2,3]}`},
		{name: "concat object merges", setup: []op{{action: "set", key: `"o"`, value: `{"a":1,"b":2}`}},
			do: op{action: "concat", key: `"o"`, value: `{"b":3,"c":4}`}, wantAll: `{"o":{"a":1,"b":3,"c":4}}`},
		{name: "concat object to missing", do: op{action: "concat", key: `"o"`, value: `{"a":1}`}, wantAll: `{"o":{"a":1}}`},
		{name: "concat scalar wraps", setup: []op{{action: "set", key: `"l"`, value: `[1]`}},
			do: op{action: "concat", key: `"l"`, value: `2`}, wantAll: `{"l":[1,2]}`},
		{name: "count map", setup: []op{{action: "set", key: `"o"`, value: `{"a":1,"b":2}`}},
			do: op{action: "count", key: `"o"`}, want: `2`},
		{name: "count scalar", setup: []op{{action: "set", key: `"o"`, value: `"s"`}}, do: op{action: "count", key: `"o"`}, want: `1`},
		{name: "count missing", do: op{action: "count", key: `"o"`}, want: `0`},
		{name: "hasKey true", setup: []op{{action: "set", key: `["a","b"]`, value: `null`}},
			do: op{action: "hasKey", key: `["a","b"]`}, want: `true`},
		{name: "hasKey false", do: op{action: "hasKey", key: `["a","b"]`}, want: `false`},
		{name: "remove returns value", setup: []op{{action: "set", key: `["a","b"]`, value: `{"c":1}`}},
			do: op{action: "remove", key: `["a","b"]`, getValue: true}, want: `{"c":1}`, wantAll: `{"a":{}}`},
		{name: "remove missing", do: op{action: "remove", key: `["a","b"]`, getValue: true}, want: ``},
		{name: "remove numeric key splices", setup: []op{{action: "set", key: `"l"`, value: `["a","b","c"]`}},
			do: op{action: "remove", key: `["l",0]`}, wantAll: `{"l":["b","c"]}`},
		{name: "remove numeric key splices objects too", setup: []op{{action: "set", key: `"o"`, value: `{"1":"a","2":"b","5":"c","x":1}`}},
			do: op{action: "remove", key: `["o",2]`}, wantAll: `{"o":{"1":"a","4":"c","x":1}}`},
		{name: "removeAll", setup: []op{{action: "set", key: `"a"`, value: `1`}}, do: op{action: "removeAll"}, wantAll: `{}`},
		{name: "pop last element", setup: []op{{action: "set", key: `"l"`, value: `[1,2,3]`}},
			do: op{action: "pop", key: `"l"`, getValue: true}, want: `3`, wantAll: `{"l":[1,2]}`},
		{name: "pop last numeric key of object", setup: []op{{action: "set", key: `"o"`, value: `{"a":1,"7":2}`}},
			do: op{action: "pop", key: `"o"`, getValue: true}, want: `2`, wantAll: `{"o":{"a":1}}`},
		{name: "pop empty", setup: []op{{action: "set", key: `"l"`, value: `[]`}}, do: op{action: "pop", key: `"l"`, getValue: true}, want: ``},
		{name: "pop scalar leaves it", setup: []op{{action: "set", key: `"l"`, value: `1`}},
			do: op{action: "pop", key: `"l"`, getValue: true}, want: ``, wantAll: `{"l":1}`},
		{name: "getRange array", setup: []op{{action: "set", key: `"l"`, value: `[0,1,2,3,4]`}},
			do: op{action: "getRange", key: `"l"`, from: `1`, to: `3`}, want: `[1,2]`},
		{name: "getRange array open end", setup: []op{{action: "set", key: `"l"`, value: `[0,1,2,3,4]`}},
			do: op{action: "getRange", key: `"l"`, from: `3`}, want: `[3,4]`},
		{name: "getRange array beyond end", setup: []op{{action: "set", key: `"l"`, value: `[0,1]`}},
			do: op{action: "getRange", key: `"l"`, from: `1`, to: `10`}, want: `[1]`},
		{name: "getRange object by keys", setup: []op{{action: "set", key: `"o"`, value: `{"a":1,"b":2,"c":3,"d":4}`}},
			do: op{action: "getRange", key: `"o"`, from: `"b"`, to: `"d"`}, want: `{"b":2,"c":3}`},
		{name: "getRange object open end", setup: []op{{action: "set", key: `"o"`, value: `{"a":1,"b":2,"c":3}`}},
			do: op{action: "getRange", key: `"o"`, from: `"b"`}, want: `{"b":2,"c":3}`},
		{name: "getRange object unknown from", setup: []op{{action: "set", key: `"o"`, value: `{"a":1}`}},
			do: op{action: "getRange", key: `"o"`, from: `"z"`}, want: `{}`},
		{name: "getRange missing", do: op{action: "getRange", key: `"o"`, from: `0`}, want: ``},
		{name: "removeRange array", setup: []op{{action: "set", key: `"l"`, value: `[0,1,2,3,4]`}},
			do: op{action: "removeRange", key: `"l"`, from: `1`, to: `3`, getValue: true}, want: `[1,2]`, wantAll: `{"l":[0,3,4]}`},
		{name: "removeRange object", setup: []op{{action: "set", key: `"o"`, value: `{"a":1,"b":2,"c":3}`}},
			do: op{action: "removeRange", key: `"o"`, from: `"a"`, to: `"c"`, getValue: true}, want: `{"a":1,"b":2}`, wantAll: `{"o":{"c":3}}`},
		{name: "removeRange object numeric keys", setup: []op{{action: "set", key: `"o"`, value: `{"0":"a","1":"b","2":"c","x":1}`}},
			do: op{action: "removeRange", key: `"o"`, from: `"0"`, to: `"2"`, getValue: true}, want: `{"0":"a","1":"b"}`, wantAll: `{"o":{"0":"c","x":1}}`},
		{name: "getAll", setup: []op{{action: "set", key: `"a"`, value: `1`}, {action: "add", key: `"b"`, value: `2`}},
			do: op{action: "getAll"}, want: `{"a":1,"b":[2]}`},
		{name: "set root object", do: op{action: "set", key: `[]`, value: `{"z":1}`}, wantAll: `{"z":1}`},
		{name: "unicode and escapes", do: op{action: "set", key: `"k\"é"`, value: `"v\n☃"`}, wantAll: `{"k\"é":"v\n☃"}`},
		{name: "numbers", do: op{action: "set", key: `"n"`, value: `[1.5,-0,1e21,12345678901]`}, wantAll: `{"n":[1.5,0,1e+21,12345678901]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewData()
			for _, s := range tc.setup {
				mustExec(t, d, s)
			}
			got := mustExec(t, d, tc.do)
			if string(got) != tc.want {
				t.Errorf("result = %s, want %s", got, tc.want)
			}
			if tc.wantAll != "" {
				if all := d.GetAll(); string(all) != tc.wantAll {
					t.Errorf("store = %s, want %s", all, tc.wantAll)
				}
			}
		})
	}
}

func TestDataBadInput(t *testing.T) {
	tests := []struct {
		name string
		do   op
		want error
	}{
		{"object key", op{action: "get", key: `{"a":1}`}, ErrBadKey},
		{"nested array key", op{action: "get", key: `[["a"]]`}, ErrBadKey},
		{"bool key", op{action: "get", key: `true`}, ErrBadKey},
		{"bad value", op{action: "set", key: `"a"`, value: `{`}, ErrBadValue},
		{"root scalar", op{action: "set", key: `[]`, value: `1`}, ErrBadValue},
		{"bad range", op{action: "getRange", key: `"a"`, from: `{}`}, nil},
		{"unknown action", op{action: "frobnicate", key: `"a"`}, ErrUnknownAction},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewData()
			mustExec(t, d, op{action: "set", key: `"a"`, value: `{"x":1}`})
			_, err := execData(d, nil, tc.do.request(), 0)
			if tc.want == nil {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDataExpiry(t *testing.T) {
	d := NewData()
	mustExec(t, d, op{action: "set", key: `["s","a"]`, value: `1`})
	mustExec(t, d, op{action: "set", key: `["s","b"]`, value: `2`})
	mustExec(t, d, op{action: "set", key: `["l"]`, value: `["x","y","z"]`})
	if err := d.Expire([]Key{{"s", "a"}, {"never", "set"}}, 10, 100); err != nil {
		t.Fatal(err)
	}
	if err := d.Expire([]Key{{"s", "b"}}, 30.5, 100); err != nil {
		t.Fatal(err)
	}
	if at, ok := d.GetExpiry(Key{"s", "a"}); !ok || at != 110 {
		t.Fatalf("getExpiry = %v %v, want 110", at, ok)
	}
	if _, ok := d.GetExpiry(Key{"s"}); ok {
		t.Fatal("parent has no expiry")
	}
	if n := d.Sweep(109.9); n != 0 {
		t.Fatalf("early sweep removed %d", n)
	}
	if n := d.Sweep(110); n != 2 {
		t.Fatalf("sweep removed %d, want 2", n)
	}
	if got := string(d.GetAll()); got != `{"s":{"b":2},"l":["x","y","z"]}` {
		t.Fatalf("after sweep: %s", got)
	}
	d.Unexpire([]Key{{"s", "b"}})
	if n := d.Sweep(1e9); n != 0 {
		t.Fatalf("unexpired key swept")
	}
	// Expiring an array element splices it on the sweep.
	d.Expire([]Key{{"l", "0"}}, 0, 200)
	d.Sweep(200)
	if got := string(d.Get(Key{"l"})); got != `["y","z"]` {
		t.Fatalf("l = %s", got)
	}
}

func TestDataSnapshotRoundTrip(t *testing.T) {
	d := NewData()
	mustExec(t, d, op{action: "set", key: `"o"`, value: `{"b":1,"a":[1,2]}`})
	d.Expire([]Key{{"o", "b"}}, 5, 10)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var d2 Data
	if err := json.Unmarshal(b, &d2); err != nil {
		t.Fatal(err)
	}
	if string(d2.GetAll()) != `{"o":{"b":1,"a":[1,2]}}` {
		t.Fatalf("data = %s", d2.GetAll())
	}
	if at, ok := d2.GetExpiry(Key{"o", "b"}); !ok || at != 15 {
		t.Fatalf("expiry = %v %v", at, ok)
	}
}

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		source  string
		base    Key
		data    string
		want    string
		wantErr string
		wantAll string
	}{
		{name: "reads data", source: `function (DataMap) { return DataMap.get(['o','a']); }`, want: `1`},
		{name: "arrow", source: `(DataMap) => DataMap.count('o')`, want: `2`},
		{name: "writes data", source: `function (DataMap) { DataMap.set(['o','c'], {x: [1]}); DataMap.add('l', 4); }`,
			want: ``, wantAll: `{"o":{"a":1,"b":2,"c":{"x":[1]}},"l":[1,2,3,4]}`},
		{name: "injected data", source: `function (DataMap) { return {sum: n + m.k, s: str}; }`,
			data: `{"n":1,"m":{"k":2},"str":"q"}`, want: `{"sum":3,"s":"q"}`},
		{name: "baseKey", source: `function (DataMap) { DataMap.set('z', 1); return DataMap.getAll(); }`, base: Key{"o"},
			want: `{"a":1,"b":2,"z":1}`},
		{name: "baseKey removeAll", source: `function (DataMap) { DataMap.removeAll(); }`, base: Key{"o"},
			wantAll: `{"o":{},"l":[1,2,3]}`},
		{name: "pop and remove", source: `function (D) { var p = D.pop('l'); D.remove(['l', 0]); return [p, D.get('l')]; }`,
			want: `[3,[2]]`},
		{name: "expirer", source: `function (D, E) { E.expire([['o','a']], 10); return E.getExpiry(['o','a']); }`,
			want: `1010`},
		{name: "eventMap is an object", source: `function (D, E, M) { return typeof M; }`, want: `"object"`},
		{name: "throws", source: `function () { throw new Error('boom'); }`,
			wantErr: "nData Error - Exception at run(): Error: boom\n\tat "},
		{name: "throws a string", source: `function () { throw 'bare'; }`, wantErr: "nData Error - Exception at run(): bare"},
		{name: "syntax error", source: `function ( {`, wantErr: "nData Error - Exception at run(): SyntaxError"},
		{name: "not a function", source: `42`, wantErr: "not a function"},
		{name: "bad data name", source: `function () {}`, data: `{"a-b":1}`, wantErr: "not a valid identifier"},
		{name: "reserved data name", source: `function () {}`, data: `{"var":1}`, wantErr: "nData Error - Exception at run()"},
		{name: "data not an object", source: `function () {}`, data: `[1]`, wantErr: "data must be an object"},
		{name: "deep recursion", source: `function f(){ return f(); }`, wantErr: "nData Error - Exception at run()"},
		{name: "endless loop", source: `function () { for (;;) {} }`, wantErr: "run() exceeded its time budget"},
		{name: "bad key thrown into JS", source: `function (D) { try { D.get({}); } catch (e) { return 'caught'; } }`, want: `"caught"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewData()
			mustExec(t, d, op{action: "set", key: `"o"`, value: `{"a":1,"b":2}`})
			mustExec(t, d, op{action: "set", key: `"l"`, value: `[1,2,3]`})
			r := newRunner(500*time.Millisecond, func() float64 { return 1000 })
			var data json.RawMessage
			if tc.data != "" {
				data = json.RawMessage(tc.data)
			}
			got, err := r.run(d, tc.source, tc.base, data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
				}
				// The runner must stay usable after an error or an interrupt.
				if v, err := r.run(d, `function (D) { return D.get(['o','a']); }`, nil, nil); err != nil || string(v) != "1" {
					t.Fatalf("runner unusable after error: %s %v", v, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("result = %s, want %s", got, tc.want)
			}
			if tc.wantAll != "" {
				if all := d.GetAll(); string(all) != tc.wantAll {
					t.Errorf("store = %s, want %s", all, tc.wantAll)
				}
			}
		})
	}
}

func TestRunBudgetIsErrRunBudget(t *testing.T) {
	r := newRunner(50*time.Millisecond, func() float64 { return 0 })
	_, err := r.run(NewData(), `function () { while (true) {} }`, nil, nil)
	if !errors.Is(err, ErrRunBudget) || !errors.Is(err, ErrRunException) {
		t.Fatalf("err = %v", err)
	}
}

// TestNodeSizes checks small nodes (keys scanned) and large ones (indexed by a map) alike: insertion order,
// updates in place, removal, and a node growing past smallNodeKeys.
func TestNodeSizes(t *testing.T) {
	for _, n := range []int{1, 3, smallNodeKeys, smallNodeKeys + 1, 3 * smallNodeKeys} {
		d := NewData()
		var want []string
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("k%d", i)
			if _, err := d.Set(Key{"m", k}, json.RawMessage(strconv.Itoa(i))); err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("%q:%d", k, i))
		}
		if _, err := d.Set(Key{"m", "k0"}, json.RawMessage(`"new"`)); err != nil {
			t.Fatal(err)
		}
		want[0] = `"k0":"new"`
		if n > 1 {
			if got := string(d.Remove(Key{"m", fmt.Sprintf("k%d", n-1)})); got != strconv.Itoa(n-1) {
				t.Errorf("%d keys: removed %s", n, got)
			}
			want = want[:n-1]
		}
		if n > 2 { // from the middle, then back at the end
			if got := string(d.Remove(Key{"m", "k1"})); got != "1" {
				t.Errorf("%d keys: removed k1 = %s", n, got)
			}
			if _, err := d.Set(Key{"m", "k1"}, json.RawMessage(`true`)); err != nil {
				t.Fatal(err)
			}
			want = append(append(want[:1], want[2:]...), `"k1":true`)
		}
		if got := d.Remove(Key{"m", "missing"}); got != nil {
			t.Errorf("%d keys: removing a missing key gave %s", n, got)
		}
		if got, w := string(d.Get(Key{"m"})), "{"+strings.Join(want, ",")+"}"; got != w {
			t.Errorf("%d keys: got %s, want %s", n, got, w)
		}
		if got := d.Count(Key{"m"}); got != len(want) {
			t.Errorf("%d keys: count %d, want %d", n, got, len(want))
		}
		if !d.HasKey(Key{"m", "k0"}) || d.HasKey(Key{"m", fmt.Sprintf("k%d", n)}) || string(d.Get(Key{"m", "k0"})) != `"new"` {
			t.Errorf("%d keys: HasKey/Get wrong", n)
		}
	}
}

// TestExpirySweepParsesKeys checks that swept keys (kept as their JSON text) are removed, numeric elements too.
func TestExpirySweepParsesKeys(t *testing.T) {
	d := NewData()
	for _, k := range []Key{{"a", "b"}, {"n", "0"}, {"q", `"x"`}} {
		if _, err := d.Set(k, json.RawMessage(`1`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Expire([]Key{{"a", "b"}, {"n", "0"}, {"q", `"x"`}}, 1, 100); err != nil {
		t.Fatal(err)
	}
	if at, ok := d.GetExpiry(Key{"n", "0"}); !ok || at != 101 {
		t.Errorf("GetExpiry = %v %v", at, ok)
	}
	if n := d.Sweep(100.5); n != 0 {
		t.Errorf("early sweep removed %d", n)
	}
	if n := d.Sweep(101); n != 3 {
		t.Errorf("sweep removed %d, want 3", n)
	}
	if got := string(d.GetAll()); got != `{"a":{},"n":[],"q":{}}` && got != `{"a":{},"n":{},"q":{}}` {
		t.Errorf("after sweep: %s", got)
	}
}
