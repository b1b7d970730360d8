// A small event emitter with the component-emitter surface that the 0.9.x
// client exposed: on/addEventListener, once, off/removeListener/
// removeAllListeners/removeEventListener, emit, listeners, hasListeners.

export class Emitter {
  constructor() {
    this._listeners = Object.create(null);
  }

  on(event, fn) {
    (this._listeners[event] || (this._listeners[event] = [])).push(fn);
    return this;
  }

  once(event, fn) {
    const self = this;
    function wrapper() {
      self.removeListener(event, wrapper);
      return fn.apply(self, arguments);
    }
    wrapper.fn = fn;
    return this.on(event, wrapper);
  }

  removeListener(event, fn) {
    if (arguments.length === 0) {
      this._listeners = Object.create(null);
      return this;
    }
    const list = this._listeners[event];
    if (!list) return this;
    if (arguments.length === 1) {
      delete this._listeners[event];
      return this;
    }
    for (let i = 0; i < list.length; i++) {
      if (list[i] === fn || list[i].fn === fn) {
        list.splice(i, 1);
        break;
      }
    }
    if (list.length === 0) delete this._listeners[event];
    return this;
  }

  removeAllListeners(event) {
    return arguments.length === 0 ? this.removeListener() : this.removeListener(event);
  }

  emit(event) {
    const list = this._listeners[event];
    if (!list) return this;
    const args = Array.prototype.slice.call(arguments, 1);
    const snapshot = list.slice();
    for (let i = 0; i < snapshot.length; i++) snapshot[i].apply(this, args);
    return this;
  }

  listeners(event) {
    return (this._listeners[event] || []).slice();
  }

  hasListeners(event) {
    return this.listeners(event).length > 0;
  }
}

const proto = Emitter.prototype;
proto.addEventListener = proto.on;
proto.off = proto.removeListener;
proto.removeEventListener = proto.removeListener;
