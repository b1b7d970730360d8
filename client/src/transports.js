// engine.io transports: long-polling (binary XHR2/Node http, text "b64",
// JSONP) and WebSocket. A transport reports to its owner through the
// callbacks onopen(), onpacket(packet), onclose(reason), onerror(err),
// ondrain(). It never throws at its owner.

import {
  ParseError,
  decodePacketBinary,
  decodePacketText,
  decodePayloadBinary,
  decodePayloadText,
  encodePacketWS,
  encodePayloadBinary,
  encodePayloadText,
  utf8DecodeLoose,
} from './codec.js';

/** Page-global counter of the `t` parameter (`<ms>-<n>`). */
let timestampCounter = 0;

const OCTET_STREAM = 'application/octet-stream';

function encodeQuery(query) {
  const parts = [];
  for (const key in query) {
    if (Object.prototype.hasOwnProperty.call(query, key) && query[key] != null) {
      parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(query[key]));
    }
  }
  return parts.join('&');
}

export function transportError(message, cause) {
  const err = new Error(message);
  err.type = 'TransportError';
  if (cause !== undefined) err.description = cause;
  return err;
}

class Transport {
  constructor(opts) {
    this.opts = opts;
    this.query = Object.assign({}, opts.query);
    this.readyState = '';
    this.writable = false;
    this.onopen = this.onpacket = this.onclose = this.onerror = this.ondrain = noop;
  }

  uri(scheme, extra) {
    const o = this.opts;
    const secure = o.secure;
    const s = scheme + (secure ? 's' : '');
    let port = '';
    if (o.port && ((secure && Number(o.port) !== 443) || (!secure && Number(o.port) !== 80))) {
      port = ':' + o.port;
    }
    const query = encodeQuery(Object.assign({}, this.query, extra));
    const host = o.hostname.indexOf(':') >= 0 ? '[' + o.hostname + ']' : o.hostname;
    return s + '://' + host + port + o.path + (query ? '?' + query : '');
  }

  // Reports one failure and closes; later events are ignored.
  fail(message, cause) {
    if (this.readyState === 'closed') return;
    this.stop();
    this.readyState = 'closed';
    this.onerror(transportError(message, cause));
  }

  // Reports a close initiated by the peer or the network.
  closedByPeer(reason) {
    if (this.readyState === 'closed') return;
    this.stop();
    this.readyState = 'closed';
    this.onclose(reason || 'transport close');
  }

  handlePacket(packet) {
    this.onpacket(packet);
  }
}

function noop() {}

/**
 * Polling keeps exactly one GET outstanding and at most one POST; packets
 * queued while a POST is in flight go out together in the next one.
 * mode: 'binary' (application/octet-stream both ways), 'text' (b64=1) or
 * 'jsonp' (script tags and a hidden form, text payloads).
 */
export class Polling extends Transport {
  constructor(opts, env) {
    super(opts);
    this.name = 'polling';
    this.env = env;
    if (opts.forceJSONP || !env.request) {
      this.mode = env.jsonp ? 'jsonp' : 'text';
    } else {
      this.mode = opts.forceBase64 || !env.supportsBinaryXHR ? 'text' : 'binary';
    }
    if (this.mode === 'jsonp') this.query.j = env.jsonp.alloc();
    if (this.mode !== 'binary') this.query.b64 = 1;
    this.supportsBinary = this.mode === 'binary';
    this.pollAbort = null;
    this.writeAbort = null;
    this.onPauseReady = null;
  }

  requestUri() {
    const extra = {};
    if (this.opts.timestampRequests !== false) {
      extra[this.opts.timestampParam] = Date.now() + '-' + timestampCounter++;
    }
    // b64 goes last, like engine.io-client 1.3.1 did.
    if (this.query.b64) {
      const b64 = this.query.b64;
      delete this.query.b64;
      extra.b64 = b64;
      const uri = this.uri('http', extra);
      this.query.b64 = b64;
      return uri;
    }
    return this.uri('http', extra);
  }

  open() {
    this.readyState = 'opening';
    this.poll();
  }

  poll() {
    const uri = this.requestUri();
    const done = (err, res) => {
      this.pollAbort = null;
      if (this.readyState === 'closed') return;
      if (err) return this.fail('poll error', err);
      let packets;
      try {
        packets = this.decodeResponse(res);
      } catch (e) {
        return this.fail(e instanceof ParseError ? 'parse error' : 'poll error', e);
      }
      this.onData(packets);
    };
    if (this.mode === 'jsonp') {
      this.pollAbort = this.env.jsonp.get(this.query.j, uri, (err, text) => done(err, { status: 200, body: text }));
    } else {
      this.pollAbort = this.env.request({ method: 'GET', url: uri, binary: this.mode === 'binary', agent: this.opts.agent }, done);
    }
  }

  decodeResponse(res) {
    if (res.status !== 200) throw transportError('poll error, status ' + res.status, res.status);
    const body = res.body;
    if (typeof body === 'string') return decodePayloadText(body);
    const type = String(res.contentType || '').toLowerCase();
    if (type.indexOf(OCTET_STREAM) === 0) return decodePayloadBinary(body);
    return decodePayloadText(utf8DecodeLoose(body));
  }

