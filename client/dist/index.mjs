/*! socketcluster-client 0.9.100 for the Go SocketCluster server | MIT | engine.io 1.3.1 wire protocol */

// src/node-esm.js
import http from "node:http";
import https from "node:https";

// src/emitter.js
var Emitter = class {
  constructor() {
    this._listeners = /* @__PURE__ */ Object.create(null);
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
      this._listeners = /* @__PURE__ */ Object.create(null);
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
};
var proto = Emitter.prototype;
proto.addEventListener = proto.on;
proto.off = proto.removeListener;
proto.removeEventListener = proto.removeListener;

// src/codec.js
var PACKET_TYPES = ["open", "close", "ping", "pong", "message", "upgrade", "noop"];
var TYPE_CODES = {};
PACKET_TYPES.forEach((name, i) => {
  TYPE_CODES[name] = i;
});
var ParseError = class extends Error {
  constructor(message) {
    super(message);
    this.name = "ParseError";
  }
};
var encoder = null;
var strictDecoder = null;
var looseDecoder = null;
function utf8Encode(str) {
  if (!encoder) encoder = new TextEncoder();
  return encoder.encode(str);
}
function utf8Decode(bytes) {
  if (!strictDecoder) strictDecoder = new TextDecoder("utf-8", { fatal: true });
  try {
    return strictDecoder.decode(bytes);
  } catch (err) {
    throw new ParseError("invalid UTF-8");
  }
}
function utf8DecodeLoose(bytes) {
  if (!looseDecoder) looseDecoder = new TextDecoder("utf-8");
  return looseDecoder.decode(bytes);
}
function bytesToByteString(bytes) {
  let out = "";
  const chunk = 8192;
  for (let i = 0; i < bytes.length; i += chunk) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return out;
}
function byteStringToBytes(str) {
  const bytes = new Uint8Array(str.length);
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c > 255) throw new ParseError("character above 0xFF in a byte string");
    bytes[i] = c;
  }
  return bytes;
}
function toByteString(str) {
  return bytesToByteString(utf8Encode(str));
}
function fromByteString(str) {
  return utf8Decode(byteStringToBytes(str));
}
function toBase64(bytes) {
  return btoa(bytesToByteString(bytes));
}
function fromBase64(str) {
  let bin;
  try {
    bin = atob(str);
  } catch (err) {
    throw new ParseError("invalid base64");
  }
  return byteStringToBytes(bin);
}
function typeCode(packet) {
  const code = TYPE_CODES[packet.type];
  if (code === void 0) throw new TypeError("unknown packet type " + packet.type);
  return code;
}
function isBinary(data) {
  return data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}
function asBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
function makePacket(code, data) {
  const type = PACKET_TYPES[code];
  if (type === void 0) throw new ParseError("unknown packet type code " + code);
  const packet = { type };
  if (data !== void 0) packet.data = data;
  return packet;
}
function encodePacketText(packet) {
  const code = typeCode(packet);
  if (isBinary(packet.data)) return "b" + code + toBase64(asBytes(packet.data));
  return code + (packet.data === void 0 ? "" : toByteString(String(packet.data)));
}
function decodePacketText(str) {
  if (str.length === 0) throw new ParseError("empty packet");
  if (str.charAt(0) === "b") {
    const bytes = fromBase64(str.slice(2));
    return makePacket(Number(str.charAt(1)), bytes.buffer);
  }
  const code = str.charCodeAt(0) - 48;
  if (code < 0 || code > 9) throw new ParseError("bad packet type");
  const rest = str.slice(1);
  return makePacket(code, rest.length ? fromByteString(rest) : void 0);
}
function decodePacketBinary(data) {
  const bytes = asBytes(data);
  if (bytes.length === 0) throw new ParseError("empty packet");
  return makePacket(bytes[0], bytes.slice(1).buffer);
}
function encodePacketWS(packet, supportsBinary) {
  if (isBinary(packet.data) && supportsBinary) {
    const data = asBytes(packet.data);
    const out = new Uint8Array(data.length + 1);
    out[0] = typeCode(packet);
    out.set(data, 1);
    return out.buffer;
  }
  return encodePacketText(packet);
}
function encodePayloadText(packets) {
  let out = "";
  for (const packet of packets) {
    const text = encodePacketText(packet);
    out += text.length + ":" + text;
  }
  return out;
}
function decodePayloadText(str) {
  const packets = [];
  let i = 0;
  if (str.length === 0) throw new ParseError("empty payload");
  while (i < str.length) {
    const colon = str.indexOf(":", i);
    if (colon < 0) throw new ParseError("missing length separator");
    const lenText = str.slice(i, colon);
    if (!/^[0-9]+$/.test(lenText)) throw new ParseError("bad length");
    const len = Number(lenText);
    const start = colon + 1;
    if (start + len > str.length) throw new ParseError("truncated payload");
    if (len > 0) packets.push(decodePacketText(str.substr(start, len)));
    i = start + len;
  }
  return packets;
}
function lengthDigits(n) {
  return String(n).split("").map(Number);
}
function encodePayloadBinary(packets) {
  const parts = [];
  let total = 0;
  for (const packet of packets) {
    let body;
    let marker;
    if (isBinary(packet.data)) {
      const data = asBytes(packet.data);
      body = new Uint8Array(data.length + 1);
      body[0] = typeCode(packet);
      body.set(data, 1);
      marker = 1;
    } else {
      body = utf8Encode(typeCode(packet) + (packet.data === void 0 ? "" : String(packet.data)));
      marker = 0;
    }
    const head = [marker].concat(lengthDigits(body.length), [255]);
    parts.push(Uint8Array.from(head), body);
    total += head.length + body.length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
function decodePayloadBinary(data) {
  const bytes = asBytes(data);
  const packets = [];
  let i = 0;
  if (bytes.length === 0) throw new ParseError("empty payload");
  while (i < bytes.length) {
    const marker = bytes[i++];
    if (marker !== 0 && marker !== 1) throw new ParseError("bad payload marker");
    let len = 0;
    let digits = 0;
    while (i < bytes.length && bytes[i] !== 255) {
      const d = bytes[i++];
      if (d > 9 || ++digits > 10) throw new ParseError("bad length digit");
      len = len * 10 + d;
    }
    if (i >= bytes.length || digits === 0) throw new ParseError("truncated length");
    i++;
    if (i + len > bytes.length) throw new ParseError("truncated payload");
    const body = bytes.subarray(i, i + len);
    i += len;
    if (marker === 1) {
      packets.push(decodePacketBinary(body));
    } else {
      const text = utf8Decode(body);
      const code = text.charCodeAt(0) - 48;
      if (!(code >= 0 && code <= 9)) throw new ParseError("bad packet type");
      packets.push(makePacket(code, text.length > 1 ? text.slice(1) : void 0));
    }
  }
  return packets;
}
function escapeJSONPBody(payload) {
  return payload.replace(/\\n/g, "\\\n").replace(/\n/g, "\\n");
}

// src/transports.js
var timestampCounter = 0;
var OCTET_STREAM = "application/octet-stream";
function encodeQuery(query) {
  const parts = [];
  for (const key in query) {
    if (Object.prototype.hasOwnProperty.call(query, key) && query[key] != null) {
      parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(query[key]));
    }
  }
  return parts.join("&");
}
function transportError(message, cause) {
  const err = new Error(message);
  err.type = "TransportError";
  if (cause !== void 0) err.description = cause;
  return err;
}
var Transport = class {
  constructor(opts) {
    this.opts = opts;
    this.query = Object.assign({}, opts.query);
    this.readyState = "";
    this.writable = false;
    this.onopen = this.onpacket = this.onclose = this.onerror = this.ondrain = noop;
  }
  uri(scheme, extra) {
    const o = this.opts;
    const secure = o.secure;
    const s = scheme + (secure ? "s" : "");
    let port = "";
    if (o.port && (secure && Number(o.port) !== 443 || !secure && Number(o.port) !== 80)) {
      port = ":" + o.port;
    }
    const query = encodeQuery(Object.assign({}, this.query, extra));
    const host = o.hostname.indexOf(":") >= 0 ? "[" + o.hostname + "]" : o.hostname;
    return s + "://" + host + port + o.path + (query ? "?" + query : "");
  }
  // Reports one failure and closes; later events are ignored.
  fail(message, cause) {
    if (this.readyState === "closed") return;
    this.stop();
    this.readyState = "closed";
    this.onerror(transportError(message, cause));
  }
  // Reports a close initiated by the peer or the network.
  closedByPeer(reason) {
    if (this.readyState === "closed") return;
    this.stop();
    this.readyState = "closed";
    this.onclose(reason || "transport close");
  }
  handlePacket(packet) {
    this.onpacket(packet);
  }
};
function noop() {
}
var Polling = class extends Transport {
  constructor(opts, env) {
    super(opts);
    this.name = "polling";
    this.env = env;
    if (opts.forceJSONP || !env.request) {
      this.mode = env.jsonp ? "jsonp" : "text";
    } else {
      this.mode = opts.forceBase64 || !env.supportsBinaryXHR ? "text" : "binary";
    }
    if (this.mode === "jsonp") this.query.j = env.jsonp.alloc();
    if (this.mode !== "binary") this.query.b64 = 1;
    this.supportsBinary = this.mode === "binary";
    this.pollAbort = null;
    this.writeAbort = null;
    this.onPauseReady = null;
  }
  requestUri() {
    const extra = {};
    if (this.opts.timestampRequests !== false) {
      extra[this.opts.timestampParam] = Date.now() + "-" + timestampCounter++;
    }
    if (this.query.b64) {
      const b64 = this.query.b64;
      delete this.query.b64;
      extra.b64 = b64;
      const uri = this.uri("http", extra);
      this.query.b64 = b64;
      return uri;
    }
    return this.uri("http", extra);
  }
  open() {
    this.readyState = "opening";
    this.poll();
  }
  poll() {
    const uri = this.requestUri();
    const done = (err, res) => {
      this.pollAbort = null;
      if (this.readyState === "closed") return;
      if (err) return this.fail("poll error", err);
      let packets;
      try {
        packets = this.decodeResponse(res);
      } catch (e) {
        return this.fail(e instanceof ParseError ? "parse error" : "poll error", e);
      }
      this.onData(packets);
    };
    if (this.mode === "jsonp") {
      this.pollAbort = this.env.jsonp.get(this.query.j, uri, (err, text) => done(err, { status: 200, body: text }));
    } else {
      this.pollAbort = this.env.request({ method: "GET", url: uri, binary: this.mode === "binary", agent: this.opts.agent }, done);
    }
  }
  decodeResponse(res) {
    if (res.status !== 200) throw transportError("poll error, status " + res.status, res.status);
    const body = res.body;
    if (typeof body === "string") return decodePayloadText(body);
    const type = String(res.contentType || "").toLowerCase();
    if (type.indexOf(OCTET_STREAM) === 0) return decodePayloadBinary(body);
    return decodePayloadText(utf8DecodeLoose(body));
  }
  onData(packets) {
    if (this.readyState === "opening") {
      this.readyState = "open";
      this.writable = true;
      this.onopen();
    }
    for (const packet of packets) {
      if (this.readyState === "closed") return;
      if (packet.type === "close") return this.closedByPeer("transport close");
      this.handlePacket(packet);
    }
    if (this.readyState === "open") {
      this.poll();
    } else if (this.readyState === "pausing") {
      this.checkPaused();
    }
  }
  send(packets) {
    this.writable = false;
    const done = (err, res) => {
      this.writeAbort = null;
      if (this.readyState === "closed") return;
      if (err) return this.fail("post error", err);
      if (res && res.status !== 200) return this.fail("post error, status " + res.status, res.status);
      this.writable = true;
      if (this.readyState === "pausing") return this.checkPaused();
      this.ondrain();
    };
    if (this.mode === "binary") {
      this.writeAbort = this.env.request({
        method: "POST",
        url: this.requestUri(),
        body: encodePayloadBinary(packets),
        contentType: OCTET_STREAM,
        binary: true,
        agent: this.opts.agent
      }, done);
    } else if (this.mode === "text") {
      this.writeAbort = this.env.request({
        method: "POST",
        url: this.requestUri(),
        body: encodePayloadText(packets),
        contentType: "text/plain;charset=UTF-8",
        binary: false,
        agent: this.opts.agent
      }, done);
    } else {
      this.writeAbort = this.env.jsonp.post(this.requestUri(), encodePayloadText(packets), done);
    }
  }
  /** Waits for the in-flight GET and POST, then calls onPaused (upgrade). */
  pause(onPaused) {
    this.readyState = "pausing";
    this.onPauseReady = onPaused;
    this.checkPaused();
  }
  checkPaused() {
    if (this.readyState !== "pausing" || this.pollAbort || this.writeAbort) return;
    this.readyState = "paused";
    const fn = this.onPauseReady;
    this.onPauseReady = null;
    if (fn) fn();
  }
  /** Closes; when open, tells the server with a `1` packet first. */
  close() {
    if (this.readyState === "closed") return;
    const wasOpen = this.readyState === "open" || this.readyState === "paused" || this.readyState === "pausing";
    const pollAbort = this.pollAbort;
    this.pollAbort = null;
    if (wasOpen) {
      const uri = this.requestUri();
      const body = this.mode === "binary" ? encodePayloadBinary([{ type: "close" }]) : encodePayloadText([{ type: "close" }]);
      if (this.mode === "jsonp") {
        this.env.jsonp.post(uri, body, noop);
      } else {
        this.env.request({
          method: "POST",
          url: uri,
          body,
          contentType: this.mode === "binary" ? OCTET_STREAM : "text/plain;charset=UTF-8",
          binary: this.mode === "binary",
          agent: this.opts.agent
        }, noop);
      }
    }
    this.readyState = "closed";
    if (pollAbort) pollAbort();
  }
  /** Drops the transport without telling the server (after an upgrade). */
  discard() {
    this.readyState = "closed";
    this.stop();
  }
  stop() {
    const aborts = [this.pollAbort, this.writeAbort];
    this.pollAbort = this.writeAbort = null;
    for (const abort of aborts) if (abort) abort();
  }
};
var WS = class extends Transport {
  constructor(opts, env) {
    super(opts);
    this.name = "websocket";
    this.env = env;
    this.Ctor = opts.WebSocket || env.WebSocket || null;
    this.supportsBinary = !opts.forceBase64;
    this.ws = null;
  }
  open() {
    this.readyState = "opening";
    if (!this.Ctor) {
      setTimeout(() => this.fail("websocket unavailable"), 0);
      return;
    }
    const extra = {};
    if (this.opts.timestampRequests) extra[this.opts.timestampParam] = Date.now();
    if (!this.supportsBinary) extra.b64 = 1;
    let ws;
    try {
      ws = new this.Ctor(this.uri("ws", extra));
    } catch (err) {
      setTimeout(() => this.fail("websocket error", err), 0);
      return;
    }
    this.ws = ws;
    if (ws.binaryType === void 0) this.supportsBinary = false;
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      if (this.readyState !== "opening") return;
      this.readyState = "open";
      this.writable = true;
      this.onopen();
    };
    ws.onclose = () => this.readyState === "opening" ? this.fail("websocket closed before open") : this.closedByPeer("transport close");
    ws.onerror = (ev) => this.fail("websocket error", ev);
    ws.onmessage = (ev) => this.onFrame(ev.data);
  }
  onFrame(data) {
    if (this.readyState !== "open") return;
    let packet;
    try {
      packet = typeof data === "string" ? decodePacketText(data) : decodePacketBinary(data);
    } catch (err) {
      return this.fail("parse error", err);
    }
    this.handlePacket(packet);
  }
  send(packets) {
    for (const packet of packets) {
      try {
        this.ws.send(encodePacketWS(packet, this.supportsBinary));
      } catch (err) {
        return this.fail("websocket send error", err);
      }
    }
  }
  close() {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.stop();
  }
  stop() {
    const ws = this.ws;
    if (!ws) return;
    ws.onopen = ws.onclose = ws.onmessage = null;
    ws.onerror = noop;
    try {
      ws.close();
    } catch (err) {
    }
  }
};

