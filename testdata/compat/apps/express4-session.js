// cookie-parser (signed cookies) and express-session with the memory store.
var express = require('express');
var cookieParser = require('cookie-parser');
var session = require('express-session');

module.exports = function () {
  var app = express();
  app.use(cookieParser('s3cret'));
  app.use(session({ secret: 'keyboard cat', resave: false, saveUninitialized: false, name: 'sid' }));
  app.get('/set-cookies', function (req, res) {
    res.cookie('signed', 'hello', { signed: true });
    res.cookie('unsigned', 'world');
    res.send('ok');
  });
  app.get('/read-cookies', function (req, res) { res.json({ cookies: req.cookies, signed: req.signedCookies }); });
  app.get('/login/:user', function (req, res) {
    req.session.user = req.params.user;
    req.session.visits = 0;
    res.send('logged in ' + req.params.user);
  });
  app.get('/me', function (req, res) {
    if (!req.session.user) return res.status(401).send('anonymous');
    req.session.visits++;
    res.json({ user: req.session.user, visits: req.session.visits });
  });
  app.get('/logout', function (req, res, next) {
    req.session.destroy(function (err) { if (err) return next(err); res.send('bye'); });
  });
  return app;
};
