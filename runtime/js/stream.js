'use strict';
// Node's stream module: Readable (flowing and paused modes), Writable (buffering, cork, _writev, _final),
// Duplex, Transform, PassThrough, pipe, pipeline, finished. Written for this runtime from Node's documented
// behaviour; event order follows Node 20 for what packages rely on (data/readable/end/finish/close, drain).

var EE = require('events');
var Buffer = require('buffer').Buffer;
var StringDecoder = require('string_decoder').StringDecoder;

var DEFAULT_HWM = 16384;
var DEFAULT_OBJECT_HWM = 16;

function tick(fn, a, b, c) { process.nextTick(fn, a, b, c); }

function codeError(Ctor, code, msg) {
  var e = new Ctor(msg);
  e.code = code;
  return e;
}

function inherit(Ctor, Base) {
  Object.setPrototypeOf(Ctor.prototype, Base.prototype);
  Object.setPrototypeOf(Ctor, Base);
}

function hwmOf(opts, key, objectMode) {
  var v = opts && opts[key] != null ? opts[key] : opts && opts.highWaterMark != null ? opts.highWaterMark : null;
  if (v == null) return objectMode ? DEFAULT_OBJECT_HWM : DEFAULT_HWM;
  if (!(v >= 0)) throw codeError(TypeError, 'ERR_INVALID_ARG_VALUE', 'The value of "options.highWaterMark" is invalid');
  return Math.floor(v);
}

// ------------------------------------------------------------------ Stream (legacy base)

function Stream(opts) { EE.call(this, opts); }
inherit(Stream, EE);

// Legacy pipe for old-style streams (emit 'data' + 'end').
Stream.prototype.pipe = function (dest, options) {
  var source = this;
  function ondata(chunk) { if (dest.writable && dest.write(chunk) === false && source.pause) source.pause(); }
  function ondrain() { if (source.readable && source.resume) source.resume(); }
  source.on('data', ondata);
  dest.on('drain', ondrain);
  var ended = false;
  function onend() { if (ended) return; ended = true; dest.end(); }
  if (!dest._isStdio && (!options || options.end !== false)) source.on('end', onend);
  dest.emit('pipe', source);
  return dest;
};

// ------------------------------------------------------------------ destroy helpers

function destroyImpl(err, cb) {
  var r = this._readableState, w = this._writableState;
  var s = w || r;
  if (typeof err === 'function') { cb = err; err = null; }
  if (s.destroyed) {
    if (typeof cb === 'function') cb();
    return this;
  }
  if (err) {
    if (r && !r.errored) r.errored = err;
    if (w && !w.errored) w.errored = err;
  }
  if (r) r.destroyed = true;
  if (w) w.destroyed = true;
  var self = this;
  var called = false;
  function done(er) {
    if (called) return;
    called = true;
    if (er) {
      if (r && !r.errored) r.errored = er;
      if (w && !w.errored) w.errored = er;
    }
    if (r) r.closed = true;
    if (w) w.closed = true;
    if (typeof cb === 'function') cb(er);
    tick(function () {
      if (er && !(r && r.errorEmitted) && !(w && w.errorEmitted)) {
        if (r) r.errorEmitted = true;
        if (w) w.errorEmitted = true;
        self.emit('error', er);
      }
      if ((r ? r.emitClose : true) && (w ? w.emitClose : true)) {
        if (r) r.closeEmitted = true;
        if (w) w.closeEmitted = true;
        self.emit('close');
      }
    });
  }
  try {
    this._destroy(err || null, done);
  } catch (e) {
    done(e);
  }
  return this;
}

function errorOrDestroy(stream, err) {
  var r = stream._readableState, w = stream._writableState;
  if ((w && w.destroyed) || (r && r.destroyed)) return;
  if ((r && r.autoDestroy) || (w && w.autoDestroy)) stream.destroy(err);
  else if (err) {
    if (r) r.errored = err;
    if (w) w.errored = err;
    tick(function () { stream.emit('error', err); });
  }
}

// ------------------------------------------------------------------ Readable

// NO_OPTIONS stands for an absent options argument (never written to).
var NO_OPTIONS = {};

// ReadableState holds per-stream fields that differ from the defaults on its prototype: a state is built for
// every stream (one per HTTP request), and each own property costs the engine a map slot, so the common
// values live on ReadableState.prototype and an assignment shadows them.
function ReadableState(options, stream, isDuplex) {
  if (options === undefined || options === null) {
    // the common case (every HTTP request): every field has its default
    this.buffer = [];
    this.pipes = [];
    return;
  }
  var objectMode = !!(options.objectMode || (isDuplex && options.readableObjectMode));
  if (objectMode) this.objectMode = true;
  var hwm = hwmOf(options, isDuplex ? 'readableHighWaterMark' : 'highWaterMark', objectMode);
  if (hwm !== DEFAULT_HWM) this.highWaterMark = hwm;
  this.buffer = [];
  this.pipes = [];
  if (options.emitClose === false) this.emitClose = false;
  if (options.autoDestroy === false) this.autoDestroy = false;
  if (options.defaultEncoding) this.defaultEncoding = options.defaultEncoding;
  if (options.encoding) {
    this.decoder = new StringDecoder(options.encoding);
    this.encoding = options.encoding;
  }
}
(function (p) {
  p.objectMode = false;
  p.highWaterMark = DEFAULT_HWM;
  p.length = 0;
  p.flowing = null;
  p.ended = false;
  p.endEmitted = false;
  p.reading = false;
  p.constructed = true;
  p.sync = true;
  p.needReadable = false;
  p.emittedReadable = false;
  p.readableListening = false;
  p.resumeScheduled = false;
  p.errorEmitted = false;
  p.emitClose = true;
  p.autoDestroy = true;
  p.destroyed = false;
  p.errored = null;
  p.closed = false;
  p.closeEmitted = false;
  p.defaultEncoding = 'utf8';
  p.awaitDrainWriters = null;
  p.multiAwaitDrain = false;
  p.readingMore = false;
  p.dataEmitted = false;
  p.decoder = null;
  p.encoding = null;
  p.paused = null;
})(ReadableState.prototype);

