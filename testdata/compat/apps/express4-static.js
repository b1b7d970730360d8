// Express 4 express.static: files, ETag/Last-Modified, 304, Range, directory redirect and index, fallthrough.
var express = require('express');
var path = require('path');

module.exports = function () {
  var app = express();
  app.use(express.static(path.join(__dirname, '..', 'public'), { maxAge: '1h' }));
  app.use('/noetag', express.static(path.join(__dirname, '..', 'public'), { etag: false, lastModified: false }));
  app.get('/send-file', function (req, res) { res.sendFile(path.join(__dirname, '..', 'public', 'style.css')); });
  app.get('/download', function (req, res) { res.download(path.join(__dirname, '..', 'public', 'hello.txt'), 'greeting.txt'); });
  app.use(function (req, res) { res.status(404).send('no such file: ' + req.path); });
  return app;
};
