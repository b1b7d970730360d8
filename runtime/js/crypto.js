'use strict';
// crypto: Go-backed hashes, HMAC, random bytes/UUIDs and timing-safe comparison; secret KeyObjects for HMAC keys.
// Ciphers, signatures and key pairs are not available.

var Buffer = require('buffer').Buffer;
var stream = require('stream');
var native = internal;

function codeError(Ctor, code, msg) {
  var e = new Ctor(msg);
  e.code = code;
  return e;
}

function toBytes(data, enc) {
  if (typeof data === 'string') return Buffer.from(data, enc || 'utf8');
  if (data instanceof KeyObject) return data._key;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE',
    'The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.');
}

function output(ab, enc) {
  var b = Buffer.from(ab);
  return enc && enc !== 'buffer' ? b.toString(enc) : b;
}

// Hash is a stream.Transform whose stream half is built on first use (like Node's LazyTransform): most hashes
// only see update/digest (ETags on every Express response), and the stream state is the larger part of the cost.
function Hash(alg, key, isHmac) {
  if (!(this instanceof Hash)) return new Hash(alg, key, isHmac);
  var name = String(alg).toLowerCase();
  this._h = isHmac ? native.newHmac(name, toBytes(key)) : native.newHash(name);
  this._done = false;
}
Object.setPrototypeOf(Hash.prototype, stream.Transform.prototype);
Object.setPrototypeOf(Hash, stream.Transform);
['_readableState', '_writableState', 'allowHalfOpen', '_transformCallback'].forEach(function (prop) {
  Object.defineProperty(Hash.prototype, prop, {
    configurable: true,
    enumerable: true,
    get: function () {
      if (this._streamInit !== true) {
        this._streamInit = true;
        stream.Transform.call(this);
      }
      return Object.prototype.hasOwnProperty.call(this, prop) ? this[prop] : undefined;
    },
    set: function (v) {
      Object.defineProperty(this, prop, { value: v, writable: true, enumerable: true, configurable: true });
    }
  });
});
Hash.prototype.update = function (data, enc) {
  if (this._done) throw codeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
  if (typeof data === 'string' && (enc === undefined || enc === 'utf8' || enc === 'utf-8')) native.updateString(this._h, data);
  else if (data instanceof Uint8Array) native.updateBytes(this._h, data);
  else native.update(this._h, toBytes(data, enc));
  return this;
};
Hash.prototype.digest = function (enc) {
  if (this._done) throw codeError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
  this._done = true;
  if (enc === 'base64' || enc === 'hex' || enc === 'base64url') return native.digestString(this._h, enc);
  return output(native.digest(this._h), enc);
};
Hash.prototype._transform = function (chunk, enc, cb) { this.update(chunk, enc); cb(); };
Hash.prototype._flush = function (cb) { this.push(this.digest()); cb(); };

function KeyObject(type, key) {
  this.type = type;
  this._key = key;
}
Object.defineProperty(KeyObject.prototype, 'symmetricKeySize', {
  get: function () { return this.type === 'secret' ? this._key.length : undefined; }
});
KeyObject.prototype.export = function (opts) {
  if (opts && opts.format === 'jwk') return { kty: 'oct', k: this._key.toString('base64url') };
  return Buffer.from(this._key);
};
KeyObject.prototype.equals = function (other) {
  return other instanceof KeyObject && other.type === this.type && native.timingSafeEqual(this._key, other._key) &&
    this._key.length === other._key.length;
};

function notPEM(what) {
  return function (key) {
    var text = typeof key === 'string' ? key : key && typeof key.key === 'string' ? key.key : '';
    if (text.indexOf('-----BEGIN') !== -1) {
      throw codeError(Error, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', what + ' keys are not supported in this runtime');
    }
    throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "key" argument must be a PEM string or key object');
  };
}

function randomBytes(size, cb) {
  if (typeof size !== 'number' || size < 0 || size !== size) {
    throw codeError(RangeError, 'ERR_OUT_OF_RANGE', 'The value of "size" is out of range. Received ' + size);
  }
  var buf = Buffer.from(native.randomBytes(size));
  if (typeof cb === 'function') { process.nextTick(cb, null, buf); return undefined; }
  return buf;
}

function randomFillSync(buf, offset, size) {
  offset = offset || 0;
  var view = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (size === undefined) size = view.length - offset;
  var src = new Uint8Array(native.randomBytes(size));
  view.set(src, offset);
  return buf;
}

function timingSafeEqual(a, b) {
  a = toBytes(a); b = toBytes(b);
  if (a.length !== b.length) {
    throw codeError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
  }
  return native.timingSafeEqual(a, b);
}

exports.createHash = function (alg, opts) { return new Hash(alg, null, false); };
exports.createHmac = function (alg, key) {
  if (key === null || key === undefined) throw codeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "key" argument must be of type string or an instance of Buffer, TypedArray, DataView, or KeyObject.');
  return new Hash(alg, key, true);
};
exports.Hash = Hash;
exports.Hmac = Hash;
exports.hash = function (alg, data, enc) { return new Hash(alg).update(data).digest(enc === undefined ? 'hex' : enc); };
exports.getHashes = function () { return native.hashes().sort(); };
exports.getCiphers = function () { return []; };
exports.getCurves = function () { return []; };
exports.randomBytes = randomBytes;
exports.pseudoRandomBytes = randomBytes;
exports.randomFillSync = randomFillSync;
exports.randomFill = function (buf, offset, size, cb) {
  if (typeof offset === 'function') { cb = offset; offset = 0; size = undefined; }
  else if (typeof size === 'function') { cb = size; size = undefined; }
  randomFillSync(buf, offset, size);
  process.nextTick(cb, null, buf);
};
exports.randomUUID = function () { return native.randomUUID(); };
exports.randomInt = function (min, max, cb) {
  if (max === undefined || typeof max === 'function') { cb = max; max = min; min = 0; }
  var range = max - min;
  var bytes = new Uint8Array(native.randomBytes(6));
  var n = 0;
  for (var i = 0; i < 6; i++) n = n * 256 + bytes[i];
  var v = min + Math.floor((n / 281474976710656) * range);
  if (typeof cb === 'function') { process.nextTick(cb, null, v); return undefined; }
  return v;
};
exports.timingSafeEqual = timingSafeEqual;
exports.KeyObject = KeyObject;
exports.createSecretKey = function (key, enc) { return new KeyObject('secret', Buffer.from(toBytes(key, enc))); };
exports.createPublicKey = notPEM('Public');
exports.createPrivateKey = notPEM('Private');
exports.webcrypto = { getRandomValues: function (a) { return randomFillSync(a); }, randomUUID: exports.randomUUID };
exports.getRandomValues = exports.webcrypto.getRandomValues;
exports.constants = {};