function Readable(options) {
  if (!(this instanceof Readable)) return new Readable(options);
  var isDuplex = this instanceof Duplex;
  this._readableState = new ReadableState(options, this, isDuplex);
  if (options) {
    if (typeof options.read === 'function') this._read = options.read;
    if (typeof options.destroy === 'function') this._destroy = options.destroy;
    if (typeof options.construct === 'function') this._construct = options.construct;
  }
  Stream.call(this, options);
  if (typeof this._construct === 'function') constructStream(this);
}
inherit(Readable, Stream);

function constructStream(stream) {
  var r = stream._readableState, w = stream._writableState;
  if (r) r.constructed = false;
  if (w) w.constructed = false;
  tick(function () {
    stream._construct(function (err) {
      if (r) r.constructed = true;
      if (w) w.constructed = true;
      if (err) { stream.destroy(err); return; }
      if (r && (r.needReadable || r.flowing)) maybeReadMore(stream, r);
      if (w) { clearBuffer(stream, w); finishMaybe(stream, w); }
    });
  });
}

Readable.ReadableState = ReadableState;
Readable.prototype.destroy = destroyImpl;
Readable.prototype._undestroy = function () {
  var r = this._readableState;
  r.destroyed = r.closed = r.closeEmitted = r.ended = r.endEmitted = r.errorEmitted = false;
  r.errored = null;
};
Readable.prototype._destroy = function (err, cb) { cb(err); };
Readable.prototype._read = function () {
  throw codeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The _read() method is not implemented');
};

Readable.prototype.push = function (chunk, encoding) { return addChunk(this, chunk, encoding, false); };
Readable.prototype.unshift = function (chunk, encoding) { return addChunk(this, chunk, encoding, true); };

