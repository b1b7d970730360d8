'use strict';
// browser-seed.js opens the seed example's page in real headless Chromium (driven by playwright-core) and reads the
// random numbers the page shows.
//
// Environment:
//   SC_URL                page URL (required), e.g. http://127.0.0.1:8000/?forceJSONP=1
//   SC_MIN_NUMBERS        how many numbers to wait for (default 2)
//   SC_EXPECT_TRANSPORT   if set (polling | websocket), the page's socket must end on this transport
//   SC_EXPECT_JSONP       if 1, the engine.io polling requests must be JSONP (j= in the query), never XHR
//   SC_CHROMIUM           browser executable (default /usr/bin/chromium)
//   SC_TIMEOUT_MS         overall deadline (default 30000)
// Output: one JSON line; exit 0 on success, 1 on failure.

var fs = require('fs');
var os = require('os');
var path = require('path');
var lib = require('./lib');

// CHROMIUM_ARGS keep the browser quiet and self-contained: no sandbox (containers, root), no GPU, no QUIC,
// no first-run UI and no background traffic to Google services.
var CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
];

var url = lib.env('SC_URL', '');
var minNumbers = lib.envInt('SC_MIN_NUMBERS', 2);
var expectTransport = lib.env('SC_EXPECT_TRANSPORT', '');
var expectJSONP = lib.env('SC_EXPECT_JSONP', '') === '1';
var executablePath = lib.env('SC_CHROMIUM', '/usr/bin/chromium');
var overall = lib.envInt('SC_TIMEOUT_MS', lib.DEFAULT_TIMEOUT_MS);

lib.startDeadline(overall);
lib.result.url = url;

if (!url) {
  lib.fail('SC_URL is required');
}
if (!fs.existsSync(executablePath)) {
  lib.fail(executablePath + ' not found: install Debian\'s chromium (scripts/test does it as root)');
}

var chromium = require('playwright-core').chromium;
var browser;
var userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sc-e2e-chromium-'));

var pageErrors = [];
var consoleLines = [];
var engineRequests = [];
var websockets = [];

function cleanup() {
  var closing = browser ? browser.close().catch(function () {}) : Promise.resolve();
  return closing.then(function () {
    fs.rmSync(userDataDir, {recursive: true, force: true});
  });
}

function step(name) {
  lib.result.step = name;
}

var page;
step('launch');
chromium.launchPersistentContext(userDataDir, {
  executablePath: executablePath,
  headless: true,
  args: CHROMIUM_ARGS,
  timeout: 20000
}).then(function (context) {
  browser = context;
  lib.result.browserVersion = context.browser() ? context.browser().version() : undefined;
  page = context.pages()[0];
  return page ? page : context.newPage();
}).then(function (p) {
  page = p;
  page.on('pageerror', function (err) { pageErrors.push(String(err && err.message ? err.message : err)); });
  page.on('console', function (msg) { consoleLines.push(msg.type() + ': ' + msg.text()); });
  page.on('request', function (req) {
    if (req.url().indexOf('/socketcluster/') >= 0) {
      engineRequests.push(req.resourceType() + ' ' + req.method() + ' ' + req.url());
    }
  });
  page.on('websocket', function (ws) { websockets.push(ws.url()); });
  step('goto');
  // DOMContentLoaded, not 'load': a pending JSONP long-poll is a script element that keeps 'load' from firing.
  return page.goto(url, {waitUntil: 'domcontentloaded', timeout: 15000});
}).then(function (resp) {
  if (!resp || resp.status() !== 200) {
    throw new Error('page answered ' + (resp ? resp.status() : 'nothing'));
  }
  step('numbers');
  return page.waitForFunction(function (n) {
    return document.querySelectorAll('#numbers li').length >= n;
  }, minNumbers, {timeout: Math.max(1000, overall - 5000), polling: 100}).catch(function (e) {
    return page.evaluate(function () {
      return {status: document.getElementById('status') && document.getElementById('status').textContent,
        count: document.querySelectorAll('#numbers li').length};
    }).then(function (st) {
      throw new Error('fewer than ' + minNumbers + ' numbers appeared (' + st.count + ', page status "' + st.status +
        '"): ' + e.message.split('\n')[0]);
    });
  });
}).then(function () {
  if (!expectTransport) {
    return;
  }
  step('transport');
  return page.waitForFunction(function (want) {
    return window.scSocket && window.scSocket.transport && window.scSocket.transport.name === want;
  }, expectTransport, {timeout: 10000, polling: 100}).catch(function () {
    return page.evaluate(function () {
      return window.scSocket && window.scSocket.transport ? window.scSocket.transport.name : null;
    }).then(function (name) {
      throw new Error('page socket is on transport ' + name + ', want ' + expectTransport);
    });
  });
}).then(function () {
  step('read');
  return page.evaluate(function () {
    var items = document.querySelectorAll('#numbers li');
    var out = [];
    for (var i = 0; i < items.length; i++) {
      out.push(items[i].textContent);
    }
    var status = document.getElementById('status');
    var sock = window.scSocket;
    return {numbers: out, status: status ? status.textContent : null,
      transport: sock && sock.transport ? sock.transport.name : null};
  });
}).then(function (st) {
  step('check');
  st.numbers.forEach(function (s) {
    var n = Number(s);
    if (!/^\d+$/.test(s) || n < 0 || n > 99) {
      throw new Error('page shows ' + JSON.stringify(s) + ', not an integer in [0, 99]');
    }
  });
  if (expectJSONP) {
    var xhr = engineRequests.filter(function (r) { return r.indexOf('xhr ') === 0 || r.indexOf('fetch ') === 0; });
    var jsonp = engineRequests.filter(function (r) { return /[?&]j=\d+/.test(r); });
    if (xhr.length || !jsonp.length) {
      throw new Error('expected JSONP polling only; saw ' + jsonp.length + ' JSONP and ' + xhr.length +
        ' XHR requests: ' + JSON.stringify(engineRequests.slice(0, 6)));
    }
  }
  if (pageErrors.length) {
    throw new Error('page errors: ' + JSON.stringify(pageErrors));
  }
  return cleanup().then(function () {
    lib.succeed({numbers: st.numbers.map(Number), transport: st.transport, status: st.status,
      engineRequests: engineRequests.length, websockets: websockets.length});
  });
}).catch(function (err) {
  var extra = {pageErrors: pageErrors, console: consoleLines.slice(-10), engineRequests: engineRequests.slice(-6)};
  lib.result.diagnostics = extra;
  var message = err && err.message ? err.message : String(err);
  cleanup().then(function () {
    lib.fail(message);
  }, function () {
    lib.fail(message);
  });
});
