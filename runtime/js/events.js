'use strict';
// EventEmitter with Node's observable behaviour (listener order, meta events, 'error' semantics, once wrappers).

var kCapture = Symbol('kCapture');

function EventEmitter(opts) {
  EventEmitter.init.call(this, opts);
}

var defaultMaxListeners = 10;

Object.defineProperty(EventEmitter, 'defaultMaxListeners', {
  enumerable: true,
  get: function () { return defaultMaxListeners; },
  set: function (n) {
    if (typeof n !== 'number' || n < 0 || n !== n) {
      throw rangeError('defaultMaxListeners', n);
    }
    defaultMaxListeners = n;
  }
});

EventEmitter.prototype._events = undefined;
EventEmitter.prototype._eventsCount = 0;
EventEmitter.prototype._maxListeners = undefined;

EventEmitter.init = function () {
  if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
    this._events = Object.create(null);
    this._eventsCount = 0;
  }
  // Node writes this._maxListeners || undefined; only a falsy non-undefined value changes what reads see.
  if (this._maxListeners !== undefined && !this._maxListeners) this._maxListeners = undefined;
};

function rangeError(name, n) {
  var e = new RangeError('The value of "' + name + '" is out of range. It must be a non-negative number. Received ' + String(n));
  e.code = 'ERR_OUT_OF_RANGE';
  return e;
}

