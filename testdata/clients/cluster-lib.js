'use strict';
// cluster-lib.js: shared pieces of the cluster scripts (cluster-kill.js, cluster-reboot.js), driving the ORIGINAL
// socketcluster-client 0.9.37 against testdata/workers/cluster/worker.js behind the balancer.
//
// makeProbe is written to run unchanged in Node and, as source text, in a Chromium page with the original browser
// bundle: it must not refer to anything outside its own body.

var http = require('http');
var lib = require('./lib');

// RECONNECT is the low reconnect delay every client uses (ms; the client waits delay + randomness * random()).
var RECONNECT = {delay: 50, randomness: 50};
// ACK_TIMEOUT_MS is the clients' ackTimeout: an echo lost with a dead worker is counted as failed after this long.
var ACK_TIMEOUT_MS = 3000;
// ECHO_EVERY_MS is the period of every client's echo loop.
var ECHO_EVERY_MS = 20;

// makeProbe connects one client and keeps it emitting 'echo' with an ack every everyMs while it is connected,
// recording connects, closes, 'disconnect' events, errors, the server's 'hello' events and the time of every ack.
function makeProbe(sc, options, name, everyMs) {
  var p = {name: name, connects: [], closes: [], disconnects: [], errors: [], hellos: [], ackTimes: [],
    ackErrors: [], sent: 0, stopped: false};
  var s = sc.connect(options);
  p.socket = s;
  s.on('connect', function (soid) { p.connects.push({t: Date.now(), soid: soid}); });
  s.on('close', function () { p.closes.push(Date.now()); });
  s.on('disconnect', function () { p.disconnects.push(Date.now()); });
  s.on('error', function (e) { p.errors.push({t: Date.now(), m: String(e && e.message ? e.message : JSON.stringify(e))}); });
  s.on('hello', function (d) { p.hellos.push({t: Date.now(), id: d.id, pid: d.pid, socketId: d.socketId}); });
  var n = 0;
  p.timer = setInterval(function () {
    if (p.stopped || !s.connected) {
      return;
    }
    n++;
    p.sent++;
    var k = n;
    var sentAt = Date.now();
    s.emit('echo', {n: k}, function (err, data) {
      var t = Date.now();
      if (err || !data || data.n !== k) {
        p.ackErrors.push({t: t, sentAt: sentAt, m: String(err && err.message ? err.message : JSON.stringify(err || data))});
        return;
      }
      p.ackTimes.push(t);
    });
  }, everyMs);
  p.stop = function () {
    p.stopped = true;
    clearInterval(p.timer);
    s.disconnect();
  };
  p.snapshot = function () {
    return {name: p.name, connects: p.connects, closes: p.closes, disconnects: p.disconnects, errors: p.errors,
      hellos: p.hellos, ackTimes: p.ackTimes, ackErrors: p.ackErrors, sent: p.sent,
      transport: s.transport ? s.transport.name : null, connected: !!s.connected};
  };
  return p;
}

// pollRequests counts, per engine.io session id, the polling requests this Node process sends (GET and POST),
// by wrapping http.request, which the client's XMLHttpRequest looks up at every send.
var pollRequests = {};
(function wrapHTTP() {
  var orig = http.request;
  http.request = function (opts) {
    var path = opts && typeof opts === 'object' ? String(opts.path || '') : String(opts);
    var m = /[?&]sid=([^&]+)/.exec(path);
    if (path.indexOf('/socketcluster/') === 0 && m && /[?&]transport=polling/.test(path)) {
      var sid = decodeURIComponent(m[1]);
      var c = pollRequests[sid] = pollRequests[sid] || {GET: 0, POST: 0};
      c[opts.method === 'POST' ? 'POST' : 'GET']++;
    }
    return orig.apply(this, arguments);
  };
})();

