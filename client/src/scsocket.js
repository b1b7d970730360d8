// The SocketCluster 0.9.37 client API (SCSocket) on top of EngineSocket.
// SC messages are JSON inside engine.io message packets (spec 5.4).

import { Emitter } from './emitter.js';
import { EngineSocket } from './engine.js';
import { reconnectDelay } from './backoff.js';

/** Default time to wait for an event's response, in ms (0.9.37: 10000). */
export const DEFAULT_ACK_TIMEOUT_MS = 10000;
/** A timer tick later than this by more than WAKE_GAP_MS means the page slept. */
export const WAKE_CHECK_INTERVAL_MS = 1000;
/** Timer gap that counts as the machine or tab having slept. */
export const WAKE_GAP_MS = 4000;
/** After waking while connected: a pong must arrive within this, or we reconnect. */
export const WAKE_PONG_TIMEOUT_MS = 5000;
/** Emits kept while disconnected; older ones are dropped beyond this. */
export const EMIT_BUFFER_LIMIT = 10000;

/** Names that are never sent to the server (BUNDLE-0.9.36 _localEvents). */
export const LOCAL_EVENTS = [
  'connect', 'disconnect', 'upgrading', 'upgrade', 'upgradeError', 'open', 'error', 'packet',
  'heartbeat', 'data', 'raw', 'message', 'handshake', 'drain', 'flush', 'packetCreate', 'close', 'fail',
];
const localEvents = Object.create(null);
for (const name of LOCAL_EVENTS) localEvents[name] = true;

const emitLocal = Emitter.prototype.emit;

/** The session destination prefix: four `_`-terminated fields (spec 3.5). */
const SESSION_DEST = /^([^_]*)_([^_]*)_([^_]*)_([^_]*)_/;

/** Replies to a server event; only sends when the event carried a cid. */
export class Response {
  constructor(socket, id) {
    this.socket = socket;
    this.id = id;
  }

  end(data) {
    if (!this.id) return;
    const msg = { cid: this.id };
    if (data !== undefined) msg.data = data;
    this.socket._sendObject(msg);
  }

  error(error, data) {
    if (!this.id) return;
    const err = error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : error;
    const msg = { cid: this.id, error: err };
    if (data !== undefined) msg.data = data;
    this.socket._sendObject(msg);
  }
}

function toBase64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}

