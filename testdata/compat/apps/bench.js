// The benchmark app: a trivial Express 4 route and express.static.
var express = require('express');
var path = require('path');

module.exports = function () {
  var app = express();
  app.get('/', function (req, res) { res.send('Hello World!'); });
  app.use('/static', express.static(path.join(__dirname, '..', 'public')));
  return app;
};
