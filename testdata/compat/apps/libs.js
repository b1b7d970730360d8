// Popular pure-JS libraries, each exercised deterministically; /lib/<name> answers JSON.
var express = require('express');

var checks = {
  lodash: function () {
    var _ = require('lodash');
    var tpl = _.template('hello <%= user %>!');
    return {
      chunk: _.chunk([1, 2, 3, 4, 5], 2),
      groupBy: _.groupBy(['one', 'two', 'three'], 'length'),
      merge: _.merge({ a: { b: 1 } }, { a: { c: 2 } }),
      template: tpl({ user: 'fred' }),
      camel: _.camelCase('Foo Bar-baz'),
      sorted: _.sortBy([{ n: 3 }, { n: 1 }, { n: 2 }], 'n'),
      debounce: typeof _.debounce(function () {}, 10)
    };
  },
  uuid: function () {
    var uuid = require('uuid');
    var v4 = uuid.v4();
    return {
      v4valid: uuid.validate(v4), v4version: uuid.version(v4),
      v5: uuid.v5('hello', uuid.v5.DNS), v3: uuid.v3('hello', uuid.v3.URL),
      parse: Array.from(uuid.parse('6ba7b810-9dad-11d1-80b4-00c04fd430c8')).slice(0, 4),
      nil: uuid.NIL, v7valid: uuid.validate(uuid.v7())
    };
  },
  jsonwebtoken: function () {
    var jwt = require('jsonwebtoken');
    var token = jwt.sign({ sub: 'user1', admin: true, iat: 1700000000 }, 'secret', { algorithm: 'HS256' });
    var decoded = jwt.verify(token, 'secret');
    var bad;
    try { jwt.verify(token, 'wrong'); } catch (e) { bad = e.name + ': ' + e.message; }
    var expired;
    try { jwt.verify(jwt.sign({ exp: 1 }, 'k'), 'k'); } catch (e) { expired = e.name; }
    return { token: token, decoded: decoded, bad: bad, expired: expired, hs512: jwt.sign({ a: 1, iat: 1 }, 'k', { algorithm: 'HS512' }) };
  },
  ajv: function () {
    var Ajv = require('ajv');
    var ajv = new Ajv({ allErrors: true });
    var validate = ajv.compile({
      type: 'object',
      properties: { name: { type: 'string', minLength: 2 }, age: { type: 'integer', minimum: 0 }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['name'], additionalProperties: false
    });
    var good = validate({ name: 'Al', age: 3, tags: ['x'] });
    var bad = validate({ name: 'A', age: -1, extra: true });
    return { good: good, bad: bad, errors: validate.errors.map(function (e) { return e.instancePath + ' ' + e.message; }) };
  },
  dayjs: function () {
    var dayjs = require('dayjs');
    var d = dayjs('2024-02-29T13:45:00');
    return {
      format: d.format('YYYY-MM-DD HH:mm:ss dddd MMMM'),
      add: d.add(1, 'year').format('YYYY-MM-DD'),
      diff: dayjs('2024-12-25').diff(dayjs('2024-01-01'), 'day'),
      startOf: d.startOf('month').format('YYYY-MM-DD'),
      valid: dayjs('not a date').isValid(),
      leap: d.isSame(dayjs('2024-02-29'), 'day')
    };
  },
  validator: function () {
    var v = require('validator');
    return {
      email: [v.isEmail('a@b.co'), v.isEmail('nope')],
      url: [v.isURL('https://example.com/x?y=1'), v.isURL('ht!tp://x')],
      ip: [v.isIP('127.0.0.1'), v.isIP('::1', 6), v.isIP('999.1.1.1')],
      uuid: v.isUUID('6ba7b810-9dad-11d1-80b4-00c04fd430c8'),
      alpha: [v.isAlpha('abc'), v.isAlpha('ab1')],
      escape: v.escape('<a href="x">&</a>'),
      slug: v.isSlug('my-slug'),
      json: v.isJSON('{"a":1}'),
      normalize: v.normalizeEmail('Foo.Bar@GMAIL.com')
    };
  }
};

module.exports = function () {
  var app = express();
  app.get('/lib/:name', function (req, res) {
    var fn = checks[req.params.name];
    if (!fn) return res.status(404).json({ error: 'unknown library' });
    try {
      res.json(fn());
    } catch (e) {
      res.status(500).json({ error: String(e && e.stack || e) });
    }
  });
  return app;
};
