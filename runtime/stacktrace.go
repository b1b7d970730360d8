package runtime

import (
	"strconv"

	"github.com/dop251/goja"
)

// defaultStackTraceLimit is V8's Error.stackTraceLimit.
const defaultStackTraceLimit = 10

// stackTraceJS installs V8's Error.captureStackTrace / Error.prepareStackTrace protocol on top of goja, which has
// neither. frames(skipName, limit) returns [file, line, column, functionName] tuples of the JavaScript caller's
// stack (native frames dropped), starting after the frame of the function named skipName when given.
var stackTraceJS = `(function (frames) {
  'use strict';
  function CallSite(f) { this._f = f; }
  var P = CallSite.prototype;
  P.getFileName = function () { return this._f[0] || undefined; };
  P.getScriptNameOrSourceURL = P.getFileName;
  P.getLineNumber = function () { return this._f[1] || null; };
  P.getColumnNumber = function () { return this._f[2] || null; };
  P.getFunctionName = function () { var n = this._f[3]; return n === '<anonymous>' || n === '' ? null : n; };
  P.getMethodName = function () { return null; };
  P.getTypeName = function () { return null; };
  P.getThis = function () { return undefined; };
  P.getFunction = function () { return undefined; };
  P.getEvalOrigin = function () { return undefined; };
  P.isEval = function () { return false; };
  P.isNative = function () { return false; };
  P.isToplevel = function () { return this._f[3] === '' || this._f[3] === '<anonymous>'; };
  P.isConstructor = function () { return false; };
  P.isAsync = function () { return false; };
  P.isPromiseAll = function () { return false; };
  P.getPromiseIndex = function () { return null; };
  P.toString = function () {
    var loc = (this._f[0] || '<anonymous>') + ':' + this._f[1] + ':' + this._f[2];
    var fn = this.getFunctionName();
    return fn ? fn + ' (' + loc + ')' : loc;
  };
  function header(obj) {
    var name, msg;
    try { name = obj.name; msg = obj.message; } catch (e) { return 'Error'; }
    name = name === undefined ? 'Error' : String(name);
    msg = msg === undefined ? '' : String(msg);
    if (!name) return msg;
    if (!msg) return name;
    return name + ': ' + msg;
  }
  if (Error.stackTraceLimit === undefined) Error.stackTraceLimit = ` + strconv.Itoa(defaultStackTraceLimit) + `;
  Object.defineProperty(Error, 'captureStackTrace', {
    writable: true, configurable: true, enumerable: false,
    value: function captureStackTrace(obj, fn) {
      if (obj === null || (typeof obj !== 'object' && typeof obj !== 'function')) {
        var e = new TypeError('The "targetObject" argument must be an object');
        e.code = 'ERR_INVALID_ARG_TYPE';
        throw e;
      }
      var limit = Error.stackTraceLimit;
      limit = typeof limit === 'number' && limit >= 0 ? Math.floor(limit) : 0;
      var raw = frames(typeof fn === 'function' ? fn.name || '' : '', limit);
      var sites = raw.map(function (f) { return new CallSite(f); });
      var stack;
      if (typeof Error.prepareStackTrace === 'function') {
        stack = Error.prepareStackTrace(obj, sites);
      } else {
        stack = header(obj) + sites.map(function (s) { return '\n    at ' + s.toString(); }).join('');
      }
      Object.defineProperty(obj, 'stack', { value: stack, writable: true, configurable: true, enumerable: false });
    }
  });
})`

// installStackTrace adds Error.captureStackTrace with V8 call-site objects.
func (l *Loop) installStackTrace() error {
	vm := l.vm
	v, err := vm.RunString(stackTraceJS)
	if err != nil {
		return err
	}
	fn, _ := goja.AssertFunction(v)
	frames := func(skipName string, limit int) [][]any {
		stack := vm.CaptureCallStack(0, nil)
		// Drop the native captureStackTrace bridge and the JS captureStackTrace wrapper frames.
		start := 0
		for start < len(stack) && (stack[start].SrcName() == "<native>" || stack[start].FuncName() == "captureStackTrace") {
			start++
		}
		if skipName != "" {
			for i := start; i < len(stack); i++ {
				if stack[i].FuncName() == skipName {
					start = i + 1
					break
				}
			}
		}
		out := make([][]any, 0, limit)
		for i := start; i < len(stack) && len(out) < limit; i++ {
			f := &stack[i]
			if f.SrcName() == "<native>" {
				continue
			}
			pos := f.Position()
			name := f.FuncName()
			if name == "<anonymous>" {
				name = ""
			}
			out = append(out, []any{pos.Filename, pos.Line, pos.Column, name})
		}
		return out
	}
	_, err = fn(goja.Undefined(), vm.ToValue(frames))
	return err
}
