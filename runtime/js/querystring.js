'use strict';
// querystring as in Node: '+' decodes to space, repeated keys become arrays, lenient unescape.

function qsEscape(str) {
  if (typeof str !== 'string') {
    if (typeof str === 'object') str = String(str);
    else str += '';
  }
  return encodeURIComponent(str);
}

function hexVal(c) {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

// unescapeBuffer decodes %XX sequences into bytes; malformed sequences stay literal.
function unescapeBuffer(s, decodeSpaces) {
  var bytes = [];
  for (var i = 0; i < s.length; i++) {
    var c = s.charCodeAt(i);
    if (c === 43 && decodeSpaces) { bytes.push(32); continue; }
    if (c === 37 && i + 2 < s.length + 0 && i + 2 <= s.length - 1) {
      var h = hexVal(s.charCodeAt(i + 1)), l = hexVal(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) { bytes.push(h * 16 + l); i += 2; continue; }
    }
    if (c < 0x80) bytes.push(c);
    else {
      var enc = Buffer.from(s[i] + ((c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) ? s[++i] : ''), 'utf8');
      for (var j = 0; j < enc.length; j++) bytes.push(enc[j]);
    }
  }
  return Buffer.from(bytes);
}

function qsUnescape(s, decodeSpaces) {
  try {
    return decodeURIComponent(s);
  } catch (e) {
    return unescapeBuffer(s, decodeSpaces).toString();
  }
}

function stringifyPrimitive(v) {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && isFinite(v)) return '' + v;
  if (typeof v === 'bigint') return '' + v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return '';
}

function stringify(obj, sep, eq, options) {
  sep = sep || '&';
  eq = eq || '=';
  var encode = (options && typeof options.encodeURIComponent === 'function') ? options.encodeURIComponent : exports.escape;
  if (obj === null || typeof obj !== 'object') return '';
  var keys = Object.keys(obj);
  var fields = [];
  for (var i = 0; i < keys.length; i++) {
    var k = keys[i];
    var v = obj[k];
    var ks = encode(stringifyPrimitive(k)) + eq;
    if (Array.isArray(v)) {
      for (var j = 0; j < v.length; j++) fields.push(ks + encode(stringifyPrimitive(v[j])));
    } else {
      fields.push(ks + encode(stringifyPrimitive(v)));
    }
  }
  return fields.join(sep);
}

function parse(qs, sep, eq, options) {
  var obj = Object.create(null);
  if (typeof qs !== 'string' || qs.length === 0) return obj;
  sep = sep || '&';
  eq = eq || '=';
  var maxKeys = 1000;
  if (options && typeof options.maxKeys === 'number') maxKeys = options.maxKeys;
  var decode = (options && typeof options.decodeURIComponent === 'function') ? options.decodeURIComponent : exports.unescape;
  var parts = qs.split(sep);
  if (maxKeys > 0 && parts.length > maxKeys) parts = parts.slice(0, maxKeys);
  for (var i = 0; i < parts.length; i++) {
    var x = parts[i];
    if (x.length === 0 && parts.length > 1) continue;
    var idx = x.indexOf(eq);
    var kstr, vstr;
    if (idx >= 0) {
      kstr = x.slice(0, idx);
      vstr = x.slice(idx + eq.length);
    } else {
      kstr = x;
      vstr = '';
    }
    var k = decodeStr(kstr.replace(/\+/g, ' '), decode);
    var v = decodeStr(vstr.replace(/\+/g, ' '), decode);
    if (!(k in obj)) obj[k] = v;
    else if (Array.isArray(obj[k])) obj[k].push(v);
    else obj[k] = [obj[k], v];
  }
  return obj;
}

function decodeStr(s, decoder) {
  try {
    return decoder(s);
  } catch (e) {
    return exports.unescape(s, true);
  }
}

exports.unescapeBuffer = unescapeBuffer;
exports.unescape = qsUnescape;
exports.escape = qsEscape;
exports.stringify = exports.encode = stringify;
exports.parse = exports.decode = parse;
