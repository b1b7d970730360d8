'use strict';
// http: IncomingMessage (a stream.Readable) and ServerResponse (OutgoingMessage, a Writable-like legacy Stream),
// STATUS_CODES, METHODS and a minimal Server. The worker's HTTP server builds its req/res from these classes, so
// frameworks that extend http.IncomingMessage.prototype / http.ServerResponse.prototype (Express) see them.
//
// Bytes leave through res._wire, an object the embedder sets on each response:
//   head(handle, statusCode, statusMessage, flatHeaders) - the head goes out with the first write, end or flush
//   write(handle, chunk, encoding), end(handle[, lastChunk, encoding]), flush(handle), abort(handle)
// A response without _wire discards its output (its events still fire).

var EE = require('events');
var stream = require('stream');
var Buffer = require('buffer').Buffer;

var STATUS_CODES = {
  100: 'Continue', 101: 'Switching Protocols', 102: 'Processing', 103: 'Early Hints',
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status', 208: 'Already Reported', 226: 'IM Used',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  305: 'Use Proxy', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Payload Too Large',
  414: 'URI Too Long', 415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed',
  418: "I'm a Teapot", 421: 'Misdirected Request', 422: 'Unprocessable Entity', 423: 'Locked',
  424: 'Failed Dependency', 425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required',
  429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 506: 'Variant Also Negotiates',
  507: 'Insufficient Storage', 508: 'Loop Detected', 509: 'Bandwidth Limit Exceeded', 510: 'Not Extended',
  511: 'Network Authentication Required'
};

var METHODS = ['ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH',
  'MERGE', 'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST', 'PROPFIND',
  'PROPPATCH', 'PURGE', 'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'TRACE', 'UNBIND',
  'UNLINK', 'UNLOCK', 'UNSUBSCRIBE'];

var tokenRe = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
var invalidValueRe = /[^\t\x20-\x7e\x80-\xff]/;

function codeError(Ctor, code, msg) {
  var e = new Ctor(msg);
  e.code = code;
  return e;
}

// validNames remembers header names that passed validation (apps set the same few names on every response).
var validNames = Object.create(null);
var validNamesCount = 0;
var maxValidNames = 512;

// lowerNames maps the header names apps use to their lower-case form (setHeader/getHeader run on every response).
var lowerNames = Object.create(null);
var lowerNamesCount = 0;

function lowerName(name) {
  var l = lowerNames[name];
  if (l !== undefined) return l;
  l = name.toLowerCase();
  if (lowerNamesCount < maxValidNames) {
    lowerNames[name] = l;
    lowerNamesCount++;
  }
  return l;
}

function validateHeaderName(name) {
  if (typeof name === 'string' && validNames[name] === true) return;
  if (typeof name !== 'string' || !name || !tokenRe.test(name)) {
    throw codeError(TypeError, 'ERR_INVALID_HTTP_TOKEN', 'Header name must be a valid HTTP token ["' + name + '"]');
  }
  if (validNamesCount < maxValidNames) {
    validNames[name] = true;
    validNamesCount++;
  }
}

function validateHeaderValue(name, value) {
  if (typeof value === 'number') return; // a number's string form never holds an invalid character
  if (value === undefined) {
    throw codeError(TypeError, 'ERR_HTTP_INVALID_HEADER_VALUE', 'Invalid value "' + value + '" for header "' + name + '"');
  }
  if (invalidValueRe.test(String(value))) {
    throw codeError(TypeError, 'ERR_INVALID_CHAR', 'Invalid character in header content ["' + name + '"]');
  }
}

function inherit(Ctor, Base) {
  Object.setPrototypeOf(Ctor.prototype, Base.prototype);
  Object.setPrototypeOf(Ctor, Base);
}

// ------------------------------------------------------------------ Socket stand-in

