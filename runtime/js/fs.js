'use strict';
// fs: the synchronous calls run on the loop against the app directory (and its overlay); the callback forms deliver
// their result from a later loop turn, as Node's do.

var pathMod = require('path');
var Buffer = require('buffer').Buffer;

function toPath(p, name) {
  if (p instanceof URL) {
    if (p.protocol !== 'file:') throw argType(name || 'path', p);
    p = decodeURIComponent(p.pathname);
  }
  if (Buffer.isBuffer(p)) p = p.toString();
  if (typeof p !== 'string') throw argType(name || 'path', p);
  return pathMod.resolve(p);
}

function argType(name, v) {
  var e = new TypeError('The "' + name + '" argument must be of type string or an instance of Buffer or URL. Received ' +
    (v === null ? 'null' : v === undefined ? 'undefined' : typeof v));
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
}

function optsOf(options, defEnc, defFlag) {
  if (options === undefined || options === null || typeof options === 'function') return { encoding: defEnc, flag: defFlag };
  if (typeof options === 'string') return { encoding: options, flag: defFlag };
  return { encoding: options.encoding === undefined ? defEnc : options.encoding, flag: options.flag || defFlag, recursive: !!options.recursive, withFileTypes: !!options.withFileTypes, mode: options.mode };
}

function Stats(s) {
  this.dev = 0;
  this.mode = s.mode;
  this.nlink = 1;
  this.uid = 0;
  this.gid = 0;
  this.rdev = 0;
  this.blksize = 4096;
  this.ino = 0;
  this.size = s.size;
  this.blocks = Math.ceil(s.size / 512);
  this.atimeMs = s.mtimeMs;
  this.mtimeMs = s.mtimeMs;
  this.ctimeMs = s.mtimeMs;
  this.birthtimeMs = s.mtimeMs;
  // Node rounds the millisecond time of its Date fields (send/express.static ETags depend on it).
  var ms = Math.round(s.mtimeMs);
  this.atime = new Date(ms);
  this.mtime = new Date(ms);
  this.ctime = new Date(ms);
  this.birthtime = new Date(ms);
  Object.defineProperty(this, '_kind', { value: s.kind });
}
Stats.prototype.isFile = function () { return this._kind === 'file'; };
Stats.prototype.isDirectory = function () { return this._kind === 'dir'; };
Stats.prototype.isSymbolicLink = function () { return this._kind === 'link'; };
Stats.prototype.isFIFO = function () { return false; };
Stats.prototype.isSocket = function () { return false; };
Stats.prototype.isBlockDevice = function () { return false; };
Stats.prototype.isCharacterDevice = function () { return false; };

function Dirent(name, kind, dir) {
  this.name = name;
  this.path = dir;
  Object.defineProperty(this, '_kind', { value: kind });
}
Dirent.prototype = Object.create(Stats.prototype);
Dirent.prototype.constructor = Dirent;

function decode(buf, encoding) {
  if (encoding === undefined || encoding === null || encoding === 'buffer') return buf;
  return buf.toString(encoding);
}

function readFileSync(p, options) {
  var o = optsOf(options, null, 'r');
  if (typeof p === 'number') throw new Error('file descriptors are not supported');
  if (o.encoding && !Buffer.isEncoding(o.encoding) && o.encoding !== 'buffer') {
    var e = new TypeError('The argument \'encoding\' is invalid encoding. Received \'' + o.encoding + '\'');
    e.code = 'ERR_INVALID_ARG_VALUE';
    throw e;
  }
  var buf = Buffer.from(internal.readFile(toPath(p)));
  return decode(buf, o.encoding);
}

