'use strict';
// Shared helpers for the end-to-end client scripts: configuration from the environment,
// an overall deadline, one JSON result line on stdout, and a small inbox for awaited events.

var http = require('http');

// DEFAULT_TIMEOUT_MS bounds a whole script run unless SC_TIMEOUT_MS says otherwise.
var DEFAULT_TIMEOUT_MS = 30000;

function env(name, fallback) {
  var v = process.env[name];
  return v === undefined || v === '' ? fallback : v;
}

function envInt(name, fallback) {
  var v = env(name, '');
  if (v === '') {
    return fallback;
  }
  var n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    fail('bad value for ' + name + ': ' + JSON.stringify(v));
  }
  return n;
}

var result = {ok: false, script: require('path').basename(process.argv[1] || ''), step: 'start', steps: {}};
var finished = false;

// fail prints the failure as one JSON line on stdout and a readable message on stderr, then exits 1.
function fail(message) {
  if (finished) {
    return;
  }
  finished = true;
  result.ok = false;
  result.error = String(message);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.stderr.write('FAIL [' + result.script + '] step "' + result.step + '": ' + message + '\n');
  process.exit(1);
}

// succeed prints the result as one JSON line and exits 0.
function succeed(extra) {
  if (finished) {
    return;
  }
  finished = true;
  for (var k in extra || {}) {
    result[k] = extra[k];
  }
  result.ok = true;
  result.step = 'done';
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
}

// startDeadline makes the whole script fail after ms milliseconds.
function startDeadline(ms) {
  setTimeout(function () {
    fail('overall timeout of ' + ms + ' ms exceeded');
  }, ms);
}

process.on('uncaughtException', function (err) {
  fail('uncaught exception: ' + (err && err.stack ? err.stack : err));
});
process.on('unhandledRejection', function (err) {
  fail('unhandled rejection: ' + (err && err.stack ? err.stack : err));
});

// withTimeout rejects with a message naming what was awaited when p does not settle in ms.
function withTimeout(p, ms, what) {
  return new Promise(function (resolve, reject) {
    var t = setTimeout(function () {
      reject(new Error('timed out after ' + ms + ' ms waiting for ' + what));
    }, ms);
    p.then(function (v) {
      clearTimeout(t);
      resolve(v);
    }, function (e) {
      clearTimeout(t);
      reject(e);
    });
  });
}

// Inbox queues values per name so a step can await "the next one" regardless of arrival order.
function Inbox() {
  this.items = {};
  this.waiters = {};
}

Inbox.prototype.push = function (name, value) {
  var w = this.waiters[name];
  if (w && w.length) {
    w.shift()(value);
    return;
  }
  (this.items[name] = this.items[name] || []).push(value);
};

Inbox.prototype.next = function (name, ms) {
  var self = this;
  var q = this.items[name];
  if (q && q.length) {
    return Promise.resolve(q.shift());
  }
  var p = new Promise(function (resolve) {
    (self.waiters[name] = self.waiters[name] || []).push(resolve);
  });
  return withTimeout(p, ms, "'" + name + "'");
};

// getJSON fetches http://host:port/path and parses the body as JSON.
function getJSON(host, port, path) {
  return new Promise(function (resolve, reject) {
    var req = http.get({host: host, port: port, path: path, agent: false}, function (res) {
      var chunks = [];
      res.on('data', function (c) { chunks.push(c); });
      res.on('end', function () {
        var body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) {
          reject(new Error('GET ' + path + ' -> ' + res.statusCode + ': ' + body));
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(new Error('GET ' + path + ' returned non-JSON: ' + body));
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, function () {
      req.destroy(new Error('GET ' + path + ' timed out'));
    });
  });
}

// pollUntil calls check (returning a value or a promise; truthy means done) every intervalMs until ms pass.
function pollUntil(check, ms, what, intervalMs) {
  var deadline = Date.now() + ms;
  intervalMs = intervalMs || 50;
  return new Promise(function (resolve, reject) {
    var last;
    function attempt() {
      Promise.resolve().then(check).then(function (v) {
        if (v) {
          resolve(v);
        } else {
          again();
        }
      }, function (e) {
        last = e;
        again();
      });
    }
    function again() {
      if (Date.now() >= deadline) {
        reject(new Error('timed out after ' + ms + ' ms waiting for ' + what +
          (last ? ' (last error: ' + last.message + ')' : '')));
        return;
      }
      setTimeout(attempt, intervalMs);
    }
    attempt();
  });
}

// diff compares JSON-shaped values and returns '' or a description of the first difference.
function diff(want, got, at) {
  at = at || '$';
  if (typeof want !== typeof got || (want === null) !== (got === null) || Array.isArray(want) !== Array.isArray(got)) {
    return at + ': want ' + JSON.stringify(want) + ', got ' + JSON.stringify(got);
  }
  if (want === null || typeof want !== 'object') {
    return want === got ? '' : at + ': want ' + JSON.stringify(want) + ', got ' + JSON.stringify(got);
  }
  var keys = Object.keys(want).concat(Object.keys(got).filter(function (k) { return !(k in want); }));
  for (var i = 0; i < keys.length; i++) {
    var d = diff(want[keys[i]], got[keys[i]], at + '.' + keys[i]);
    if (d) {
      return d;
    }
  }
  return '';
}

module.exports = {
  DEFAULT_TIMEOUT_MS: DEFAULT_TIMEOUT_MS,
  env: env,
  envInt: envInt,
  result: result,
  fail: fail,
  succeed: succeed,
  startDeadline: startDeadline,
  withTimeout: withTimeout,
  Inbox: Inbox,
  getJSON: getJSON,
  pollUntil: pollUntil,
  diff: diff
};
