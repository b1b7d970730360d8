package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// Defaults of the query runner.
const (
	// DefaultRunBudget is how long one run/query may execute inside the store before it is interrupted.
	DefaultRunBudget = 2 * time.Second
	// DefaultRunMaxCallStackSize bounds the JS call depth of a run/query.
	DefaultRunMaxCallStackSize = 2000
	// maxSourceLen bounds the source text of a run/query.
	maxSourceLen = 1 << 20
)

// Errors of run/query.
var (
	// ErrRunException wraps a JS exception thrown by a run/query function.
	ErrRunException = errors.New("nData Error - Exception at run()")
	// ErrRunBudget wraps a run/query interrupted because it exceeded its time budget.
	ErrRunBudget = errors.New("run() exceeded its time budget")
)

var identRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// runner owns the store's goja VM. Not safe for concurrent use (the Store lock guards it).
type runner struct {
	budget time.Duration
	vm     *goja.Runtime
	makeDM goja.Callable // (baseKeyJSON) -> DataMap object
	expObj goja.Value    // dataExpirer
	data   *Data         // data the current run works on
	now    func() float64
}

// runPrelude builds the JS objects handed to a query. __nd(action, args...) calls into Go with JSON strings.
const runPrelude = `(function (nd) {
	function chain(base, k) {
		if (k === undefined || k === null) return base.slice();
		return base.concat(k instanceof Array ? k : [k]);
	}
	function out(s) { return s === undefined ? undefined : JSON.parse(s); }
	function j(v) { return v === undefined ? undefined : JSON.stringify(v); }
	return function (baseJSON) {
		var base = JSON.parse(baseJSON);
		return {
			set: function (k, v) { return out(nd('set', j(chain(base, k)), j(v))); },
			add: function (k, v) { return out(nd('add', j(chain(base, k)), j(v))); },
			concat: function (k, v) { return out(nd('concat', j(chain(base, k)), j(v))); },
			get: function (k) { return out(nd('get', j(chain(base, k)))); },
			getRange: function (k, from, to) { return out(nd('getRange', j(chain(base, k)), j(from), j(to))); },
			getAll: function () { return out(nd('get', j(base))); },
			count: function (k) { return out(nd('count', j(chain(base, k)))); },
			hasKey: function (k) { return out(nd('hasKey', j(chain(base, k)))); },
			remove: function (k) { return out(nd('remove', j(chain(base, k)))); },
			removeRange: function (k, from, to) { return out(nd('removeRange', j(chain(base, k)), j(from), j(to))); },
			removeAll: function () { return base.length ? out(nd('set', j(base), '{}')) : out(nd('removeAll')); },
			pop: function (k) { return out(nd('pop', j(chain(base, k)))); },
			expire: function (keys, s) { return out(nd('expire', j(keys), j(s))); },
			unexpire: function (keys) { return out(nd('unexpire', j(keys))); },
			getExpiry: function (k) { return out(nd('getExpiry', j(k))); }
		};
	};
})`

func newRunner(budget time.Duration, now func() float64) *runner {
	if budget <= 0 {
		budget = DefaultRunBudget
	}
	return &runner{budget: budget, now: now}
}

func (r *runner) init() error {
	vm := goja.New()
	vm.SetMaxCallStackSize(DefaultRunMaxCallStackSize)
	fn, err := vm.RunString(runPrelude)
	if err != nil {
		return fmt.Errorf("store: run prelude: %w", err)
	}
	outer, _ := goja.AssertFunction(fn)
	mk, err := outer(goja.Undefined(), vm.ToValue(r.call))
	if err != nil {
		return fmt.Errorf("store: run prelude: %w", err)
	}
	makeDM, _ := goja.AssertFunction(mk)
	exp, err := makeDM(goja.Undefined(), vm.ToValue("[]"))
	if err != nil {
		return fmt.Errorf("store: run prelude: %w", err)
	}
	r.vm, r.makeDM, r.expObj = vm, makeDM, exp
	return nil
}

// call is __nd: it runs one data op on r.data. Errors are thrown into JS.
func (r *runner) call(c goja.FunctionCall) goja.Value {
	arg := func(i int) json.RawMessage {
		v := c.Argument(i)
		if goja.IsUndefined(v) || goja.IsNull(v) {
			return nil
		}
		return json.RawMessage(v.String())
	}
	action := c.Argument(0).String()
	res, err := applyLocal(r.data, action, arg(1), arg(2), arg(3), r.now())
	if err != nil {
		panic(r.vm.NewGoError(err))
	}
	if res == nil {
		return goja.Undefined()
	}
	return r.vm.ToValue(string(res))
}

