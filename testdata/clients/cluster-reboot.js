'use strict';
// cluster-reboot.js: a SIGUSR2 rolling reboot of a running cluster under load from ORIGINAL socketcluster-client
// 0.9.37 Node clients (default transports and long-polling-only), each emitting 'echo' with an ack every 20 ms and
// reconnecting after 50-100 ms.
//
// "Some worker answers at every moment" is measured as the silence: the longest interval, from the signal until
// every worker was replaced (in the last round), in which no client at all got an echo answered. It must stay under SC_MAX_SILENCE_MS.
// Failed echoes (lost with a stopping worker, answered after the ack timeout) are counted and reported, as is each
// client's own longest gap (its reconnect window).
//
// Environment:
//   SC_PORT            balancer port (required)
//   SC_MASTER_PID      pid of the master, which gets SIGUSR2 (required)
//   SC_APP             appName of the cluster (default e2e)
//   SC_WORKERS         worker count (default 3)
//   SC_WS_CLIENTS      Node clients on the default transports (default 6)
//   SC_POLL_CLIENTS    Node clients with transports ['polling'] (default 3)
//   SC_MAX_SILENCE_MS  bound of the silence (default 1000)
//   SC_ROUNDS          rolling reboots one after the other (default 2)
//   SC_SIGTERM         1: end with SIGTERM to the master while every client is connected, and wait until each one
//                      saw its connection closed (instead of leaving and checking clientCount)
//   SC_TIMEOUT_MS      overall deadline (default 30000)
// Output: one JSON result line (lib.js format) with the measured figures.

var lib = require('./lib');
var cl = require('./cluster-lib');

var host = '127.0.0.1';
var port = lib.envInt('SC_PORT', 0);
var masterPid = lib.envInt('SC_MASTER_PID', 0);
var app = lib.env('SC_APP', 'e2e');
var workerCount = lib.envInt('SC_WORKERS', 3);
var wsClients = lib.envInt('SC_WS_CLIENTS', 6);
var pollClients = lib.envInt('SC_POLL_CLIENTS', 3);
var maxSilence = lib.envInt('SC_MAX_SILENCE_MS', 1000);
var rounds = lib.envInt('SC_ROUNDS', 2);
var sigterm = lib.env('SC_SIGTERM', '0') === '1';
var overall = lib.envInt('SC_TIMEOUT_MS', lib.DEFAULT_TIMEOUT_MS);

// STEP_MS bounds the short waits; REBOOT_MS bounds the whole rolling reboot.
var STEP_MS = 10000;
var REBOOT_MS = Math.max(STEP_MS, overall - 8000);
// TAIL_MS is how long the load keeps running after the last worker was replaced.
var TAIL_MS = 500;

lib.startDeadline(overall);
if (!port || !masterPid) {
  lib.fail('SC_PORT and SC_MASTER_PID are required');
}
var sc = cl.requireOriginalClient();

function step(name) {
  lib.result.step = name;
}

