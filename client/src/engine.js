// An engine.io 1.3.1 client socket: handshake, transport fallback,
// upgrade probe (2probe/3probe/5), client-driven heartbeat, buffering.
// Events: 'open', 'message'(string|ArrayBuffer), 'upgrade'(name),
// 'upgradeError'(err), 'error'(err), 'close'(reason).

import { Emitter } from './emitter.js';
import { Polling, WS, transportError } from './transports.js';

/** How long a WebSocket probe may take to answer 3probe before we stay on polling. */
export const PROBE_TIMEOUT_MS = 10000;
/** How long the first transport may take to deliver the open packet. */
export const HANDSHAKE_TIMEOUT_MS = 20000;

export class EngineSocket extends Emitter {
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
    this.readyState = 'closed';
    this.transport = null;
    this.writeBuffer = [];
    this.upgrading = false;
    this.pingInterval = 25000;
    this.pingTimeout = 60000;
    this.pingTimer = null;
    this.livenessTimer = null;
    this.probe = null;
  }

  createTransport(name) {
    const query = Object.assign({}, this.opts.query, { EIO: this.env.eio, transport: name });
    if (this.id) query.sid = this.id;
    const opts = Object.assign({}, this.opts, { query });
    return name === 'websocket' ? new WS(opts, this.env) : new Polling(opts, this.env);
  }

  usable(name) {
    if (name === 'websocket') return !!(this.opts.WebSocket || this.env.WebSocket);
    return name === 'polling';
  }

  open() {
    this.readyState = 'opening';
    this.livenessTimer = setTimeout(() => this.onError(transportError('handshake timeout')), HANDSHAKE_TIMEOUT_MS);
    this.candidates = this.opts.transports.filter((name) => this.usable(name));
    if (this.candidates.length === 0) {
      setTimeout(() => this.onError(transportError('no usable transport in ' + JSON.stringify(this.opts.transports))), 0);
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
      if (this.readyState === 'opening' && this.candidates.length > 0) {
        this.emit('upgradeError', err);
        this.tryNextTransport();
      } else {
        this.onError(err);
      }
    };
    transport.open();
  }

  setTransport(transport) {
    if (this.transport) {
      this.transport.onpacket = this.transport.onclose = this.transport.onerror = this.transport.ondrain = noop;
    }
    this.transport = transport;
    transport.onpacket = (packet) => this.onPacket(packet);
    transport.onerror = (err) => this.onError(err);
    transport.onclose = (reason) => this.onClose(reason);
    transport.ondrain = () => this.flush();
  }

  onPacket(packet) {
    if (this.readyState !== 'opening' && this.readyState !== 'open') return;
    this.resetLiveness(this.pingInterval + this.pingTimeout);
    switch (packet.type) {
      case 'open':
        this.onHandshake(packet.data);
        break;
      case 'pong':
        this.schedulePing();
        break;
      case 'message':
        this.emit('message', packet.data === undefined ? '' : packet.data);
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
      return this.onError(transportError('bad handshake', err));
    }
    if (!data || typeof data.sid !== 'string') return this.onError(transportError('bad handshake'));
    this.id = data.sid;
    this.transport.query.sid = data.sid;
    this.pingInterval = Number(data.pingInterval) || this.pingInterval;
    this.pingTimeout = Number(data.pingTimeout) || this.pingTimeout;
    const upgrades = (data.upgrades || []).filter((name) => name !== this.transport.name &&
      this.opts.transports.indexOf(name) >= 0 && this.usable(name));
    this.readyState = 'open';
    this.emit('open');
    if (this.readyState !== 'open') return;
    this.flush();
    this.schedulePing();
    this.resetLiveness(this.pingInterval + this.pingTimeout);
    if (this.opts.upgrade !== false && this.transport.name === 'polling' && upgrades.indexOf('websocket') >= 0) {
      this.startProbe();
    }
  }

  startProbe() {
    const probe = this.createTransport('websocket');
    this.probe = probe;
    let timer = null;
    const fail = (err) => {
      if (this.probe !== probe) return;
      this.probe = null;
      clearTimeout(timer);
      probe.close();
      this.upgrading = false;
      this.emit('upgradeError', err);
      const current = this.transport;
      if (this.readyState === 'open' && current && (current.readyState === 'pausing' || current.readyState === 'paused')) {
        // The probe died while polling was pausing: resume polling.
        current.onPauseReady = null;
        current.readyState = 'open';
        if (!current.pollAbort) current.poll();
        this.flush();
      }
    };
    timer = setTimeout(() => fail(transportError('probe timeout')), PROBE_TIMEOUT_MS);
    probe.onerror = (err) => fail(err);
    probe.onclose = () => fail(transportError('probe closed'));
    probe.onopen = () => probe.send([{ type: 'ping', data: 'probe' }]);
    probe.onpacket = (packet) => {
      if (this.probe !== probe) return;
      if (packet.type !== 'pong' || packet.data !== 'probe') return fail(transportError('probe error'));
      clearTimeout(timer);
      this.upgrading = true;
      this.emit('upgrading', 'websocket');
      this.transport.pause(() => {
        if (this.probe !== probe || this.readyState !== 'open') return;
        this.probe = null;
        const old = this.transport;
        this.setTransport(probe);
        old.discard();
        probe.send([{ type: 'upgrade' }]);
        this.upgrading = false;
        this.emit('upgrade', 'websocket');
        this.flush();
      });
    };
    probe.open();
  }

  schedulePing() {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => {
      this.sendPacket({ type: 'ping' });
      this.resetLiveness(this.pingTimeout);
    }, this.pingInterval);
  }

  resetLiveness(ms) {
    clearTimeout(this.livenessTimer);
    this.livenessTimer = setTimeout(() => this.onClose('ping timeout'), ms);
  }

  /** Sends a ping now and closes with 'ping timeout' if nothing arrives within ms. */
  checkAlive(ms) {
    if (this.readyState !== 'open') return;
    this.sendPacket({ type: 'ping' });
    this.resetLiveness(ms);
  }

  send(data) {
    this.sendPacket({ type: 'message', data });
  }

  sendPacket(packet) {
    if (this.readyState === 'closed') return;
    this.writeBuffer.push(packet);
    this.flush();
  }

  flush() {
    if (this.readyState !== 'open' || this.upgrading || !this.transport.writable || this.writeBuffer.length === 0) return;
    const packets = this.writeBuffer;
    this.writeBuffer = [];
    this.transport.send(packets);
  }

  /** Closes the socket (tells the server) and reports 'forced close'. */
  close() {
    if (this.readyState === 'opening' || this.readyState === 'open') {
      const transport = this.transport;
      this.onClose('forced close');
      if (transport) transport.close();
    }
    return this;
  }

  onError(err) {
    if (this.readyState === 'closed') return;
    this.emit('error', err);
    this.onClose('transport error', err);
  }

  onClose(reason, desc) {
    if (this.readyState !== 'opening' && this.readyState !== 'open') return;
    clearTimeout(this.pingTimer);
    clearTimeout(this.livenessTimer);
    const transport = this.transport;
    if (transport) {
      transport.onpacket = transport.onclose = transport.onerror = transport.ondrain = noop;
      if (reason !== 'forced close') transport.discard ? transport.discard() : transport.close();
    }
    if (this.probe) {
      const probe = this.probe;
      this.probe = null;
      probe.onpacket = probe.onclose = probe.onerror = noop;
      probe.close();
    }
    this.readyState = 'closed';
    this.writeBuffer = [];
    this.upgrading = false;
    this.id = null;
    this.emit('close', reason, desc);
  }
}

function noop() {}
