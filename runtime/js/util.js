'use strict';
// util: format, inspect, inherits, promisify, deprecate, type checks.

var customInspect = Symbol.for('nodejs.util.inspect.custom');
var customPromisify = Symbol.for('nodejs.util.promisify.custom');

function isError(v) {
  return v instanceof Error || Object.prototype.toString.call(v) === '[object Error]';
}

function isBuffer(v) {
  return typeof Buffer !== 'undefined' && v instanceof Buffer;
}

var identRe = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function quote(s) {
  var q = "'";
  if (s.indexOf("'") >= 0) {
    if (s.indexOf('"') < 0) q = '"';
    else if (s.indexOf('`') < 0) q = '`';
  }
  var out = '';
  for (var i = 0; i < s.length; i++) {
    var c = s[i];
    var code = s.charCodeAt(i);
    if (c === q || c === '\\') out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '\r') out += '\\r';
    else if (c === '\b') out += '\\b';
    else if (c === '\f') out += '\\f';
    else if (c === '\v') out += '\\v';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + (code < 16 ? '0' : '') + code.toString(16).toUpperCase();
    else out += c;
  }
  return q + out + q;
}

function keyString(k) {
  if (typeof k === 'symbol') return '[' + k.toString() + ']';
  return identRe.test(k) ? k : quote(k);
}

function ctorName(o) {
  var p = Object.getPrototypeOf(o);
  if (p === null) return null;
  var c = p.constructor;
  return c && typeof c.name === 'string' && c.name ? c.name : 'Object';
}

function formatPrimitive(v, top) {
  switch (typeof v) {
    case 'string': return top ? v : quote(v);
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint': return String(v) + 'n';
    case 'boolean': return String(v);
    case 'undefined': return 'undefined';
    case 'symbol': return v.toString();
  }
  return v === null ? 'null' : undefined;
}

function inspect(value, opts) {
  var ctx = { depth: 2, seen: [], circular: new Map(), showHidden: false, breakLength: 80, compact: 3 };
  if (typeof opts === 'boolean') {
    ctx.showHidden = opts;
    if (arguments.length > 2 && arguments[2] !== undefined) ctx.depth = arguments[2];
  } else if (opts && typeof opts === 'object') {
    for (var k in opts) ctx[k] = opts[k];
  }
  if (ctx.depth === null) ctx.depth = Infinity;
  return formatValue(ctx, value, 0, false);
}
inspect.custom = customInspect;
inspect.defaultOptions = { depth: 2, showHidden: false, breakLength: 80 };

function formatValue(ctx, v, level, top) {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return formatPrimitive(v, top);
  if (typeof v[customInspect] === 'function' && v[customInspect] !== inspect) {
    var r = v[customInspect](ctx.depth - level, ctx, inspect);
    if (r !== v) return typeof r === 'string' ? r : formatValue(ctx, r, level, false);
  }
  var idx = ctx.seen.indexOf(v);
  if (idx >= 0) {
    var n = ctx.circular.get(v);
    if (n === undefined) {
      n = ctx.circular.size + 1;
      ctx.circular.set(v, n);
    }
    return '[Circular *' + n + ']';
  }
  return formatRaw(ctx, v, level);
}