function checkListener(listener) {
  if (typeof listener !== 'function') {
    var e = new TypeError('The "listener" argument must be of type function. Received ' +
      (listener === null ? 'null' : typeof listener === 'object' ? 'an instance of ' + ((listener.constructor && listener.constructor.name) || 'Object') : 'type ' + typeof listener + ' (' + String(listener) + ')'));
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
}

EventEmitter.prototype.setMaxListeners = function setMaxListeners(n) {
  if (typeof n !== 'number' || n < 0 || n !== n) throw rangeError('n', n);
  this._maxListeners = n;
  return this;
};

function maxOf(that) {
  return that._maxListeners === undefined ? EventEmitter.defaultMaxListeners : that._maxListeners;
}

EventEmitter.prototype.getMaxListeners = function getMaxListeners() {
  return maxOf(this);
};

// emit takes its arguments as a rest parameter: one array per call instead of an arguments object plus a copy.
EventEmitter.prototype.emit = function emit(type, ...args) {
  var events = this._events;
  if (type === 'error' && (events === undefined || events.error === undefined)) {
    var er = args[0];
    if (er instanceof Error) throw er;
    var err = new Error('Unhandled error.' + (er === undefined ? '' : ' (' + safeString(er) + ')'));
    err.code = 'ERR_UNHANDLED_ERROR';
    err.context = er;
    throw err;
  }
  if (events === undefined) return false;
  var handler = events[type];
  if (handler === undefined) return false;
  if (typeof handler === 'function') {
    handler.apply(this, args);
  } else {
    var listeners = handler.slice();
    for (var j = 0; j < listeners.length; j++) listeners[j].apply(this, args);
  }
  return true;
};

function safeString(v) {
  try {
    return require('util').inspect(v);
  } catch (e) {
    return '[object]';
  }
}

function addListener(target, type, listener, prepend) {
  checkListener(listener);
  var events = target._events;
  if (events === undefined) {
    events = target._events = Object.create(null);
    target._eventsCount = 0;
  } else if (events.newListener !== undefined) {
    target.emit('newListener', type, listener.listener ? listener.listener : listener);
    events = target._events;
  }
  var existing = events[type];
  if (existing === undefined) {
    events[type] = listener;
    ++target._eventsCount;
  } else {
    if (typeof existing === 'function') {
      existing = events[type] = prepend ? [listener, existing] : [existing, listener];
    } else if (prepend) {
      existing.unshift(listener);
    } else {
      existing.push(listener);
    }
    var m = maxOf(target);
    if (m > 0 && existing.length > m && !existing.warned) {
      existing.warned = true;
      var w = new Error('Possible EventEmitter memory leak detected. ' + existing.length + ' ' + String(type) +
        ' listeners added to ' + (target.constructor && target.constructor.name || 'EventEmitter') +
        '. Use emitter.setMaxListeners() to increase limit');
      w.name = 'MaxListenersExceededWarning';
      w.emitter = target;
      w.type = type;
      w.count = existing.length;
      if (typeof process !== 'undefined' && process.emitWarning) process.emitWarning(w);
    }
  }
  return target;
}

EventEmitter.prototype.addListener = function addListener_(type, listener) {
  return addListener(this, type, listener, false);
};
EventEmitter.prototype.on = EventEmitter.prototype.addListener;
EventEmitter.prototype.prependListener = function prependListener(type, listener) {
  return addListener(this, type, listener, true);
};

function onceWrapper(...args) {
  if (!this.fired) {
    this.target.removeListener(this.type, this.wrapFn);
    this.fired = true;
    return this.listener.apply(this.target, args);
  }
}

function onceWrap(target, type, listener) {
  var state = { fired: false, wrapFn: undefined, target: target, type: type, listener: listener };
  var wrapped = onceWrapper.bind(state);
  wrapped.listener = listener;
  state.wrapFn = wrapped;
  return wrapped;
}

EventEmitter.prototype.once = function once(type, listener) {
  checkListener(listener);
  this.on(type, onceWrap(this, type, listener));
  return this;
};
EventEmitter.prototype.prependOnceListener = function prependOnceListener(type, listener) {
  checkListener(listener);
  this.prependListener(type, onceWrap(this, type, listener));
  return this;
};

EventEmitter.prototype.removeListener = function removeListener(type, listener) {
  checkListener(listener);
  var events = this._events;
  if (events === undefined) return this;
  var list = events[type];
  if (list === undefined) return this;
  if (list === listener || list.listener === listener) {
    if (--this._eventsCount === 0) {
      this._events = Object.create(null);
    } else {
      delete events[type];
    }
    if (events.removeListener) this.emit('removeListener', type, list.listener || listener);
  } else if (typeof list !== 'function') {
    var position = -1;
    for (var i = list.length - 1; i >= 0; i--) {
      if (list[i] === listener || list[i].listener === listener) {
        position = i;
        break;
      }
    }
    if (position < 0) return this;
    var removed = list[position];
    list.splice(position, 1);
    if (list.length === 1) events[type] = list[0];
    if (events.removeListener !== undefined) this.emit('removeListener', type, removed.listener || listener);
  }
  return this;
};
EventEmitter.prototype.off = EventEmitter.prototype.removeListener;

EventEmitter.prototype.removeAllListeners = function removeAllListeners(type) {
  var events = this._events;
  if (events === undefined) return this;
  if (events.removeListener === undefined) {
    if (arguments.length === 0) {
      this._events = Object.create(null);
      this._eventsCount = 0;
    } else if (events[type] !== undefined) {
      if (--this._eventsCount === 0) this._events = Object.create(null);
      else delete events[type];
    }
    return this;
  }
  if (arguments.length === 0) {
    var keys = Reflect.ownKeys(events);
    for (var i = 0; i < keys.length; i++) {
      if (keys[i] === 'removeListener') continue;
      this.removeAllListeners(keys[i]);
    }
    this.removeAllListeners('removeListener');
    this._events = Object.create(null);
    this._eventsCount = 0;
    return this;
  }
  var listeners = events[type];
  if (typeof listeners === 'function') {
    this.removeListener(type, listeners);
  } else if (listeners !== undefined) {
    for (var j = listeners.length - 1; j >= 0; j--) this.removeListener(type, listeners[j]);
  }
  return this;
};

function listenersOf(target, type, unwrap) {
  var events = target._events;
  if (events === undefined) return [];
  var l = events[type];
  if (l === undefined) return [];
  if (typeof l === 'function') return unwrap ? [l.listener || l] : [l];
  return l.map(function (f) { return unwrap ? (f.listener || f) : f; });
}

EventEmitter.prototype.listeners = function listeners(type) { return listenersOf(this, type, true); };
EventEmitter.prototype.rawListeners = function rawListeners(type) { return listenersOf(this, type, false); };

function listenerCount(type) {
  var events = this._events;
  if (events !== undefined) {
    var l = events[type];
    if (typeof l === 'function') return 1;
    if (l !== undefined) return l.length;
  }
  return 0;
}
EventEmitter.prototype.listenerCount = listenerCount;
EventEmitter.listenerCount = function (emitter, type) {
  if (typeof emitter.listenerCount === 'function') return emitter.listenerCount(type);
  return listenerCount.call(emitter, type);
};

EventEmitter.prototype.eventNames = function eventNames() {
  return this._eventsCount > 0 ? Reflect.ownKeys(this._events) : [];
};

function once(emitter, name) {
  return new Promise(function (resolve, reject) {
    var errorListener;
    var resolver = function () {
      if (errorListener !== undefined) emitter.removeListener('error', errorListener);
      resolve(Array.prototype.slice.call(arguments));
    };
    if (name !== 'error') {
      errorListener = function (err) {
        emitter.removeListener(name, resolver);
        reject(err);
      };
      emitter.once('error', errorListener);
    }
    emitter.once(name, resolver);
  });
}

EventEmitter.once = once;
EventEmitter.EventEmitter = EventEmitter;
EventEmitter.usingDomains = false;
EventEmitter.captureRejectionSymbol = Symbol.for('nodejs.rejection');
EventEmitter.errorMonitor = Symbol('events.errorMonitor');
EventEmitter.getEventListeners = function (emitter, type) { return emitter.listeners(type); };
EventEmitter.setMaxListeners = function (n) {
  var targets = Array.prototype.slice.call(arguments, 1);
  if (targets.length === 0) EventEmitter.defaultMaxListeners = n;
  else targets.forEach(function (t) { t.setMaxListeners(n); });
};
void kCapture;

module.exports = EventEmitter;
