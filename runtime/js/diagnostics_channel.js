'use strict';
// diagnostics_channel: named channels with subscribers, synchronous publish.
var channels = Object.create(null);

function Channel(name) { this.name = name; this._subscribers = []; }
Object.defineProperty(Channel.prototype, 'hasSubscribers', { get: function () { return this._subscribers.length > 0; } });
Channel.prototype.subscribe = function (fn) { this._subscribers.push(fn); };
Channel.prototype.unsubscribe = function (fn) {
  var i = this._subscribers.indexOf(fn);
  if (i === -1) return false;
  this._subscribers.splice(i, 1);
  return true;
};
Channel.prototype.publish = function (message) {
  var subs = this._subscribers.slice();
  for (var i = 0; i < subs.length; i++) {
    try { subs[i](message, this.name); } catch (e) { process.nextTick(function () { throw e; }); }
  }
};
Channel.prototype.bindStore = function () {};
Channel.prototype.unbindStore = function () { return false; };
Channel.prototype.runStores = function (data, fn, thisArg) {
  this.publish(data);
  return fn.apply(thisArg, Array.prototype.slice.call(arguments, 3));
};

function channel(name) {
  var c = channels[name];
  if (!c) c = channels[name] = new Channel(name);
  return c;
}

function TracingChannel(name) {
  this.start = channel('tracing:' + name + ':start');
  this.end = channel('tracing:' + name + ':end');
  this.asyncStart = channel('tracing:' + name + ':asyncStart');
  this.asyncEnd = channel('tracing:' + name + ':asyncEnd');
  this.error = channel('tracing:' + name + ':error');
}
TracingChannel.prototype.traceSync = function (fn, ctx, thisArg) {
  return fn.apply(thisArg, Array.prototype.slice.call(arguments, 3));
};
TracingChannel.prototype.tracePromise = TracingChannel.prototype.traceSync;
TracingChannel.prototype.traceCallback = TracingChannel.prototype.traceSync;

exports.channel = channel;
exports.hasSubscribers = function (name) { return !!channels[name] && channels[name].hasSubscribers; };
exports.subscribe = function (name, fn) { channel(name).subscribe(fn); };
exports.unsubscribe = function (name, fn) { return channel(name).unsubscribe(fn); };
exports.tracingChannel = function (name) { return new TracingChannel(name); };
exports.Channel = Channel;