// src/engine.js
var PROBE_TIMEOUT_MS = 1e4;
var HANDSHAKE_TIMEOUT_MS = 2e4;
var EngineSocket = class extends Emitter {
  /**
   * opts: hostname, port, secure, path, query, transports, upgrade,
   * forceJSONP, forceBase64, timestampRequests, timestampParam, WebSocket,
   * agent. env: see env-browser.js / env-node.js.
   */
  constructor(opts, env) {
    super();
    this.opts = opts;
    this.env = env;
    this.id = null;
    this.readyState = "closed";
    this.transport = null;
    this.writeBuffer = [];
    this.upgrading = false;
    this.pingInterval = 25e3;
    this.pingTimeout = 6e4;
    this.pingTimer = null;
    this.livenessTimer = null;
    this.probe = null;
  }
  createTransport(name) {
    const query = Object.assign({}, this.opts.query, { EIO: this.env.eio, transport: name });
    if (this.id) query.sid = this.id;
    const opts = Object.assign({}, this.opts, { query });
    return name === "websocket" ? new WS(opts, this.env) : new Polling(opts, this.env);
  }
  usable(name) {
    if (name === "websocket") return !!(this.opts.WebSocket || this.env.WebSocket);
    return name === "polling";
  }
  open() {
    this.readyState = "opening";
    this.livenessTimer = setTimeout(() => this.onError(transportError("handshake timeout")), HANDSHAKE_TIMEOUT_MS);
    this.candidates = this.opts.transports.filter((name) => this.usable(name));
    if (this.candidates.length === 0) {
      setTimeout(() => this.onError(transportError("no usable transport in " + JSON.stringify(this.opts.transports))), 0);
      return;
    }
    this.tryNextTransport();
  }
  // Opens the next candidate transport; a transport that fails before the
  // handshake makes us fall back to the next one (e.g. websocket -> polling).
  tryNextTransport() {
    const name = this.candidates.shift();
    const transport = this.createTransport(name);
    this.setTransport(transport);
    transport.onerror = (err) => {
      if (this.readyState === "opening" && this.candidates.length > 0) {
        this.emit("upgradeError", err);
        this.tryNextTransport();
      } else {
        this.onError(err);
      }
    };
    transport.open();
  }
  setTransport(transport) {
    if (this.transport) {
      this.transport.onpacket = this.transport.onclose = this.transport.onerror = this.transport.ondrain = noop2;
    }
    this.transport = transport;
    transport.onpacket = (packet) => this.onPacket(packet);
    transport.onerror = (err) => this.onError(err);
    transport.onclose = (reason) => this.onClose(reason);
    transport.ondrain = () => this.flush();
  }
  onPacket(packet) {
    if (this.readyState !== "opening" && this.readyState !== "open") return;
    this.resetLiveness(this.pingInterval + this.pingTimeout);
    switch (packet.type) {
      case "open":
        this.onHandshake(packet.data);
        break;
      case "pong":
        this.schedulePing();
        break;
      case "message":
        this.emit("message", packet.data === void 0 ? "" : packet.data);
        break;
      default:
        break;
    }
  }
  onHandshake(text) {
    let data;
    try {
      data = JSON.parse(text);
    } catch (err) {
      return this.onError(transportError("bad handshake", err));
    }
    if (!data || typeof data.sid !== "string") return this.onError(transportError("bad handshake"));
    this.id = data.sid;
    this.transport.query.sid = data.sid;
    this.pingInterval = Number(data.pingInterval) || this.pingInterval;
    this.pingTimeout = Number(data.pingTimeout) || this.pingTimeout;
    const upgrades = (data.upgrades || []).filter((name) => name !== this.transport.name && this.opts.transports.indexOf(name) >= 0 && this.usable(name));
    this.readyState = "open";
    this.emit("open");
    if (this.readyState !== "open") return;
    this.flush();
    this.schedulePing();
    this.resetLiveness(this.pingInterval + this.pingTimeout);
    if (this.opts.upgrade !== false && this.transport.name === "polling" && upgrades.indexOf("websocket") >= 0) {
      this.startProbe();
    }
  }
  startProbe() {
    const probe = this.createTransport("websocket");
    this.probe = probe;
    let timer = null;
    const fail = (err) => {
      if (this.probe !== probe) return;
      this.probe = null;
      clearTimeout(timer);
      probe.close();
      this.upgrading = false;
      this.emit("upgradeError", err);
      const current = this.transport;
      if (this.readyState === "open" && current && (current.readyState === "pausing" || current.readyState === "paused")) {
        current.onPauseReady = null;
        current.readyState = "open";
        if (!current.pollAbort) current.poll();
        this.flush();
      }
    };
    timer = setTimeout(() => fail(transportError("probe timeout")), PROBE_TIMEOUT_MS);
    probe.onerror = (err) => fail(err);
    probe.onclose = () => fail(transportError("probe closed"));
    probe.onopen = () => probe.send([{ type: "ping", data: "probe" }]);
    probe.onpacket = (packet) => {
      if (this.probe !== probe) return;
      if (packet.type !== "pong" || packet.data !== "probe") return fail(transportError("probe error"));
      clearTimeout(timer);
      this.upgrading = true;
      this.emit("upgrading", "websocket");
      this.transport.pause(() => {
        if (this.probe !== probe || this.readyState !== "open") return;
        this.probe = null;
        const old = this.transport;
        this.setTransport(probe);
        old.discard();
        probe.send([{ type: "upgrade" }]);
        this.upgrading = false;
        this.emit("upgrade", "websocket");
        this.flush();
      });
    };
    probe.open();
  }
  schedulePing() {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => {
      this.sendPacket({ type: "ping" });
      this.resetLiveness(this.pingTimeout);
    }, this.pingInterval);
  }
  resetLiveness(ms) {
    clearTimeout(this.livenessTimer);
    this.livenessTimer = setTimeout(() => this.onClose("ping timeout"), ms);
  }
  /** Sends a ping now and closes with 'ping timeout' if nothing arrives within ms. */
  checkAlive(ms) {
    if (this.readyState !== "open") return;
    this.sendPacket({ type: "ping" });
    this.resetLiveness(ms);
  }
  send(data) {
    this.sendPacket({ type: "message", data });
  }
  sendPacket(packet) {
    if (this.readyState === "closed") return;
    this.writeBuffer.push(packet);
    this.flush();
  }
  flush() {
    if (this.readyState !== "open" || this.upgrading || !this.transport.writable || this.writeBuffer.length === 0) return;
    const packets = this.writeBuffer;
    this.writeBuffer = [];
    this.transport.send(packets);
  }
  /** Closes the socket (tells the server) and reports 'forced close'. */
  close() {
    if (this.readyState === "opening" || this.readyState === "open") {
      const transport = this.transport;
      this.onClose("forced close");
      if (transport) transport.close();
    }
    return this;
  }
  onError(err) {
    if (this.readyState === "closed") return;
    this.emit("error", err);
    this.onClose("transport error", err);
  }
  onClose(reason, desc) {
    if (this.readyState !== "opening" && this.readyState !== "open") return;
    clearTimeout(this.pingTimer);
    clearTimeout(this.livenessTimer);
    const transport = this.transport;
    if (transport) {
      transport.onpacket = transport.onclose = transport.onerror = transport.ondrain = noop2;
      if (reason !== "forced close") transport.discard ? transport.discard() : transport.close();
    }
    if (this.probe) {
      const probe = this.probe;
      this.probe = null;
      probe.onpacket = probe.onclose = probe.onerror = noop2;
      probe.close();
    }
    this.readyState = "closed";
    this.writeBuffer = [];
    this.upgrading = false;
    this.id = null;
    this.emit("close", reason, desc);
  }
};
function noop2() {
}