// RequestSocket is the per-request socket view: addresses, encrypted flag, close/timeout events.
// One is built per request: the flags every socket starts with live on the prototype.
function RequestSocket(remoteAddress, remotePort, encrypted) {
  EE.call(this);
  this.remoteAddress = remoteAddress;
  this.remotePort = remotePort;
  if (remoteAddress && remoteAddress.indexOf(':') !== -1) this.remoteFamily = 'IPv6';
  if (encrypted) this.encrypted = true;
}
inherit(RequestSocket, EE);
RequestSocket.prototype.remoteFamily = 'IPv4';
RequestSocket.prototype.encrypted = false;
RequestSocket.prototype.readable = true;
RequestSocket.prototype.writable = true;
RequestSocket.prototype.destroyed = false;
RequestSocket.prototype.setTimeout = function (ms, cb) { if (cb) this.once('timeout', cb); return this; };
RequestSocket.prototype.setNoDelay = function () { return this; };
RequestSocket.prototype.setKeepAlive = function () { return this; };
RequestSocket.prototype.address = function () { return { address: '127.0.0.1', family: 'IPv4', port: 0 }; };
RequestSocket.prototype.destroy = function () {
  if (this.destroyed) return this;
  this.destroyed = true;
  this.readable = this.writable = false;
  if (this._onDestroy) this._onDestroy();
  var self = this;
  process.nextTick(function () { self.emit('close', false); });
  return this;
};
RequestSocket.prototype.end = RequestSocket.prototype.destroy;
RequestSocket.prototype.ref = RequestSocket.prototype.unref = function () { return this; };

// ------------------------------------------------------------------ IncomingMessage

// Fields every request starts with the same value of live on IncomingMessage.prototype (see below): an object is
// built per request, and each own property costs the engine a map slot.
function IncomingMessage(socket) {
  stream.Readable.call(this);
  this._readableState.readingMore = true; // the body is pushed by the embedder, never pulled
  this.socket = socket;
  this.rawHeaders = [];
  this.rawTrailers = [];
  this.headers = {};
  this.trailers = {};
}
inherit(IncomingMessage, stream.Readable);
(function (p) {
  p.httpVersionMajor = null;
  p.httpVersionMinor = null;
  p.httpVersion = null;
  p.complete = false;
  p.aborted = false;
  p.upgrade = null;
  p.url = '';
  p.method = null;
  p.statusCode = null;
  p.statusMessage = null;
})(IncomingMessage.prototype);
Object.defineProperty(IncomingMessage.prototype, 'connection', {
  configurable: true,
  get: function () { return this.socket; },
  set: function (v) { this.socket = v; }
});
IncomingMessage.prototype.setTimeout = function (ms, cb) {
  if (cb) this.on('timeout', cb);
  if (this.socket) this.socket.setTimeout(ms);
  return this;
};
IncomingMessage.prototype._read = function () {};
IncomingMessage.prototype._destroy = function (err, cb) {
  if (!this.readableEnded || !this.complete) {
    this.aborted = true;
    if (this.socket && !this.socket.destroyed && err) this.socket.destroy(err);
  }
  cb(err);
};
Object.defineProperty(IncomingMessage.prototype, 'headersDistinct', {
  configurable: true,
  get: function () {
    var out = {};
    for (var i = 0; i + 1 < this.rawHeaders.length; i += 2) {
      var k = this.rawHeaders[i].toLowerCase();
      (out[k] = out[k] || []).push(this.rawHeaders[i + 1]);
    }
    return out;
  }
});

// ------------------------------------------------------------------ OutgoingMessage / ServerResponse

var kHeaders = '_scHeaders';

// Like IncomingMessage, the per-response defaults live on the prototype.
function OutgoingMessage() {
  stream.Stream.call(this);
}
inherit(OutgoingMessage, stream.Stream);
(function (p) {
  p[kHeaders] = null; // lower-case name -> [name, value]
  p._header = null;
  p._headerSent = false;
  p._wireHeadSent = false;
  p._wireEnded = false;
  p.finished = false;
  p.writable = true;
  p.destroyed = false;
  p.sendDate = false;
  p.chunkedEncoding = false;
  p.useChunkedEncodingByDefault = true;
  p.shouldKeepAlive = true;
  p._contentLength = null;
  p._hasBody = true;
  p._corked = 0;
  p._finishedFlag = false;
  p.strictContentLength = false;
  p.socket = null;
  p._wire = null;
  p._handle = 0;
})(OutgoingMessage.prototype);