// workerOf returns the worker id named in a socket or session id (<host>_w<id>_<port>_<secure>_<random>), or -1.
function workerOf(id) {
  var m = /^[^_]*_w(\d+)_/.exec(id || '');
  return m ? Number(m[1]) : -1;
}

// who asks the balancer for GET /cluster/who with a session cookie naming worker id; the balancer routes it there
// when that worker is live (otherwise some other worker answers, with its own id).
function who(host, port, app, id) {
  return new Promise(function (resolve, reject) {
    var req = http.get({host: host, port: port, path: '/cluster/who', agent: false,
      headers: {Cookie: 'n/' + app + '/ssid=_w' + id + '_' + port + '_0_clustere2e'}}, function (res) {
      var chunks = [];
      res.on('data', function (c) { chunks.push(c); });
      res.on('end', function () {
        var body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          reject(new Error('GET /cluster/who for worker ' + id + ' -> ' + res.statusCode + ': ' + body));
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(new Error('GET /cluster/who returned non-JSON: ' + body));
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(3000, function () { req.destroy(new Error('GET /cluster/who timed out')); });
  });
}

// whoExactly polls who() until worker id itself answers (and, when accept is given, accept(answer) holds).
function whoExactly(host, port, app, id, ms, accept) {
  return lib.pollUntil(function () {
    return who(host, port, app, id).then(function (w) {
      return w.id === id && (!accept || accept(w)) ? w : null;
    });
  }, ms, 'worker ' + id + ' to answer /cluster/who', 20);
}

// Node probes are wrapped so they look like the browser's: snapshot() returns plain data.
function nodeProbe(sc, opts, name) {
  return makeProbe(sc, opts, name, ECHO_EVERY_MS);
}

// helloAfter returns the first 'hello' of a snapshot received after t, or null.
function helloAfter(snap, t) {
  for (var i = 0; i < snap.hellos.length; i++) {
    if (snap.hellos[i].t > t) {
      return snap.hellos[i];
    }
  }
  return null;
}

// firstAfter returns the first timestamp in list after t (numbers or {t}), or null.
function firstAfter(list, t) {
  for (var i = 0; i < list.length; i++) {
    var v = typeof list[i] === 'number' ? list[i] : list[i].t;
    if (v > t) {
      return v;
    }
  }
  return null;
}

// countAfter counts the timestamps in list after t.
function countAfter(list, t) {
  var n = 0;
  for (var i = 0; i < list.length; i++) {
    if ((typeof list[i] === 'number' ? list[i] : list[i].t) > t) {
      n++;
    }
  }
  return n;
}

// maxGap returns the longest interval without a timestamp of times (sorted here) inside [from, to], with its start.
function maxGap(times, from, to) {
  var ts = times.filter(function (t) { return t >= from && t <= to; }).sort(function (a, b) { return a - b; });
  var prev = from;
  var best = {ms: 0, at: from};
  ts.concat([to]).forEach(function (t) {
    if (t - prev > best.ms) {
      best = {ms: t - prev, at: prev};
    }
    prev = t;
  });
  return best;
}

// requireOriginalClient fails the run unless socketcluster-client 0.9.37 is what require() loads.
function requireOriginalClient() {
  var v = require('socketcluster-client/package.json').version;
  if (v !== '0.9.37') {
    lib.fail('installed socketcluster-client is ' + v + ', want 0.9.37');
  }
  return require('socketcluster-client');
}

module.exports = {
  RECONNECT: RECONNECT,
  ACK_TIMEOUT_MS: ACK_TIMEOUT_MS,
  ECHO_EVERY_MS: ECHO_EVERY_MS,
  makeProbe: makeProbe,
  nodeProbe: nodeProbe,
  pollRequests: pollRequests,
  workerOf: workerOf,
  who: who,
  whoExactly: whoExactly,
  helloAfter: helloAfter,
  firstAfter: firstAfter,
  countAfter: countAfter,
  maxGap: maxGap,
  requireOriginalClient: requireOriginalClient
};