function formatRaw(ctx, v, level) {
  var keys = Object.keys(v);
  if (ctx.showHidden) keys = Object.getOwnPropertyNames(v);
  var syms = Object.getOwnPropertySymbols(v).filter(function (s) {
    return Object.prototype.propertyIsEnumerable.call(v, s);
  });
  var name = ctorName(v);
  var braces, base = '', entries = [], isArr = false, extrasOnly = false;
  var tag = Object.prototype.toString.call(v);

  if (typeof v === 'function') {
    var fname = v.name ? ': ' + v.name : ' (anonymous)';
    var kind = /^class\s/.test(Function.prototype.toString.call(v)) ? 'class' : 'Function';
    base = kind === 'class' ? '[class ' + (v.name || '(anonymous)') + ']' : '[' + kind + fname + ']';
    if (keys.length === 0 && syms.length === 0) return base;
    braces = ['{', '}'];
  } else if (Array.isArray(v)) {
    isArr = true;
    braces = [(name !== 'Array' ? name + '(' + v.length + ') ' : '') + '[', ']'];
    keys = keys.filter(function (k) { return !/^(0|[1-9][0-9]*)$/.test(k); });
  } else if (isBuffer(v)) {
    var hex = [];
    var max = Math.min(v.length, 50);
    for (var i = 0; i < max; i++) hex.push((v[i] < 16 ? '0' : '') + v[i].toString(16));
    var rest = v.length > 50 ? ' ... ' + (v.length - 50) + ' more byte' + (v.length - 50 > 1 ? 's' : '') : '';
    return '<Buffer' + (hex.length ? ' ' + hex.join(' ') : '') + rest + '>';
  } else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    isArr = true;
    braces = [name + '(' + v.length + ') [', ']'];
    keys = keys.filter(function (k) { return !/^(0|[1-9][0-9]*)$/.test(k); });
  } else if (v instanceof Date) {
    base = isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
    if (keys.length === 0) return base;
    braces = ['{', '}'];
  } else if (v instanceof RegExp) {
    base = RegExp.prototype.toString.call(v);
    if (keys.length === 0) return base;
    braces = ['{', '}'];
  } else if (isError(v)) {
    base = v.stack ? String(v.stack) : Error.prototype.toString.call(v);
    keys = keys.filter(function (k) { return k !== 'stack' && k !== 'message'; });
    if (keys.length === 0) return base;
    base = base;
    braces = ['{', '}'];
  } else if (v instanceof Map) {
    braces = ['Map(' + v.size + ') {', '}'];
    extrasOnly = true;
  } else if (v instanceof Set) {
    braces = ['Set(' + v.size + ') {', '}'];
    extrasOnly = true;
  } else if (v instanceof Promise) {
    braces = ['Promise {', '}'];
    entries.push('<unknown>');
  } else if (tag === '[object Arguments]') {
    isArr = true;
    braces = ['[Arguments] [', ']'];
  } else if (v instanceof WeakMap || v instanceof WeakSet) {
    return (v instanceof WeakMap ? 'WeakMap' : 'WeakSet') + ' { <items unknown> }';
  } else if (v instanceof ArrayBuffer) {
    braces = ['ArrayBuffer {', '}'];
    entries.push('byteLength: ' + v.byteLength);
  } else if (tag === '[object Boolean]' || tag === '[object Number]' || tag === '[object String]') {
    base = '[' + tag.slice(8, -1) + ': ' + formatPrimitive(v.valueOf(), false) + ']';
    if (keys.length === 0) return base;
    braces = ['{', '}'];
  } else {
    var prefix = '';
    if (name === null) prefix = '[Object: null prototype] ';
    else if (name !== 'Object') prefix = name + ' ';
    var st = v[Symbol.toStringTag];
    if (typeof st === 'string' && st !== name) prefix = (name || 'Object') + ' [' + st + '] ';
    braces = [prefix + '{', '}'];
  }

  if (level > ctx.depth) {
    if (isArr) return '[Array]';
    return '[' + (name === null ? 'Object: null prototype' : name || 'Object') + ']';
  }

  ctx.seen.push(v);
  var i2;
  if (isArr) {
    var len = v.length;
    var shown = Math.min(len, 100);
    var holes = 0;
    for (i2 = 0; i2 < shown; i2++) {
      if (!Object.prototype.hasOwnProperty.call(v, i2) && !ArrayBuffer.isView(v)) {
        holes++;
        continue;
      }
      if (holes) {
        entries.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
        holes = 0;
      }
      entries.push(formatValue(ctx, v[i2], level + 1, false));
    }
    if (holes) entries.push('<' + holes + ' empty item' + (holes > 1 ? 's' : '') + '>');
    if (len > shown) entries.push('... ' + (len - shown) + ' more item' + (len - shown > 1 ? 's' : ''));
  }
  if (v instanceof Map) {
    v.forEach(function (val, key) {
      entries.push(formatValue(ctx, key, level + 1, false) + ' => ' + formatValue(ctx, val, level + 1, false));
    });
  } else if (v instanceof Set) {
    v.forEach(function (val) { entries.push(formatValue(ctx, val, level + 1, false)); });
  }
  if (!extrasOnly || keys.length) {
    for (i2 = 0; i2 < keys.length; i2++) entries.push(formatProperty(ctx, v, keys[i2], level));
  }
  for (i2 = 0; i2 < syms.length; i2++) entries.push(formatProperty(ctx, v, syms[i2], level));
  ctx.seen.pop();

  var circ = ctx.circular.get(v);
  var ref = circ !== undefined ? '<ref *' + circ + '> ' : '';
  if (base) braces[0] = base + ' ' + braces[0];
  if (entries.length === 0) {
    if (isArr) return ref + braces[0] + braces[1];
    return ref + braces[0] + braces[1];
  }
  var total = entries.reduce(function (a, e) { return a + e.length + 2; }, braces[0].length + ref.length);
  var multi = entries.some(function (e) { return e.indexOf('\n') >= 0; });
  if (!multi && total + level * 2 <= ctx.breakLength) {
    return ref + braces[0] + ' ' + entries.join(', ') + ' ' + braces[1];
  }
  var ind = '  '.repeat(level + 1);
  return ref + braces[0] + '\n' + ind + entries.map(function (e) { return e.split('\n').join('\n' + '  '); }).join(',\n' + ind) + '\n' + '  '.repeat(level) + braces[1];
}

