// Express 4 body parsers: json, urlencoded (extended), text, raw, gzip request bodies, parse errors, limits.
var express = require('express');

module.exports = function () {
  var app = express();
  app.post('/json', express.json(), function (req, res) { res.json({ body: req.body, type: typeof req.body }); });
  app.post('/form', express.urlencoded({ extended: true }), function (req, res) { res.json(req.body); });
  app.post('/text', express.text(), function (req, res) { res.send('text:' + req.body.toUpperCase()); });
  app.post('/raw', express.raw({ type: '*/*' }), function (req, res) {
    res.json({ isBuffer: Buffer.isBuffer(req.body), length: req.body.length, first: req.body[0] });
  });
  app.post('/small', express.json({ limit: '10b' }), function (req, res) { res.json(req.body); });
  app.post('/stream', function (req, res) {
    var n = 0;
    req.on('data', function (c) { n += c.length; });
    req.on('end', function () { res.json({ bytes: n }); });
  });
  app.use(function (err, req, res, next) {
    res.status(err.status || 500).json({ error: err.type || err.message, status: err.status });
  });
  return app;
};
