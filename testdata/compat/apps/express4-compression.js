// compression (gzip and deflate, threshold) and morgan request logging to a custom stream.
var express = require('express');
var compression = require('compression');
var morgan = require('morgan');

module.exports = function () {
  var app = express();
  var lines = [];
  app.use(morgan(':method :url :status :res[content-type]', { stream: { write: function (l) { lines.push(l.trim()); } } }));
  app.use(compression({ threshold: 100 }));
  var big = '';
  for (var i = 0; i < 500; i++) big += 'line ' + i + ' of some compressible text\n';
  app.get('/big', function (req, res) { res.type('text').send(big); });
  app.get('/small', function (req, res) { res.type('text').send('tiny'); });
  app.get('/big-json', function (req, res) { res.json({ items: big.split('\n') }); });
  app.get('/streamed', function (req, res) {
    res.type('text');
    res.write(big.slice(0, 5000));
    setTimeout(function () { res.end(big.slice(5000)); }, 5);
  });
  app.get('/log', function (req, res) { res.json(lines); });
  return app;
};