/** Replaces ArrayBuffers (and byte views) by {base64: true, data} (0.9.36+). */
export function convertBuffersToBase64(value, ancestors) {
  if (value instanceof ArrayBuffer) return { base64: true, data: toBase64(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) {
    return { base64: true, data: toBase64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (value === null || typeof value !== 'object' || typeof value.toJSON === 'function') return value;
  const seen = ancestors || [];
  if (seen.indexOf(value) >= 0) throw new Error('Cannot traverse circular structure');
  seen.push(value);
  let out;
  if (Array.isArray(value)) {
    out = value.map((item) => convertBuffersToBase64(item, seen));
  } else {
    out = {};
    for (const key in value) {
      if (Object.prototype.hasOwnProperty.call(value, key)) out[key] = convertBuffersToBase64(value[key], seen);
    }
  }
  seen.pop();
  return out;
}

function readCookie(doc, name) {
  const parts = String(doc.cookie || '').split(';');
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return unescape(part.slice(eq + 1));
  }
  return undefined;
}

/**
 * Spec 3.5: keep the existing `n/<app>/ssid` cookie when it names the same
 * destination as the new socket id, otherwise write the socket id.
 */
export function sessionIdFromCookie(doc, appName, socketId) {
  const name = 'n/' + appName + '/ssid';
  const destOf = (id) => {
    const m = String(id).match(SESSION_DEST);
    return m ? m[0] : null;
  };
  let ssid = readCookie(doc, name);
  if (!ssid || destOf(ssid) !== destOf(socketId)) {
    ssid = socketId;
    doc.cookie = name + '=' + escape(socketId) + '; path=/;';
  }
  return ssid;
}

function normalizeOptions(options, env) {
  const opts = Object.assign({
    autoReconnect: true,
    ackTimeout: DEFAULT_ACK_TIMEOUT_MS,
    transports: ['polling', 'websocket'],
    upgrade: true,
    timestampParam: 't',
    forceJSONP: false,
    forceBase64: false,
  }, options);
  const loc = env.location;
  if (opts.url) {
    const u = new URL(opts.url, loc ? loc.href : undefined);
    opts.secure = u.protocol === 'https:' || u.protocol === 'wss:';
    opts.hostname = u.hostname.replace(/^\[|\]$/g, '');
    if (u.port) opts.port = u.port;
    if (u.search) opts.query = Object.assign(Object.fromEntries(new URLSearchParams(u.search)), opts.query);
  }
  if (opts.host && !opts.hostname) {
    const pieces = String(opts.host).split(':');
    opts.hostname = pieces[0];
    if (pieces.length > 1 && opts.port == null) opts.port = pieces[1];
  }
  if (opts.secure == null) opts.secure = !!(loc && loc.protocol === 'https:');
  if (!opts.hostname) opts.hostname = loc && loc.hostname ? loc.hostname : 'localhost';
  if (opts.port == null || opts.port === '') {
    opts.port = loc && loc.port && !opts.url ? loc.port : (opts.secure ? 443 : 80);
  }
  opts.path = String(opts.path || '/socketcluster').replace(/\/$/, '') + '/';
  if (typeof opts.query === 'string') opts.query = Object.fromEntries(new URLSearchParams(opts.query));
  opts.query = Object.assign({}, opts.query);
  if (opts.autoReconnectOptions == null) opts.autoReconnectOptions = {};
  return opts;
}

export class SCSocket extends Emitter {
  constructor(options, env) {
    super();
    this._env = env;
    this.options = normalizeOptions(options || {}, env);
    this.id = null;
    this.ssid = null;
    this.connected = false;
    this.connecting = false;
    this.engine = null;
    this._cid = 1;
    this._callbacks = Object.create(null);
    this._buffer = [];
    this._subscriptions = Object.create(null);
    this._attempts = 0;
    this._reconnectTimer = null;
    this._enableAutoReconnect = true;
    this._wake = null;
    this.connect();
  }

  /** The current transport ({name: 'polling'|'websocket'}) or null. */
  get transport() {
    return this.engine ? this.engine.transport : null;
  }

  connect() {
    if (this.connected || this.connecting) return this;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    this.connecting = true;
    this._enableAutoReconnect = true;
    this._startWakeWatch();
    // Re-send remembered subscriptions, then `ready`, ahead of anything the
    // application queued while disconnected (spec 5.4.3).
    const internal = [];
    for (const channel in this._subscriptions) {
      internal.push({ event: 'subscribe', data: channel, internal: true });
    }
    internal.push({ event: 'ready', internal: true });
    this._buffer = internal.concat(this._buffer.filter((entry) => !entry.internal));

    const engine = new EngineSocket(this.options, this._env);
    this.engine = engine;
    engine.on('open', () => {
      this.id = engine.id;
      emitLocal.call(this, 'open');
    });
    engine.on('message', (msg) => this._onMessage(msg));
    engine.on('upgrade', (name) => emitLocal.call(this, 'upgrade', name));
    engine.on('error', (err) => this._onEngineError(err));
    engine.on('close', (reason) => this._onEngineClose(engine, reason));
    engine.open();
    return this;
  }

  open() {
    return this.connect();
  }

  /** Closes the connection and stops reconnecting until connect() is called. */
  disconnect() {
    this._enableAutoReconnect = false;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    this._stopWakeWatch();
    if (this.engine) {
      this.engine.close();
    } else {
      this.connecting = false;
    }
    return this;
  }

  close() {
    return this.disconnect();
  }

  _onEngineError(err) {
    this._error(err);
  }

  _onEngineClose(engine, reason) {
    if (engine !== this.engine) return;
    const wasConnected = this.connected;
    this.engine = null;
    this.connected = false;
    this.connecting = false;
    this.id = null;
    if (wasConnected) emitLocal.call(this, 'disconnect', reason);
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    if (this.connected || this.connecting || this._reconnectTimer) return;
    if (!this.options.autoReconnect || !this._enableAutoReconnect) return;
    const delay = reconnectDelay(this._attempts++, this.options.autoReconnectOptions);
    this._reconnectTimer = setTimeout(() => {
      this._reconnectTimer = null;
      this.connect();
    }, delay);
  }

  // Browser: reconnect at once on `online`, on becoming visible, and when a
  // timer gap shows the machine slept; when connected, verify with a ping.
  _startWakeWatch() {
    const win = this._env.window;
    if (!win || this._wake || typeof win.addEventListener !== 'function') return;
    const doc = this._env.document;
    const wake = () => this._onWake();
    const onVisibility = () => {
      if (!doc || doc.visibilityState !== 'hidden') wake();
    };
    let last = Date.now();
    const interval = setInterval(() => {
      const now = Date.now();
      const gap = now - last;
      last = now;
      if (gap > WAKE_CHECK_INTERVAL_MS + WAKE_GAP_MS && !(doc && doc.visibilityState === 'hidden')) wake();
    }, WAKE_CHECK_INTERVAL_MS);
    win.addEventListener('online', wake);
    if (doc && doc.addEventListener) doc.addEventListener('visibilitychange', onVisibility);
    this._wake = () => {
      clearInterval(interval);
      win.removeEventListener('online', wake);
      if (doc && doc.removeEventListener) doc.removeEventListener('visibilitychange', onVisibility);
    };
  }

  _stopWakeWatch() {
    if (this._wake) this._wake();
    this._wake = null;
  }

  _onWake() {
    if (this.connected) {
      if (this.engine) this.engine.checkAlive(WAKE_PONG_TIMEOUT_MS);
    } else if (this._reconnectTimer) {
      this._attempts = 0;
      this.connect();
    }
  }

  _error(err) {
    if (this.listeners('error').length > 0) {
      emitLocal.call(this, 'error', err);
    } else {
      // 0.9.x behaviour: an error nobody listens to is thrown asynchronously.
      setTimeout(() => { throw err; }, 0);
    }
  }

  _onMessage(message) {
    let e = message;
    if (typeof message === 'string') {
      try {
        e = JSON.parse(message);
      } catch (err) {
        e = message;
      }
    }
    if (e !== null && typeof e === 'object' && e.event) {
      this._onEvent(e);
    } else if (e === null || typeof e !== 'object' || e.cid == null) {
      emitLocal.call(this, 'raw', e);
    } else {
      const entry = this._callbacks[e.cid];
      if (entry) {
        delete this._callbacks[e.cid];
        clearTimeout(entry.timer);
        entry.callback(e.error, e.data);
      }
      if (e.error) this._error(e.error);
    }
  }

  _onEvent(e) {
    if (e.event === 'connect') {
      this.connected = true;
      this.connecting = false;
      this._attempts = 0;
      const data = e.data || {};
      const doc = this._env.document;
      if (this._env.isBrowser && doc && this.id) {
        this.ssid = sessionIdFromCookie(doc, data.appName, this.id);
      } else {
        this.ssid = this.id;
      }
      // Flush first so that subscriptions and `ready` precede anything the
      // application emits from its own connect handler.
      this._flush();
      emitLocal.call(this, 'connect', data.soid);
    } else if (e.event === 'disconnect') {
      this.connected = false;
      this.connecting = false;
      emitLocal.call(this, 'disconnect');
    } else if (e.event === 'fail') {
      this.connected = false;
      this.connecting = false;
      emitLocal.call(this, 'fail', e.data);
      this._error(e.data);
    } else {
      emitLocal.call(this, e.event, e.data, new Response(this, e.cid));
    }
  }

  _flush() {
    const entries = this._buffer;
    this._buffer = [];
    for (const entry of entries) {
      if (!this.connected) {
        this._buffer.push(entry);
      } else {
        this._sendEntry(entry);
      }
    }
  }

  _sendObject(obj) {
    if (this.engine) this.engine.send(JSON.stringify(convertBuffersToBase64(obj)));
  }

  _sendEntry(entry) {
    const obj = { event: entry.event };
    if (entry.data !== undefined) obj.data = entry.data;
    obj.cid = this._cid++;
    entry.sent = obj;
    if (entry.callback) this._callbacks[obj.cid] = entry;
    this._sendObject(obj);
  }

  /**
   * emit(event, data, callback): sends an event (buffered while disconnected);
   * callback(err, data) gets the response or a timeout after ackTimeout ms.
   * Local event names are dispatched to local listeners instead.
   */
  emit(event, data, callback) {
    if (localEvents[event]) {
      emitLocal.apply(this, arguments);
      return this;
    }
    const entry = { event, data, callback: typeof callback === 'function' ? callback : null };
    if (entry.callback) {
      entry.timer = setTimeout(() => this._onAckTimeout(entry), this.options.ackTimeout);
    }
    if (this.connected) {
      this._sendEntry(entry);
      return this;
    }
    this._buffer.push(entry);
    if (this._buffer.length > EMIT_BUFFER_LIMIT) {
      const dropped = this._buffer.splice(this._buffer.findIndex((item) => !item.internal), 1)[0];
      if (dropped) clearTimeout(dropped.timer);
    }
    if (!this.connecting && !this._reconnectTimer) this.connect();
    return this;
  }

  _onAckTimeout(entry) {
    const index = this._buffer.indexOf(entry);
    if (index >= 0) this._buffer.splice(index, 1);
    if (entry.sent) delete this._callbacks[entry.sent.cid];
    const eventObject = entry.sent || { event: entry.event, data: entry.data };
    const error = new Error("Event response for '" + entry.event + "' timed out");
    entry.callback(error, eventObject);
    this._error(error);
  }

  /** Sends a raw string (the server emits `raw`). */
  send(data) {
    if (this.engine) this.engine.send(data);
    return this;
  }

  publish(event, data, callback) {
    return this.emit('publish', { event, data }, (err) => {
      if (callback) callback(err);
    });
  }

  subscribe(channels, callback) {
    return this._channelOp('subscribe', channels, callback, (channel) => {
      this._subscriptions[channel] = true;
    });
  }

  unsubscribe(channels, callback) {
    return this._channelOp('unsubscribe', channels, callback, (channel) => {
      delete this._subscriptions[channel];
    });
  }

  subscriptions() {
    return Object.keys(this._subscriptions);
  }

  // One event per channel; callback(err) for one channel, callback(errMap)
  // keyed by channel for several, callback() when all succeeded.
  _channelOp(event, channels, callback, onSuccess) {
    const list = Array.isArray(channels) ? channels : [channels];
    let pending = list.length;
    let failed = 0;
    const errors = {};
    if (pending === 0) {
      if (callback) setTimeout(() => callback(), 0);
      return this;
    }
    for (const channel of list) {
      this.emit(event, channel, (err) => {
        pending--;
        if (err) {
          failed++;
          errors[channel] = err;
        } else {
          onSuccess(channel);
        }
        if (pending === 0 && callback) {
          if (!failed) callback();
          else callback(list.length > 1 ? errors : err);
        }
      });
    }
    return this;
  }
}
