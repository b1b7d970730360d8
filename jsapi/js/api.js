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
    head: function (handle, statusCode, statusMessage, flat) { native.httpHead(handle, statusCode, flat); },
    write: function (handle, chunk, encoding) { native.httpWrite(handle, chunk, encoding); },
    end: function (handle, chunk, encoding) {
      if (chunk === undefined) native.httpEnd(handle);
      else native.httpEnd(handle, chunk, encoding);
    },
    flush: function (handle) { native.httpFlush(handle); },
    abort: function (handle) { native.httpAbort(handle); }
  };

  // Called with new by the Go side; returns the http.IncomingMessage it builds.
  function IncomingMessage(handle, method, url, headers, rawHeaders, httpVersion, remoteAddress, remotePort) {
    var socket = new RequestSocket(remoteAddress, remotePort, false);
    var req = new http.IncomingMessage(socket);
    req._handle = handle;
    req.method = method;
    req.url = url;
    req.headers = headers;
    req.rawHeaders = rawHeaders;
    req.httpVersion = httpVersion;
    var dot = httpVersion.indexOf('.');
    req.httpVersionMajor = +httpVersion.slice(0, dot);
    req.httpVersionMinor = +httpVersion.slice(dot + 1);
    if (handle) socket._onDestroy = function () { native.httpAbort(handle); };
    else req.push(null); // SC engine requests: the engine owns the body
    return req;
  }
  // The Go side feeds the body through these (looked up through the prototype chain).
  http.IncomingMessage.prototype._chunk = function (buf) { this.push(buf); };
  http.IncomingMessage.prototype._end = function () {
    this.complete = true;
    this.push(null);
  };

  // Called with new by the Go side; detached responses (SC engine requests) are inert.
  function ServerResponse(handle, req, detached) {
    var res = new http.ServerResponse(req);
    res._handle = handle;
    if (!detached) res._wire = WIRE;
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
        fn.apply(null, args.concat([next]));
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

  function SCSocket(server, handle, id, ssid, address, clientAddress, cookie, request) {
    EventEmitter.call(this);
    this.server = server;
    this._handle = handle;
    this.id = id;
    this.ssid = ssid;
    this.address = address;
    if (clientAddress) this.clientAddress = clientAddress;
    this.cookie = cookie;
    this.request = request;
    this.readyState = 'open';
    this._pending = Object.create(null); // cid -> {cb, timer, event}
  }
  inherits(SCSocket, EventEmitter);
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
      var self = this;
      var ev = { event: String(event), data: data, cid: cid };
      var timer = setTimeout(function () {
        delete self._pending[cid];
        cb(new Error("Event response for '" + event + "' timed out"), ev);
      }, this.server.ackTimeout);
      this._pending[cid] = { cb: cb, timer: timer };
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

  // Inbound event from the client. dataJSON '' means no data; cid is the raw JSON of the cid ('' for none).
  SCSocket.prototype._onEvent = function (event, dataJSON, cid) {
    var data = dataJSON === '' ? undefined : JSON.parse(dataJSON);
    var res = new Response(this, cid);
    var self = this;
    var server = this.server;
    if (server._middleware.emit.length) {
      server._runMiddleware('emit', [this, event, data], function (err) {
        if (err) {
          res._sendError(err);
          server.emit('notice', err);
          return;
        }
        emitLocal.call(self, event, data, res);
      });
      return;
    }
    emitLocal.call(this, event, data, res);
  };
  SCSocket.prototype._onResponse = function (cid, errJSON, dataJSON) {
    var p = this._pending[cid];
    if (!p) return;
    delete this._pending[cid];
    clearTimeout(p.timer);
    var err = errJSON === '' ? null : JSON.parse(errJSON);
    var data = dataJSON === '' ? undefined : JSON.parse(dataJSON);
    p.cb(err, data);
  };
  SCSocket.prototype._onClose = function (reason) {
    this.readyState = 'closed';
    for (var cid in this._pending) {
      clearTimeout(this._pending[cid].timer);
    }
    this._pending = Object.create(null);
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
    this._check();
    native.scRespond(this.socket._handle, this.cid, '', stringify(data));
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

  // ---------------------------------------------------------------- Worker

  function Worker(opts) {
    EventEmitter.call(this);
    this.id = opts.id;
    this.isLeader = opts.isLeader;
    this.options = opts.options;
    this._options = opts.options;
    this._httpServer = new HTTPServer();
    this._scServer = new SCServer(opts);
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
    stringify: stringify
  };
})