function formatProperty(ctx, v, k, level) {
  var desc = Object.getOwnPropertyDescriptor(v, k) || { value: v[k], enumerable: true };
  var str;
  if (desc.get || desc.set) {
    str = desc.get ? (desc.set ? '[Getter/Setter]' : '[Getter]') : '[Setter]';
  } else {
    str = formatValue(ctx, desc.value, level + 1, false);
  }
  var key = keyString(k);
  if (!desc.enumerable) key = '[' + key + ']';
  return key + ': ' + str;
}

function format(f) {
  var args = Array.prototype.slice.call(arguments);
  return formatWithOptions.apply(null, [{}].concat(args));
}

function formatWithOptions(opts) {
  var args = Array.prototype.slice.call(arguments, 1);
  if (args.length === 0) return '';
  var first = args[0];
  var a = 1;
  var out = '';
  if (typeof first === 'string') {
    if (args.length === 1) return first;
    var last = 0;
    for (var i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) !== 37) continue; // '%'
      var c = first[i + 1];
      if (a !== args.length || c === '%') {
        var rep;
        switch (c) {
          case 's':
            var x = args[a];
            if (typeof x === 'number') rep = formatPrimitive(x);
            else if (typeof x === 'bigint') rep = String(x) + 'n';
            else if (typeof x === 'object' && x !== null) rep = inspect(x, { depth: 0 });
            else rep = String(x);
            a++;
            break;
          case 'd':
            var d = args[a++];
            rep = typeof d === 'bigint' ? d + 'n' : typeof d === 'symbol' ? 'NaN' : formatPrimitive(Number(d));
            break;
          case 'i':
            var n = args[a++];
            rep = typeof n === 'bigint' ? n + 'n' : typeof n === 'symbol' ? 'NaN' : formatPrimitive(parseInt(n, 10));
            break;
          case 'f':
            var fl = args[a++];
            rep = typeof fl === 'symbol' ? 'NaN' : formatPrimitive(parseFloat(fl));
            break;
          case 'j':
            try {
              rep = JSON.stringify(args[a++]);
            } catch (e) {
              rep = '[Circular]';
            }
            break;
          case 'o':
            rep = inspect(args[a++], { showHidden: true, depth: 4 });
            break;
          case 'O':
            rep = inspect(args[a++], opts);
            break;
          case 'c':
            a++;
            rep = '';
            break;
          case '%':
            out += first.slice(last, i) + '%';
            last = i + 2;
            i++;
            continue;
          default:
            continue;
        }
        out += first.slice(last, i) + rep;
        last = i + 2;
        i++;
      }
    }
    out += first.slice(last);
  } else {
    a = 0;
  }
  for (; a < args.length; a++) {
    var v = args[a];
    out += (out.length || a > 0 ? ' ' : '') + (typeof v === 'string' ? v : inspect(v, opts));
  }
  return out;
}