function addChunk(stream, chunk, encoding, front) {
  var state = stream._readableState;
  if (chunk === null) {
    state.reading = false;
    onEofChunk(stream, state);
    return false;
  }
  if (!state.objectMode) {
    if (typeof chunk === 'string') {
      encoding = encoding || state.defaultEncoding;
      if (state.encoding !== encoding) {
        chunk = Buffer.from(chunk, encoding);
        encoding = '';
      }
    } else if (chunk instanceof Uint8Array && !Buffer.isBuffer(chunk)) {
      chunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    } else if (!Buffer.isBuffer(chunk) && chunk !== undefined) {
      var te = codeError(TypeError, 'ERR_INVALID_ARG_TYPE',
        'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
      errorOrDestroy(stream, te);
      return false;
    }
  }
  if (chunk === undefined) return state.length < state.highWaterMark;
  if (front) {
    if (state.endEmitted) {
      errorOrDestroy(stream, codeError(Error, 'ERR_STREAM_UNSHIFT_AFTER_END_EVENT', 'stream.unshift() after end event'));
      return false;
    }
  } else {
    if (state.ended) {
      errorOrDestroy(stream, codeError(Error, 'ERR_STREAM_PUSH_AFTER_EOF', 'stream.push() after EOF'));
      return false;
    }
    if (state.destroyed || state.errored) return false;
    state.reading = false;
  }
  if (state.decoder && !encoding && !state.objectMode && typeof chunk !== 'string') {
    chunk = state.decoder.write(chunk);
    if (chunk.length === 0) { maybeReadMore(stream, state); return state.length < state.highWaterMark; }
  }
  if (!front && state.flowing && state.length === 0 && !state.sync && stream.listenerCount('data') > 0) {
    state.dataEmitted = true;
    stream.emit('data', chunk);
  } else {
    state.length += state.objectMode ? 1 : chunk.length;
    if (front) state.buffer.unshift(chunk);
    else state.buffer.push(chunk);
    if (state.needReadable) emitReadable(stream);
  }
  maybeReadMore(stream, state);
  return !state.ended && (state.length < state.highWaterMark || state.length === 0);
}

Readable.prototype.isPaused = function () {
  var s = this._readableState;
  return s.paused === true || s.flowing === false;
};

Readable.prototype.setEncoding = function (enc) {
  var state = this._readableState;
  var decoder = new StringDecoder(enc);
  state.decoder = decoder;
  state.encoding = decoder.encoding;
  var content = '';
  for (var i = 0; i < state.buffer.length; i++) content += decoder.write(state.buffer[i]);
  state.buffer = content ? [content] : [];
  state.length = content.length;
  return this;
};

function howMuchToRead(n, state) {
  if (n <= 0 || (state.length === 0 && state.ended)) return 0;
  if (state.objectMode) return 1;
  if (n !== n) {
    if (state.flowing && state.length) return state.buffer[0].length;
    return state.length;
  }
  if (n <= state.length) return n;
  return state.ended ? state.length : 0;
}

Readable.prototype.read = function (n) {
  if (n === undefined) n = NaN;
  else if (typeof n !== 'number') n = parseInt(n, 10);
  var state = this._readableState;
  var nOrig = n;
  if (n > state.highWaterMark) state.highWaterMark = computeHwm(n);
  if (n !== 0) state.emittedReadable = false;
  if (n === 0 && state.needReadable &&
      ((state.highWaterMark !== 0 ? state.length >= state.highWaterMark : state.length > 0) || state.ended)) {
    if (state.length === 0 && state.ended) endReadable(this);
    else emitReadable(this);
    return null;
  }
  n = howMuchToRead(n, state);
  if (n === 0 && state.ended) {
    if (state.length === 0) endReadable(this);
    return null;
  }
  var doRead = state.needReadable;
  if (state.length === 0 || state.length - n < state.highWaterMark) doRead = true;
  if (state.ended || state.reading || state.destroyed || state.errored || !state.constructed) doRead = false;
  else if (doRead) {
    state.reading = true;
    state.sync = true;
    if (state.length === 0) state.needReadable = true;
    try {
      this._read(state.highWaterMark);
    } catch (e) {
      errorOrDestroy(this, e);
    }
    state.sync = false;
    if (!state.reading) n = howMuchToRead(nOrig, state);
  }
  var ret = n > 0 ? fromList(n, state) : null;
  if (ret === null) {
    state.needReadable = state.length <= state.highWaterMark;
    n = 0;
  } else {
    state.length -= n;
    state.awaitDrainWriters = null;
  }
  if (state.length === 0) {
    if (!state.ended) state.needReadable = true;
    if (nOrig !== n && state.ended) endReadable(this);
  }
  if (ret !== null && !state.errorEmitted && !state.closeEmitted) {
    state.dataEmitted = true;
    this.emit('data', ret);
  }
  return ret;
};

function computeHwm(n) {
  if (n >= 0x40000000) return 0x40000000;
  n--;
  n |= n >>> 1; n |= n >>> 2; n |= n >>> 4; n |= n >>> 8; n |= n >>> 16;
  return n + 1;
}

function fromList(n, state) {
  if (state.length === 0) return null;
  var buf = state.buffer;
  var ret;
  if (state.objectMode) return buf.shift();
  if (!n || n >= state.length) {
    if (state.decoder) ret = buf.join('');
    else if (buf.length === 1) ret = buf[0];
    else ret = Buffer.concat(buf, state.length);
    state.buffer = [];
    return ret;
  }
  if (n < buf[0].length) {
    ret = buf[0].slice(0, n);
    buf[0] = buf[0].slice(n);
    return ret;
  }
  if (n === buf[0].length) return buf.shift();
  if (state.decoder) {
    ret = '';
    while (ret.length < n) {
      var s = buf[0];
      var need = n - ret.length;
      if (s.length <= need) { ret += s; buf.shift(); } else { ret += s.slice(0, need); buf[0] = s.slice(need); }
    }
    return ret;
  }
  ret = Buffer.allocUnsafe(n);
  var off = 0;
  while (off < n) {
    var b = buf[0];
    var take = Math.min(b.length, n - off);
    b.copy(ret, off, 0, take);
    off += take;
    if (take === b.length) buf.shift();
    else buf[0] = b.slice(take);
  }
  return ret;
}

function onEofChunk(stream, state) {
  if (state.ended) return;
  if (state.decoder) {
    var rest = state.decoder.end();
    if (rest && rest.length) {
      state.buffer.push(rest);
      state.length += state.objectMode ? 1 : rest.length;
    }
  }
  state.ended = true;
  if (state.sync) {
    emitReadable(stream);
  } else {
    state.needReadable = false;
    state.emittedReadable = true;
    emitReadable_(stream);
  }
}

function emitReadable(stream) {
  var state = stream._readableState;
  state.needReadable = false;
  if (!state.emittedReadable) {
    state.emittedReadable = true;
    tick(emitReadable_, stream);
  }
}

function emitReadable_(stream) {
  var state = stream._readableState;
  if (!state.destroyed && !state.errored && (state.length || state.ended)) {
    stream.emit('readable');
    state.emittedReadable = false;
  }
  state.needReadable = !state.flowing && !state.ended && state.length <= state.highWaterMark;
  flow(stream);
}

function maybeReadMore(stream, state) {
  if (!state.readingMore && state.constructed) {
    state.readingMore = true;
    tick(maybeReadMore_, stream, state);
  }
}

function maybeReadMore_(stream, state) {
  while (!state.reading && !state.ended &&
         (state.length < state.highWaterMark || (state.flowing && state.length === 0))) {
    var len = state.length;
    stream.read(0);
    if (len === state.length) break;
  }
  state.readingMore = false;
}

Readable.prototype.on = function (ev, fn) {
  var res = Stream.prototype.on.call(this, ev, fn);
  var state = this._readableState;
  if (ev === 'data') {
    state.readableListening = this.listenerCount('readable') > 0;
    if (state.flowing !== false) this.resume();
  } else if (ev === 'readable') {
    if (!state.endEmitted && !state.readableListening) {
      state.readableListening = state.needReadable = true;
      state.flowing = false;
      state.emittedReadable = false;
      if (state.length) emitReadable(this);
      else if (!state.reading) tick(function (s) { s.read(0); }, this);
    }
  }
  return res;
};
Readable.prototype.addListener = Readable.prototype.on;

Readable.prototype.removeListener = function (ev, fn) {
  var res = Stream.prototype.removeListener.call(this, ev, fn);
  if (ev === 'readable') tick(updateReadableListening, this);
  return res;
};
Readable.prototype.off = Readable.prototype.removeListener;

Readable.prototype.removeAllListeners = function (ev) {
  var res = Stream.prototype.removeAllListeners.apply(this, arguments);
  if (ev === 'readable' || ev === undefined) tick(updateReadableListening, this);
  return res;
};

function updateReadableListening(self) {
  var state = self._readableState;
  state.readableListening = self.listenerCount('readable') > 0;
  if (state.resumeScheduled && state.paused === false) state.flowing = true;
  else if (self.listenerCount('data') > 0) self.resume();
  else if (!state.readableListening) state.flowing = null;
}

Readable.prototype.resume = function () {
  var state = this._readableState;
  if (!state.flowing) {
    state.flowing = !state.readableListening;
    if (!state.resumeScheduled) {
      state.resumeScheduled = true;
      tick(resume_, this, state);
    }
  }
  state.paused = false;
  return this;
};

function resume_(stream, state) {
  if (!state.reading) stream.read(0);
  state.resumeScheduled = false;
  stream.emit('resume');
  flow(stream);
  if (state.flowing && !state.reading) stream.read(0);
}

Readable.prototype.pause = function () {
  var state = this._readableState;
  if (state.flowing !== false) {
    state.flowing = false;
    this.emit('pause');
  }
  state.paused = true;
  return this;
};

function flow(stream) {
  var state = stream._readableState;
  while (state.flowing && stream.read() !== null);
}

function endReadable(stream) {
  var state = stream._readableState;
  if (!state.endEmitted) {
    state.ended = true;
    tick(endReadableNT, state, stream);
  }
}

function endReadableNT(state, stream) {
  if (!state.errored && !state.closeEmitted && !state.endEmitted && state.length === 0) {
    state.endEmitted = true;
    stream.emit('end');
    if (state.autoDestroy) {
      var w = stream._writableState;
      var autoDestroy = !w || (w.autoDestroy && (w.finished || w.writable === false));
      if (autoDestroy) stream.destroy();
    }
  }
}

Readable.prototype.pipe = function (dest, pipeOpts) {
  var src = this;
  var state = this._readableState;
  state.pipes.push(dest);
  var doEnd = (!pipeOpts || pipeOpts.end !== false) && dest !== process.stdout && dest !== process.stderr;
  var endFn = doEnd ? onend : unpipe;
  if (state.endEmitted) tick(endFn);
  else src.once('end', endFn);
  dest.on('unpipe', onunpipe);
  function onunpipe(readable, info) {
    if (readable === src && info && info.hasUnpiped === false) {
      info.hasUnpiped = true;
      cleanup();
    }
  }
  function onend() { dest.end(); }
  var ondrain;
  var cleanedUp = false;
  function cleanup() {
    dest.removeListener('close', onclose);
    dest.removeListener('finish', onfinish);
    if (ondrain) dest.removeListener('drain', ondrain);
    dest.removeListener('error', onerror);
    dest.removeListener('unpipe', onunpipe);
    src.removeListener('end', onend);
    src.removeListener('end', unpipe);
    src.removeListener('data', ondata);
    cleanedUp = true;
    if (ondrain && state.awaitDrainWriters && (!dest._writableState || dest._writableState.needDrain)) ondrain();
  }
  function pause() {
    if (!cleanedUp) {
      if (state.pipes.length === 1 && state.pipes[0] === dest) {
        state.awaitDrainWriters = dest;
        state.multiAwaitDrain = false;
      } else if (state.pipes.length > 1 && state.pipes.indexOf(dest) !== -1) {
        if (!state.awaitDrainWriters || !state.multiAwaitDrain) state.awaitDrainWriters = new Set();
        state.multiAwaitDrain = true;
        state.awaitDrainWriters.add(dest);
      }
      src.pause();
    }
    if (!ondrain) {
      ondrain = pipeOnDrain(src, dest);
      dest.on('drain', ondrain);
    }
  }
  src.on('data', ondata);
  function ondata(chunk) {
    var ret = dest.write(chunk);
    if (ret === false) pause();
  }
  function onerror(er) {
    unpipe();
    dest.removeListener('error', onerror);
    if (dest.listenerCount('error') === 0) {
      var s = dest._writableState || dest._readableState;
      if (s && !s.errorEmitted) errorOrDestroy(dest, er);
      else dest.emit('error', er);
    }
  }
  dest.prependListener('error', onerror);
  function onclose() { dest.removeListener('finish', onfinish); unpipe(); }
  dest.once('close', onclose);
  function onfinish() { dest.removeListener('close', onclose); unpipe(); }
  dest.once('finish', onfinish);
  function unpipe() { src.unpipe(dest); }
  dest.emit('pipe', src);
  if (dest.writableNeedDrain === true) {
    if (state.flowing) pause();
  } else if (!state.flowing) {
    src.resume();
  }
  return dest;
};

function pipeOnDrain(src, dest) {
  return function () {
    var state = src._readableState;
    if (state.awaitDrainWriters === dest) state.awaitDrainWriters = null;
    else if (state.multiAwaitDrain && state.awaitDrainWriters) state.awaitDrainWriters.delete(dest);
    if ((!state.awaitDrainWriters || state.awaitDrainWriters.size === 0) && src.listenerCount('data')) {
      state.awaitDrainWriters = null;
      src.resume();
    }
  };
}

Readable.prototype.unpipe = function (dest) {
  var state = this._readableState;
  if (state.pipes.length === 0) return this;
  var info = { hasUnpiped: false };
  if (!dest) {
    var dests = state.pipes;
    state.pipes = [];
    this.pause();
    for (var i = 0; i < dests.length; i++) dests[i].emit('unpipe', this, { hasUnpiped: false });
    return this;
  }
  var index = state.pipes.indexOf(dest);
  if (index === -1) return this;
  state.pipes.splice(index, 1);
  if (state.pipes.length === 0) this.pause();
  dest.emit('unpipe', this, info);
  return this;
};

Readable.prototype.wrap = function (stream) {
  var paused = false;
  var self = this;
  stream.on('data', function (chunk) {
    if (!self.push(chunk) && stream.pause) { paused = true; stream.pause(); }
  });
  stream.on('end', function () { self.push(null); });
  stream.on('error', function (err) { errorOrDestroy(self, err); });
  stream.on('close', function () { self.destroy(); });
  this._read = function () { if (paused && stream.resume) { paused = false; stream.resume(); } };
  return this;
};

Readable.prototype[Symbol.asyncIterator] = function () {
  var stream = this;
  var queue = [];
  var waiting = null;
  var done = false;
  var error = null;
  function settle() {
    if (!waiting) return;
    var w = waiting;
    if (error) { waiting = null; w.reject(error); return; }
    var chunk = stream.read();
    if (chunk !== null) { waiting = null; w.resolve({ value: chunk, done: false }); return; }
    if (done) { waiting = null; w.resolve({ value: undefined, done: true }); }
  }
  stream.on('readable', settle);
  stream.on('end', function () { done = true; settle(); });
  stream.on('error', function (e) { error = e; settle(); });
  stream.on('close', function () { done = true; settle(); });
  void queue;
  return {
    next: function () {
      return new Promise(function (resolve, reject) {
        waiting = { resolve: resolve, reject: reject };
        settle();
      });
    },
    return: function () {
      stream.destroy();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]: function () { return this; }
  };
};

Readable.from = function (iterable, opts) {
  if (typeof iterable === 'string' || Buffer.isBuffer(iterable)) {
    return new Readable(Object.assign({ objectMode: true }, opts, {
      read: function () { this.push(iterable); this.push(null); }
    }));
  }
  var it;
  var isAsync = false;
  if (iterable && typeof iterable[Symbol.asyncIterator] === 'function') { it = iterable[Symbol.asyncIterator](); isAsync = true; }
  else if (iterable && typeof iterable[Symbol.iterator] === 'function') it = iterable[Symbol.iterator]();
  else throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "iterable" argument must be an instance of Iterable');
  var reading = false;
  var r = new Readable(Object.assign({ objectMode: true, highWaterMark: 1 }, opts));
  r._read = function () {
    if (reading) return;
    reading = true;
    (function next() {
      var res;
      try { res = it.next(); } catch (e) { r.destroy(e); return; }
      Promise.resolve(res).then(function (step) {
        if (step.done) { r.push(null); return; }
        Promise.resolve(step.value).then(function (v) {
          if (v === null) { r.destroy(codeError(TypeError, 'ERR_STREAM_NULL_VALUES', 'May not write null values to stream')); return; }
          if (r.push(v)) next(); else reading = false;
        }, function (e) { r.destroy(e); });
      }, function (e) { r.destroy(e); });
    })();
  };
  void isAsync;
  return r;
};

function defineGetters(proto, map) {
  Object.keys(map).forEach(function (k) {
    var d = map[k];
    Object.defineProperty(proto, k, typeof d === 'function'
      ? { get: d, configurable: true, enumerable: false }
      : Object.assign({ configurable: true, enumerable: false }, d));
  });
}

defineGetters(Readable.prototype, {
  readable: {
    get: function () {
      var r = this._readableState;
      return !!r && r.readable !== false && !r.destroyed && !r.errorEmitted && !r.endEmitted;
    },
    set: function (v) { if (this._readableState) this._readableState.readable = !!v; }
  },
  readableDidRead: function () { return this._readableState.dataEmitted; },
  readableAborted: function () {
    var r = this._readableState;
    return !!(r.destroyed || r.errored) && !r.endEmitted;
  },
  readableHighWaterMark: function () { return this._readableState.highWaterMark; },
  readableBuffer: function () { return this._readableState && this._readableState.buffer; },
  readableFlowing: {
    get: function () { return this._readableState.flowing; },
    set: function (v) { if (this._readableState) this._readableState.flowing = v; }
  },
  readableLength: function () { return this._readableState.length; },
  readableObjectMode: function () { return this._readableState ? this._readableState.objectMode : false; },
  readableEncoding: function () { return this._readableState ? this._readableState.encoding : null; },
  readableEnded: function () { return this._readableState ? this._readableState.endEmitted : false; },
  errored: function () { var s = this._readableState || this._writableState; return s ? s.errored : null; },
  closed: function () { var s = this._readableState || this._writableState; return s ? s.closed : false; },
  destroyed: {
    get: function () { var s = this._readableState || this._writableState; return s ? s.destroyed : false; },
    set: function (v) {
      if (this._readableState) this._readableState.destroyed = v;
      if (this._writableState) this._writableState.destroyed = v;
    }
  }
});

// ------------------------------------------------------------------ Writable

// WritableState keeps its defaults on the prototype like ReadableState.
function WritableState(options, stream, isDuplex) {
  options = options || NO_OPTIONS;
  var objectMode = !!(options.objectMode || (isDuplex && options.writableObjectMode));
  if (objectMode) this.objectMode = true;
  var hwm = hwmOf(options, isDuplex ? 'writableHighWaterMark' : 'highWaterMark', objectMode);
  if (hwm !== DEFAULT_HWM) this.highWaterMark = hwm;
  if (options.decodeStrings === false) this.decodeStrings = false;
  if (options.defaultEncoding) this.defaultEncoding = options.defaultEncoding;
  this.buffered = [];
  if (options.emitClose === false) this.emitClose = false;
  if (options.autoDestroy === false) this.autoDestroy = false;
  var self = this;
  this.onwrite = function (er) { onwrite(stream, self, er); };
}
(function (p) {
  p.objectMode = false;
  p.highWaterMark = DEFAULT_HWM;
  p.finalCalled = false;
  p.needDrain = false;
  p.ending = false;
  p.ended = false;
  p.finished = false;
  p.destroyed = false;
  p.decodeStrings = true;
  p.defaultEncoding = 'utf8';
  p.length = 0;
  p.writing = false;
  p.corked = 0;
  p.sync = true;
  p.bufferProcessing = false;
  p.writecb = null;
  p.writelen = 0;
  p.pendingcb = 0;
  p.constructed = true;
  p.prefinished = false;
  p.errorEmitted = false;
  p.emitClose = true;
  p.autoDestroy = true;
  p.errored = null;
  p.closed = false;
  p.closeEmitted = false;
  p.afterWriteTickInfo = null;
})(WritableState.prototype);

function Writable(options) {
  var isDuplex = this instanceof Duplex;
  if (!isDuplex && !(this instanceof Writable)) return new Writable(options);
  this._writableState = new WritableState(options, this, isDuplex);
  if (options) {
    if (typeof options.write === 'function') this._write = options.write;
    if (typeof options.writev === 'function') this._writev = options.writev;
    if (typeof options.destroy === 'function') this._destroy = options.destroy;
    if (typeof options.final === 'function') this._final = options.final;
    if (typeof options.construct === 'function') this._construct = options.construct;
  }
  Stream.call(this, options);
  if (!isDuplex && typeof this._construct === 'function') constructStream(this);
}
inherit(Writable, Stream);
Writable.WritableState = WritableState;

Object.defineProperty(Writable, Symbol.hasInstance, {
  value: function (obj) {
    if (Function.prototype[Symbol.hasInstance].call(this, obj)) return true;
    if (this !== Writable) return false;
    return !!(obj && obj._writableState instanceof WritableState);
  }
});

Writable.prototype.destroy = destroyImpl;
Writable.prototype._undestroy = function () {
  var w = this._writableState;
  w.destroyed = w.closed = w.closeEmitted = w.ended = w.ending = w.finished = w.errorEmitted = false;
  w.errored = null;
};
Writable.prototype._destroy = function (err, cb) { cb(err); };
Writable.prototype._write = function (chunk, encoding, cb) {
  if (this._writev) this._writev([{ chunk: chunk, encoding: encoding }], cb);
  else throw codeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The _write() method is not implemented');
};
Writable.prototype._writev = null;

Writable.prototype.write = function (chunk, encoding, cb) {
  var state = this._writableState;
  if (typeof encoding === 'function') { cb = encoding; encoding = state.defaultEncoding; }
  else {
    if (!encoding) encoding = state.defaultEncoding;
    else if (encoding !== 'buffer' && !Buffer.isEncoding(encoding)) {
      throw codeError(TypeError, 'ERR_UNKNOWN_ENCODING', 'Unknown encoding: ' + encoding);
    }
    if (typeof cb !== 'function') cb = nop;
  }
  if (typeof cb !== 'function') cb = nop;
  if (chunk === null) throw codeError(TypeError, 'ERR_STREAM_NULL_VALUES', 'May not write null values to stream');
  if (!state.objectMode) {
    if (typeof chunk === 'string') {
      if (state.decodeStrings !== false) { chunk = Buffer.from(chunk, encoding); encoding = 'buffer'; }
    } else if (Buffer.isBuffer(chunk)) {
      encoding = 'buffer';
    } else if (chunk instanceof Uint8Array) {
      chunk = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      encoding = 'buffer';
    } else {
      throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE',
        'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
    }
  }
  var err;
  if (state.ending) err = codeError(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
  else if (state.destroyed) err = codeError(Error, 'ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed');
  if (err) {
    tick(cb, err);
    errorOrDestroy(this, err);
    return false;
  }
  state.pendingcb++;
  return writeOrBuffer(this, state, chunk, encoding, cb);
};

function nop() {}

function writeOrBuffer(stream, state, chunk, encoding, cb) {
  var len = state.objectMode ? 1 : chunk.length;
  state.length += len;
  var ret = state.length < state.highWaterMark;
  if (!ret) state.needDrain = true;
  if (state.writing || state.corked || state.errored || !state.constructed) {
    state.buffered.push({ chunk: chunk, encoding: encoding, callback: cb });
  } else {
    state.writelen = len;
    state.writecb = cb;
    state.writing = true;
    state.sync = true;
    stream._write(chunk, encoding, state.onwrite);
    state.sync = false;
  }
  return ret && !state.errored && !state.destroyed;
}

function doWrite(stream, state, writev, len, chunk, encoding, cb) {
  state.writelen = len;
  state.writecb = cb;
  state.writing = true;
  state.sync = true;
  if (state.destroyed) state.onwrite(codeError(Error, 'ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed'));
  else if (writev) stream._writev(chunk, state.onwrite);
  else stream._write(chunk, encoding, state.onwrite);
  state.sync = false;
}

function onwrite(stream, state, er) {
  var sync = state.sync;
  var cb = state.writecb;
  if (typeof cb !== 'function') {
    errorOrDestroy(stream, codeError(Error, 'ERR_MULTIPLE_CALLBACK', 'Callback called multiple times'));
    return;
  }
  state.writing = false;
  state.writecb = null;
  state.length -= state.writelen;
  state.writelen = 0;
  if (er) {
    if (!state.errored) state.errored = er;
    if (sync) tick(onwriteError, stream, state, er, cb);
    else onwriteError(stream, state, er, cb);
    return;
  }
  if (state.buffered.length > 0) clearBuffer(stream, state);
  if (sync) {
    if (state.afterWriteTickInfo !== null && state.afterWriteTickInfo.cb === cb) {
      state.afterWriteTickInfo.count++;
    } else {
      state.afterWriteTickInfo = { count: 1, cb: cb, stream: stream, state: state };
      tick(afterWriteTick, state.afterWriteTickInfo);
    }
  } else {
    afterWrite(stream, state, 1, cb);
  }
}

function onwriteError(stream, state, er, cb) {
  --state.pendingcb;
  cb(er);
  errorBuffer(state);
  errorOrDestroy(stream, er);
}

function afterWriteTick(info) {
  info.state.afterWriteTickInfo = null;
  afterWrite(info.stream, info.state, info.count, info.cb);
}

function afterWrite(stream, state, count, cb) {
  var needDrain = !state.ending && !stream.destroyed && state.length === 0 && state.needDrain;
  if (needDrain) {
    state.needDrain = false;
    stream.emit('drain');
  }
  while (count-- > 0) {
    state.pendingcb--;
    cb();
  }
  if (state.destroyed) errorBuffer(state);
  finishMaybe(stream, state);
}

function errorBuffer(state) {
  if (state.writing) return;
  var items = state.buffered;
  state.buffered = [];
  for (var i = 0; i < items.length; i++) {
    var len = state.objectMode ? 1 : items[i].chunk.length;
    state.length -= len;
    state.pendingcb--;
    items[i].callback(state.errored || codeError(Error, 'ERR_STREAM_DESTROYED', 'Cannot call write after a stream was destroyed'));
  }
}

function clearBuffer(stream, state) {
  if (state.corked || state.bufferProcessing || state.destroyed || !state.constructed) return;
  var buffered = state.buffered;
  if (!buffered.length) return;
  state.bufferProcessing = true;
  if (buffered.length > 1 && stream._writev) {
    state.pendingcb -= buffered.length - 1;
    var callbacks = buffered.map(function (b) { return b.callback; });
    var chunks = buffered.map(function (b) { return { chunk: b.chunk, encoding: b.encoding }; });
    var total = state.objectMode ? buffered.length : buffered.reduce(function (n, b) { return n + b.chunk.length; }, 0);
    state.buffered = [];
    doWrite(stream, state, true, total, chunks, '', function (err) {
      for (var i = 0; i < callbacks.length; i++) callbacks[i](err);
    });
  } else {
    while (state.buffered.length && !state.writing) {
      var b = state.buffered.shift();
      var len = state.objectMode ? 1 : b.chunk.length;
      doWrite(stream, state, false, len, b.chunk, b.encoding, b.callback);
    }
  }
  state.bufferProcessing = false;
}

Writable.prototype.cork = function () { this._writableState.corked++; };
Writable.prototype.uncork = function () {
  var state = this._writableState;
  if (state.corked) {
    state.corked--;
    if (!state.writing) clearBuffer(this, state);
  }
};
Writable.prototype.setDefaultEncoding = function (enc) {
  if (typeof enc === 'string') enc = enc.toLowerCase();
  if (!Buffer.isEncoding(enc)) throw codeError(TypeError, 'ERR_UNKNOWN_ENCODING', 'Unknown encoding: ' + enc);
  this._writableState.defaultEncoding = enc;
  return this;
};

Writable.prototype.end = function (chunk, encoding, cb) {
  var state = this._writableState;
  if (typeof chunk === 'function') { cb = chunk; chunk = null; encoding = null; }
  else if (typeof encoding === 'function') { cb = encoding; encoding = null; }
  var err;
  if (chunk !== null && chunk !== undefined) {
    var ret = this.write(chunk, encoding);
    void ret;
  }
  if (state.corked) { state.corked = 1; this.uncork(); }
  if (state.errored) err = state.errored;
  else if (!state.ending) {
    state.ending = true;
    finishMaybe(this, state, true);
    state.ended = true;
  } else if (state.finished) err = codeError(Error, 'ERR_STREAM_ALREADY_FINISHED', 'Cannot call end after a stream was finished');
  else if (state.destroyed) err = codeError(Error, 'ERR_STREAM_DESTROYED', 'Cannot call end after a stream was destroyed');
  if (typeof cb === 'function') {
    if (err || state.finished) tick(cb, err);
    else {
      var self = this;
      var onfinish = function () { self.removeListener('error', onerr); cb(); };
      var onerr = function (e) { self.removeListener('finish', onfinish); cb(e); };
      this.once('finish', onfinish);
      this.once('error', onerr);
    }
  }
  return this;
};

function needFinish(state) {
  return state.ending && !state.destroyed && state.constructed && state.length === 0 && !state.errored &&
    state.buffered.length === 0 && !state.finished && !state.writing && !state.errorEmitted && !state.closeEmitted;
}

function callFinal(stream, state) {
  var called = false;
  function onFinish(err) {
    if (called) {
      errorOrDestroy(stream, codeError(Error, 'ERR_MULTIPLE_CALLBACK', 'Callback called multiple times'));
      return;
    }
    called = true;
    state.pendingcb--;
    if (err) {
      errorOrDestroy(stream, err);
    } else if (needFinish(state)) {
      state.prefinished = true;
      stream.emit('prefinish');
      state.pendingcb++;
      tick(finish, stream, state);
    }
  }
  state.sync = true;
  state.pendingcb++;
  try { stream._final(onFinish); } catch (e) { onFinish(e); }
  state.sync = false;
}

function prefinish(stream, state) {
  if (!state.prefinished && !state.finalCalled) {
    if (typeof stream._final === 'function' && !state.destroyed) {
      state.finalCalled = true;
      callFinal(stream, state);
    } else {
      state.prefinished = true;
      stream.emit('prefinish');
    }
  }
}

function finishMaybe(stream, state, sync) {
  if (needFinish(state)) {
    prefinish(stream, state);
    if (state.pendingcb === 0) {
      if (sync) {
        state.pendingcb++;
        tick(function () {
          if (needFinish(state)) finish(stream, state);
          else state.pendingcb--;
        });
      } else if (needFinish(state)) {
        state.pendingcb++;
        finish(stream, state);
      }
    }
  }
}

function finish(stream, state) {
  state.pendingcb--;
  state.finished = true;
  stream.emit('finish');
  if (state.autoDestroy) {
    var r = stream._readableState;
    var autoDestroy = !r || (r.autoDestroy && (r.endEmitted || r.readable === false));
    if (autoDestroy) stream.destroy();
  }
}

defineGetters(Writable.prototype, {
  closed: function () { return this._writableState ? this._writableState.closed : false; },
  destroyed: {
    get: function () { return this._writableState ? this._writableState.destroyed : false; },
    set: function (v) { if (this._writableState) this._writableState.destroyed = v; }
  },
  writable: {
    get: function () {
      var w = this._writableState;
      return !!w && w.writable !== false && !w.destroyed && !w.errored && !w.ending && !w.ended;
    },
    set: function (v) { if (this._writableState) this._writableState.writable = !!v; }
  },
  writableFinished: function () { return this._writableState ? this._writableState.finished : false; },
  writableObjectMode: function () { return this._writableState ? this._writableState.objectMode : false; },
  writableBuffer: function () { return this._writableState && this._writableState.buffered; },
  writableEnded: function () { return this._writableState ? this._writableState.ending : false; },
  writableNeedDrain: function () {
    var w = this._writableState;
    return w ? !w.destroyed && !w.ending && w.needDrain : false;
  },
  writableHighWaterMark: function () { return this._writableState && this._writableState.highWaterMark; },
  writableCorked: function () { return this._writableState ? this._writableState.corked : 0; },
  writableLength: function () { return this._writableState && this._writableState.length; },
  errored: function () { return this._writableState ? this._writableState.errored : null; }
});

// ------------------------------------------------------------------ Duplex / Transform / PassThrough

function Duplex(options) {
  if (!(this instanceof Duplex)) return new Duplex(options);
  Readable.call(this, options);
  this._writableState = new WritableState(options, this, true);
  if (options) {
    if (typeof options.write === 'function') this._write = options.write;
    if (typeof options.writev === 'function') this._writev = options.writev;
    if (typeof options.final === 'function') this._final = options.final;
    this.allowHalfOpen = options.allowHalfOpen !== false;
    if (options.readable === false) {
      this._readableState.readable = false;
      this._readableState.ended = true;
      this._readableState.endEmitted = true;
    }
    if (options.writable === false) {
      this._writableState.writable = false;
      this._writableState.ending = true;
      this._writableState.ended = true;
      this._writableState.finished = true;
    }
  } else {
    this.allowHalfOpen = true;
  }
}
inherit(Duplex, Readable);
['write', 'end', 'cork', 'uncork', 'setDefaultEncoding', '_write'].forEach(function (m) {
  if (!Object.prototype.hasOwnProperty.call(Duplex.prototype, m)) Duplex.prototype[m] = Writable.prototype[m];
});
Duplex.prototype._writev = null;
Duplex.prototype.destroy = destroyImpl;
(function () {
  var names = ['writable', 'writableFinished', 'writableObjectMode', 'writableBuffer', 'writableEnded',
    'writableNeedDrain', 'writableHighWaterMark', 'writableCorked', 'writableLength'];
  names.forEach(function (n) {
    Object.defineProperty(Duplex.prototype, n, Object.getOwnPropertyDescriptor(Writable.prototype, n));
  });
  Object.defineProperty(Duplex.prototype, 'destroyed', {
    configurable: true,
    get: function () {
      if (!this._readableState || !this._writableState) return false;
      return this._readableState.destroyed && this._writableState.destroyed;
    },
    set: function (v) {
      if (this._readableState) this._readableState.destroyed = v;
      if (this._writableState) this._writableState.destroyed = v;
    }
  });
})();

function Transform(options) {
  if (!(this instanceof Transform)) return new Transform(options);
  var hwm = options ? (options.readableHighWaterMark != null ? options.readableHighWaterMark : null) : null;
  if (hwm === 0) {
    options = Object.assign({}, options, { readableHighWaterMark: null, highWaterMark: null });
    void options;
  }
  Duplex.call(this, options);
  this._readableState.sync = false;
  this._transformCallback = null;
  if (options) {
    if (typeof options.transform === 'function') this._transform = options.transform;
    if (typeof options.flush === 'function') this._flush = options.flush;
  }
  this.on('prefinish', transformPrefinish);
}
inherit(Transform, Duplex);

function transformFinal(cb) {
  var self = this;
  if (typeof this._flush === 'function' && !this.destroyed) {
    this._flush(function (er, data) {
      if (er) { if (cb) cb(er); else self.destroy(er); return; }
      if (data != null) self.push(data);
      self.push(null);
      if (cb) cb();
    });
  } else {
    this.push(null);
    if (cb) cb();
  }
}

function transformPrefinish() { if (this._final !== transformFinal) transformFinal.call(this); }
Transform.prototype._final = transformFinal;

Transform.prototype._transform = function () {
  throw codeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The _transform() method is not implemented');
};

Transform.prototype._write = function (chunk, encoding, callback) {
  var rState = this._readableState;
  var wState = this._writableState;
  var length = rState.length;
  var self = this;
  this._transform(chunk, encoding, function (err, val) {
    if (err) { callback(err); return; }
    if (val != null) self.push(val);
    if (wState.ended || length === rState.length || rState.length < rState.highWaterMark) callback();
    else self._transformCallback = callback;
  });
};

Transform.prototype._read = function () {
  if (this._transformCallback) {
    var cb = this._transformCallback;
    this._transformCallback = null;
    cb();
  }
};

function PassThrough(options) {
  if (!(this instanceof PassThrough)) return new PassThrough(options);
  Transform.call(this, options);
}
inherit(PassThrough, Transform);
PassThrough.prototype._transform = function (chunk, enc, cb) { cb(null, chunk); };

// ------------------------------------------------------------------ finished / pipeline

function isReadableStream(s) { return s && typeof s.pipe === 'function' && typeof s.on === 'function' && (!s._writableState || (s._readableState && s._readableState.readable !== false)); }
function isWritableStream(s) { return s && typeof s.write === 'function' && typeof s.on === 'function'; }

function finished(stream, opts, callback) {
  if (typeof opts === 'function') { callback = opts; opts = {}; }
  opts = opts || {};
  var called = false;
  function cb(err) {
    if (called) return;
    called = true;
    callback.call(stream, err);
  }
  var rs = stream._readableState;
  var ws = stream._writableState;
  var readable = opts.readable !== undefined ? opts.readable : (rs ? rs.readable !== false : isReadableStream(stream) && !ws);
  var writable = opts.writable !== undefined ? opts.writable : (ws ? ws.writable !== false : isWritableStream(stream) && !rs);
  var readableFinished = rs ? rs.endEmitted : false;
  var writableFinished = ws ? ws.finished : false;
  // Plain (non-stream-state) objects such as http.ServerResponse finish on 'finish' and/or 'close'.
  if (!rs && !ws) { readable = false; writable = isWritableStream(stream); }
  function onfinish() { writableFinished = true; if (!readable || readableFinished) cb(); }
  function onend() { readableFinished = true; if (!writable || writableFinished) cb(); }
  function onerror(err) { cb(err); }
  function onclose() {
    if (readable && !readableFinished && !(rs && rs.endEmitted)) {
      cb(codeError(Error, 'ERR_STREAM_PREMATURE_CLOSE', 'Premature close'));
      return;
    }
    if (writable && !writableFinished && !(ws && ws.finished) && !(stream.finished === true || stream.writableFinished === true)) {
      cb(codeError(Error, 'ERR_STREAM_PREMATURE_CLOSE', 'Premature close'));
      return;
    }
    cb();
  }
  stream.on('end', onend);
  stream.on('finish', onfinish);
  if (opts.error !== false) stream.on('error', onerror);
  stream.on('close', onclose);
  var state = rs || ws;
  if (state && state.closed) tick(onclose);
  else if ((!readable || readableFinished) && (!writable || writableFinished) && (rs || ws)) tick(cb);
  else if (state && state.errored) tick(onerror, state.errored);
  return function cleanup() {
    stream.removeListener('end', onend);
    stream.removeListener('finish', onfinish);
    stream.removeListener('error', onerror);
    stream.removeListener('close', onclose);
  };
}

function pipeline() {
  var streams = Array.prototype.slice.call(arguments);
  var callback = typeof streams[streams.length - 1] === 'function' ? streams.pop() : null;
  if (streams.length === 1 && Array.isArray(streams[0])) streams = streams[0];
  if (streams.length < 2) throw codeError(TypeError, 'ERR_MISSING_ARGS', 'The "streams" argument must be specified');
  var error = null;
  var pending = streams.length;
  var done = false;
  function finish(err) {
    if (err && !error) {
      error = err;
      streams.forEach(function (s) { if (typeof s.destroy === 'function' && !s.destroyed) s.destroy(err); });
    }
    if (--pending === 0 || err) {
      if (done) return;
      if (err || pending === 0) {
        done = true;
        if (callback) tick(callback, error);
      }
    }
  }
  streams.forEach(function (s, i) {
    var reading = i < streams.length - 1;
    var writing = i > 0;
    finished(s, { readable: reading, writable: writing }, function (err) { finish(err); });
    if (reading) s.pipe(streams[i + 1]);
  });
  return streams[streams.length - 1];
}

function addAbortSignal(signal, stream) {
  if (signal && typeof signal.addEventListener === 'function') {
    signal.addEventListener('abort', function () {
      stream.destroy(codeError(Error, 'ABORT_ERR', 'The operation was aborted'));
    });
  }
  return stream;
}

var promises = {
  pipeline: function () {
    var args = Array.prototype.slice.call(arguments);
    return new Promise(function (resolve, reject) {
      args.push(function (err) { if (err) reject(err); else resolve(); });
      pipeline.apply(null, args);
    });
  },
  finished: function (stream, opts) {
    return new Promise(function (resolve, reject) {
      finished(stream, opts, function (err) { if (err) reject(err); else resolve(); });
    });
  }
};

Stream.Stream = Stream;
Stream.Readable = Readable;
Stream.Writable = Writable;
Stream.Duplex = Duplex;
Stream.Transform = Transform;
Stream.PassThrough = PassThrough;
Stream.pipeline = pipeline;
Stream.finished = finished;
Stream.addAbortSignal = addAbortSignal;
Stream.promises = promises;
Stream.isReadable = function (s) { return !!(s && s.readable); };
Stream.isErrored = function (s) { return !!(s && s.errored); };
Stream.isDisturbed = function (s) { return !!(s && s._readableState && (s._readableState.dataEmitted || s._readableState.endEmitted)); };
Stream.getDefaultHighWaterMark = function (objectMode) { return objectMode ? DEFAULT_OBJECT_HWM : DEFAULT_HWM; };
Stream._isUint8Array = function (v) { return v instanceof Uint8Array; };
Stream._uint8ArrayToBuffer = function (v) { return Buffer.from(v.buffer, v.byteOffset, v.byteLength); };

module.exports = Stream;
