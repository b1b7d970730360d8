'use strict';
// net: address helpers (isIP and friends) and a Socket type for instanceof checks; workers do not open raw sockets.
var stream = require('stream');

var v4Seg = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
var v4Str = '(?:' + v4Seg + '\\.){3}' + v4Seg;
var IPv4Reg = new RegExp('^' + v4Str + '$');
var v6Seg = '(?:[0-9a-fA-F]{1,4})';
var IPv6Reg = new RegExp('^(?:' +
  '(?:' + v6Seg + ':){7}(?:' + v6Seg + '|:)|' +
  '(?:' + v6Seg + ':){6}(?:' + v4Str + '|:' + v6Seg + '|:)|' +
  '(?:' + v6Seg + ':){5}(?::' + v4Str + '|(?::' + v6Seg + '){1,2}|:)|' +
  '(?:' + v6Seg + ':){4}(?:(?::' + v6Seg + '){0,1}:' + v4Str + '|(?::' + v6Seg + '){1,3}|:)|' +
  '(?:' + v6Seg + ':){3}(?:(?::' + v6Seg + '){0,2}:' + v4Str + '|(?::' + v6Seg + '){1,4}|:)|' +
  '(?:' + v6Seg + ':){2}(?:(?::' + v6Seg + '){0,3}:' + v4Str + '|(?::' + v6Seg + '){1,5}|:)|' +
  '(?:' + v6Seg + ':){1}(?:(?::' + v6Seg + '){0,4}:' + v4Str + '|(?::' + v6Seg + '){1,6}|:)|' +
  '(?::(?:(?::' + v6Seg + '){0,5}:' + v4Str + '|(?::' + v6Seg + '){1,7}|:))' +
')(?:%[0-9a-zA-Z-.:]{1,})?$');

function isIPv4(s) { return IPv4Reg.test(String(s)); }
function isIPv6(s) { return IPv6Reg.test(String(s)); }
function isIP(s) { s = String(s); return isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0; }

function Socket(options) {
  if (!(this instanceof Socket)) return new Socket(options);
  stream.Duplex.call(this, options);
  this.remoteAddress = options && options.remoteAddress;
  this.remotePort = options && options.remotePort;
  this.encrypted = false;
}
Object.setPrototypeOf(Socket.prototype, stream.Duplex.prototype);
Object.setPrototypeOf(Socket, stream.Duplex);
Socket.prototype._read = function () {};
Socket.prototype._write = function (c, e, cb) { cb(); };
Socket.prototype.setTimeout = function (ms, cb) { if (cb) this.once('timeout', cb); return this; };
Socket.prototype.setNoDelay = function () { return this; };
Socket.prototype.setKeepAlive = function () { return this; };
Socket.prototype.address = function () { return { address: this.localAddress, port: this.localPort, family: 'IPv4' }; };
Socket.prototype.ref = Socket.prototype.unref = function () { return this; };

function unsupported(name) {
  return function () {
    var e = new Error('net.' + name + ' is not available in a SocketCluster worker');
    e.code = 'ERR_NOT_SUPPORTED';
    throw e;
  };
}

exports.isIP = isIP;
exports.isIPv4 = isIPv4;
exports.isIPv6 = isIPv6;
exports.Socket = Socket;
exports.Stream = Socket;
exports.createServer = unsupported('createServer');
exports.connect = exports.createConnection = unsupported('connect');
