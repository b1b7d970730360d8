'use strict';
// string_decoder: decodes Buffers to strings without splitting multi-byte characters across chunks.

var Buffer = require('buffer').Buffer;

function normalize(enc) {
  var e = String(enc === undefined || enc === null ? 'utf8' : enc).toLowerCase();
  switch (e) {
    case 'utf8': case 'utf-8': return 'utf8';
    case 'ucs2': case 'ucs-2': case 'utf16le': case 'utf-16le': return 'utf16le';
    case 'latin1': case 'binary': return 'latin1';
    case 'base64': case 'base64url': case 'ascii': case 'hex': return e;
  }
  var err = new TypeError('Unknown encoding: ' + enc);
  err.code = 'ERR_UNKNOWN_ENCODING';
  throw err;
}

// utf8Need returns how many bytes the UTF-8 sequence starting with byte b has (1 for invalid lead bytes).
function utf8Need(b) {
  if (b < 0x80) return 1;
  if ((b & 0xe0) === 0xc0) return 2;
  if ((b & 0xf0) === 0xe0) return 3;
  if ((b & 0xf8) === 0xf0) return 4;
  return 1;
}

function StringDecoder(encoding) {
  this.encoding = normalize(encoding);
  this._pending = Buffer.alloc(0);
}

// _split returns how many bytes at the end of buf belong to an incomplete character.
StringDecoder.prototype._tail = function (buf) {
  var n = buf.length;
  switch (this.encoding) {
    case 'utf8':
      for (var back = 1; back <= 3 && back <= n; back++) {
        var b = buf[n - back];
        if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
        var need = utf8Need(b);
        return need > back ? back : 0;
      }
      return 0;
    case 'utf16le':
      if (n % 2 === 1) return 1;
      if (n >= 2) {
        var hi = buf[n - 1];
        if (hi >= 0xd8 && hi <= 0xdb) return 2; // lead surrogate waits for its pair
      }
      return 0;
    case 'base64': case 'base64url':
      return n % 3;
  }
  return 0;
};

StringDecoder.prototype.write = function (buf) {
  if (typeof buf === 'string') return buf;
  if (!(buf instanceof Uint8Array)) {
    var e = new TypeError('The "buf" argument must be an instance of Buffer, TypedArray, or DataView.');
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  if (!Buffer.isBuffer(buf)) buf = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (this._pending.length) buf = Buffer.concat([this._pending, buf]);
  var tail = this._tail(buf);
  if (tail) {
    this._pending = Buffer.from(buf.slice(buf.length - tail));
    buf = buf.slice(0, buf.length - tail);
  } else {
    this._pending = Buffer.alloc(0);
  }
  return buf.length ? buf.toString(this.encoding) : '';
};

StringDecoder.prototype.end = function (buf) {
  var out = buf !== undefined && buf !== null ? this.write(buf) : '';
  if (this._pending.length) {
    out += this.encoding === 'utf8' ? '\ufffd' : this._pending.toString(this.encoding);
    this._pending = Buffer.alloc(0);
  }
  return out;
};

StringDecoder.prototype.text = function (buf, offset) { return this.write(buf.slice(offset)); };

Object.defineProperty(StringDecoder.prototype, 'lastNeed', {
  get: function () { return this._pending.length ? 1 : 0; }
});

exports.StringDecoder = StringDecoder;
