'use strict';
// url: WHATWG URL/URLSearchParams (from goja_nodejs) plus Node's legacy parse/format/resolve.

var querystring = require('querystring');
var URLCtor = internal.URL;
var URLSearchParamsCtor = internal.URLSearchParams;

var slashedProtocol = { 'http': true, 'http:': true, 'https': true, 'https:': true, 'ftp': true, 'ftp:': true,
  'gopher': true, 'gopher:': true, 'file': true, 'file:': true, 'ws': true, 'ws:': true, 'wss': true, 'wss:': true };
var hostlessProtocol = { 'javascript': true, 'javascript:': true };
var autoEscape = /[{}|\\^`<>"' \r\n\t]/g;

function escapeChar(c) {
  var h = c.charCodeAt(0).toString(16).toUpperCase();
  return '%' + (h.length < 2 ? '0' : '') + h;
}

function Url() {
  this.protocol = null;
  this.slashes = null;
  this.auth = null;
  this.host = null;
  this.port = null;
  this.hostname = null;
  this.hash = null;
  this.search = null;
  this.query = null;
  this.pathname = null;
  this.path = null;
  this.href = null;
}

function urlParse(url, parseQueryString, slashesDenoteHost) {
  if (url instanceof Url) return url;
  if (typeof url !== 'string') {
    var e = new TypeError('The "url" argument must be of type string. Received ' + (url === null ? 'null' : typeof url));
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  var u = new Url();
  var rest = url.trim().replace(/\\/g, '/');
  var h = rest.indexOf('#');
  if (h >= 0) {
    u.hash = rest.slice(h).replace(autoEscape, escapeChar);
    rest = rest.slice(0, h);
  }
  var q = rest.indexOf('?');
  if (q >= 0) {
    u.search = rest.slice(q).replace(autoEscape, escapeChar);
    u.query = u.search.slice(1);
    rest = rest.slice(0, q);
  } else if (parseQueryString) {
    u.search = '';
    u.query = {};
  }
  var m = /^([a-zA-Z0-9.+-]+:)/.exec(rest);
  var lowerProto;
  if (m) {
    lowerProto = m[1].toLowerCase();
    u.protocol = lowerProto;
    rest = rest.slice(m[1].length);
  }
  var slashes = false;
  if (slashesDenoteHost || m || /^\/\/[^@/]+@[^@/]+/.test(rest)) {
    slashes = rest.slice(0, 2) === '//';
    if (slashes && !(lowerProto && hostlessProtocol[lowerProto])) {
      rest = rest.slice(2);
      u.slashes = true;
    }
  }
  if (!(lowerProto && hostlessProtocol[lowerProto]) && (slashes || (lowerProto && !slashedProtocol[lowerProto]))) {
    var end = rest.indexOf('/');
    if (end < 0) end = rest.length;
    var hostPart = rest.slice(0, end);
    var at = hostPart.lastIndexOf('@');
    if (at >= 0) {
      u.auth = decodeURIComponent(hostPart.slice(0, at));
      hostPart = hostPart.slice(at + 1);
    }
    rest = rest.slice(end);
    var pm = /:([0-9]*)$/.exec(hostPart);
    if (pm) {
      if (pm[1] !== '') u.port = pm[1];
      hostPart = hostPart.slice(0, hostPart.length - pm[0].length);
    }
    var hostname = hostPart.toLowerCase();
    var ipv6 = hostname[0] === '[' && hostname[hostname.length - 1] === ']';
    u.hostname = ipv6 ? hostname.slice(1, -1) : hostname;
    u.host = hostname + (u.port ? ':' + u.port : '');
  }
  if (rest) u.pathname = rest.replace(autoEscape, escapeChar);
  if (lowerProto && slashedProtocol[lowerProto] && u.hostname && !u.pathname) u.pathname = '/';
  if (parseQueryString && typeof u.query === 'string') u.query = querystring.parse(u.query);
  if (u.pathname || u.search) u.path = (u.pathname || '') + (u.search || '');
  u.href = urlFormat(u);
  return u;
}

function urlFormat(obj, options) {
  if (typeof obj === 'string') obj = urlParse(obj);
  else if (obj === null || typeof obj !== 'object') {
    var e = new TypeError('The "urlObject" argument must be one of type object or string. Received ' + (obj === null ? 'null' : typeof obj));
    e.code = 'ERR_INVALID_ARG_TYPE';
    throw e;
  }
  if (obj instanceof URLCtor) return obj.href;
  var auth = obj.auth || '';
  if (auth) auth = encodeURIComponent(auth).replace(/%3A/i, ':') + '@';
  var protocol = obj.protocol || '';
  var pathname = obj.pathname || '';
  var hash = obj.hash || '';
  var host = false;
  var query = '';
  if (obj.host) {
    host = auth + obj.host;
  } else if (obj.hostname) {
    host = auth + (obj.hostname.indexOf(':') >= 0 ? '[' + obj.hostname + ']' : obj.hostname);
    if (obj.port) host += ':' + obj.port;
  }
  if (obj.query !== null && typeof obj.query === 'object') query = querystring.stringify(obj.query);
  var search = obj.search || (query && ('?' + query)) || '';
  if (protocol && protocol.charAt(protocol.length - 1) !== ':') protocol += ':';
  pathname = pathname.replace(/[?#]/g, function (c) { return encodeURIComponent(c); });
  search = search.replace(/#/g, '%23');
  if (obj.slashes || ((!protocol || slashedProtocol[protocol]) && host !== false)) {
    host = '//' + (host || '');
    if (pathname && pathname.charAt(0) !== '/') pathname = '/' + pathname;
  } else if (!host) {
    host = '';
  }
  if (hash && hash.charAt(0) !== '#') hash = '#' + hash;
  if (search && search.charAt(0) !== '?') search = '?' + search;
  return protocol + host + pathname + search + hash;
}

function removeDots(p) {
  var abs = p.charAt(0) === '/';
  var segs = p.split('/');
  var out = [];
  var trailing = false;
  for (var i = 0; i < segs.length; i++) {
    var s = segs[i];
    trailing = false;
    if (s === '.' || s === '..') {
      if (s === '..' && out.length) out.pop();
      trailing = true;
      continue;
    }
    if (s === '' && i !== segs.length - 1) continue;
    out.push(s);
  }
  var r = out.join('/');
  if (trailing && r.charAt(r.length - 1) !== '/') r += '/';
  return abs ? '/' + r.replace(/^\/+/, '') : r;
}

function urlResolve(source, relative) {
  var base = urlParse(source, false, true);
  var rel = urlParse(relative, false, true);
  if (rel.protocol && (rel.slashes || !slashedProtocol[rel.protocol] || rel.protocol !== base.protocol)) return urlFormat(rel);
  var r = new Url();
  for (var k in base) if (Object.prototype.hasOwnProperty.call(base, k)) r[k] = base[k];
  r.hash = rel.hash;
  if (relative === '') return urlFormat(r);
  if (rel.slashes) {
    r.auth = rel.auth;
    r.host = rel.host;
    r.hostname = rel.hostname;
    r.port = rel.port;
    r.pathname = rel.pathname || (slashedProtocol[r.protocol] ? '/' : null);
    r.search = rel.search;
  } else if (rel.pathname && rel.pathname.charAt(0) === '/') {
    r.pathname = removeDots(rel.pathname);
    r.search = rel.search;
  } else if (rel.pathname) {
    var bp = base.pathname || (base.host ? '/' : '');
    var dir = bp.slice(0, bp.lastIndexOf('/') + 1);
    r.pathname = removeDots(dir + rel.pathname);
    r.search = rel.search;
  } else if (rel.search !== null) {
    r.search = rel.search;
  }
  r.query = r.search ? r.search.slice(1) : null;
  r.path = (r.pathname || '') + (r.search || '');
  return urlFormat(r);
}

Url.prototype.parse = function (url, pq, sdh) {
  var u = urlParse(url, pq, sdh);
  for (var k in u) if (Object.prototype.hasOwnProperty.call(u, k)) this[k] = u[k];
  return this;
};
Url.prototype.format = function () { return urlFormat(this); };
Url.prototype.resolve = function (rel) { return urlResolve(this.href, rel); };

function fileURLToPath(u) {
  if (typeof u === 'string') u = new URLCtor(u);
  if (u.protocol !== 'file:') {
    var e = new TypeError('The URL must be of scheme file');
    e.code = 'ERR_INVALID_URL_SCHEME';
    throw e;
  }
  return decodeURIComponent(u.pathname);
}

function pathToFileURL(p) {
  var abs = require('path').resolve(p);
  return new URLCtor('file://' + encodeURI(abs).replace(/[?#]/g, encodeURIComponent));
}

module.exports = {
  Url: Url,
  parse: urlParse,
  format: urlFormat,
  resolve: urlResolve,
  resolveObject: function (s, r) { return urlParse(urlResolve(s, r)); },
  URL: URLCtor,
  URLSearchParams: URLSearchParamsCtor,
  domainToASCII: internal.domainToASCII,
  domainToUnicode: internal.domainToUnicode,
  fileURLToPath: fileURLToPath,
  pathToFileURL: pathToFileURL
};