// src/backoff.js
var RECONNECT_INITIAL_DELAY_MS = 500;
var RECONNECT_MULTIPLIER = 2;
var RECONNECT_MAX_DELAY_MS = 1e4;
var LEGACY_MAX_EXPONENT = 5;
var LEGACY_MULTIPLIER = 1.5;
function num(value, fallback) {
  return typeof value === "number" && isFinite(value) && value >= 0 ? value : fallback;
}
function reconnectDelay(attempt, options, random) {
  const opts = options || {};
  const rand = random || Math.random;
  const legacy = ("delay" in opts || "randomness" in opts) && !("initialDelay" in opts || "maxDelay" in opts || "multiplier" in opts);
  if (legacy) {
    const base = Math.round(num(opts.delay, 0) + num(opts.randomness, 0) * rand());
    return Math.round(base * Math.pow(LEGACY_MULTIPLIER, Math.min(attempt, LEGACY_MAX_EXPONENT)));
  }
  const initial = num(opts.initialDelay, RECONNECT_INITIAL_DELAY_MS);
  const multiplier = Math.max(1, num(opts.multiplier, RECONNECT_MULTIPLIER));
  const max = num(opts.maxDelay, RECONNECT_MAX_DELAY_MS);
  const ceiling = Math.min(max, initial * Math.pow(multiplier, Math.min(attempt, 64)));
  return Math.floor(rand() * ceiling);
}

