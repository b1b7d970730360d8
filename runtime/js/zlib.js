'use strict';
// zlib: Go-backed gzip/deflate/deflateRaw compression (streams and sync) and gunzip/inflate/inflateRaw/unzip.
// Decompression streams buffer their input and inflate it at the end. Brotli is not available.

var Buffer = require('buffer').Buffer;
var stream = require('stream');
var native = internal;

var constants = {
  Z_NO_FLUSH: 0, Z_PARTIAL_FLUSH: 1, Z_SYNC_FLUSH: 2, Z_FULL_FLUSH: 3, Z_FINISH: 4, Z_BLOCK: 5,
  Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3,
  Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6,
  Z_NO_COMPRESSION: 0, Z_BEST_SPEED: 1, Z_BEST_COMPRESSION: 9, Z_DEFAULT_COMPRESSION: -1,
  Z_FILTERED: 1, Z_HUFFMAN_ONLY: 2, Z_RLE: 3, Z_FIXED: 4, Z_DEFAULT_STRATEGY: 0,
  Z_MIN_WINDOWBITS: 8, Z_MAX_WINDOWBITS: 15, Z_DEFAULT_WINDOWBITS: 15,
  Z_MIN_LEVEL: -1, Z_MAX_LEVEL: 9, Z_DEFAULT_LEVEL: -1, Z_MIN_MEMLEVEL: 1, Z_MAX_MEMLEVEL: 9,
  Z_DEFAULT_MEMLEVEL: 8, Z_MIN_CHUNK: 64, Z_DEFAULT_CHUNK: 16384,
  BROTLI_OPERATION_PROCESS: 0, BROTLI_OPERATION_FLUSH: 1, BROTLI_OPERATION_FINISH: 2,
  BROTLI_PARAM_MODE: 0, BROTLI_MODE_GENERIC: 0, BROTLI_MODE_TEXT: 1, BROTLI_PARAM_QUALITY: 1,
  BROTLI_DEFAULT_QUALITY: 11, BROTLI_PARAM_SIZE_HINT: 5
};

function bytes(data) {
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  var e = new TypeError('The "buffer" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer.');
  e.code = 'ERR_INVALID_ARG_TYPE';
  throw e;
}

function zerror(e) {
  var code = e && e.code;
  if (code === 'Z_DATA_ERROR' || !code) {
    e.errno = constants.Z_DATA_ERROR;
    e.code = 'Z_DATA_ERROR';
  }
  return e;
}

function Compress(format, opts) {
  stream.Transform.call(this, opts);
  opts = opts || {};
  this._format = format;
  this._level = opts.level === undefined ? -1 : opts.level;
  this._z = native.newCompressor(format, this._level);
  this.bytesWritten = 0;
  this._flushFlag = opts.flush || constants.Z_NO_FLUSH;
}
Object.setPrototypeOf(Compress.prototype, stream.Transform.prototype);
Object.setPrototypeOf(Compress, stream.Transform);
Compress.prototype._transform = function (chunk, enc, cb) {
  var b = bytes(chunk);
  this.bytesWritten += b.length;
  var out = native.compressWrite(this._z, b);
  if (out.byteLength) this.push(Buffer.from(out));
  if (this._flushFlag !== constants.Z_NO_FLUSH) {
    var f = native.compressFlush(this._z);
    if (f.byteLength) this.push(Buffer.from(f));
  }
  cb();
};
Compress.prototype._flush = function (cb) {
  var out = native.compressEnd(this._z);
  if (out.byteLength) this.push(Buffer.from(out));
  cb();
};
// flush([kind], [callback]) emits everything compressed so far (Z_SYNC_FLUSH), as the compression middleware needs.
Compress.prototype.flush = function (kind, cb) {
  if (typeof kind === 'function') { cb = kind; kind = undefined; }
  var self = this;
  var doFlush = function () {
    var out = native.compressFlush(self._z);
    if (out.byteLength) self.push(Buffer.from(out));
    if (cb) process.nextTick(cb);
  };
  if (this.writableLength) this.once('drain', doFlush);
  else doFlush();
};
Compress.prototype.params = function (level, strategy, cb) { if (cb) process.nextTick(cb); };
Compress.prototype.reset = function () { this._z = native.newCompressor(this._format, this._level); };
Compress.prototype.close = function (cb) { if (cb) process.nextTick(cb); this.destroy(); };