Object.defineProperty(OutgoingMessage.prototype, 'connection', {
  configurable: true,
  get: function () { return this.socket; },
  set: function (v) { this.socket = v; }
});
Object.defineProperty(OutgoingMessage.prototype, 'headersSent', {
  configurable: true,
  get: function () { return !!this._header; }
});
Object.defineProperty(OutgoingMessage.prototype, 'writableEnded', {
  configurable: true,
  get: function () { return this.finished; }
});
Object.defineProperty(OutgoingMessage.prototype, 'writableFinished', {
  configurable: true,
  get: function () { return this._finishedFlag; }
});
Object.defineProperty(OutgoingMessage.prototype, 'writableObjectMode', { configurable: true, get: function () { return false; } });
Object.defineProperty(OutgoingMessage.prototype, 'writableLength', { configurable: true, get: function () { return 0; } });
Object.defineProperty(OutgoingMessage.prototype, 'writableHighWaterMark', { configurable: true, get: function () { return 16384; } });
Object.defineProperty(OutgoingMessage.prototype, 'writableCorked', { configurable: true, get: function () { return this._corked; } });
Object.defineProperty(OutgoingMessage.prototype, 'writableNeedDrain', { configurable: true, get: function () { return false; } });

OutgoingMessage.prototype.setHeader = function (name, value) {
  if (this._header) throw codeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot set headers after they are sent to the client');
  validateHeaderName(name);
  validateHeaderValue(name, value);
  if (this[kHeaders] === null) this[kHeaders] = Object.create(null);
  this[kHeaders][lowerName(name)] = [name, value];
  return this;
};
OutgoingMessage.prototype.appendHeader = function (name, value) {
  if (this._header) throw codeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot append headers after they are sent to the client');
  validateHeaderName(name);
  validateHeaderValue(name, value);
  var key = name.toLowerCase();
  if (this[kHeaders] === null) this[kHeaders] = Object.create(null);
  var cur = this[kHeaders][key];
  if (!cur) { this[kHeaders][key] = [name, value]; return this; }
  var list = Array.isArray(cur[1]) ? cur[1].slice() : [cur[1]];
  this[kHeaders][key] = [cur[0], list.concat(value)];
  return this;
};
OutgoingMessage.prototype.getHeader = function (name) {
  if (typeof name !== 'string') throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "name" argument must be of type string');
  var h = this[kHeaders];
  if (h === null) return undefined;
  var e = h[lowerName(name)];
  return e && e[1];
};
OutgoingMessage.prototype.getHeaderNames = function () { return this[kHeaders] ? Object.keys(this[kHeaders]) : []; };
OutgoingMessage.prototype.getRawHeaderNames = function () {
  var h = this[kHeaders];
  if (!h) return [];
  return Object.keys(h).map(function (k) { return h[k][0]; });
};
OutgoingMessage.prototype.getHeaders = function () {
  var out = Object.create(null);
  var h = this[kHeaders];
  if (h) for (var k in h) out[k] = h[k][1];
  return out;
};
OutgoingMessage.prototype.hasHeader = function (name) {
  return this[kHeaders] !== null && Object.prototype.hasOwnProperty.call(this[kHeaders], String(name).toLowerCase());
};
OutgoingMessage.prototype.removeHeader = function (name) {
  if (this._header) throw codeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot remove headers after they are sent to the client');
  if (this[kHeaders] !== null) delete this[kHeaders][String(name).toLowerCase()];
};
OutgoingMessage.prototype.setHeaders = function (headers) {
  var self = this;
  if (headers && typeof headers.forEach === 'function') headers.forEach(function (v, k) { self.setHeader(k, v); });
  else for (var k in headers) this.setHeader(k, headers[k]);
  return this;
};
OutgoingMessage.prototype.setTimeout = function (ms, cb) {
  if (cb) this.on('timeout', cb);
  if (this.socket && this.socket.setTimeout) this.socket.setTimeout(ms);
  return this;
};
OutgoingMessage.prototype.cork = function () { this._corked++; };
OutgoingMessage.prototype.uncork = function () { if (this._corked) this._corked--; };
OutgoingMessage.prototype.destroy = function (err) {
  if (this.destroyed) return this;
  this.destroyed = true;
  if (this._wire && !this._wireEnded) { this._wireEnded = true; this._wire.abort(this._handle); }
  var self = this;
  process.nextTick(function () {
    if (err) self.emit('error', err);
    self.emit('close');
  });
  return this;
};
OutgoingMessage.prototype.flushHeaders = function () {
  if (!this._header) this._implicitHeader();
  this._sendWireHead();
  if (this._wire) this._wire.flush(this._handle);
};
OutgoingMessage.prototype._implicitHeader = function () {
  throw codeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', 'The _implicitHeader() method is not implemented');
};

