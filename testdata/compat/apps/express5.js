// Express 5: path-to-regexp 8 routes (named wildcards, optional segments), automatic handling of rejected
// promises from async handlers, req.query, static files, error middleware.
var express = require('express5');
var path = require('path');

module.exports = function () {
  var app = express();
  app.get('/', function (req, res) { res.send('Hello Express 5'); });
  app.get('/users/:id', function (req, res) { res.json({ id: req.params.id, query: req.query }); });
  app.get('/files/*splat', function (req, res) { res.json({ splat: req.params.splat }); });
  app.get('/opt{/:lang}', function (req, res) { res.json({ lang: req.params.lang || null }); });
  app.get('/async', async function (req, res) {
    await new Promise(function (r) { setTimeout(r, 5); });
    res.json({ async: true });
  });
  app.get('/async-fail', async function () {
    await null;
    throw new Error('rejected');
  });
  app.post('/json', express.json(), function (req, res) { res.status(201).json(req.body); });
  app.use('/static', express.static(path.join(__dirname, '..', 'public')));
  app.use(function (err, req, res, next) { res.status(500).json({ error: err.message }); });
  return app;
};