  onData(packets) {
    if (this.readyState === 'opening') {
      this.readyState = 'open';
      this.writable = true;
      this.onopen();
    }
    for (const packet of packets) {
      if (this.readyState === 'closed') return;
      if (packet.type === 'close') return this.closedByPeer('transport close');
      this.handlePacket(packet);
    }
    if (this.readyState === 'open') {
      this.poll();
    } else if (this.readyState === 'pausing') {
      this.checkPaused();
    }
  }

  send(packets) {
    this.writable = false;
    const done = (err, res) => {
      this.writeAbort = null;
      if (this.readyState === 'closed') return;
      if (err) return this.fail('post error', err);
      if (res && res.status !== 200) return this.fail('post error, status ' + res.status, res.status);
      this.writable = true;
      if (this.readyState === 'pausing') return this.checkPaused();
      this.ondrain();
    };
    if (this.mode === 'binary') {
      this.writeAbort = this.env.request({
        method: 'POST', url: this.requestUri(), body: encodePayloadBinary(packets),
        contentType: OCTET_STREAM, binary: true, agent: this.opts.agent,
      }, done);
    } else if (this.mode === 'text') {
      this.writeAbort = this.env.request({
        method: 'POST', url: this.requestUri(), body: encodePayloadText(packets),
        contentType: 'text/plain;charset=UTF-8', binary: false, agent: this.opts.agent,
      }, done);
    } else {
      this.writeAbort = this.env.jsonp.post(this.requestUri(), encodePayloadText(packets), done);
    }
  }

  /** Waits for the in-flight GET and POST, then calls onPaused (upgrade). */
  pause(onPaused) {
    this.readyState = 'pausing';
    this.onPauseReady = onPaused;
    this.checkPaused();
  }

  checkPaused() {
    if (this.readyState !== 'pausing' || this.pollAbort || this.writeAbort) return;
    this.readyState = 'paused';
    const fn = this.onPauseReady;
    this.onPauseReady = null;
    if (fn) fn();
  }

  /** Closes; when open, tells the server with a `1` packet first. */
  close() {
    if (this.readyState === 'closed') return;
    const wasOpen = this.readyState === 'open' || this.readyState === 'paused' || this.readyState === 'pausing';
    const pollAbort = this.pollAbort;
    this.pollAbort = null;
    if (wasOpen) {
      const uri = this.requestUri();
      const body = this.mode === 'binary' ? encodePayloadBinary([{ type: 'close' }]) : encodePayloadText([{ type: 'close' }]);
      if (this.mode === 'jsonp') {
        this.env.jsonp.post(uri, body, noop);
      } else {
        this.env.request({
          method: 'POST', url: uri, body,
          contentType: this.mode === 'binary' ? OCTET_STREAM : 'text/plain;charset=UTF-8',
          binary: this.mode === 'binary', agent: this.opts.agent,
        }, noop);
      }
    }
    this.readyState = 'closed';
    if (pollAbort) pollAbort();
  }

  /** Drops the transport without telling the server (after an upgrade). */
  discard() {
    this.readyState = 'closed';
    this.stop();
  }

  stop() {
    const aborts = [this.pollAbort, this.writeAbort];
    this.pollAbort = this.writeAbort = null;
    for (const abort of aborts) if (abort) abort();
  }
}

/** WebSocket: one packet per frame; text frames carry byte strings. */
export class WS extends Transport {
  constructor(opts, env) {
    super(opts);
    this.name = 'websocket';
    this.env = env;
    this.Ctor = opts.WebSocket || env.WebSocket || null;
    this.supportsBinary = !opts.forceBase64;
    this.ws = null;
  }

  open() {
    this.readyState = 'opening';
    if (!this.Ctor) {
      setTimeout(() => this.fail('websocket unavailable'), 0);
      return;
    }
    const extra = {};
    if (this.opts.timestampRequests) extra[this.opts.timestampParam] = Date.now();
    if (!this.supportsBinary) extra.b64 = 1;
    let ws;
    try {
      ws = new this.Ctor(this.uri('ws', extra));
    } catch (err) {
      setTimeout(() => this.fail('websocket error', err), 0);
      return;
    }
    this.ws = ws;
    if (ws.binaryType === undefined) this.supportsBinary = false;
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      if (this.readyState !== 'opening') return;
      this.readyState = 'open';
      this.writable = true;
      this.onopen();
    };
    ws.onclose = () => this.readyState === 'opening' ? this.fail('websocket closed before open') : this.closedByPeer('transport close');
    ws.onerror = (ev) => this.fail('websocket error', ev);
    ws.onmessage = (ev) => this.onFrame(ev.data);
  }

  onFrame(data) {
    if (this.readyState !== 'open') return;
    let packet;
    try {
      packet = typeof data === 'string' ? decodePacketText(data) : decodePacketBinary(data);
    } catch (err) {
      return this.fail('parse error', err);
    }
    this.handlePacket(packet);
  }

  send(packets) {
    for (const packet of packets) {
      try {
        this.ws.send(encodePacketWS(packet, this.supportsBinary));
      } catch (err) {
        return this.fail('websocket send error', err);
      }
    }
  }

  close() {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.stop();
  }

  stop() {
    const ws = this.ws;
    if (!ws) return;
    // Keep an error handler: some implementations (ws) throw on an
    // unhandled error emitted while a connecting socket is aborted.
    ws.onopen = ws.onclose = ws.onmessage = null;
    ws.onerror = noop;
    try {
      ws.close();
    } catch (err) {
      // already closed
    }
  }
}