function inherits(ctor, superCtor) {
  if (typeof ctor !== 'function' || typeof superCtor !== 'function') {
    var e = new TypeError('The "ctor" and "superCtor" arguments must be of type function');
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  if (superCtor.prototype === undefined) {
    var e2 = new TypeError('The "superCtor.prototype" property must be of type object. Received undefined');
    e2.code = 'ERR_INVALID_ARG_TYPE';
    throw e2;
  }
  Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

function promisify(orig) {
  if (typeof orig !== 'function') {
    var e = new TypeError('The "original" argument must be of type function');
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  if (orig[customPromisify]) {
    var fn = orig[customPromisify];
    return fn;
  }
  function promisified() {
    var self = this;
    var args = Array.prototype.slice.call(arguments);
    return new Promise(function (resolve, reject) {
      args.push(function (err, value) {
        if (err) return reject(err);
        if (arguments.length > 2) return resolve(Array.prototype.slice.call(arguments, 1));
        resolve(value);
      });
      orig.apply(self, args);
    });
  }
  Object.setPrototypeOf(promisified, Object.getPrototypeOf(orig));
  Object.defineProperty(promisified, customPromisify, { value: promisified });
  return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(orig));
}
promisify.custom = customPromisify;

function callbackify(orig) {
  return function () {
    var args = Array.prototype.slice.call(arguments);
    var cb = args.pop();
    var self = this;
    orig.apply(this, args).then(function (v) {
      process.nextTick(cb.bind(self, null, v));
    }, function (err) {
      if (!err) {
        var e = new Error('Promise was rejected with a falsy value');
        e.code = 'ERR_FALSY_VALUE_REJECTION';
        e.reason = err;
        err = e;
      }
      process.nextTick(cb.bind(self, err));
    });
  };
}

var warned = {};
function deprecate(fn, msg, code) {
  var done = false;
  function deprecated() {
    if (!done) {
      done = true;
      if (!(code && warned[code])) {
        if (code) warned[code] = true;
        if (typeof process !== 'undefined' && process.emitWarning) process.emitWarning(msg, 'DeprecationWarning', code);
      }
    }
    if (new.target) return Reflect.construct(fn, arguments, new.target);
    return fn.apply(this, arguments);
  }
  Object.setPrototypeOf(deprecated, fn);
  if (fn.prototype) deprecated.prototype = fn.prototype;
  return deprecated;
}

function tagOf(v) { return Object.prototype.toString.call(v); }

var types = {
  isPromise: function (v) { return v instanceof Promise; },
  isDate: function (v) { return v instanceof Date; },
  isRegExp: function (v) { return v instanceof RegExp; },
  isMap: function (v) { return v instanceof Map; },
  isSet: function (v) { return v instanceof Set; },
  isWeakMap: function (v) { return v instanceof WeakMap; },
  isWeakSet: function (v) { return v instanceof WeakSet; },
  isNativeError: function (v) { return v instanceof Error; },
  isTypedArray: function (v) { return ArrayBuffer.isView(v) && !(v instanceof DataView); },
  isUint8Array: function (v) { return v instanceof Uint8Array; },
  isArrayBuffer: function (v) { return v instanceof ArrayBuffer; },
  isAnyArrayBuffer: function (v) { return v instanceof ArrayBuffer; },
  isArrayBufferView: function (v) { return ArrayBuffer.isView(v); },
  isDataView: function (v) { return v instanceof DataView; },
  isAsyncFunction: function (v) { return typeof v === 'function' && tagOf(v) === '[object AsyncFunction]'; },
  isGeneratorFunction: function (v) { return typeof v === 'function' && /^(async\s*)?function\s*\*/.test(Function.prototype.toString.call(v)); },
  isGeneratorObject: function (v) { return tagOf(v) === '[object Generator]'; },
  isBoxedPrimitive: function (v) {
    var t = tagOf(v);
    return typeof v === 'object' && v !== null && (t === '[object Number]' || t === '[object String]' || t === '[object Boolean]' || t === '[object Symbol]' || t === '[object BigInt]');
  },
  isSymbolObject: function (v) { return typeof v === 'object' && tagOf(v) === '[object Symbol]'; },
  isProxy: function () { return false; }
};

function isDeepStrictEqual(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === b.getTime();
  var ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (var i = 0; i < ka.length; i++) {
    if (!Object.prototype.hasOwnProperty.call(b, ka[i]) || !isDeepStrictEqual(a[ka[i]], b[ka[i]])) return false;
  }
  return true;
}

function TextEncoder() {}
TextEncoder.prototype.encoding = 'utf-8';
TextEncoder.prototype.encode = function (s) {
  var b = Buffer.from(s === undefined ? '' : String(s), 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
};
function TextDecoder(enc) {
  this.encoding = (enc || 'utf-8').toLowerCase();
}
TextDecoder.prototype.decode = function (b) {
  if (b === undefined) return '';
  if (b instanceof ArrayBuffer) b = new Uint8Array(b);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString(this.encoding === 'utf-8' ? 'utf8' : this.encoding);
};

module.exports = {
  format: format,
  formatWithOptions: formatWithOptions,
  inspect: inspect,
  inherits: inherits,
  promisify: promisify,
  callbackify: callbackify,
  deprecate: deprecate,
  types: types,
  isDeepStrictEqual: isDeepStrictEqual,
  TextEncoder: TextEncoder,
  TextDecoder: TextDecoder,
  isArray: Array.isArray,
  isBoolean: function (v) { return typeof v === 'boolean'; },
  isNull: function (v) { return v === null; },
  isNullOrUndefined: function (v) { return v === null || v === undefined; },
  isNumber: function (v) { return typeof v === 'number'; },
  isString: function (v) { return typeof v === 'string'; },
  isSymbol: function (v) { return typeof v === 'symbol'; },
  isUndefined: function (v) { return v === undefined; },
  isRegExp: types.isRegExp,
  isObject: function (v) { return v !== null && typeof v === 'object'; },
  isDate: types.isDate,
  isError: isError,
  isFunction: function (v) { return typeof v === 'function'; },
  isPrimitive: function (v) { return v === null || (typeof v !== 'object' && typeof v !== 'function'); },
  isBuffer: isBuffer,
  log: function () {
    var d = new Date();
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    var months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    console.log('%s - %s', d.getDate() + ' ' + months[d.getMonth()] + ' ' + [pad(d.getHours()), pad(d.getMinutes()), pad(d.getSeconds())].join(':'), format.apply(null, arguments));
  }
};
