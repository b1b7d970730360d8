'use strict';
// POSIX path functions with Node's results.

function assertPath(p, name) {
  if (typeof p !== 'string') {
    var e = new TypeError('The "' + (name || 'path') + '" argument must be of type string. Received ' + (p === null ? 'null' : typeof p));
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
}

// normalizeSegments resolves '.' and '..' in a path without its leading slash.
function normalizeSegments(p, allowAboveRoot) {
  var parts = p.split('/');
  var out = [];
  for (var i = 0; i < parts.length; i++) {
    var s = parts[i];
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (allowAboveRoot) out.push('..');
      continue;
    }
    out.push(s);
  }
  return out.join('/');
}

var posix = {
  sep: '/',
  delimiter: ':',

  resolve: function resolve() {
    var resolved = '';
    var absolute = false;
    for (var i = arguments.length - 1; i >= -1 && !absolute; i--) {
      var p = i >= 0 ? arguments[i] : process.cwd();
      assertPath(p, 'paths[' + i + ']');
      if (p.length === 0) continue;
      resolved = p + '/' + resolved;
      absolute = p.charCodeAt(0) === 47;
    }
    resolved = normalizeSegments(resolved, !absolute);
    if (absolute) return '/' + resolved;
    return resolved.length > 0 ? resolved : '.';
  },

  normalize: function normalize(p) {
    assertPath(p);
    if (p.length === 0) return '.';
    var absolute = p.charCodeAt(0) === 47;
    var trailing = p.charCodeAt(p.length - 1) === 47;
    var n = normalizeSegments(p, !absolute);
    if (n.length === 0) {
      if (absolute) return '/';
      return trailing ? './' : '.';
    }
    if (trailing) n += '/';
    return absolute ? '/' + n : n;
  },

  isAbsolute: function isAbsolute(p) {
    assertPath(p);
    return p.length > 0 && p.charCodeAt(0) === 47;
  },

  join: function join() {
    if (arguments.length === 0) return '.';
    var joined;
    for (var i = 0; i < arguments.length; i++) {
      var a = arguments[i];
      assertPath(a);
      if (a.length > 0) joined = joined === undefined ? a : joined + '/' + a;
    }
    if (joined === undefined) return '.';
    return posix.normalize(joined);
  },

  relative: function relative(from, to) {
    assertPath(from, 'from');
    assertPath(to, 'to');
    if (from === to) return '';
    from = posix.resolve(from);
    to = posix.resolve(to);
    if (from === to) return '';
    var f = from === '/' ? [] : from.slice(1).split('/');
    var t = to === '/' ? [] : to.slice(1).split('/');
    var i = 0;
    while (i < f.length && i < t.length && f[i] === t[i]) i++;
    var up = [];
    for (var j = i; j < f.length; j++) up.push('..');
    return up.concat(t.slice(i)).join('/');
  },

  toNamespacedPath: function (p) { return p; },

  dirname: function dirname(p) {
    assertPath(p);
    if (p.length === 0) return '.';
    var hasRoot = p.charCodeAt(0) === 47;
    var end = -1;
    var matchedSlash = true;
    for (var i = p.length - 1; i >= 1; --i) {
      if (p.charCodeAt(i) === 47) {
        if (!matchedSlash) { end = i; break; }
      } else {
        matchedSlash = false;
      }
    }
    if (end === -1) return hasRoot ? '/' : '.';
    if (hasRoot && end === 1) return '//';
    return p.slice(0, end);
  },

  basename: function basename(p, ext) {
    if (ext !== undefined) assertPath(ext, 'ext');
    assertPath(p);
    var end = p.length;
    while (end > 0 && p.charCodeAt(end - 1) === 47) end--;
    if (end === 0) return '';
    var start = p.lastIndexOf('/', end - 1) + 1;
    var base = p.slice(start, end);
    if (ext !== undefined && ext.length > 0 && ext.length < base.length + 1 && base.slice(base.length - ext.length) === ext && base !== ext) {
      base = base.slice(0, base.length - ext.length);
    }
    return base;
  },

  extname: function extname(p) {
    assertPath(p);
    var base = posix.basename(p);
    var dot = base.lastIndexOf('.');
    if (dot <= 0) return '';
    // "a." has extension ".", "..": none
    if (base === '..') return '';
    return base.slice(dot);
  },

  format: function format(o) {
    if (o === null || typeof o !== 'object') {
      var e = new TypeError('The "pathObject" argument must be of type object. Received ' + (o === null ? 'null' : typeof o));
      e.code = 'ERR_INVALID_ARG_TYPE';
      throw e;
    }
    var dir = o.dir || o.root;
    var base = o.base || ((o.name || '') + (o.ext ? (o.ext[0] === '.' ? '' : '.') + o.ext : ''));
    if (!dir) return base;
    return dir === o.root ? dir + base : dir + '/' + base;
  },

  parse: function parse(p) {
    assertPath(p);
    var ret = { root: '', dir: '', base: '', ext: '', name: '' };
    if (p.length === 0) return ret;
    var isAbs = p.charCodeAt(0) === 47;
    if (isAbs) ret.root = '/';
    var end = p.length;
    while (end > 1 && p.charCodeAt(end - 1) === 47) end--;
    var trimmed = p.slice(0, end);
    if (trimmed === '/') return ret;
    var base = posix.basename(trimmed);
    ret.base = base;
    ret.ext = posix.extname(base);
    ret.name = ret.ext ? base.slice(0, base.length - ret.ext.length) : base;
    var slash = trimmed.lastIndexOf('/');
    if (slash > 0) ret.dir = trimmed.slice(0, slash);
    else if (isAbs) ret.dir = '/';
    return ret;
  }
};

posix.posix = posix;
posix.win32 = posix;
module.exports = posix;
