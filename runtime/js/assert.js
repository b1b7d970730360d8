'use strict';
// assert: Node's assertion functions (strict and legacy), AssertionError with code ERR_ASSERTION.

var util = require('util');

function AssertionError(options) {
  options = options || {};
  var msg = options.message;
  if (msg === undefined) {
    msg = util.inspect(options.actual) + ' ' + (options.operator || '==') + ' ' + util.inspect(options.expected);
  }
  var e = new Error(String(msg));
  Object.setPrototypeOf(e, AssertionError.prototype);
  e.generatedMessage = options.message === undefined;
  e.code = 'ERR_ASSERTION';
  e.actual = options.actual;
  e.expected = options.expected;
  e.operator = options.operator;
  if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(e, options.stackStartFn || AssertionError);
  return e;
}
AssertionError.prototype = Object.create(Error.prototype, {
  constructor: { value: AssertionError, writable: true, configurable: true },
  name: { value: 'AssertionError', writable: true, configurable: true }
});

function fail(actual, expected, message, operator, fn) {
  if (message instanceof Error) throw message;
  throw new AssertionError({ actual: actual, expected: expected, message: message, operator: operator, stackStartFn: fn });
}

function looseDeepEqual(a, b) {
  if (a == b) return true; // eslint-disable-line eqeqeq
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  var ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (var i = 0; i < ka.length; i++) {
    if (!Object.prototype.hasOwnProperty.call(b, ka[i])) return false;
    if (!looseDeepEqual(a[ka[i]], b[ka[i]])) return false;
  }
  return true;
}

function ok(value, message) { if (!value) fail(value, true, message || 'The expression evaluated to a falsy value', '==', ok); }
function assert(value, message) { if (!value) fail(value, true, message || 'The expression evaluated to a falsy value', '==', assert); }

function matchesExpected(err, expected) {
  if (expected === undefined) return true;
  if (typeof expected === 'function') {
    if (expected.prototype !== undefined && err instanceof expected) return true;
    if (Error.isPrototypeOf(expected) || expected === Error) return false;
    return expected.call({}, err) === true;
  }
  if (expected instanceof RegExp) return expected.test(String(err));
  if (typeof expected === 'object' && expected !== null) {
    return Object.keys(expected).every(function (k) {
      var v = expected[k];
      return v instanceof RegExp && typeof err[k] === 'string' ? v.test(err[k]) : util.isDeepStrictEqual(err[k], v);
    });
  }
  return false;
}

var api = {
  ok: ok,
  fail: function (message) { fail(undefined, undefined, message === undefined ? 'Failed' : message, 'fail', api.fail); },
  equal: function (a, b, m) { if (!(a == b || (a !== a && b !== b))) fail(a, b, m, '==', api.equal); }, // eslint-disable-line eqeqeq
  notEqual: function (a, b, m) { if (a == b) fail(a, b, m, '!=', api.notEqual); }, // eslint-disable-line eqeqeq
  strictEqual: function (a, b, m) { if (!Object.is(a, b)) fail(a, b, m, 'strictEqual', api.strictEqual); },
  notStrictEqual: function (a, b, m) { if (Object.is(a, b)) fail(a, b, m, 'notStrictEqual', api.notStrictEqual); },
  deepEqual: function (a, b, m) { if (!looseDeepEqual(a, b)) fail(a, b, m, 'deepEqual', api.deepEqual); },
  notDeepEqual: function (a, b, m) { if (looseDeepEqual(a, b)) fail(a, b, m, 'notDeepEqual', api.notDeepEqual); },
  deepStrictEqual: function (a, b, m) { if (!util.isDeepStrictEqual(a, b)) fail(a, b, m, 'deepStrictEqual', api.deepStrictEqual); },
  notDeepStrictEqual: function (a, b, m) { if (util.isDeepStrictEqual(a, b)) fail(a, b, m, 'notDeepStrictEqual', api.notDeepStrictEqual); },
  throws: function (fn, expected, message) {
    if (typeof expected === 'string') { message = expected; expected = undefined; }
    try { fn(); } catch (e) {
      if (!matchesExpected(e, expected)) throw e;
      return;
    }
    fail(undefined, expected, message || 'Missing expected exception.', 'throws', api.throws);
  },
  doesNotThrow: function (fn, expected, message) {
    try { fn(); } catch (e) {
      fail(e, expected, typeof expected === 'string' ? expected : message || 'Got unwanted exception.\nActual message: "' + (e && e.message) + '"', 'doesNotThrow', api.doesNotThrow);
    }
  },
  rejects: function (p, expected, message) {
    return Promise.resolve(typeof p === 'function' ? p() : p).then(function () {
      fail(undefined, expected, message || 'Missing expected rejection.', 'rejects', api.rejects);
    }, function (e) { if (!matchesExpected(e, expected)) throw e; });
  },
  doesNotReject: function (p, message) {
    return Promise.resolve(typeof p === 'function' ? p() : p).then(function () {}, function (e) {
      fail(e, undefined, message || 'Got unwanted rejection.', 'doesNotReject', api.doesNotReject);
    });
  },
  ifError: function (v) { if (v !== null && v !== undefined) throw v; },
  match: function (s, re, m) { if (!re.test(s)) fail(s, re, m || 'The input did not match the regular expression ' + re, 'match', api.match); },
  doesNotMatch: function (s, re, m) { if (re.test(s)) fail(s, re, m || 'The input was expected to not match ' + re, 'doesNotMatch', api.doesNotMatch); },
  AssertionError: AssertionError
};

Object.keys(api).forEach(function (k) { assert[k] = api[k]; });
assert.strict = function strict(value, message) { if (!value) fail(value, true, message || 'The expression evaluated to a falsy value', '==', strict); };
Object.keys(api).forEach(function (k) { assert.strict[k] = api[k]; });
assert.strict.equal = api.strictEqual;
assert.strict.notEqual = api.notStrictEqual;
assert.strict.deepEqual = api.deepStrictEqual;
assert.strict.notDeepEqual = api.notDeepStrictEqual;
assert.strict.strict = assert.strict;

module.exports = assert;
