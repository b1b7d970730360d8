'use strict';
// cluster-kill.js: kill -9 of one worker of a running cluster (--workers 3 behind one balancer), seen by ORIGINAL
// socketcluster-client 0.9.37 clients: Node clients on the default transports and long-polling-only, and one
// Chromium page with the original browser bundle, all with a 50-100 ms reconnect delay and an echo loop.
//
// It checks that the other workers' clients never see a close or 'disconnect' and keep echoing, that the killed
// worker's clients reconnect and get events again (and measures the time from the kill), that the replacement has the
// same worker id (and socket ids _w<id>_), that every poll and POST of a long-polling session reached the worker that
// owns it, and that once every client left each worker's clientCount is back to 0.
//
// Environment:
//   SC_PORT         balancer port (required)
//   SC_APP          appName of the cluster (default e2e)
//   SC_WORKERS      worker count (default 3)
//   SC_WS_CLIENTS   Node clients on the default transports (default 6)
//   SC_POLL_CLIENTS Node clients with transports ['polling'] (default 3)
//   SC_BROWSER      0: no Chromium page (default 1: the page is the first client, and its worker is killed)
//   SC_CHROMIUM     browser executable (default /usr/bin/chromium)
//   SC_TIMEOUT_MS   overall deadline (default 30000)
// Output: one JSON result line (lib.js format) with the measured figures.

var fs = require('fs');
var os = require('os');
var path = require('path');
var lib = require('./lib');
var cl = require('./cluster-lib');

var host = '127.0.0.1';
var port = lib.envInt('SC_PORT', 0);
var app = lib.env('SC_APP', 'e2e');
var workerCount = lib.envInt('SC_WORKERS', 3);
var wsClients = lib.envInt('SC_WS_CLIENTS', 6);
var pollClients = lib.envInt('SC_POLL_CLIENTS', 3);
var withBrowser = lib.env('SC_BROWSER', '1') !== '0';
var executablePath = lib.env('SC_CHROMIUM', '/usr/bin/chromium');
var overall = lib.envInt('SC_TIMEOUT_MS', lib.DEFAULT_TIMEOUT_MS);

// STEP_MS bounds every awaited condition.
var STEP_MS = 10000;
// MAX_EXTRA_CLIENTS bounds the clients added so that every worker has a client of each Node kind.
var MAX_EXTRA_CLIENTS = 12;
// MIN_ACKS_AFTER_KILL is how many echoes a surviving client must have had answered after the kill.
var MIN_ACKS_AFTER_KILL = 5;
// CHROMIUM_ARGS as in browser-seed.js: no sandbox, GPU, QUIC or background traffic.
var CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

lib.startDeadline(overall);
if (!port) {
  lib.fail('SC_PORT is required');
}
if (withBrowser && !fs.existsSync(executablePath)) {
  lib.fail(executablePath + ' not found: install Debian\'s chromium (scripts/test does it as root)');
}
var sc = cl.requireOriginalClient();
var chromium = withBrowser ? require('playwright-core').chromium : null;

var baseOpts = {hostname: host, port: port, autoReconnectOptions: cl.RECONNECT, ackTimeout: cl.ACK_TIMEOUT_MS};
var clients = []; // {name, kind: 'ws' | 'poll' | 'chromium', worker, pid, snap(), stop()}
var context = null;
var page = null;
var pageErrors = [];
var userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sc-e2e-cluster-'));

function step(name) {
  lib.result.step = name;
}

