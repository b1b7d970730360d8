'use strict';
// async_hooks: enough for packages that probe it. AsyncResource runs callbacks directly; AsyncLocalStorage keeps
// its store for the synchronous extent of run() (no propagation across async boundaries).

var nextId = 1;

function AsyncResource(type) {
  this.type = type;
  this._id = nextId++;
}
AsyncResource.prototype.runInAsyncScope = function (fn, thisArg) {
  return fn.apply(thisArg, Array.prototype.slice.call(arguments, 2));
};
AsyncResource.prototype.emitDestroy = function () { return this; };
AsyncResource.prototype.asyncId = function () { return this._id; };
AsyncResource.prototype.triggerAsyncId = function () { return 0; };
AsyncResource.prototype.bind = function (fn, thisArg) {
  var self = this;
  return function () { return self.runInAsyncScope.apply(self, [fn, thisArg === undefined ? this : thisArg].concat(Array.prototype.slice.call(arguments))); };
};
AsyncResource.bind = function (fn, type, thisArg) { return new AsyncResource(type || 'bound-anonymous-fn').bind(fn, thisArg); };

function AsyncLocalStorage() { this._store = undefined; this._enabled = false; }
AsyncLocalStorage.prototype.getStore = function () { return this._store; };
AsyncLocalStorage.prototype.run = function (store, fn) {
  var prev = this._store;
  this._store = store;
  try { return fn.apply(null, Array.prototype.slice.call(arguments, 2)); } finally { this._store = prev; }
};
AsyncLocalStorage.prototype.exit = function (fn) { return this.run.apply(this, [undefined].concat(Array.prototype.slice.call(arguments))); };
AsyncLocalStorage.prototype.enterWith = function (store) { this._store = store; };
AsyncLocalStorage.prototype.disable = function () { this._store = undefined; };

exports.AsyncResource = AsyncResource;
exports.AsyncLocalStorage = AsyncLocalStorage;
exports.createHook = function () { return { enable: function () { return this; }, disable: function () { return this; } }; };
exports.executionAsyncId = function () { return 1; };
exports.triggerAsyncId = function () { return 0; };
exports.executionAsyncResource = function () { return {}; };