function check(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

function sleep(ms) {
  return new Promise(function (resolve) { setTimeout(resolve, ms); });
}

async function main() {
  step('clients');
  var probes = [];
  for (var i = 0; i < wsClients + pollClients; i++) {
    var opts = {hostname: host, port: port, autoReconnectOptions: cl.RECONNECT, ackTimeout: cl.ACK_TIMEOUT_MS};
    var kind = i < pollClients ? 'poll' : 'ws';
    if (kind === 'poll') {
      opts.transports = ['polling'];
    }
    probes.push(cl.nodeProbe(sc, opts, kind + '-' + i));
  }
  step('warm up');
  await lib.pollUntil(function () {
    return probes.every(function (p) { return p.ackTimes.length >= 5; });
  }, STEP_MS, 'five echoes answered on every client', 10);
  var onWorker = {};
  probes.forEach(function (p) { onWorker[p.hellos[0].id] = (onWorker[p.hellos[0].id] || 0) + 1; });
  lib.result.distribution = onWorker;
  var before = {};
  for (var id = 0; id < workerCount; id++) {
    before[id] = (await cl.whoExactly(host, port, app, id, STEP_MS)).pid;
  }

  var sentBefore = probes.reduce(function (n, p) { return n + p.sent; }, 0);
  var rebootAt = Date.now();
  var replacedMs = [];
  for (var round = 0; round < rounds; round++) {
    step('reboot ' + (round + 1));
    replacedMs.push(await reboot(before));
  }
  var doneAt = Date.now();
  await sleep(TAIL_MS);
  var endAt = Date.now();

  step('drain');
  // Stop the loops and wait until every echo sent is either answered or failed (the ack timeout), so that the
  // failed ones are all counted.
  probes.forEach(function (p) { p.stopped = true; });
  await lib.pollUntil(function () {
    return probes.every(function (p) { return p.sent === p.ackTimes.length + p.ackErrors.length; });
  }, cl.ACK_TIMEOUT_MS + 2000, 'every echo sent to be answered or failed', 10);

  step('check');
  var all = [];
  var failed = [];
  var perClient = [];
  probes.forEach(function (p) {
    all = all.concat(p.ackTimes);
    failed = failed.concat(p.ackErrors.filter(function (e) { return e.sentAt >= rebootAt; }));
    var gap = cl.maxGap(p.ackTimes, rebootAt, endAt);
    perClient.push({name: p.name, transport: p.socket.transport ? p.socket.transport.name : null,
      maxGapMs: gap.ms, reconnects: cl.countAfter(p.connects, rebootAt), failedAcks: p.ackErrors.length,
      acks: cl.countAfter(p.ackTimes, rebootAt)});
  });
  var silence = cl.maxGap(all, rebootAt, doneAt);
  // Every echo was answered or failed (drain above), so those sent since the first signal split exactly.
  var sent = probes.reduce(function (n, p) { return n + p.sent; }, 0) - sentBefore;
  var result = {rounds: rounds, rebootMs: doneAt - rebootAt, replacedMs: replacedMs, sent: sent,
    acks: sent - failed.length, failedAcks: failed.length,
    silenceMs: silence.ms, silenceAtMs: silence.at - rebootAt, maxSilenceMs: maxSilence,
    maxClientGapMs: Math.max.apply(null, perClient.map(function (c) { return c.maxGapMs; })),
    clients: perClient, failedSample: failed.slice(0, 3)};
  lib.result.figures = result;
  check(silence.ms <= maxSilence, 'no client got any echo answered for ' + silence.ms + ' ms (from ' +
    (silence.at - rebootAt) + ' ms after the first SIGUSR2), bound ' + maxSilence + ' ms');
  probes.forEach(function (p) {
    check(cl.countAfter(p.ackTimes, doneAt) > 0, p.name + ' got no echo answered after the reboot');
    check(p.hellos.length > 0 && p.hellos.every(function (h) { return cl.workerOf(h.socketId) === h.id; }),
      p.name + " got a 'hello' whose socket id names another worker: " + JSON.stringify(p.hellos));
  });

  if (sigterm) {
    // SIGTERM to the master with every client still connected: each one must see its connection closed.
    step('sigterm');
    probes.forEach(function (p) { p.socket.options.autoReconnect = false; });
    var termAt = Date.now();
    process.kill(masterPid, 'SIGTERM');
    await lib.pollUntil(function () {
      return probes.every(function (p) { return cl.firstAfter(p.closes, termAt) !== null; });
    }, STEP_MS, 'every client to see its connection closed after SIGTERM', 10);
    result.closedAfterSigtermMs = Math.max.apply(null, probes.map(function (p) { return cl.firstAfter(p.closes, termAt) - termAt; }));
    probes.forEach(function (p) { p.stop(); });
    return result;
  }

  step('leave');
  probes.forEach(function (p) { p.stop(); });
  var counts = {};
  await lib.pollUntil(async function () {
    for (var id = 0; id < workerCount; id++) {
      counts[id] = (await cl.whoExactly(host, port, app, id, STEP_MS)).status.clientCount;
      if (counts[id] !== 0) {
        return false;
      }
    }
    return true;
  }, STEP_MS, 'every worker to report clientCount 0 (last: ' + JSON.stringify(counts) + ')', 20);
  return result;
}

// reboot sends SIGUSR2 and waits until every worker answers with a new pid; before (id -> pid) is updated.
async function reboot(before) {
  var at = Date.now();
  var replaced = {};
  process.kill(masterPid, 'SIGUSR2');
  await lib.pollUntil(async function () {
    for (var id = 0; id < workerCount; id++) {
      if (replaced[id] === undefined) {
        var w = await cl.who(host, port, app, id);
        if (w.id === id && w.pid !== before[id]) {
          replaced[id] = Date.now() - at;
          before[id] = w.pid;
        }
      }
    }
    return Object.keys(replaced).length === workerCount;
  }, REBOOT_MS, 'every worker to be replaced (pids before: ' + JSON.stringify(before) + ')', 20);
  return replaced;
}

main().then(function (figures) {
  lib.succeed({figures: figures});
}, function (e) {
  lib.fail(e && e.stack ? e.stack : e);
});