function check(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

// firstHello waits for the client's first 'hello' and records which worker sent it.
async function firstHello(c) {
  var s = await lib.pollUntil(async function () {
    var s = await c.snap();
    return s.hellos.length ? s : null;
  }, STEP_MS, "the first 'hello' of " + c.name, 5);
  c.worker = s.hellos[0].id;
  c.pid = s.hellos[0].pid;
  return c;
}

async function addNode(kind) {
  var opts = Object.assign({}, baseOpts);
  if (kind === 'poll') {
    opts.transports = ['polling'];
  }
  var p = cl.nodeProbe(sc, opts, kind + '-' + clients.length);
  var c = {name: p.name, kind: kind, probe: p,
    snap: function () { return Promise.resolve(p.snapshot()); },
    stop: function () { p.stop(); return Promise.resolve(); }};
  clients.push(c);
  return firstHello(c);
}

// addBrowserProbe starts a probe in the page; cookie, when given, is written to document.cookie first (in the same
// turn, so the first request carries it).
async function addBrowserProbe(name, cookie) {
  await page.evaluate(function (a) {
    if (a.cookie) {
      document.cookie = a.cookie;
    }
    window.__probes = window.__probes || {};
    window.__probes[a.name] = window.makeProbe(window.socketCluster, a.opts, a.name, a.every);
  }, {name: name, cookie: cookie || '', every: cl.ECHO_EVERY_MS,
    opts: {autoReconnectOptions: cl.RECONNECT, ackTimeout: cl.ACK_TIMEOUT_MS}});
  var c = {name: name, kind: 'chromium',
    snap: function () { return page.evaluate(function (n) { return window.__probes[n].snapshot(); }, name); },
    stop: function () { return page.evaluate(function (n) { window.__probes[n].stop(); }, name); }};
  clients.push(c);
  return firstHello(c);
}

async function openBrowser() {
  context = await chromium.launchPersistentContext(userDataDir, {executablePath: executablePath, headless: true,
    args: CHROMIUM_ARGS, timeout: 20000});
  lib.result.browserVersion = context.browser() ? context.browser().version() : undefined;
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', function (err) { pageErrors.push(String(err && err.message ? err.message : err)); });
  var resp = await page.goto('http://' + host + ':' + port + '/', {waitUntil: 'domcontentloaded', timeout: STEP_MS});
  check(resp && resp.status() === 200, 'page answered ' + (resp ? resp.status() : 'nothing'));
  await page.waitForFunction(function () {
    return typeof window.socketCluster === 'object' && typeof window.socketCluster.connect === 'function';
  }, null, {timeout: STEP_MS});
  await page.addScriptTag({content: 'window.makeProbe = ' + cl.makeProbe.toString() + ';'});
}

function byWorker() {
  var m = {};
  for (var id = 0; id < workerCount; id++) {
    m[id] = {ws: 0, poll: 0, chromium: 0};
  }
  clients.forEach(function (c) { m[c.worker][c.kind]++; });
  return m;
}

// spread adds Node clients until every worker has one of each Node kind (the balancer gives a new client to the
// least loaded worker, so a few more are enough).
async function spread() {
  for (var extra = 0; ; extra++) {
    var m = byWorker();
    var missing = null;
    for (var id = 0; id < workerCount && !missing; id++) {
      if (wsClients > 0 && !m[id].ws) {
        missing = 'ws';
      } else if (pollClients > 0 && !m[id].poll) {
        missing = 'poll';
      }
    }
    if (!missing) {
      return m;
    }
    check(extra < MAX_EXTRA_CLIENTS, 'after ' + clients.length + ' clients some worker still lacks a ' + missing +
      ' client: ' + JSON.stringify(m));
    await addNode(missing);
  }
}

// serverSids fetches every worker's per-session request counts.
async function serverSids() {
  var out = {};
  for (var id = 0; id < workerCount; id++) {
    var w = await cl.whoExactly(host, port, app, id, STEP_MS);
    out[id] = w.sids;
  }
  return out;
}

// checkPollRouting: for every session of the polling-only clients, the GETs and POSTs the client sent all reached
// the worker named in the sid. Sessions of the killed worker are left out (their counts died with it); the requests
// of theirs that the balancer sent elsewhere after the kill are reported.
async function checkPollRouting(victim, killAt) {
  var sessions = [];
  for (var i = 0; i < clients.length; i++) {
    if (clients[i].kind !== 'poll') {
      continue;
    }
    var s = await clients[i].snap();
    s.connects.forEach(function (cn) {
      sessions.push({client: s.name, sid: cn.soid, owner: cl.workerOf(cn.soid), killed: cl.workerOf(cn.soid) === victim && cn.t < killAt});
    });
  }
  var last = '';
  var report = {sessions: 0, requests: 0, strayAfterKill: 0};
  await lib.pollUntil(async function () {
    var servers = await serverSids();
    report = {sessions: 0, requests: 0, strayAfterKill: 0};
    for (var i = 0; i < sessions.length; i++) {
      var ss = sessions[i];
      var mine = cl.pollRequests[ss.sid] || {GET: 0, POST: 0};
      var seenOn = [];
      for (var id in servers) {
        var c = servers[id][ss.sid];
        if (c && (c.GET || c.POST)) {
          seenOn.push({worker: Number(id), GET: c.GET, POST: c.POST});
        }
      }
      if (ss.killed) {
        seenOn.forEach(function (x) { report.strayAfterKill += x.GET + x.POST; });
        continue;
      }
      if (ss.owner < 0 || seenOn.length !== 1 || seenOn[0].worker !== ss.owner || seenOn[0].GET !== mine.GET ||
        seenOn[0].POST !== mine.POST || mine.POST < 1 || mine.GET < 2) {
        last = 'session ' + ss.sid + ' of ' + ss.client + ' (owner worker ' + ss.owner + '): client sent ' +
          JSON.stringify(mine) + ', workers saw ' + JSON.stringify(seenOn);
        return null;
      }
      report.sessions++;
      report.requests += mine.GET + mine.POST;
    }
    return true;
  }, STEP_MS, 'the polling requests of every session to be counted by its owner worker only', 50).catch(function (e) {
    throw new Error(e.message + '; last difference: ' + last);
  });
  return report;
}

async function main() {
  if (withBrowser) {
    step('chromium');
    await openBrowser();
    await addBrowserProbe('chromium-0');
  }
  step('clients');
  var kinds = [];
  for (var i = 0; i < Math.max(wsClients, pollClients); i++) {
    if (i < pollClients) {
      kinds.push('poll');
    }
    if (i < wsClients) {
      kinds.push('ws');
    }
  }
  for (var k = 0; k < kinds.length; k++) {
    await addNode(kinds[k]);
  }
  var distribution = await spread();
  lib.result.distribution = distribution;
  // The first client (the page, when there is one) names the worker to kill.
  var victim = clients[0].worker;
  var oldPid = clients[0].pid;
  var pids = {};
  clients.forEach(function (c) { pids[c.worker] = c.pid; });
  check(Object.keys(pids).length === workerCount, 'clients reached workers ' + JSON.stringify(Object.keys(pids)));

  step('warm up');
  for (var j = 0; j < clients.length; j++) {
    await lib.pollUntil(async function () {
      return (await clients[j].snap()).ackTimes.length >= 5;
    }, STEP_MS, 'five echoes answered for ' + clients[j].name, 10);
  }

  step('kill');
  var killAt = Date.now();
  process.kill(oldPid, 'SIGKILL');
  var victims = clients.filter(function (c) { return c.worker === victim; });
  var survivors = clients.filter(function (c) { return c.worker !== victim; });

  step('reconnect');
  await lib.pollUntil(async function () {
    for (var i = 0; i < victims.length; i++) {
      var s = await victims[i].snap();
      var h = cl.helloAfter(s, killAt);
      if (!h || cl.firstAfter(s.ackTimes, h.t) === null) {
        return false;
      }
    }
    return true;
  }, STEP_MS, "every client of the killed worker to reconnect, get 'hello' and an echo", 10);
  var figures = [];
  for (var v = 0; v < victims.length; v++) {
    var s = await victims[v].snap();
    var h = cl.helloAfter(s, killAt);
    check(h.id !== victim || h.pid !== oldPid, victims[v].name + " got 'hello' from the killed process");
    check(cl.workerOf(h.socketId) === h.id, 'socket id ' + h.socketId + ' does not name worker ' + h.id);
    var closed = cl.firstAfter(s.closes, killAt);
    var connected = cl.firstAfter(s.connects, killAt);
    figures.push({name: s.name, closeMs: closed === null ? null : closed - killAt, connectMs: connected - killAt,
      eventMs: h.t - killAt, ackMs: cl.firstAfter(s.ackTimes, h.t) - killAt, worker: h.id, socketId: h.socketId,
      failedAcks: s.ackErrors.length, transport: s.transport});
  }
  lib.result.victims = figures;

  step('replacement');
  var repl = await cl.whoExactly(host, port, app, victim, STEP_MS, function (w) { return w.pid !== oldPid; });
  var replacementMs = Date.now() - killAt;
  var ph = null;
  if (withBrowser) {
    // A new page socket whose session cookie names the killed worker's id is served by the replacement.
    var probe = await addBrowserProbe('chromium-replacement', 'n/' + app + '/ssid=_w' + victim + '_' + port + '_0_replacement; path=/');
    ph = (await probe.snap()).hellos[0];
  } else {
    // Without cookies the balancer gives a new session to the least loaded worker: the replacement, which holds only
    // the clients that reconnected to it. Connect until one lands there.
    await lib.pollUntil(async function () {
      var c = await addNode(pollClients > 0 ? 'poll' : 'ws');
      return c.worker === victim ? (ph = (await c.snap()).hellos[0]) : null;
    }, STEP_MS, 'a new client on worker ' + victim, 0);
  }
  check(ph.id === victim && ph.pid === repl.pid && cl.workerOf(ph.socketId) === victim,
    'the replacement check socket got ' + JSON.stringify(ph) + ', want worker ' + victim + ' pid ' + repl.pid +
    ' and a socket id naming _w' + victim + '_');
  for (var id = 0; id < workerCount; id++) {
    if (id !== victim) {
      await cl.whoExactly(host, port, app, id, STEP_MS, function (w) {
        check(w.pid === pids[id], 'worker ' + id + ' changed pid ' + pids[id] + ' -> ' + w.pid);
        return true;
      });
    }
  }

  step('survivors');
  await lib.pollUntil(async function () {
    for (var i = 0; i < survivors.length; i++) {
      if (cl.countAfter((await survivors[i].snap()).ackTimes, killAt) < MIN_ACKS_AFTER_KILL) {
        return false;
      }
    }
    return true;
  }, STEP_MS, MIN_ACKS_AFTER_KILL + ' echoes answered after the kill on every surviving client', 10);
  var survivorAcks = 0;
  for (var n = 0; n < survivors.length; n++) {
    var ss = await survivors[n].snap();
    check(ss.closes.length === 0 && ss.disconnects.length === 0 && ss.hellos.length === 1 && ss.connects.length === 1,
      ss.name + ' on worker ' + survivors[n].worker + ' noticed the kill: closes ' + JSON.stringify(ss.closes) +
      ', disconnects ' + JSON.stringify(ss.disconnects) + ', connects ' + ss.connects.length);
    check(ss.ackErrors.length === 0, ss.name + ' on worker ' + survivors[n].worker + ' had failed echoes: ' +
      JSON.stringify(ss.ackErrors.slice(0, 3)));
    check(ss.connected, ss.name + ' is not connected');
    survivorAcks += cl.countAfter(ss.ackTimes, killAt);
  }
  var all = await Promise.all(clients.map(function (c) { return c.snap(); }));
  all.forEach(function (s) {
    s.hellos.forEach(function (h) {
      check(cl.workerOf(h.socketId) === h.id, s.name + ": 'hello' from worker " + h.id + ' with socket id ' + h.socketId);
    });
  });

  step('polling routing');
  var routing = await checkPollRouting(victim, killAt);

  step('leave');
  for (var c = 0; c < clients.length; c++) {
    await clients[c].stop();
  }
  var leaveAt = Date.now();
  if (context) {
    await context.close();
    context = null;
  }
  var counts = {};
  await lib.pollUntil(async function () {
    for (var id = 0; id < workerCount; id++) {
      var w = await cl.whoExactly(host, port, app, id, STEP_MS);
      counts[id] = w.status.clientCount;
      if (counts[id] !== 0) {
        return false;
      }
    }
    return true;
  }, STEP_MS, 'every worker to report clientCount 0 (last: ' + JSON.stringify(counts) + ')', 20);
  check(pageErrors.length === 0, 'page errors: ' + JSON.stringify(pageErrors));
  return {victim: victim, oldPid: oldPid, newPid: repl.pid, clients: clients.length, victimClients: victims.length,
    survivorClients: survivors.length, survivorAcksAfterKill: survivorAcks, replacementMs: replacementMs,
    replacementSocketId: ph.socketId, pollRouting: routing, clientCountZeroMs: Date.now() - leaveAt};
}

main().then(function (extra) {
  fs.rmSync(userDataDir, {recursive: true, force: true});
  lib.succeed(extra);
}, function (e) {
  var closing = context ? context.close().catch(function () {}) : Promise.resolve();
  closing.then(function () {
    fs.rmSync(userDataDir, {recursive: true, force: true});
    lib.result.pageErrors = pageErrors;
    lib.fail(e && e.stack ? e.stack : e);
  });
});
