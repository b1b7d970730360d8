// The objects a SocketCluster 0.9 worker.js sees: worker, HTTP server with
// req/res, SC server, sockets, responses. Evaluated once per worker VM as a
// function of (native, EventEmitter); returns the constructors the Go side
// drives. Everything here runs on the worker's single loop goroutine.
(function (native, EventEmitter) {
  'use strict';

  function inherits(ctor, superCtor) {
    Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
    Object.setPrototypeOf(ctor, superCtor);
  }

  var emitLocal = EventEmitter.prototype.emit;

  // ---------------------------------------------------------------- HTTP

  function IncomingMessage(handle, method, url, headers, rawHeaders, httpVersion, remoteAddress, remotePort) {
    EventEmitter.call(this);
    this._handle = handle;
    this.method = method;
    this.url = url;
    this.headers = headers;
    this.rawHeaders = rawHeaders;
    this.httpVersion = httpVersion;
    var dot = httpVersion.indexOf('.');
    this.httpVersionMajor = +httpVersion.slice(0, dot);
    this.httpVersionMinor = +httpVersion.slice(dot + 1);
    this.socket = this.connection = { remoteAddress: remoteAddress, remotePort: remotePort, encrypted: false };
    this.complete = false;
    this.aborted = false;
    this.readable = true;
    this._encoding = null;
  }
  inherits(IncomingMessage, EventEmitter);
  IncomingMessage.prototype.setEncoding = function (enc) { this._encoding = enc || 'utf8'; return this; };
  IncomingMessage.prototype.pause = function () { return this; };
  IncomingMessage.prototype.resume = function () { return this; };
  IncomingMessage.prototype.isPaused = function () { return false; };
  IncomingMessage.prototype.setTimeout = function (ms, cb) { if (cb) this.on('timeout', cb); return this; };
  IncomingMessage.prototype.destroy = function () { native.httpAbort(this._handle); return this; };
  IncomingMessage.prototype._chunk = function (buf) {
    this.emit('data', this._encoding ? buf.toString(this._encoding) : buf);
  };
  IncomingMessage.prototype._end = function () {
    this.complete = true;
    this.readable = false;
    this.emit('end');
  };

  function ServerResponse(handle, req, detached) {
    EventEmitter.call(this);
    this._handle = handle;
    this._detached = detached; // SC engine requests: the engine owns the response
    this.req = req;
    this.statusCode = 200;
    this.statusMessage = undefined;
    this._headers = Object.create(null); // lower-case name -> [name, value]
    this.headersSent = false;
    this.finished = false;
    this.writableEnded = false;
    this.writableFinished = false;
    this.sendDate = true;
  }
  inherits(ServerResponse, EventEmitter);
  ServerResponse.prototype.setHeader = function (name, value) {
    if (this.headersSent) throw headersSentError('set');
    this._headers[String(name).toLowerCase()] = [String(name), value];
    return this;
  };
  ServerResponse.prototype.getHeader = function (name) {
    var h = this._headers[String(name).toLowerCase()];
    return h ? h[1] : undefined;
  };
  ServerResponse.prototype.hasHeader = function (name) { return String(name).toLowerCase() in this._headers; };
  ServerResponse.prototype.removeHeader = function (name) {
    if (this.headersSent) throw headersSentError('remove');
    delete this._headers[String(name).toLowerCase()];
  };
  ServerResponse.prototype.getHeaderNames = function () { return Object.keys(this._headers); };
  ServerResponse.prototype.getHeaders = function () {
    var out = Object.create(null);
    for (var k in this._headers) out[k] = this._headers[k][1];
    return out;
  };
  ServerResponse.prototype.writeHead = function (statusCode, reason, headers) {
    if (this.headersSent) throw headersSentError('write');
    if (typeof reason !== 'string') { headers = reason; reason = undefined; }
    this.statusCode = statusCode | 0;
    if (reason !== undefined) this.statusMessage = reason;
    if (headers) {
      if (Array.isArray(headers)) {
        for (var i = 0; i + 1 < headers.length; i += 2) this.setHeader(headers[i], headers[i + 1]);
      } else {
        for (var k in headers) if (headers[k] !== undefined) this.setHeader(k, headers[k]);
      }
    }
    this._sendHead();
    return this;
  };
  ServerResponse.prototype._sendHead = function () {
    if (this.headersSent) return;
    this.headersSent = true;
    var flat = [];
    for (var k in this._headers) {
      var h = this._headers[k];
      if (Array.isArray(h[1])) {
        for (var i = 0; i < h[1].length; i++) flat.push(h[0], String(h[1][i]));
      } else {
        flat.push(h[0], String(h[1]));
      }
    }
    if (!this._detached) native.httpHead(this._handle, this.statusCode, flat);
  };
  ServerResponse.prototype.write = function (chunk, encoding, cb) {
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
    if (this.writableEnded) {
      var err = new Error('write after end');
      err.code = 'ERR_STREAM_WRITE_AFTER_END';
      throw err;
    }
    this._sendHead();
    if (chunk !== undefined && chunk !== null && !this._detached) native.httpWrite(this._handle, chunk, encoding || 'utf8');
    if (cb) process.nextTick(cb);
    return true;
  };
  ServerResponse.prototype.end = function (chunk, encoding, cb) {
    if (typeof chunk === 'function') { cb = chunk; chunk = undefined; }
    if (typeof encoding === 'function') { cb = encoding; encoding = undefined; }
    if (this.writableEnded) { if (cb) process.nextTick(cb); return this; }
    this._sendHead();
    this.writableEnded = true;
    this.finished = true;
    // The last chunk travels with the end so the whole body is known at
    // once (Content-Length instead of chunked, as Node does for end(data)).
    if (!this._detached) {
      if (chunk !== undefined && chunk !== null) native.httpEnd(this._handle, chunk, encoding || 'utf8');
      else native.httpEnd(this._handle);
    }
    var self = this;
    process.nextTick(function () {
      self.writableFinished = true;
      self.emit('finish');
      if (cb) cb();
      self.emit('close');
    });
    return this;
  };
  ServerResponse.prototype.setTimeout = function (ms, cb) { if (cb) this.on('timeout', cb); return this; };
  ServerResponse.prototype.flushHeaders = function () {
    this._sendHead();
    if (!this._detached) native.httpFlush(this._handle);
  };
  ServerResponse.prototype.writeContinue = function () {};
  function headersSentError(what) {
    var e = new Error('Cannot ' + what + ' headers after they are sent to the client');
    e.code = 'ERR_HTTP_HEADERS_SENT';
    return e;
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
