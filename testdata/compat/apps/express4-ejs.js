// ejs templates through res.render (includes, escaping) and app.locals.
var express = require('express');
var path = require('path');

module.exports = function () {
  var app = express();
  app.set('views', path.join(__dirname, '..', 'views'));
  app.set('view engine', 'ejs');
  app.locals.site = 'compat';
  app.get('/page', function (req, res) {
    res.render('page', { title: 'Page ' + (req.query.n || 1), items: ['a', 'b', 'c'], html: '<b>&"\'</b>' });
  });
  app.get('/missing', function (req, res) { res.render('nope', {}); });
  app.use(function (err, req, res, next) { res.status(500).send('render failed: ' + /Failed to lookup view/.test(err.message)); });
  return app;
};
