// The objects a SocketCluster 0.9 worker.js sees: worker, HTTP server with
// req/res, SC server, sockets, responses. Evaluated once per worker VM as a
// function of (native, EventEmitter); returns the constructors the Go side
// drives. Everything here runs on the worker's single loop goroutine.
(function (native, EventEmitter, http) {
  'use strict';

  function inherits(ctor, superCtor) {
    Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
    Object.setPrototypeOf(ctor, superCtor);
  }

  var emitLocal = EventEmitter.prototype.emit;

  // ---------------------------------------------------------------- HTTP

  // req/res are http.IncomingMessage (a stream.Readable) and http.ServerResponse instances, so frameworks that
  // extend those prototypes (Express sets its own prototypes on them) work. Everything the bridge needs lives on
  // the instance (_handle, _wire) or on the http prototypes, which survive such prototype swaps.
  var RequestSocket = http._RequestSocket;

  // WIRE carries a response's bytes to the Go side (shared by all responses; the handle picks the exchange).
  var WIRE = {
    // the header pairs travel as one string, name and value separated by newlines (neither can contain one)
    head: function (handle, statusCode, statusMessage, flat) { native.httpHead(handle, statusCode, flat.join('\n')); },
    write: function (handle, chunk, encoding) { native.httpWrite(handle, chunk, encoding); },
    end: function (handle, chunk, encoding) {
      if (chunk === undefined) native.httpEnd(handle);
      else native.httpEnd(handle, chunk, encoding);
    },
    flush: function (handle) { native.httpFlush(handle); },
    abort: function (handle) { native.httpAbort(handle); }
  };

  // A request socket's destroy aborts its exchange (shared by all sockets: no closure per request).
  function abortOnDestroy() { native.httpAbort(this._reqHandle); }

  // Called with new by the Go side; returns the http.IncomingMessage it builds.
  function IncomingMessage(handle, method, url, headers, rawHeaders, httpVersion, remoteAddress, remotePort, major, minor) {
    var socket = new RequestSocket(remoteAddress, remotePort, false);
    var req = new http.IncomingMessage(socket);
    req._handle = handle;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.rawHeaders = rawHeaders;
    req.httpVersion = httpVersion;
    req.httpVersionMajor = major;
    req.httpVersionMinor = minor;
    if (handle) {
      socket._reqHandle = handle;
      socket._onDestroy = abortOnDestroy;
    } else req.push(null); // SC engine requests: the engine owns the body
    return req;
  }
  // The Go side feeds the body through these (looked up through the prototype chain).
  http.IncomingMessage.prototype._chunk = function (buf) { this.push(buf); };
  http.IncomingMessage.prototype._end = function () {
    this.complete = true;
    this.push(null);
  };

  // Called with new by the Go side; detached responses (SC engine requests) are inert. res.req is req; a
  // response that is not detached is req.res.
  function ServerResponse(handle, req, detached) {
    var res = new http.ServerResponse(req);
    res._handle = handle;
    if (!detached) {
      res._wire = WIRE;
      req.res = res;
    }
    return res;
  }

  function HTTPServer() {
    EventEmitter.call(this);
    var self = this;
    // The Go side only builds request objects for SC engine traffic when
    // someone listens to 'request' (the rule of thumb is to use 'req').
    this.on('newListener', function (ev) { if (ev === 'request') native.setRequestListeners(self.listenerCount('request') + 1); });
    this.on('removeListener', function (ev) { if (ev === 'request') native.setRequestListeners(self.listenerCount('request')); });
  }
  inherits(HTTPServer, EventEmitter);
  HTTPServer.prototype.listen = function () {
    // The worker listens by itself; kept so unchanged code calling listen does not fail.
    var cb = arguments[arguments.length - 1];
    if (typeof cb === 'function') process.nextTick(cb);
    return this;
  };
  HTTPServer.prototype.address = function () { return native.address(); };
  HTTPServer.prototype.close = function (cb) { if (cb) process.nextTick(cb); return this; };
  HTTPServer.prototype.setTimeout = function () { return this; };

  // ---------------------------------------------------------------- SC

  var LOCAL_EVENTS = {
    open: 1, error: 1, packet: 1, heartbeat: 1, data: 1, raw: 1, message: 1, upgrade: 1, close: 1,
    packetCreate: 1, flush: 1, drain: 1, disconnect: 1
  };

  var MIDDLEWARE = { handshake: 'handshake', emit: 'emit', event: 'emit', subscribe: 'subscribe', publish: 'publish' };

  function SCServer(opts) {
    EventEmitter.call(this);
    this.clients = {};
    this.clientsCount = 0;
    this.ackTimeout = opts.ackTimeout;
    this.allowClientPublish = opts.allowClientPublish;
    this.origins = opts.origins;
    this._path = opts.path;
    this._middleware = { handshake: [], emit: [], subscribe: [], publish: [] };
    this.global = globalObject;
    scServerRef = this;
  }
  inherits(SCServer, EventEmitter);
  SCServer.prototype.MIDDLEWARE_HANDSHAKE = 'handshake';
  SCServer.prototype.MIDDLEWARE_EMIT = 'emit';
  SCServer.prototype.MIDDLEWARE_EVENT = 'event';
  SCServer.prototype.MIDDLEWARE_SUBSCRIBE = 'subscribe';
  SCServer.prototype.MIDDLEWARE_PUBLISH = 'publish';
  SCServer.prototype.addMiddleware = function (type, fn) {
    var kind = MIDDLEWARE[type];
    if (!kind) throw new Error('Middleware type "' + type + '" is not supported');
    if (typeof fn !== 'function') throw new TypeError('Middleware must be a function');
    this._middleware[kind].push(fn);
    native.setMiddleware(kind, this._middleware[kind].length);
  };
  SCServer.prototype.removeMiddleware = function (type, fn) {
    var kind = MIDDLEWARE[type];
    if (!kind) return;
    this._middleware[kind] = this._middleware[kind].filter(function (f) { return f !== fn; });
    native.setMiddleware(kind, this._middleware[kind].length);
  };
  SCServer.prototype.getPath = function () { return this._path; };
  SCServer.prototype.getURL = function () { return this._path.replace(/\/$/, ''); };
  SCServer.prototype._runMiddleware = function (kind, args, done) {
    var chain = this._middleware[kind];
    var i = 0;
    var finished = false;
    var next = function (err) {
      if (finished) return;
      if (err) { finished = true; done(err); return; }
      if (i >= chain.length) { finished = true; done(null); return; }
      var fn = chain[i++];
      try {
        // fn.apply(null, args.concat([next])) without the two arrays (the emit path runs this per event).
        if (args.length === 3) fn.call(null, args[0], args[1], args[2], next);
        else if (args.length === 2) fn.call(null, args[0], args[1], next);
        else fn.apply(null, args.concat([next]));
      } catch (e) {
        // A throw after the chain finished comes from the code next() ran
        // (the handler itself): it is not a middleware rejection.
        if (finished) throw e;
        finished = true;
        done(e);
      }
    };
    next();
  };

  // A socket's only own property at first is its handle: an idle socket is one small object. Everything else lives
  // on the prototype. id, ssid, address and clientAddress are read from the Go side while the connection is open
  // and from the snapshot function _onClose receives afterwards; cookie, request, session and global are built on
  // first use and then kept as own properties; the pending acks table and EventEmitter's _events are created on
  // first use. Assigning any of these properties gives the socket an ordinary own property, as before.
  function SCSocket(handle) {
    this._handle = handle;
  }
  inherits(SCSocket, EventEmitter);
  SCSocket.prototype.readyState = 'open';
  function socketInfo(socket, which) {
    var closed = socket._closed;
    return closed === undefined ? native.scInfo(socket._handle, which) : closed(which);
  }
  function ownValue(obj, name, v) {
    Object.defineProperty(obj, name, { value: v, writable: true, enumerable: true, configurable: true });
  }
  function socketProperty(name, get) {
    Object.defineProperty(SCSocket.prototype, name, {
      configurable: true,
      enumerable: true,
      get: get,
      set: function (v) { ownValue(this, name, v); }
    });
  }
  function infoProperty(name) {
    socketProperty(name, function () { return socketInfo(this, name); });
  }
  function builtProperty(name, build) {
    socketProperty(name, function () {
      var v = build(this);
      ownValue(this, name, v);
      return v;
    });
  }
  infoProperty('id');
  infoProperty('ssid');
  infoProperty('address');
  infoProperty('clientAddress');
  socketProperty('server', function () { return scServerRef; });
  builtProperty('cookie', function (s) { return socketInfo(s, 'cookie'); });
  builtProperty('request', function (s) { return socketInfo(s, 'request'); });
  builtProperty('session', function (s) { return new Session(s.ssid, s.id); });
  builtProperty('global', function (s) { return globalFor(s.id); });
  Object.defineProperty(SCSocket.prototype, 'transport', {
    get: function () { return { name: native.transport(this._handle) }; }
  });
  Object.defineProperty(SCSocket.prototype, 'upgraded', {
    get: function () { return native.transport(this._handle) === 'websocket'; }
  });

  SCSocket.prototype.emit = function (event, data, cb) {
    if (LOCAL_EVENTS[event] === 1) return emitLocal.apply(this, arguments);
    var json = stringify(data);
    var cid = native.scEmit(this._handle, String(event), json);
    if (typeof cb === 'function' && cid > 0) {
      var ev = { event: String(event), data: data, cid: cid };
      var pending = this._pending;
      if (pending === undefined) pending = this._pending = Object.create(null); // cid -> {cb, timer}
      var timer = setTimeout(function () {
        delete pending[cid];
        cb(new Error("Event response for '" + event + "' timed out"), ev);
      }, this.server.ackTimeout);
      pending[cid] = { cb: cb, timer: timer };
    }
    return true;
  };
  SCSocket.prototype.send = SCSocket.prototype.write = function (data) {
    native.scSend(this._handle, typeof data === 'string' ? data : String(data));
    return this;
  };
  SCSocket.prototype.close = SCSocket.prototype.disconnect = function () {
    native.scClose(this._handle);
    return this;
  };
  SCSocket.prototype.ns = function () { return this; };

  // emit2 is emitLocal.call(self, type, a, b) without the arguments object and argument array that emit builds
  // for every call: the path of every inbound event.
  function emit2(self, type, a, b) {
    var events = self._events;
    if (type === 'error' || events === undefined) return emitLocal.call(self, type, a, b);
    var handler = events[type];
    if (handler === undefined) return false;
    if (typeof handler === 'function') {
      handler.call(self, a, b);
      return true;
    }
    var listeners = handler.slice();
    for (var j = 0; j < listeners.length; j++) listeners[j].call(self, a, b);
    return true;
  }

  // Inbound event from the client: data is the parsed data (undefined for none), cid the raw JSON of the cid ('' for
  // none). dataJSON is the data's text when the Go side left parsing to JSON.parse (it throws on invalid JSON).
  SCSocket.prototype._onEvent = function (event, data, cid, dataJSON) {
    if (dataJSON !== undefined) data = JSON.parse(dataJSON);
    var res = new Response(this, cid);
    if (this.server._middleware.emit.length) {
      runEmitMiddleware(this, event, data, res);
      return;
    }
    emit2(this, event, data, res);
  };

  // runEmitMiddleware is server._runMiddleware('emit', [socket, event, data], done) for one event, where done
  // answers a rejection with the error and a 'notice' or emits the event: done's work happens in next itself, so
  // an event costs one closure instead of two and no argument arrays.
  function runEmitMiddleware(socket, event, data, res) {
    var server = socket.server;
    var chain = server._middleware.emit;
    var i = 0;
    var finished = false;
    var next = function (err) {
      if (finished) return;
      if (err) { finished = true; emitRejected(server, res, err); return; }
      if (i >= chain.length) { finished = true; emit2(socket, event, data, res); return; }
      var fn = chain[i++];
      try {
        fn.call(null, socket, event, data, next);
      } catch (e) {
        // A throw after the chain finished comes from the code next() ran (the handler itself): it is not a
        // middleware rejection.
        if (finished) throw e;
        finished = true;
        if (e) emitRejected(server, res, e);
        else emit2(socket, event, data, res);
      }
    };
    next();
  }
  function emitRejected(server, res, err) {
    res._sendError(err);
    server.emit('notice', err);
  }
  SCSocket.prototype._onResponse = function (cid, errJSON, dataJSON) {
    var pending = this._pending;
    var p = pending === undefined ? undefined : pending[cid];
    if (!p) return;
    delete pending[cid];
    clearTimeout(p.timer);
    var err = errJSON === '' ? null : JSON.parse(errJSON);
    var data = dataJSON === '' ? undefined : JSON.parse(dataJSON);
    p.cb(err, data);
  };
  // closed(which) answers the socket's info getters from now on (the Go side no longer knows the handle).
  SCSocket.prototype._onClose = function (reason, closed) {
    this._closed = closed;
    this.readyState = 'closed';
    var pending = this._pending;
    if (pending !== undefined) {
      for (var cid in pending) clearTimeout(pending[cid].timer);
      this._pending = undefined;
    }
    emitLocal.call(this, 'close', reason);
    emitLocal.call(this, 'disconnect', this);
  };

  function Response(socket, cid) {
    this.socket = socket;
    this.cid = cid;
    this.sent = false;
  }
  Response.prototype._check = function () {
    if (this.sent) throw new Error('Response ' + this.cid + ' has already been sent');
    this.sent = true;
  };
  Response.prototype.end = function (data) {
    if (this.cid === '') return;
    if (this.sent) throw new Error('Response ' + this.cid + ' has already been sent'); // _check, inline
    this.sent = true;
    native.scEnd(this.socket._handle, this.cid, data);
  };
  Response.prototype.error = function (error, data) {
    if (this.cid === '') return;
    this._check();
    native.scRespond(this.socket._handle, this.cid, stringify(errorValue(error)), stringify(data));
  };
  Response.prototype._sendError = function (error) {
    if (this.cid === '' || this.sent) return;
    this.sent = true;
    native.scRespond(this.socket._handle, this.cid, stringify(errorValue(error)), '');
  };

  function errorValue(err) {
    if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
    if (err === undefined) return true;
    return err;
  }

  // stringify serialises like the original server's formatter: Buffers become
  // {base64:true,data:...}; undefined (and functions) become '' (omitted).
  function bufferReplacer(key, value) {
    var orig = this[key];
    if (orig instanceof Uint8Array && typeof Buffer !== 'undefined') {
      return { base64: true, data: Buffer.from(orig.buffer, orig.byteOffset, orig.byteLength).toString('base64') };
    }
    return value;
  }
  function stringify(v) {
    if (v === undefined) return '';
    var s = JSON.stringify(v);
    if (s === undefined) return '';
    if (s.indexOf('"type":"Buffer"') !== -1 || v instanceof Uint8Array) s = JSON.stringify(v, bufferReplacer);
    return s;
  }


  // ---------------------------------------------------------------- Sessions, global data, channels

  // Data methods of iocluster (spec 4.2) over a root key chain: every user key is localised under the root (a
  // string or number becomes one element, an array is spliced in). The last function argument is the callback
  // cb(err, value); calls of one session (or of the global data) reach the store in call order.
  function toChain(root, key) {
    if (key === undefined || key === null) return root.slice();
    if (Array.isArray(key)) return root.concat(key.map(function (k) { return String(k); }));
    return root.concat([String(key)]);
  }
  function splitArgs(args) {
    var a = Array.prototype.slice.call(args);
    var cb;
    if (a.length && typeof a[a.length - 1] === 'function') cb = a.pop();
    return { a: a, cb: cb };
  }
  function raw(v) { return v === undefined ? undefined : JSON.parse(stringify(v) || 'null'); }

  function DataClient(root, isPublic, lane) {
    this._root = root;
    this._public = isPublic;
    this._lane = lane;
  }
  DataClient.prototype._send = function (req, cb, mapIndex) {
    var index = -1;
    if (this._public && typeof this._mapper === 'function') {
      var ids = [];
      for (var i = 0, n = native.storeCount(); i < n; i++) ids.push(i);
      var chosen = this._mapper(req.key || req.baseKey || null, req.action, ids);
      index = Array.isArray(chosen) ? chosen[0] : chosen;
      if (typeof index !== 'number' || !(index >= 0)) index = 0;
    }
    native.data(this._public, index, JSON.stringify(req), mapIndex, this._lane, cb);
  };
  function valueMethod(action) {
    return function (key, value) {
      var p = splitArgs(arguments);
      var req = { action: action, key: toChain(this._root, key), value: raw(value) };
      if (p.a.length > 2) req.getValue = !!p.a[2];
      this._send(req, p.cb);
    };
  }
  DataClient.prototype.set = valueMethod('set');
  DataClient.prototype.add = valueMethod('add');
  DataClient.prototype.concat = valueMethod('concat');
  function keyMethod(action, takesGetValue) {
    return function (key) {
      var p = splitArgs(arguments);
      var req = { action: action, key: toChain(this._root, key) };
      if (takesGetValue && p.a.length > 1) req.getValue = !!p.a[1];
      this._send(req, p.cb);
    };
  }
  DataClient.prototype.get = keyMethod('get');
  DataClient.prototype.count = keyMethod('count');
  DataClient.prototype.hasKey = keyMethod('hasKey');
  DataClient.prototype.getExpiry = keyMethod('getExpiry');
  DataClient.prototype.remove = keyMethod('remove', true);
  DataClient.prototype.pop = keyMethod('pop', true);
  function rangeMethod(action) {
    return function (key, from) {
      var p = splitArgs(arguments);
      var req = { action: action, key: toChain(this._root, key), from: raw(from) };
      if (p.a.length > 2) req.to = raw(p.a[2]);
      if (p.a.length > 3) req.getValue = !!p.a[3];
      this._send(req, p.cb);
    };
  }
  DataClient.prototype.getRange = rangeMethod('getRange');
  DataClient.prototype.removeRange = rangeMethod('removeRange');
  DataClient.prototype.getAll = function (cb) {
    this._send({ action: 'get', key: this._root.slice() }, cb);
  };
  DataClient.prototype.removeAll = function (cb) {
    this._send({ action: 'set', key: this._root.slice(), value: {} }, cb);
  };
  DataClient.prototype.expire = function (keys, seconds, cb) {
    var self = this;
    if (!Array.isArray(keys)) keys = [keys];
    this._send({ action: 'expire', keys: keys.map(function (k) { return toChain(self._root, k); }), seconds: Number(seconds) || 0 }, cb);
  };
  DataClient.prototype.unexpire = function (keys, cb) {
    var self = this;
    if (!Array.isArray(keys)) keys = [keys];
    this._send({ action: 'unexpire', keys: keys.map(function (k) { return toChain(self._root, k); }) }, cb);
  };
  DataClient.prototype.query = DataClient.prototype.run = function (fn, data, cb) {
    if (typeof data === 'function' && cb === undefined) { cb = data; data = undefined; }
    var source = typeof fn === 'function' ? fn.toString() : String(fn);
    var req = { action: 'run', source: source, baseKey: this._root.slice() };
    if (data !== undefined && data !== null) req.data = raw(data);
    var mapIndex = (fn && fn.mapIndex !== undefined) ? String(fn.mapIndex) : this._mapIndex;
    this._send(req, cb, mapIndex);
  };
  DataClient.prototype.extractKeys = function (obj) { return obj && typeof obj === 'object' ? Object.keys(obj) : []; };
  DataClient.prototype.extractValues = function (obj) {
    if (!obj || typeof obj !== 'object') return [];
    return Object.keys(obj).map(function (k) { return obj[k]; });
  };
  DataClient.prototype.stringify = function (v) { return stringify(v); };

  // Session watchers: one emitter per watched session id on this worker.
  var sessionWatchers = Object.create(null);
  var scServerRef = null;

  function Session(id, socketId) {
    DataClient.call(this, ['__iocl', 'sed', String(id)], false, 's/' + id);
    this.id = id;
    this.socketId = socketId;
    this._mapIndex = String(id);
  }
  inherits(Session, DataClient);
  Session.prototype.setAuth = function (data, cb) { this.set('__auth', data, cb); };
  Session.prototype.getAuth = function (cb) { this.get('__auth', cb); };
  Session.prototype.clearAuth = function (cb) { this.remove('__auth', cb); };
  Session.prototype.countSockets = function (cb) { this.count(['__meta', 'sockets'], cb); };
  Session.prototype.emit = function (event, data, cb) {
    native.sessionEmit(String(this.id), String(event), stringify(data), '', cb);
  };
  Session.prototype.transmit = function (event, data, cb) {
    native.sessionEmit(String(this.id), String(event), stringify(data), this.socketId || '', cb);
  };
  Session.prototype.getSockets = function () {
    var out = {};
    var clients = scServerRef ? scServerRef.clients : {};
    for (var k in clients) if (clients[k].ssid === this.id) out[k] = clients[k];
    return out;
  };
  Session.prototype.watch = Session.prototype.on = function (event, handler, cb) {
    var ssid = String(this.id);
    var em = sessionWatchers[ssid];
    if (!em) {
      em = sessionWatchers[ssid] = new EventEmitter();
      native.watchSession(ssid, cb);
    } else if (typeof cb === 'function') process.nextTick(cb, null);
    em.on(String(event), handler);
  };
  Session.prototype.unwatch = Session.prototype.removeListener = function (event, handler) {
    var ssid = String(this.id);
    var em = sessionWatchers[ssid];
    if (!em) return;
    if (event === undefined) em.removeAllListeners();
    else if (handler === undefined) em.removeAllListeners(String(event));
    else em.removeListener(String(event), handler);
    if (em.eventNames().length === 0) {
      delete sessionWatchers[ssid];
      native.unwatchSession(ssid);
    }
  };
  Session.prototype.destroy = function () { this.unwatch(); };
  Session.prototype.ns = function () { return this; };

  // Global: data under ['__iocl','gld'], channels, session events by id, worker-side channel listeners.
  var channelListeners = new EventEmitter();
  channelListeners.setMaxListeners(0);

  function Global(socketId) {
    DataClient.call(this, ['__iocl', 'gld'], true, 'g');
    this._socketId = socketId || '';
  }
  inherits(Global, DataClient);
  Global.prototype.publish = Global.prototype.broadcast = function (channel, data, cb) {
    native.publish(String(channel), stringify(data), cb);
  };
  Global.prototype.emit = function (ssid, event, data, cb) {
    native.sessionEmit(String(ssid), String(event), stringify(data), '', cb);
  };
  Global.prototype.transmit = function (ssid, event, data, cb) {
    native.sessionEmit(String(ssid), String(event), stringify(data), this._socketId, cb);
  };
  Global.prototype.on = Global.prototype.watch = Global.prototype.subscribe = function (channel, handler, cb) {
    channel = String(channel);
    var first = channelListeners.listenerCount(channel) === 0;
    channelListeners.on(channel, handler);
    if (first) native.listen(channel, cb);
    else if (typeof cb === 'function') process.nextTick(cb, null);
  };
  Global.prototype.once = function (channel, handler, cb) {
    var self = this;
    var wrapped = function (data) {
      self.removeListener(channel, wrapped);
      handler.call(this, data);
    };
    wrapped.listener = handler;
    this.on(channel, wrapped, cb);
  };
  function dropIfUnused(channel) {
    if (channelListeners.listenerCount(channel) === 0) native.unlisten(channel);
  }
  Global.prototype.removeListener = Global.prototype.unwatch = Global.prototype.off = function (channel, handler, cb) {
    if (typeof handler !== 'function') return this.removeAllListeners(channel, cb);
    channel = String(channel);
    var before = channelListeners.listenerCount(channel);
    channelListeners.removeListener(channel, handler);
    if (channelListeners.listenerCount(channel) === before) {
      var ls = channelListeners.listeners(channel);
      for (var i = 0; i < ls.length; i++) {
        if (ls[i].listener === handler) { channelListeners.removeListener(channel, ls[i]); break; }
      }
    }
    if (before > 0) dropIfUnused(channel);
    if (typeof cb === 'function') process.nextTick(cb, null);
  };
  Global.prototype.removeAllListeners = function (channel, cb) {
    if (typeof channel === 'function') { cb = channel; channel = undefined; }
    if (channel === null) channel = undefined;
    var names = channel === undefined ? channelListeners.eventNames() : [String(channel)];
    names.forEach(function (n) {
      var had = channelListeners.listenerCount(n) > 0;
      channelListeners.removeAllListeners(n);
      if (had) native.unlisten(n);
    });
    if (typeof cb === 'function') process.nextTick(cb, null);
  };
  Global.prototype.listeners = function (channel) { return channelListeners.listeners(String(channel)); };
  Global.prototype.destroy = function (cb) { this.removeAllListeners(cb); };
  Global.prototype.setMapper = function (fn) {
    Global.prototype._mapper = typeof fn === 'function' ? fn : undefined;
  };
  Global.prototype.getMapper = function () { return Global.prototype._mapper; };
  Global.prototype.map = function (key, method) {
    var ids = [];
    for (var i = 0, n = native.storeCount(); i < n; i++) ids.push(i);
    if (typeof this._mapper === 'function') return this._mapper(key, method, ids);
    return 0;
  };
  Global.prototype.ns = function () { return this; };

  var globalObject = new Global('');

  function globalFor(socketId) {
    var g = Object.create(globalObject);
    g._socketId = socketId;
    return g;
  }

  function deliverChannel(channel, dataJSON) {
    channelListeners.emit(channel, dataJSON === '' ? undefined : JSON.parse(dataJSON), channel);
  }
  function deliverSession(ssid, event, dataJSON) {
    var em = sessionWatchers[ssid];
    if (em) em.emit(event, dataJSON === '' ? undefined : JSON.parse(dataJSON), ssid);
  }
  function decorateRequest(req, ssid) {
    req.session = new Session(ssid, undefined);
    req.global = globalObject;
  }

  // ---------------------------------------------------------------- Worker

  function Worker(opts) {
    EventEmitter.call(this);
    this.id = opts.id;
    this.isLeader = opts.isLeader;
    this.options = opts.options;
    this._options = opts.options;
    this._httpServer = new HTTPServer();
    this._scServer = new SCServer(opts);
    this.global = globalObject;
    this._httpServer.global = globalObject;
    var self = this;
    this._scServer.on('connection', function (socket) { emitLocal.call(self, 'connection', socket); });
  }
  inherits(Worker, EventEmitter);
  Worker.prototype.EVENT_ERROR = 'error';
  Worker.prototype.EVENT_NOTICE = 'notice';
  Worker.prototype.EVENT_EXIT = 'exit';
  Worker.prototype.EVENT_READY = 'ready';
  Worker.prototype.EVENT_CONNECTION = 'connection';
  Worker.prototype.EVENT_LEADER_START = 'leaderstart';
  Worker.prototype.getHTTPServer = function () { return this._httpServer; };
  Worker.prototype.getSCServer = Worker.prototype.getWSServer = function () { return this._scServer; };
  Worker.prototype.getSocketURL = function () { return this._scServer.getPath(); };
  Worker.prototype.getStatus = function () { return native.status(); };
  Worker.prototype.start = function () {};

  return {
    Worker: Worker,
    IncomingMessage: IncomingMessage,
    ServerResponse: ServerResponse,
    SCSocket: SCSocket,
    Response: Response,
    stringify: stringify,
    deliverChannel: deliverChannel,
    deliverSession: deliverSession,
    decorateRequest: decorateRequest
  };
})