// applyLocal runs the data op a query can call; args are JSON.
func applyLocal(d *Data, action string, a1, a2, a3 json.RawMessage, now float64) (json.RawMessage, error) {
	boolJSON := func(b bool) json.RawMessage {
		if b {
			return json.RawMessage("true")
		}
		return json.RawMessage("false")
	}
	if action == "removeAll" {
		d.RemoveAll()
		return nil, nil
	}
	if action == "expire" || action == "unexpire" {
		var keys []json.RawMessage
		if err := json.Unmarshal(a1, &keys); err != nil {
			return nil, fmt.Errorf("%w: keys must be an array of key chains", ErrBadArgument)
		}
		ks, err := parseKeys(keys)
		if err != nil {
			return nil, err
		}
		if action == "unexpire" {
			d.Unexpire(ks)
			return nil, nil
		}
		var s float64
		if err := json.Unmarshal(a2, &s); err != nil {
			return nil, fmt.Errorf("%w: seconds", ErrBadArgument)
		}
		return nil, d.Expire(ks, s, now)
	}
	key, err := ParseKey(a1)
	if err != nil {
		return nil, err
	}
	switch action {
	case "set":
		return d.Set(key, orNull(a2))
	case "add":
		return d.Add(key, orNull(a2))
	case "concat":
		return d.Concat(key, orNull(a2))
	case "get":
		return d.Get(key), nil
	case "getRange":
		return d.GetRange(key, a2, a3)
	case "count":
		return json.RawMessage(fmt.Sprint(d.Count(key))), nil
	case "hasKey":
		return boolJSON(d.HasKey(key)), nil
	case "remove":
		return d.Remove(key), nil
	case "removeRange":
		return d.RemoveRange(key, a2, a3)
	case "pop":
		return d.Pop(key), nil
	case "getExpiry":
		if at, ok := d.GetExpiry(key); ok {
			return json.Marshal(at)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("%w: unknown action %q", ErrBadArgument, action)
}

func orNull(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}

func parseKeys(raws []json.RawMessage) ([]Key, error) {
	ks := make([]Key, 0, len(raws))
	for _, r := range raws {
		k, err := ParseKey(r)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// run executes source as fn(DataMap, dataExpirer, eventMap) against d. Every property of data (a JSON object) is
// declared as a variable the function sees; names must be identifiers. It returns the JSON of the result (nil for
// undefined).
func (r *runner) run(d *Data, source string, baseKey Key, data json.RawMessage) (json.RawMessage, error) {
	if len(source) > maxSourceLen {
		return nil, fmt.Errorf("%w: source longer than %d bytes", ErrBadArgument, maxSourceLen)
	}
	var vars map[string]json.RawMessage
	if len(data) > 0 && string(data) != "null" {
		if err := json.Unmarshal(data, &vars); err != nil {
			return nil, fmt.Errorf("%w: data must be an object", ErrBadArgument)
		}
	}
	names := make([]string, 0, len(vars))
	for name := range vars {
		if !identRe.MatchString(name) {
			return nil, fmt.Errorf("%w: data name %q is not a valid identifier", ErrBadArgument, truncate(name))
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("(function () {\n")
	for _, name := range names {
		fmt.Fprintf(&b, "var %s = %s;\n", name, vars[name])
	}
	b.WriteString("return (\n")
	b.WriteString(source)
	b.WriteString("\n);\n})()")

	if r.vm == nil {
		if err := r.init(); err != nil {
			return nil, err
		}
	}
	r.data = d
	defer func() { r.data = nil }()
	vm := r.vm
	timer := time.AfterFunc(r.budget, func() { vm.Interrupt(ErrRunBudget) })
	res, err := r.exec(b.String(), baseKey)
	if !timer.Stop() {
		// The interrupt fired (or is firing): start the next run on a fresh VM.
		r.vm = nil
	}
	return res, err
}

func (r *runner) exec(src string, baseKey Key) (json.RawMessage, error) {
	vm := r.vm
	fnv, err := vm.RunString(src)
	if err != nil {
		return nil, r.wrap(err)
	}
	fn, ok := goja.AssertFunction(fnv)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrRunException, "TypeError: the query is not a function")
	}
	base := baseKey
	if base == nil {
		base = Key{}
	}
	dm, err := r.makeDM(goja.Undefined(), vm.ToValue(base.String()))
	if err != nil {
		return nil, r.wrap(err)
	}
	res, err := fn(goja.Undefined(), dm, r.expObj, vm.NewObject())
	if err != nil {
		return nil, r.wrap(err)
	}
	if goja.IsUndefined(res) {
		return nil, nil
	}
	var out goja.Value
	if err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%v", p)
			}
		}()
		stringify, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
		out, err = stringify(goja.Undefined(), res)
		return err
	}(); err != nil {
		return nil, r.wrap(err)
	}
	if goja.IsUndefined(out) {
		return nil, nil
	}
	return json.RawMessage(out.String()), nil
}

func (r *runner) wrap(err error) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		return fmt.Errorf("%w: %w after %v: %s", ErrRunException, ErrRunBudget, r.budget, strings.TrimSpace(ie.String()))
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		stack := ""
		if o, ok := ex.Value().(*goja.Object); ok {
			if s := o.Get("stack"); s != nil && !goja.IsUndefined(s) {
				stack = s.String()
			}
		}
		if stack == "" {
			stack = ex.String()
		}
		return fmt.Errorf("%w: %s", ErrRunException, strings.TrimSpace(stack))
	}
	return fmt.Errorf("%w: %v", ErrRunException, err)
}