OutgoingMessage.prototype._flatHeaders = function () {
  var flat = [];
  var h = this[kHeaders];
  if (h) {
    for (var k in h) {
      var e = h[k];
      if (Array.isArray(e[1])) {
        for (var i = 0; i < e[1].length; i++) flat.push(e[0], String(e[1][i]));
      } else {
        flat.push(e[0], String(e[1]));
      }
    }
  }
  return flat;
};

OutgoingMessage.prototype._sendWireHead = function () {
  if (this._wireHeadSent) return;
  this._wireHeadSent = true;
  this._headerSent = true;
  if (this._wire) this._wire.head(this._handle, this.statusCode, this.statusMessage, this._flatHeaders());
};

OutgoingMessage.prototype.write = function (chunk, encoding, cb) {
  if (typeof encoding === 'function') { cb = encoding; encoding = null; }
  if (this.finished) {
    // Node reports this asynchronously as an 'error' event; workers written for SocketCluster expect the throw.
    throw codeError(Error, 'ERR_STREAM_WRITE_AFTER_END', 'write after end');
  }
  if (chunk === null) throw codeError(TypeError, 'ERR_STREAM_NULL_VALUES', 'May not write null values to stream');
  if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
  }
  if (!this._header) this._implicitHeader();
  this._sendWireHead();
  if (this._hasBody && this._wire && chunk.length) this._wire.write(this._handle, chunk, encoding || 'utf8');
  if (cb) process.nextTick(cb);
  return true;
};

OutgoingMessage.prototype.end = function (chunk, encoding, cb) {
  if (typeof chunk === 'function') { cb = chunk; chunk = null; encoding = null; }
  else if (typeof encoding === 'function') { cb = encoding; encoding = null; }
  if (this.finished) {
    if (cb) process.nextTick(cb);
    return this;
  }
  if (chunk !== null && chunk !== undefined) {
    if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) {
      throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
    }
  }
  if (!this._header) {
    // The whole body is known: announce its length as Node does for end(data).
    var len = chunk === null || chunk === undefined ? 0
      : typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding || 'utf8') : chunk.length;
    this._contentLength = len;
    this._implicitHeader();
  }
  this._sendWireHead();
  this.finished = true;
  this.writable = false;
  if (this._wire && !this._wireEnded) {
    this._wireEnded = true;
    // The last chunk travels with the end so the whole body is known at once.
    if (chunk !== null && chunk !== undefined && chunk.length && this._hasBody) {
      this._wire.end(this._handle, chunk, encoding || 'utf8');
    } else {
      this._wire.end(this._handle);
    }
  }
  if (cb) this.once('finish', cb);
  process.nextTick(finishResponse, this);
  return this;
};

function finishResponse(res) {
  res.emit('prefinish');
  res._finishedFlag = true;
  res.emit('finish');
  process.nextTick(emitClose, res);
}

function emitClose(res) { res.emit('close'); }

function ServerResponse(req, options) {
  OutgoingMessage.call(this, options);
  this.req = req;
  if (req && req.method === 'HEAD') this._hasBody = false;
  if (req && req.socket) this.socket = req.socket;
}
inherit(ServerResponse, OutgoingMessage);
(function (p) {
  p.statusCode = 200;
  p.statusMessage = undefined;
  p.sendDate = true;
  p._sent100 = false;
  p._expect_continue = false;
})(ServerResponse.prototype);

ServerResponse.prototype._implicitHeader = function () { this.writeHead(this.statusCode); };