// src/scsocket.js
var DEFAULT_ACK_TIMEOUT_MS = 1e4;
var WAKE_CHECK_INTERVAL_MS = 1e3;
var WAKE_GAP_MS = 4e3;
var WAKE_PONG_TIMEOUT_MS = 5e3;
var EMIT_BUFFER_LIMIT = 1e4;
var LOCAL_EVENTS = [
  "connect",
  "disconnect",
  "upgrading",
  "upgrade",
  "upgradeError",
  "open",
  "error",
  "packet",
  "heartbeat",
  "data",
  "raw",
  "message",
  "handshake",
  "drain",
  "flush",
  "packetCreate",
  "close",
  "fail"
];
var localEvents = /* @__PURE__ */ Object.create(null);
for (const name of LOCAL_EVENTS) localEvents[name] = true;
var emitLocal = Emitter.prototype.emit;
var SESSION_DEST = /^([^_]*)_([^_]*)_([^_]*)_([^_]*)_/;
var Response = class {
  constructor(socket, id) {
    this.socket = socket;
    this.id = id;
  }
  end(data) {
    if (!this.id) return;
    const msg = { cid: this.id };
    if (data !== void 0) msg.data = data;
    this.socket._sendObject(msg);
  }
  error(error, data) {
    if (!this.id) return;
    const err = error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : error;
    const msg = { cid: this.id, error: err };
    if (data !== void 0) msg.data = data;
    this.socket._sendObject(msg);
  }
};
function toBase642(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin);
}
function convertBuffersToBase64(value, ancestors) {
  if (value instanceof ArrayBuffer) return { base64: true, data: toBase642(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) {
    return { base64: true, data: toBase642(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (value === null || typeof value !== "object" || typeof value.toJSON === "function") return value;
  const seen = ancestors || [];
  if (seen.indexOf(value) >= 0) throw new Error("Cannot traverse circular structure");
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
  const parts = String(doc.cookie || "").split(";");
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return unescape(part.slice(eq + 1));
  }
  return void 0;
}
function sessionIdFromCookie(doc, appName, socketId) {
  const name = "n/" + appName + "/ssid";
  const destOf = (id) => {
    const m = String(id).match(SESSION_DEST);
    return m ? m[0] : null;
  };
  let ssid = readCookie(doc, name);
  if (!ssid || destOf(ssid) !== destOf(socketId)) {
    ssid = socketId;
    doc.cookie = name + "=" + escape(socketId) + "; path=/;";
  }
  return ssid;
}
function normalizeOptions(options, env) {
  const opts = Object.assign({
    autoReconnect: true,
    ackTimeout: DEFAULT_ACK_TIMEOUT_MS,
    transports: ["polling", "websocket"],
    upgrade: true,
    timestampParam: "t",
    forceJSONP: false,
    forceBase64: false
  }, options);
  const loc = env.location;
  if (opts.url) {
    const u = new URL(opts.url, loc ? loc.href : void 0);
    opts.secure = u.protocol === "https:" || u.protocol === "wss:";
    opts.hostname = u.hostname.replace(/^\[|\]$/g, "");
    if (u.port) opts.port = u.port;
    if (u.search) opts.query = Object.assign(Object.fromEntries(new URLSearchParams(u.search)), opts.query);
  }
  if (opts.host && !opts.hostname) {
    const pieces = String(opts.host).split(":");
    opts.hostname = pieces[0];
    if (pieces.length > 1 && opts.port == null) opts.port = pieces[1];
  }
  if (opts.secure == null) opts.secure = !!(loc && loc.protocol === "https:");
  if (!opts.hostname) opts.hostname = loc && loc.hostname ? loc.hostname : "localhost";
  if (opts.port == null || opts.port === "") {
    opts.port = loc && loc.port && !opts.url ? loc.port : opts.secure ? 443 : 80;
  }
  opts.path = String(opts.path || "/socketcluster").replace(/\/$/, "") + "/";
  if (typeof opts.query === "string") opts.query = Object.fromEntries(new URLSearchParams(opts.query));
  opts.query = Object.assign({}, opts.query);
  if (opts.autoReconnectOptions == null) opts.autoReconnectOptions = {};
  return opts;
}
var SCSocket = class extends Emitter {
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
    this._callbacks = /* @__PURE__ */ Object.create(null);
    this._buffer = [];
    this._subscriptions = /* @__PURE__ */ Object.create(null);
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
    const internal = [];
    for (const channel in this._subscriptions) {
      internal.push({ event: "subscribe", data: channel, internal: true });
    }
    internal.push({ event: "ready", internal: true });
    this._buffer = internal.concat(this._buffer.filter((entry) => !entry.internal));
    const engine = new EngineSocket(this.options, this._env);
    this.engine = engine;
    engine.on("open", () => {
      this.id = engine.id;
      emitLocal.call(this, "open");
    });
    engine.on("message", (msg) => this._onMessage(msg));
    engine.on("upgrade", (name) => emitLocal.call(this, "upgrade", name));
    engine.on("error", (err) => this._onEngineError(err));
    engine.on("close", (reason) => this._onEngineClose(engine, reason));
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
    if (wasConnected) emitLocal.call(this, "disconnect", reason);
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
    if (!win || this._wake || typeof win.addEventListener !== "function") return;
    const doc = this._env.document;
    const wake = () => this._onWake();
    const onVisibility = () => {
      if (!doc || doc.visibilityState !== "hidden") wake();
    };
    let last = Date.now();
    const interval = setInterval(() => {
      const now = Date.now();
      const gap = now - last;
      last = now;
      if (gap > WAKE_CHECK_INTERVAL_MS + WAKE_GAP_MS && !(doc && doc.visibilityState === "hidden")) wake();
    }, WAKE_CHECK_INTERVAL_MS);
    win.addEventListener("online", wake);
    if (doc && doc.addEventListener) doc.addEventListener("visibilitychange", onVisibility);
    this._wake = () => {
      clearInterval(interval);
      win.removeEventListener("online", wake);
      if (doc && doc.removeEventListener) doc.removeEventListener("visibilitychange", onVisibility);
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
    if (this.listeners("error").length > 0) {
      emitLocal.call(this, "error", err);
    } else {
      setTimeout(() => {
        throw err;
      }, 0);
    }
  }
  _onMessage(message) {
    let e = message;
    if (typeof message === "string") {
      try {
        e = JSON.parse(message);
      } catch (err) {
        e = message;
      }
    }
    if (e !== null && typeof e === "object" && e.event) {
      this._onEvent(e);
    } else if (e === null || typeof e !== "object" || e.cid == null) {
      emitLocal.call(this, "raw", e);
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
    if (e.event === "connect") {
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
      this._flush();
      emitLocal.call(this, "connect", data.soid);
    } else if (e.event === "disconnect") {
      this.connected = false;
      this.connecting = false;
      emitLocal.call(this, "disconnect");
    } else if (e.event === "fail") {
      this.connected = false;
      this.connecting = false;
      emitLocal.call(this, "fail", e.data);
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
    if (entry.data !== void 0) obj.data = entry.data;
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
    const entry = { event, data, callback: typeof callback === "function" ? callback : null };
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
    return this.emit("publish", { event, data }, (err) => {
      if (callback) callback(err);
    });
  }
  subscribe(channels, callback) {
    return this._channelOp("subscribe", channels, callback, (channel) => {
      this._subscriptions[channel] = true;
    });
  }
  unsubscribe(channels, callback) {
    return this._channelOp("unsubscribe", channels, callback, (channel) => {
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
};

// src/api.js
var version = "0.9.100";
function makeAPI(getEnv) {
  class BoundSCSocket extends SCSocket {
    constructor(options) {
      super(options, getEnv());
    }
  }
  return {
    version,
    SCSocket: BoundSCSocket,
    Emitter,
    JSON,
    connect(options) {
      return new BoundSCSocket(options);
    }
  };
}

// src/env-browser.js
function xhrRequest(req, cb) {
  const xhr = new XMLHttpRequest();
  let finished = false;
  const finish = (err, res) => {
    if (finished) return;
    finished = true;
    cb(err, res);
  };
  try {
    xhr.open(req.method, req.url, true);
    if ("withCredentials" in xhr) xhr.withCredentials = true;
    if (req.binary && req.method === "GET") xhr.responseType = "arraybuffer";
    if (req.body !== void 0) xhr.setRequestHeader("Content-type", req.contentType);
    xhr.onreadystatechange = () => {
      if (xhr.readyState !== 4) return;
      if (xhr.status === 0) return finish(new Error("xhr network error"));
      const contentType = xhr.getResponseHeader("Content-Type");
      let body;
      if (xhr.responseType === "arraybuffer") {
        body = xhr.response ? new Uint8Array(xhr.response) : new Uint8Array(0);
      } else {
        body = xhr.responseText;
      }
      finish(null, { status: xhr.status, contentType, body });
    };
    xhr.send(req.body === void 0 ? null : req.body);
  } catch (err) {
    setTimeout(() => finish(err), 0);
  }
  return () => {
    finished = true;
    xhr.onreadystatechange = null;
    try {
      xhr.abort();
    } catch (err) {
    }
  };
}
function supportsBinaryXHR() {
  try {
    return typeof XMLHttpRequest !== "undefined" && new XMLHttpRequest().responseType !== void 0;
  } catch (err) {
    return false;
  }
}
var jsonp = {
  alloc() {
    const callbacks = window.___eio || (window.___eio = []);
    callbacks.push(noop3);
    return callbacks.length - 1;
  },
  get(index, url, cb) {
    const script = document.createElement("script");
    let done = false;
    const cleanup = () => {
      done = true;
      window.___eio[index] = noop3;
      script.onerror = null;
      if (script.parentNode) script.parentNode.removeChild(script);
    };
    window.___eio[index] = (text) => {
      if (done) return;
      cleanup();
      cb(null, String(text));
    };
    script.async = true;
    script.src = url;
    script.onerror = () => {
      if (done) return;
      cleanup();
      cb(new Error("jsonp poll error"));
    };
    (document.head || document.getElementsByTagName("head")[0] || document.body).appendChild(script);
    return cleanup;
  },
  post(url, payload, cb) {
    const id = "eio_iframe_" + Math.random().toString(36).slice(2);
    const form = document.createElement("form");
    const area = document.createElement("textarea");
    const iframe = document.createElement("iframe");
    form.style.position = "absolute";
    form.style.top = "-1000px";
    form.style.left = "-1000px";
    form.target = id;
    form.method = "POST";
    form.setAttribute("accept-charset", "utf-8");
    form.action = url;
    area.name = "d";
    area.value = escapeJSONPBody(payload);
    iframe.name = id;
    iframe.src = "javascript:0";
    form.appendChild(area);
    document.body.appendChild(form);
    form.appendChild(iframe);
    let done = false;
    const cleanup = () => {
      done = true;
      iframe.onload = null;
      if (form.parentNode) form.parentNode.removeChild(form);
    };
    form.submit();
    iframe.onload = () => {
      if (done) return;
      cleanup();
      cb(null, { status: 200 });
    };
    return cleanup;
  }
};
function noop3() {
}
function browserEnv() {
  const hasWindow = typeof window !== "undefined";
  const hasXHR = typeof XMLHttpRequest !== "undefined";
  return {
    isBrowser: hasWindow && typeof document !== "undefined",
    eio: 2,
    request: hasXHR ? xhrRequest : null,
    supportsBinaryXHR: supportsBinaryXHR(),
    jsonp: hasWindow && typeof document !== "undefined" ? jsonp : null,
    WebSocket: typeof WebSocket !== "undefined" ? WebSocket : null,
    window: hasWindow ? window : null,
    document: typeof document !== "undefined" ? document : null,
    location: typeof location !== "undefined" ? location : null
  };
}

// src/env-node.js
function nodeEnv(getModules) {
  if (typeof XMLHttpRequest !== "undefined" && typeof window !== "undefined") return browserEnv();
  const request = (req, cb) => {
    let done = false;
    const finish = (err, res) => {
      if (done) return;
      done = true;
      cb(err, res);
    };
    let r;
    try {
      const mods = getModules();
      const url = new URL(req.url);
      const mod = url.protocol === "https:" ? mods.https : mods.http;
      const headers = {};
      let body = null;
      if (req.body !== void 0) {
        body = typeof req.body === "string" ? Buffer.from(req.body, "utf8") : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength);
        headers["Content-Type"] = req.contentType;
        headers["Content-Length"] = body.length;
      }
      const options = { method: req.method, headers };
      if (req.agent !== void 0) options.agent = req.agent;
      r = mod.request(url, options, (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          const buf = Buffer.concat(chunks);
          const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
          finish(null, {
            status: res.statusCode,
            contentType: res.headers["content-type"] || "",
            body: req.binary ? bytes : buf.toString("utf8")
          });
        });
        res.on("error", (err) => finish(err));
      });
      r.on("error", (err) => finish(err));
      r.end(body);
    } catch (err) {
      setTimeout(() => finish(err), 0);
    }
    return () => {
      done = true;
      if (r) r.destroy();
    };
  };
  return {
    isBrowser: false,
    eio: 3,
    request,
    supportsBinaryXHR: true,
    jsonp: null,
    WebSocket: typeof WebSocket !== "undefined" ? WebSocket : null,
    window: null,
    document: null,
    location: null
  };
}

// src/node-esm.js
var api = makeAPI(() => nodeEnv(() => ({ http, https })));
var JSONObject = JSON;
var node_esm_default = api;
var connect = api.connect;
var SCSocket2 = api.SCSocket;
var Emitter2 = api.Emitter;
var version2 = api.version;
export {
  Emitter2 as Emitter,
  JSONObject as JSON,
  SCSocket2 as SCSocket,
  connect,
  node_esm_default as default,
  version2 as version
};
