'use strict';
// buffer: the goja_nodejs Buffer plus the Node API it lacks (latin1/binary/ascii/ucs2, isBuffer, byteLength, ...).

var base = internal.base; // goja_nodejs buffer exports
var Buffer = base.Buffer;
var proto = Buffer.prototype;

function normEnc(enc) {
  if (enc === undefined || enc === null || enc === 'utf8') return 'utf8';
  if (enc === 'hex' || enc === 'base64' || enc === 'latin1') return enc;
  var e = String(enc).toLowerCase();
  switch (e) {
    case 'utf8': case 'utf-8': return 'utf8';
    case 'hex': return 'hex';
    case 'base64': return 'base64';
    case 'base64url': return 'base64url';
    case 'latin1': case 'binary': return 'latin1';
    case 'ascii': return 'ascii';
    case 'ucs2': case 'ucs-2': case 'utf16le': case 'utf-16le': return 'utf16le';
  }
  return undefined;
}

function unknownEncoding(enc) {
  var e = new TypeError('Unknown encoding: ' + enc);
  e.code = 'ERR_UNKNOWN_ENCODING';
  return e;
}

function bytesOfString(str, enc) {
  var out, i;
  if (enc === 'latin1' || enc === 'ascii') {
    out = new Array(str.length);
    for (i = 0; i < str.length; i++) out[i] = str.charCodeAt(i) & 0xff;
    return out;
  }
  // utf16le
  out = new Array(str.length * 2);
  for (i = 0; i < str.length; i++) {
    var c = str.charCodeAt(i);
    out[2 * i] = c & 0xff;
    out[2 * i + 1] = c >> 8;
  }
  return out;
}

// utf8Buffer is Buffer.from(str, 'utf8') in one Go call (goja_nodejs copies the string three times).
function utf8Buffer(str) {
  var view = new Uint8Array(internal.utf8Bytes(str));
  Object.setPrototypeOf(view, proto);
  return view;
}

var origFrom = Buffer.from;
Buffer.from = function from(v, encOrOffset, length) {
  if (typeof v === 'string') {
    if (encOrOffset === undefined || encOrOffset === 'utf8' || encOrOffset === 'utf-8') return utf8Buffer(v);
    var enc = normEnc(encOrOffset);
    if (enc === undefined) throw unknownEncoding(encOrOffset);
    if (enc === 'latin1' || enc === 'ascii' || enc === 'utf16le') return origFrom.call(Buffer, bytesOfString(v, enc));
    if (enc === 'base64url') return origFrom.call(Buffer, v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (enc === 'utf8') return utf8Buffer(v);
    return origFrom.call(Buffer, v, enc);
  }
  if (v instanceof ArrayBuffer) {
    var off = encOrOffset === undefined ? 0 : encOrOffset;
    var len = length === undefined ? v.byteLength - off : length;
    var view = new Uint8Array(v, off, len);
    Object.setPrototypeOf(view, proto);
    return view;
  }
  return origFrom.apply(Buffer, arguments);
};

var origToString = proto.toString;
proto.toString = function toString(enc, start, end) {
  var e = normEnc(enc);
  if (e === undefined) throw unknownEncoding(enc);
  start = start === undefined ? 0 : Math.max(0, start | 0);
  end = end === undefined ? this.length : Math.min(this.length, end | 0);
  if (end <= start) return '';
  if (e === 'latin1' || e === 'ascii' || e === 'utf16le') {
    var s = '';
    var i;
    if (e === 'utf16le') {
      for (i = start; i + 1 < end; i += 2) s += String.fromCharCode(this[i] | (this[i + 1] << 8));
      return s;
    }
    var mask = e === 'ascii' ? 0x7f : 0xff;
    for (i = start; i < end; i += 4096) {
      var chunk = [];
      for (var j = i; j < Math.min(end, i + 4096); j++) chunk.push(this[j] & mask);
      s += String.fromCharCode.apply(null, chunk);
    }
    return s;
  }
  if (e === 'base64url') return origToString.call(this, 'base64', start, end).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return origToString.call(this, e, start, end);
};

proto.toJSON = function toJSON() {
  return { type: 'Buffer', data: Array.prototype.slice.call(this) };
};
proto.slice = function slice(start, end) {
  return this.subarray(start, end);
};
proto.subarray = function subarray(start, end) {
  var v = Uint8Array.prototype.subarray.call(this, start, end);
  Object.setPrototypeOf(v, proto);
  return v;
};
proto.copy = function copy(target, targetStart, sourceStart, sourceEnd) {
  targetStart = targetStart || 0;
  sourceStart = sourceStart || 0;
  sourceEnd = sourceEnd === undefined ? this.length : sourceEnd;
  var n = Math.min(sourceEnd - sourceStart, target.length - targetStart);
  if (n <= 0) return 0;
  target.set(Uint8Array.prototype.subarray.call(this, sourceStart, sourceStart + n), targetStart);
  return n;
};
proto.compare = function compare(other) { return Buffer.compare(this, other); };
proto.inspect = function () { return require('util').inspect(this); };
proto.toLocaleString = proto.toString;

Buffer.isBuffer = function isBuffer(b) { return b instanceof Buffer; };
Buffer.isEncoding = function isEncoding(e) { return typeof e === 'string' && normEnc(e) !== undefined; };
Buffer.byteLength = function byteLength(v, enc) {
  if (typeof v !== 'string') return v.byteLength;
  if (enc === undefined || enc === 'utf8' || enc === 'utf-8') return internal.utf8Length(v);
  return Buffer.from(v, enc).length;
};
Buffer.allocUnsafe = function allocUnsafe(n) { return Buffer.alloc(n); };
Buffer.allocUnsafeSlow = Buffer.allocUnsafe;
Buffer.compare = function compare(a, b) {
  var n = Math.min(a.length, b.length);
  for (var i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length === b.length ? 0 : (a.length < b.length ? -1 : 1);
};

module.exports = {
  Buffer: Buffer,
  kMaxLength: 4294967296,
  constants: { MAX_LENGTH: 4294967296, MAX_STRING_LENGTH: 536870888 },
  INSPECT_MAX_BYTES: 50,
  SlowBuffer: Buffer
};
