'use strict';
// session-tabs.js: one Chromium browser context, two tabs of the same site. Tab A loads the page through the
// balancer (SC_URL), tab B straight from the other worker (SC_WORKERS, same host so the same cookies). Checks that both
// sockets are served in one session (server-side ssid), that session.emit from one worker reaches both tabs, and
// that data set in one tab's handler is read in the other's.
//
// Environment: SC_URL, SC_WORKERS (JSON {"<id>": "127.0.0.1:<port>"}, two workers; required), SC_CHROMIUM (default /usr/bin/chromium), SC_TIMEOUT_MS.
// Output: one JSON result line (lib.js format) with ssid and the workers of both tabs.

var fs = require('fs');
var os = require('os');
var path = require('path');
var lib = require('./lib');

var urlA = lib.env('SC_URL', '');
var workers = JSON.parse(lib.env('SC_WORKERS', '{}'));
var executablePath = lib.env('SC_CHROMIUM', '/usr/bin/chromium');
var overall = lib.envInt('SC_TIMEOUT_MS', 30000);
var STEP_MS = 10000;
lib.startDeadline(overall);
if (!urlA || Object.keys(workers).length !== 2) lib.fail('SC_URL and SC_WORKERS (two workers) are required');

var chromium = require('playwright-core').chromium;
var ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
var userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sc-e2e-tabs-'));
var context;

function step(name) { lib.result.step = name; }

// In the page: connect, record events, ask with an ack.
function install() {
  var h = { log: [] };
  h.socket = socketCluster.connect();
  h.socket.on('connect', function () { h.connected = true; });
  h.socket.on('sessionhello', function (d) { h.log.push(d); });
  h.ask = function (ev, d) {
    return new Promise(function (resolve) {
      h.socket.emit(ev, d, function (err, res) { resolve({ err: err ? String(err.message || JSON.stringify(err)) : null, data: res === undefined ? null : res }); });
    });
  };
  window.__t = h;
}

async function open(url) {
  var page = await context.newPage();
  var resp = await page.goto(url, { waitUntil: 'domcontentloaded', timeout: STEP_MS });
  if (!resp || resp.status() !== 200) throw new Error('GET ' + url + ' answered ' + (resp ? resp.status() : 'nothing'));
  await page.waitForFunction(function () { return typeof window.socketCluster === 'object'; }, null, { timeout: STEP_MS });
  await page.evaluate(install);
  await page.waitForFunction(function () { return window.__t.connected; }, null, { timeout: STEP_MS, polling: 20 });
  return page;
}

async function ask(page, ev, d) {
  var r = await page.evaluate(function (a) { return window.__t.ask(a[0], a[1]); }, [ev, d]);
  if (r.err) throw new Error(ev + ' failed: ' + r.err);
  return r.data;
}

async function main() {
  step('launch');
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: executablePath, headless: true, args: ARGS, timeout: 20000 });
  step('tab A');
  var a = await open(urlA);
  var whoA = await ask(a, 'whoami');
  step('tab B');
  var other = Object.keys(workers).filter(function (id) { return Number(id) !== whoA.worker; })[0];
  var b = await open('http://' + workers[other] + '/');
  var whoB = await ask(b, 'whoami');
  if (whoA.ssid !== whoB.ssid) throw new Error('tabs in different sessions: ' + JSON.stringify([whoA, whoB]));
  if (whoA.worker === whoB.worker) throw new Error('both tabs on worker ' + whoA.worker + '; the test needs two workers');
  step('data');
  await ask(a, 'set', { key: 'note', value: { from: 'A', n: 1 } });
  var got = await ask(b, 'get', { key: 'note' });
  if (JSON.stringify(got) !== '{"from":"A","n":1}') throw new Error('tab B read ' + JSON.stringify(got));
  step('session emit');
  await ask(b, 'sessEmit', { from: 'B' });
  for (var p of [a, b]) {
    await p.waitForFunction(function () { return window.__t.log.length > 0; }, null, { timeout: STEP_MS, polling: 20 });
    var log = await p.evaluate(function () { return window.__t.log; });
    if (JSON.stringify(log) !== '[{"from":"B"}]') throw new Error('session events in a tab: ' + JSON.stringify(log));
  }
  return { ssid: whoA.ssid, workers: [whoA.worker, whoB.worker] };
}

main().then(function (extra) {
  return context.close().catch(function () {}).then(function () {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    lib.succeed(extra);
  });
}, function (e) {
  var closing = context ? context.close().catch(function () {}) : Promise.resolve();
  closing.then(function () {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    lib.fail(e && e.stack ? e.stack : e);
  });
});
