// Fixture for e2e/cluster_test.go: a worker that says who it is, counts the engine.io requests of every session it
// serves, and serves a page with the ORIGINAL 0.9.37 browser bundle (the test copies it next to this file as
// original-socketcluster.js, since a worker may read files only inside its own directory).
//
//   GET /                           a page that loads /original/socketcluster.js
//   GET /original/socketcluster.js  the original bundle (404 when it was not copied)
//   GET /cluster/who                {id, pid, leader, status: worker.getStatus(), sids: {<sid>: {GET: n, POST: n}}}
//   socket 'hello' (server -> client, on connection)  {id, pid, socketId}
//   socket 'whoami' (ack)                             {id, pid, socketId}
//   socket 'echo' (ack)                               the data unchanged

var fs = require('fs');

// MAX_SIDS bounds the per-session request table; sessions past it are counted under '(overflow)'.
var MAX_SIDS = 5000;

var bundle = null;
try {
  bundle = fs.readFileSync(__dirname + '/original-socketcluster.js', 'utf8');
} catch (e) {
  bundle = null;
}

var PAGE = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>cluster e2e</title>' +
  '<script src="/original/socketcluster.js"></script></head><body><p id="status">loaded</p></body></html>';

module.exports.run = function (worker) {
  var httpServer = worker.getHTTPServer();
  var scServer = worker.getSCServer();
  var sids = {};
  var sidCount = 0;

  function me(socket) {
    return {id: worker.id, pid: process.pid, socketId: socket ? socket.id : null};
  }

  // 'request' sees every request, the engine's polling requests included (their response belongs to the engine).
  httpServer.on('request', function (req) {
    var url = req.url || '';
    if (url.indexOf('/socketcluster/') !== 0) {
      return;
    }
    var m = /[?&]sid=([^&]+)/.exec(url);
    if (!m || /[?&]transport=websocket/.test(url)) {
      return;
    }
    var sid = decodeURIComponent(m[1]);
    if (!sids[sid]) {
      if (sidCount >= MAX_SIDS) {
        sid = '(overflow)';
      } else {
        sidCount++;
      }
      sids[sid] = sids[sid] || {GET: 0, POST: 0};
    }
    var method = req.method === 'POST' ? 'POST' : 'GET';
    sids[sid][method]++;
  });

  httpServer.on('req', function (req, res) {
    var url = req.url || '';
    if (url === '/' || url.indexOf('/?') === 0) {
      res.writeHead(200, {'Content-Type': 'text/html; charset=utf-8'});
      res.end(PAGE);
    } else if (url === '/original/socketcluster.js' && bundle !== null) {
      res.writeHead(200, {'Content-Type': 'application/javascript; charset=utf-8'});
      res.end(bundle);
    } else if (url === '/cluster/who' || url.indexOf('/cluster/who?') === 0) {
      var body = me(null);
      body.leader = worker.isLeader;
      body.status = worker.getStatus();
      body.sids = sids;
      res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'no-store'});
      res.end(JSON.stringify(body));
    } else {
      res.writeHead(404, {'Content-Type': 'text/plain'});
      res.end('not found');
    }
  });

  scServer.on('connection', function (socket) {
    socket.emit('hello', me(socket));
    socket.on('whoami', function (data, res) {
      res.end(me(socket));
    });
    socket.on('echo', function (data, res) {
      res.end(data);
    });
  });
};
