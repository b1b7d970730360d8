'use strict';
// process: an EventEmitter carrying the worker's env/argv and the loop's nextTick.

var EventEmitter = require('events');
var proc = new EventEmitter();
var start = internal.hrtime();

proc.title = 'socketcluster';
proc.version = 'v20.11.1';
proc.versions = { node: '20.11.1', v8: '11.3.244.8-node.17', uv: '1.46.0', modules: '115', goja: 'embedded' };
proc.release = { name: 'node', lts: 'Iron' };
proc.platform = internal.platform;
proc.arch = internal.arch;
proc.pid = internal.pid;
proc.ppid = internal.ppid;
proc.execPath = internal.execPath;
proc.execArgv = [];
proc.argv = internal.argv;
proc.argv0 = internal.argv.length ? internal.argv[0] : 'node';
proc.env = internal.env;
proc.exitCode = undefined;
proc.features = {};
proc.config = { variables: {} };
proc.browser = false;
proc.noDeprecation = false;
proc.cwd = function () { return internal.cwd(); };
proc.chdir = function () {
  var e = new Error('process.chdir() is not supported in workers');
  e.code = 'ERR_WORKER_UNSUPPORTED_OPERATION';
  throw e;
};
proc.umask = function () { return 18; };
proc.uptime = function () { return internal.uptime(); };
proc.nextTick = internal.nextTick;
proc.hrtime = function hrtime(prev) {
  var now = internal.hrtime(); // [sec, nsec]
  if (prev) {
    var s = now[0] - prev[0];
    var n = now[1] - prev[1];
    if (n < 0) { s--; n += 1e9; }
    return [s, n];
  }
  return now;
};
proc.hrtime.bigint = function () {
  var t = internal.hrtime();
  return BigInt(t[0]) * 1000000000n + BigInt(t[1]);
};
proc.memoryUsage = function () { return internal.memoryUsage(); };
proc.memoryUsage.rss = function () { return internal.memoryUsage().rss; };
proc.cpuUsage = function () { return { user: 0, system: 0 }; };
proc.exit = function (code) {
  if (code !== undefined) proc.exitCode = code;
  internal.exit(proc.exitCode === undefined ? 0 : Number(proc.exitCode));
};
proc.abort = function () { internal.exit(134); };
proc.kill = function () {
  var e = new Error('process.kill() is not supported in workers');
  e.code = 'ERR_WORKER_UNSUPPORTED_OPERATION';
  throw e;
};
proc.emitWarning = function (warning, type, code) {
  if (typeof type === 'object' && type !== null) {
    code = type.code;
    type = type.type;
  }
  var w = warning;
  if (typeof warning === 'string') {
    w = new Error(warning);
    w.name = type || 'Warning';
    if (code !== undefined) w.code = code;
  }
  if (w.name === 'DeprecationWarning' && proc.noDeprecation) return;
  proc.nextTick(function () {
    if (proc.listenerCount('warning') > 0) {
      proc.emit('warning', w);
      return;
    }
    internal.write(2, '(node:' + proc.pid + ') ' + (w.code ? '[' + w.code + '] ' : '') + w.name + ': ' + w.message + '\n');
  });
};
proc.stdout = { write: function (s) { internal.write(1, String(s)); return true; }, isTTY: false, fd: 1 };
proc.stderr = { write: function (s) { internal.write(2, String(s)); return true; }, isTTY: false, fd: 2 };
proc.stdin = { fd: 0, isTTY: false, on: function () { return this; } };
proc.binding = function (name) {
  throw new Error('No such module: ' + name);
};
void start;
module.exports = proc;