function Decompress(format, opts) {
  stream.Transform.call(this, opts);
  this._format = format;
  this._chunks = [];
  this.bytesWritten = 0;
}
Object.setPrototypeOf(Decompress.prototype, stream.Transform.prototype);
Object.setPrototypeOf(Decompress, stream.Transform);
Decompress.prototype._transform = function (chunk, enc, cb) {
  var b = bytes(chunk);
  this.bytesWritten += b.length;
  this._chunks.push(Buffer.from(b));
  cb();
};
Decompress.prototype._flush = function (cb) {
  var out;
  try {
    out = native.inflateSync(this._format, Buffer.concat(this._chunks));
  } catch (e) {
    cb(zerror(e));
    return;
  }
  this._chunks = [];
  if (out.byteLength) this.push(Buffer.from(out));
  cb();
};
Decompress.prototype.flush = function (kind, cb) { if (typeof kind === 'function') cb = kind; if (cb) process.nextTick(cb); };
Decompress.prototype.close = Compress.prototype.close;
Decompress.prototype.reset = function () { this._chunks = []; };

function makeClass(name, Base, format) {
  var C = function (opts) {
    if (!(this instanceof C)) return new C(opts);
    Base.call(this, format, opts);
  };
  Object.defineProperty(C, 'name', { value: name });
  Object.setPrototypeOf(C.prototype, Base.prototype);
  Object.setPrototypeOf(C, Base);
  exports[name] = C;
  exports['create' + name] = function (opts) { return new C(opts); };
  return C;
}

makeClass('Gzip', Compress, 'gzip');
makeClass('Deflate', Compress, 'deflate');
makeClass('DeflateRaw', Compress, 'raw');
makeClass('Gunzip', Decompress, 'gzip');
makeClass('Inflate', Decompress, 'deflate');
makeClass('InflateRaw', Decompress, 'raw');
makeClass('Unzip', Decompress, 'unzip');

function syncAndAsync(name, fn) {
  exports[name + 'Sync'] = function (buf, opts) {
    try {
      return Buffer.from(fn(bytes(buf), opts || {}));
    } catch (e) {
      throw zerror(e);
    }
  };
  exports[name] = function (buf, opts, cb) {
    if (typeof opts === 'function') { cb = opts; opts = {}; }
    var out, err = null;
    try { out = exports[name + 'Sync'](buf, opts); } catch (e) { err = e; }
    process.nextTick(function () { cb(err, out); });
  };
}

function level(opts) { return opts.level === undefined ? -1 : opts.level; }
syncAndAsync('gzip', function (b, o) { return native.compressSync('gzip', b, level(o)); });
syncAndAsync('deflate', function (b, o) { return native.compressSync('deflate', b, level(o)); });
syncAndAsync('deflateRaw', function (b, o) { return native.compressSync('raw', b, level(o)); });
syncAndAsync('gunzip', function (b) { return native.inflateSync('gzip', b); });
syncAndAsync('inflate', function (b) { return native.inflateSync('deflate', b); });
syncAndAsync('inflateRaw', function (b) { return native.inflateSync('raw', b); });
syncAndAsync('unzip', function (b) { return native.inflateSync('unzip', b); });

function noBrotli() {
  var e = new Error('Brotli is not available in this runtime');
  e.code = 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM';
  throw e;
}
exports.createBrotliCompress = exports.createBrotliDecompress = noBrotli;
exports.brotliCompressSync = exports.brotliDecompressSync = noBrotli;
exports.constants = constants;
Object.keys(constants).forEach(function (k) { if (k.indexOf('Z_') === 0) exports[k] = constants[k]; });
exports.codes = { Z_OK: 0, Z_STREAM_END: 1, Z_NEED_DICT: 2, Z_ERRNO: -1, Z_STREAM_ERROR: -2, Z_DATA_ERROR: -3, Z_MEM_ERROR: -4, Z_BUF_ERROR: -5, Z_VERSION_ERROR: -6 };
exports.crc32 = function () { noBrotli(); };