function toBytes(data, encoding) {
  var b;
  if (typeof data === 'string') b = Buffer.from(data, encoding || 'utf8');
  else if (ArrayBuffer.isView(data)) b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  else if (data instanceof ArrayBuffer) b = Buffer.from(data);
  else {
    var e = new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView. Received ' + typeof data);
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

function writeFileSync(p, data, options) {
  var o = optsOf(options, 'utf8', 'w');
  internal.writeFile(toPath(p), toBytes(data, o.encoding), o.flag.charAt(0) === 'a');
}

function appendFileSync(p, data, options) {
  var o = optsOf(options, 'utf8', 'a');
  internal.writeFile(toPath(p), toBytes(data, o.encoding), true);
}

function statSync(p, options) {
  try {
    return new Stats(internal.stat(toPath(p), false));
  } catch (e) {
    if (options && options.throwIfNoEntry === false && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

function lstatSync(p, options) {
  try {
    return new Stats(internal.stat(toPath(p), true));
  } catch (e) {
    if (options && options.throwIfNoEntry === false && e.code === 'ENOENT') return undefined;
    throw e;
  }
}

function existsSync(p) {
  try {
    return internal.exists(toPath(p));
  } catch (e) {
    return false;
  }
}

function readdirSync(p, options) {
  var o = optsOf(options, 'utf8');
  var dir = toPath(p);
  var names = internal.readdir(dir);
  if (o.withFileTypes) {
    return names.map(function (n) {
      var s;
      try { s = internal.stat(pathMod.join(dir, n), true); } catch (e) { s = { kind: 'file' }; }
      return new Dirent(n, s.kind, dir);
    });
  }
  if (o.encoding === 'buffer') return names.map(function (n) { return Buffer.from(n); });
  return names;
}

function mkdirSync(p, options) {
  var recursive = typeof options === 'object' && options !== null && !!options.recursive;
  var dir = toPath(p);
  var existed = recursive && existsSync(dir);
  internal.mkdir(dir, recursive);
  return recursive && !existed ? dir : undefined;
}

function unlinkSync(p) { internal.remove(toPath(p)); }
function rmdirSync(p) { internal.remove(toPath(p)); }

function accessSync(p) {
  internal.stat(toPath(p), false);
}

function realpathSync(p) {
  var abs = toPath(p);
  internal.stat(abs, false);
  return abs;
}
realpathSync.native = realpathSync;

// async wraps a sync function into Node's callback form: the callback runs on a later loop turn.
function async(fn, arity) {
  return function (...args) {
    var cb = args[args.length - 1];
    if (typeof cb !== 'function') {
      var e = new TypeError('The "cb" argument must be of type function. Received ' + typeof cb);
      e.code = 'ERR_INVALID_ARG_TYPE';
      throw e;
    }
    args.pop();
    if (args.length > arity) args.length = arity;
    var res, err = null;
    try {
      res = fn.apply(null, args);
    } catch (x) {
      err = x;
    }
    if (err) setImmediate(cb, err);
    else setImmediate(cb, null, res);
  };
}

function promised(fn) {
  return function () {
    var args = arguments;
    return new Promise(function (resolve, reject) {
      try {
        var r = fn.apply(null, args);
        setImmediate(function () { resolve(r); });
      } catch (e) {
        setImmediate(function () { reject(e); });
      }
    });
  };
}

function exists(p, cb) {
  var r = existsSync(p);
  setImmediate(function () { cb(r); });
}

var fs = {
  readFileSync: readFileSync,
  writeFileSync: writeFileSync,
  appendFileSync: appendFileSync,
  statSync: statSync,
  lstatSync: lstatSync,
  existsSync: existsSync,
  readdirSync: readdirSync,
  mkdirSync: mkdirSync,
  unlinkSync: unlinkSync,
  rmdirSync: rmdirSync,
  accessSync: accessSync,
  realpathSync: realpathSync,
  readFile: async(readFileSync, 2),
  writeFile: async(writeFileSync, 3),
  appendFile: async(appendFileSync, 3),
  stat: async(statSync, 2),
  lstat: async(lstatSync, 2),
  readdir: async(readdirSync, 2),
  mkdir: async(mkdirSync, 2),
  unlink: async(unlinkSync, 1),
  rmdir: async(rmdirSync, 1),
  access: async(accessSync, 2),
  realpath: async(realpathSync, 2),
  exists: exists,
  Stats: Stats,
  Dirent: Dirent,
  constants: { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_APPEND: 1024 },
  F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1
};
fs.promises = {
  readFile: promised(readFileSync),
  writeFile: promised(writeFileSync),
  appendFile: promised(appendFileSync),
  stat: promised(statSync),
  lstat: promised(lstatSync),
  readdir: promised(readdirSync),
  mkdir: promised(mkdirSync),
  unlink: promised(unlinkSync),
  access: promised(accessSync),
  realpath: promised(realpathSync)
};

// ReadStream reads a file (or its start..end byte range, inclusive) in highWaterMark chunks.
function ReadStream(path, options) {
  if (!(this instanceof ReadStream)) return new ReadStream(path, options);
  if (typeof options === 'string') options = { encoding: options };
  options = options || {};
  var stream = streamModule();
  stream.Readable.call(this, { highWaterMark: options.highWaterMark || 65536, encoding: options.encoding,
    emitClose: options.emitClose !== false, autoDestroy: options.autoClose !== false });
  this.path = toPath(path);
  this.fd = null;
  this.flags = options.flags || 'r';
  this.mode = options.mode || 438;
  this.start = options.start;
  this.end = options.end === undefined ? Infinity : options.end;
  this.pos = this.start || 0;
  this.bytesRead = 0;
  this.pending = true;
  if (this.start !== undefined && this.start > this.end) {
    var e = new RangeError('The value of "start" is out of range. It must be <= "end" (here: ' + this.end + '). Received ' + this.start);
    e.code = 'ERR_OUT_OF_RANGE';
    throw e;
  }
  var self = this;
  process.nextTick(function () {
    if (self.destroyed) return;
    try {
      internal.stat(self.path, false); // the open: fails as fs.open would for a missing file
    } catch (err) {
      self.destroy(err);
      return;
    }
    self.fd = 3;
    self.pending = false;
    self.emit('open', self.fd);
    self.emit('ready');
  });
}
// stream is required on first use (stream requires fs's neighbours; a top-level require would be a cycle risk).
var streamMod = null;
function streamModule() {
  if (streamMod === null) streamMod = require('stream');
  return streamMod;
}
(function () {
  var stream = streamModule();
  Object.setPrototypeOf(ReadStream.prototype, stream.Readable.prototype);
  Object.setPrototypeOf(ReadStream, stream.Readable);
})();
ReadStream.prototype._read = function (n) {
  if (this.pending) {
    this.once('open', function () { this._read(n); });
    return;
  }
  var want = Math.min(n, this.end - this.pos + 1);
  if (want <= 0) { this.push(null); return; }
  var chunk;
  try {
    chunk = Buffer.from(internal.readRange(this.path, this.pos, want));
  } catch (err) {
    this.destroy(err);
    return;
  }
  if (chunk.length === 0) { this.push(null); return; }
  this.pos += chunk.length;
  this.bytesRead += chunk.length;
  this.push(chunk);
};
ReadStream.prototype._destroy = function (err, cb) {
  this.fd = null;
  cb(err);
};
ReadStream.prototype.close = function (cb) {
  if (typeof cb === 'function') this.once('close', cb);
  this.destroy();
};

fs.ReadStream = ReadStream;
fs.createReadStream = function (path, options) { return new ReadStream(path, options); };

module.exports = fs;
