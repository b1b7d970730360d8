'use strict';
// console: util.format semantics, plain lines to the loop's stdout/stderr writers.

var util = require('util');
var counts = {};
var timersStart = {};
var groupIndent = '';

function out(fd, args) {
  var s = util.format.apply(null, args);
  if (groupIndent) s = groupIndent + s.split('\n').join('\n' + groupIndent);
  internal.write(fd, s + '\n');
}

var con = {
  log: function () { out(1, arguments); },
  info: function () { out(1, arguments); },
  debug: function () { out(1, arguments); },
  warn: function () { out(2, arguments); },
  error: function () { out(2, arguments); },
  dir: function (obj, opts) { internal.write(1, groupIndent + util.inspect(obj, Object.assign({ customInspect: false }, opts)) + '\n'); },
  trace: function () {
    var e = new Error(util.format.apply(null, arguments));
    e.name = 'Trace';
    var lines = String(e.stack).split('\n');
    lines.splice(1, 1); // drop console.trace's own frame
    internal.write(2, lines.join('\n') + '\n');
  },
  assert: function (ok) {
    if (!ok) {
      var rest = Array.prototype.slice.call(arguments, 1);
      if (rest.length === 0) rest = ['Assertion failed'];
      else if (typeof rest[0] === 'string') rest[0] = 'Assertion failed: ' + rest[0];
      else rest.unshift('Assertion failed:');
      out(2, rest);
    }
  },
  count: function (label) {
    label = label === undefined ? 'default' : String(label);
    counts[label] = (counts[label] || 0) + 1;
    out(1, [label + ': ' + counts[label]]);
  },
  countReset: function (label) { counts[label === undefined ? 'default' : String(label)] = 0; },
  time: function (label) { timersStart[label === undefined ? 'default' : String(label)] = process.hrtime.bigint(); },
  timeEnd: function (label) {
    label = label === undefined ? 'default' : String(label);
    var s = timersStart[label];
    if (s === undefined) return;
    delete timersStart[label];
    out(1, [label + ': ' + (Number(process.hrtime.bigint() - s) / 1e6).toFixed(3) + 'ms']);
  },
  timeLog: function (label) {
    label = label === undefined ? 'default' : String(label);
    var s = timersStart[label];
    if (s === undefined) return;
    out(1, [label + ': ' + (Number(process.hrtime.bigint() - s) / 1e6).toFixed(3) + 'ms'].concat(Array.prototype.slice.call(arguments, 1)));
  },
  group: function () {
    if (arguments.length) out(1, arguments);
    groupIndent += '  ';
  },
  groupEnd: function () { groupIndent = groupIndent.slice(2); },
  table: function (d) { out(1, [d]); }
};
con.groupCollapsed = con.group;
con.Console = function Console() { return con; };
module.exports = con;