ServerResponse.prototype.writeHead = function (statusCode, reason, obj) {
  if (this._header) throw codeError(Error, 'ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
  var originalStatusCode = statusCode;
  statusCode |= 0;
  if (statusCode < 100 || statusCode > 999) {
    throw codeError(RangeError, 'ERR_HTTP_INVALID_STATUS_CODE', 'Invalid status code: ' + originalStatusCode);
  }
  if (typeof reason === 'string') {
    this.statusMessage = reason;
  } else {
    if (!this.statusMessage) this.statusMessage = STATUS_CODES[statusCode] || 'unknown';
    obj = reason;
  }
  this.statusCode = statusCode;
  if (obj) {
    if (Array.isArray(obj)) {
      for (var i = 0; i + 1 < obj.length; i += 2) this.appendHeader(obj[i], obj[i + 1]);
    } else {
      for (var k in obj) if (obj[k] !== undefined) this.setHeader(k, obj[k]);
    }
  }
  if (statusCode === 204 || statusCode === 304 || (statusCode >= 100 && statusCode <= 199)) this._hasBody = false;
  var h = this[kHeaders];
  if (this._contentLength !== null && this._hasBody &&
      (h === null || (h['content-length'] === undefined && h['transfer-encoding'] === undefined))) {
    this.setHeader('Content-Length', this._contentLength);
  }
  this._header = 'HTTP/1.1 ' + statusCode + ' ' + this.statusMessage + '\r\n';
  return this;
};
ServerResponse.prototype.writeHeader = ServerResponse.prototype.writeHead;
ServerResponse.prototype.writeContinue = function (cb) { this._sent100 = true; if (cb) process.nextTick(cb); };
ServerResponse.prototype.writeProcessing = function (cb) { if (cb) process.nextTick(cb); };
ServerResponse.prototype.writeEarlyHints = function (hints, cb) { if (cb) process.nextTick(cb); };
ServerResponse.prototype.assignSocket = function (socket) { this.socket = socket; this.emit('socket', socket); };
ServerResponse.prototype.detachSocket = function () { this.socket = null; };

// ------------------------------------------------------------------ Server (minimal)

function Server(options, requestListener) {
  if (!(this instanceof Server)) return new Server(options, requestListener);
  if (typeof options === 'function') { requestListener = options; options = {}; }
  EE.call(this);
  this.listening = false;
  this.timeout = 0;
  this.keepAliveTimeout = 5000;
  this.headersTimeout = 60000;
  this.requestTimeout = 300000;
  this.maxHeadersCount = null;
  if (requestListener) this.on('request', requestListener);
}
inherit(Server, EE);
// listen cannot open a port inside a worker: the worker's own HTTP server serves the app (forward its 'req' events
// to this server's 'request' listeners with worker.getHTTPServer().on('req', server.listeners('request')[0])).
Server.prototype.listen = function () {
  var cb = arguments[arguments.length - 1];
  this.listening = true;
  var self = this;
  process.nextTick(function () {
    self.emit('listening');
    if (typeof cb === 'function') cb();
  });
  return this;
};
Server.prototype.close = function (cb) {
  this.listening = false;
  var self = this;
  process.nextTick(function () { self.emit('close'); if (typeof cb === 'function') cb(); });
  return this;
};
Server.prototype.address = function () { return null; };
Server.prototype.setTimeout = function (ms, cb) { this.timeout = ms; if (cb) this.on('timeout', cb); return this; };
Server.prototype.closeAllConnections = Server.prototype.closeIdleConnections = function () {};
Server.prototype.ref = Server.prototype.unref = function () { return this; };

function Agent(options) { EE.call(this); this.options = options || {}; this.maxSockets = Infinity; }
inherit(Agent, EE);
Agent.prototype.destroy = function () {};

function unsupportedClient() {
  throw codeError(Error, 'ERR_NOT_SUPPORTED', 'Outgoing HTTP requests are not available in a SocketCluster worker');
}

exports.STATUS_CODES = STATUS_CODES;
exports.METHODS = METHODS.slice().sort();
exports.IncomingMessage = IncomingMessage;
exports.OutgoingMessage = OutgoingMessage;
exports.ServerResponse = ServerResponse;
exports.Server = Server;
exports.Agent = Agent;
exports.globalAgent = new Agent();
exports.ClientRequest = function ClientRequest() { unsupportedClient(); };
exports.createServer = function (options, listener) { return new Server(options, listener); };
exports.request = unsupportedClient;
exports.get = unsupportedClient;
exports.validateHeaderName = validateHeaderName;
exports.validateHeaderValue = validateHeaderValue;
exports.maxHeaderSize = 16384;
exports.setMaxIdleHTTPParsers = function () {};
exports._RequestSocket = RequestSocket;
