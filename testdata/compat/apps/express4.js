// Express 4: routing with params, router mounts, JSON/redirects/status, cookies, content negotiation, HEAD,
// error middleware, async handlers (wrapped: Express 4 does not catch rejections itself).
var express = require('express');

module.exports = function () {
  var app = express();
  app.set('etag', 'strong');

  app.get('/', function (req, res) { res.send('Hello World!'); });
  app.get('/users/:id(\\d+)', function (req, res) {
    res.json({ id: Number(req.params.id), query: req.query, path: req.path, hostname: req.hostname, ip: typeof req.ip });
  });
  app.get('/users/:name', function (req, res) { res.status(202).send('name ' + req.params.name); });
  app.get('/files/*', function (req, res) { res.type('text').send('file ' + req.params[0]); });

  var api = express.Router();
  api.use(function (req, res, next) { res.set('X-Api', 'v1'); next(); });
  api.get('/items/:a-:b', function (req, res) { res.json(req.params); });
  api.post('/echo', express.json(), function (req, res) { res.status(201).json({ got: req.body }); });
  app.use('/api', api);

  app.get('/redirect', function (req, res) { res.redirect('/users/7?from=redirect'); });
  app.get('/perm', function (req, res) { res.redirect(301, 'http://example.com/x'); });
  app.get('/cookie', function (req, res) {
    res.cookie('plain', 'v1', { path: '/', httpOnly: true });
    res.cookie('obj', { a: 1 }, { maxAge: 0 });
    res.clearCookie('gone');
    res.send('cookies set');
  });
  app.get('/negotiate', function (req, res) {
    res.format({
      'text/plain': function () { res.send('plain'); },
      'application/json': function () { res.json({ fmt: 'json' }); },
      default: function () { res.status(406).send('Not Acceptable'); }
    });
  });
  app.get('/headers', function (req, res) {
    res.set({ 'X-One': '1', 'Cache-Control': 'no-store' });
    res.append('X-Multi', ['a', 'b']);
    res.vary('Accept');
    res.json({ ua: req.get('user-agent'), accepts: req.accepts(['json', 'html']), xhr: req.xhr, fresh: req.fresh });
  });
  app.get('/buffer', function (req, res) { res.send(Buffer.from([0, 1, 2, 250, 255])); });
  app.get('/status/:code', function (req, res) { res.sendStatus(Number(req.params.code)); });
  app.get('/error', function (req, res, next) { next(new Error('boom')); });
  app.get('/throw', function () { throw new TypeError('thrown'); });
  app.get('/async', function (req, res, next) {
    Promise.resolve().then(function () { return new Promise(function (r) { setTimeout(r, 5); }); })
      .then(function () { res.json({ async: true }); }, next);
  });
  app.get('/async-fail', function (req, res, next) {
    (async function () { await null; throw new Error('async boom'); })().catch(next);
  });
  app.get('/stream', function (req, res) {
    res.type('text');
    res.write('one ');
    setTimeout(function () { res.write('two '); res.end('three'); }, 5);
  });
  app.use(function (err, req, res, next) {
    res.status(err.message === 'thrown' ? 500 : 418).json({ error: err.message, name: err.name });
  });
  return app;
};
