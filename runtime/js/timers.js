'use strict';
// timers: Node-shaped Timeout/Immediate objects over the loop's native timer heap.

function checkCallback(cb) {
  if (typeof cb !== 'function') {
    var e = new TypeError('The "callback" argument must be of type function. Received ' + (cb === null ? 'null' : typeof cb));
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
}

function Timeout(cb, ms, repeat) {
  this._idleTimeout = ms;
  this._onTimeout = cb;
  this._repeat = repeat ? ms : null;
  this._destroyed = false;
  this[idKey] = 0;
}
var idKey = Symbol('timerId');
Timeout.prototype.ref = function () { internal.ref(this[idKey], true); return this; };
Timeout.prototype.unref = function () { internal.ref(this[idKey], false); return this; };
Timeout.prototype.hasRef = function () { return internal.hasRef(this[idKey]); };
Timeout.prototype.refresh = function () { internal.refresh(this[idKey]); return this; };
Timeout.prototype.close = function () { clearTimeout(this); return this; };
Timeout.prototype[Symbol.toPrimitive] = function () { return this[idKey]; };

function Immediate(cb) {
  this._onImmediate = cb;
  this[idKey] = 0;
}
Immediate.prototype.ref = function () { internal.ref(this[idKey], true); return this; };
Immediate.prototype.unref = function () { internal.ref(this[idKey], false); return this; };
Immediate.prototype.hasRef = function () { return internal.hasRef(this[idKey]); };

// The extra arguments are rest parameters: one array per call, no arguments object and copy.
function setTimeout(cb, ms, ...args) {
  checkCallback(cb);
  var t = new Timeout(cb, ms, false);
  t[idKey] = internal.add(t, cb, ms, false, args);
  return t;
}

function setInterval(cb, ms, ...args) {
  checkCallback(cb);
  var t = new Timeout(cb, ms, true);
  t[idKey] = internal.add(t, cb, ms, true, args);
  return t;
}

function setImmediate(cb, ...args) {
  checkCallback(cb);
  var t = new Immediate(cb);
  t[idKey] = internal.addImmediate(t, cb, args);
  return t;
}

function clear(t) {
  if (t === null || t === undefined) return;
  if (typeof t === 'object') {
    if (t[idKey] !== undefined) {
      internal.clear(t[idKey]);
      t._destroyed = true;
    }
    return;
  }
  if (typeof t === 'number' || typeof t === 'string') internal.clear(Number(t));
}

function clearTimeout(t) { clear(t); }
function clearInterval(t) { clear(t); }
function clearImmediate(t) { clear(t); }

var promises = {
  setTimeout: function (ms, value) {
    return new Promise(function (resolve) { setTimeout(resolve, ms, value); });
  },
  setImmediate: function (value) {
    return new Promise(function (resolve) { setImmediate(resolve, value); });
  }
};

module.exports = {
  setTimeout: setTimeout,
  setInterval: setInterval,
  setImmediate: setImmediate,
  clearTimeout: clearTimeout,
  clearInterval: clearInterval,
  clearImmediate: clearImmediate,
  promises: promises,
  Timeout: Timeout,
  Immediate: Immediate
};
