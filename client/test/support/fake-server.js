// A scripted stand-in for the Go server, used until ./cmd/socketcluster
// builds: engine.io 1.3.1 framing as in spec 5.3 (binary/text polling,
// WebSocket probe/upgrade, client pings) and the SC events of
// testdata/workers/e2e/worker.js plus subscribe/publish. It records what it
// received so tests can check the client's side of the wire.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
import {
  decodePacketText, decodePayloadBinary, decodePayloadText, encodePacketText,
  encodePayloadBinary, encodePayloadText,
} from '../../src/codec.js';

export async function startFakeServer(opts = {}) {
  const state = { requests: [], frames: [], sessions: new Map(), port: opts.port || 0, refuseWebSocket: !!opts.refuseWebSocket };
  const channels = new Map(); // channel -> Set(session)
  let seq = 0;

  function newSession(transport, b64) {
    const id = `_w0_${state.port}_0_${randomBytes(12).toString('base64url')}${(seq++).toString().padStart(4, 'A')}`;
    const s = { id, transport, b64, queue: [], get: null, ws: null, probe: null, cid: 1, subs: new Set(), closed: false };
    state.sessions.set(id, s);
    return s;
  }

  function sendPackets(s, packets) {
    if (s.closed) return;
    if (s.transport === 'websocket' && s.ws) {
      for (const p of packets) s.ws.send(encodePacketText(p));
      return;
    }
    s.queue.push(...packets);
    flushGet(s);
  }

  function writePayload(res, s, packets) {
    if (s.jsonp != null) {
      const literal = JSON.stringify(encodePayloadText(packets)).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=UTF-8' });
      res.end(Buffer.from(`___eio[${s.jsonp}](${literal});`, 'utf8'));
      return;
    }
    if (s.b64) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8' });
      res.end(Buffer.from(encodePayloadText(packets), 'utf8'));
    } else {
      const body = encodePayloadBinary(packets);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
      res.end(Buffer.from(body));
    }
  }

  function flushGet(s) {
    if (!s.get || s.queue.length === 0) return;
    const res = s.get;
    s.get = null;
    const packets = s.queue;
    s.queue = [];
    writePayload(res, s, packets);
  }

  function emitTo(s, event, data) {
    const msg = { event };
    if (data !== undefined) msg.data = data;
    msg.cid = s.cid++;
    sendPackets(s, [{ type: 'message', data: JSON.stringify(msg) }]);
  }

  function respond(s, cid, extra) {
    sendPackets(s, [{ type: 'message', data: JSON.stringify(Object.assign({ cid }, extra)) }]);
  }

  function onSC(s, text) {
    let e;
    try {
      e = JSON.parse(text);
    } catch {
      e = null;
    }
    if (!e || typeof e !== 'object' || !e.event) {
      emitTo(s, 'rawgot', text);
      return;
    }
    (state.events || (state.events = [])).push({ sid: s.id, event: e.event, data: e.data, cid: e.cid });
    switch (e.event) {
      case 'ready': respond(s, e.cid); emitTo(s, 'hello', { id: s.id }); break;
      case 'echo': respond(s, e.cid, { data: e.data }); break;
      case 'failstr': respond(s, e.cid, { error: 'nope' }); break;
      case 'rawplease': respond(s, e.cid); sendPackets(s, [{ type: 'message', data: typeof e.data === 'string' ? e.data : 'raw text' }]); break;
      case 'subscribe':
        s.subs.add(e.data);
        if (!channels.has(e.data)) channels.set(e.data, new Set());
        channels.get(e.data).add(s);
        respond(s, e.cid);
        break;
      case 'unsubscribe': s.subs.delete(e.data); if (channels.has(e.data)) channels.get(e.data).delete(s); respond(s, e.cid); break;
      case 'publish':
        respond(s, e.cid);
        for (const sub of channels.get(e.data.event) || []) emitTo(sub, e.data.event, e.data.data);
        break;
      default: break; // no handler: never answered
    }
  }

  function onPacket(s, p) {
    if (p.type === 'ping') sendPackets(s, [{ type: 'pong', data: p.data }]);
    else if (p.type === 'message') onSC(s, p.data);
    else if (p.type === 'close') closeSession(s);
  }

  function closeSession(s) {
    if (s.closed) return;
    s.closed = true;
    state.sessions.delete(s.id);
    for (const ch of s.subs) channels.get(ch)?.delete(s);
    if (s.get) { const res = s.get; s.get = null; writePayload(res, s, [{ type: 'noop' }, { type: 'close' }]); }
    if (s.ws) s.ws.close();
  }

  function open(s) {
    const upgrades = s.transport === 'polling' && !state.refuseWebSocket ? ['websocket'] : [];
    return { type: 'open', data: JSON.stringify({ sid: s.id, upgrades, pingInterval: opts.pingInterval || 25000, pingTimeout: opts.pingTimeout || 60000 }) };
  }

  function connectEvent(s) {
    setTimeout(() => emitTo(s, 'connect', { soid: s.id, appName: 'e2e' }), 5);
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const q = Object.fromEntries(url.searchParams);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      state.requests.push({ method: req.method, path: url.pathname, query: q, contentType: req.headers['content-type'], body });
      const file = opts.files && opts.files[url.pathname];
      if (file) { res.writeHead(200, { 'Content-Type': file.type }); res.end(file.body); return; }
      if (url.pathname !== '/socketcluster/') { res.writeHead(404); res.end(); return; }
      if (!q.sid) {
        if (req.method !== 'GET') { res.writeHead(400); res.end('{"code":2,"message":"Bad handshake method"}'); return; }
        const s = newSession('polling', !!q.b64);
        if (q.j != null) s.jsonp = String(q.j).replace(/[^0-9]/g, '');
        writePayload(res, s, [open(s)]);
        connectEvent(s);
        return;
      }
      const s = state.sessions.get(q.sid);
      if (!s) { res.writeHead(400, { 'Content-Type': 'application/json' }); res.end('{"code":1,"message":"Session ID unknown"}'); return; }
      if (req.method === 'GET') {
        if (s.get) { res.writeHead(500); res.end(); closeSession(s); return; }
        if (s.transport !== 'polling') { writePayload(res, s, [{ type: 'noop' }]); return; }
        s.get = res;
        res.on('close', () => { if (s.get === res) s.get = null; });
        flushGet(s);
      } else if (req.method === 'POST') {
        let packets;
        try {
          const type = req.headers['content-type'];
          if (type === 'application/octet-stream') {
            packets = decodePayloadBinary(body);
          } else if (String(type).startsWith('application/x-www-form-urlencoded')) {
            // JSONP form field d (spec 5.3.2): unescape as engine.io 1.3.1 did.
            const d = new URLSearchParams(body.toString('utf8')).get('d') || '';
            packets = decodePayloadText(d.replace(/(^|[^\\])\\n/g, '$1\n').replace(/\\\\n/g, '\\n'));
          } else {
            packets = decodePayloadText(body.toString('utf8'));
          }
        } catch (err) {
          res.writeHead(400); res.end(); closeSession(s); return;
        }
        res.writeHead(200, { 'Content-Type': 'text/html', 'Content-Length': 2 });
        res.end('ok');
        for (const p of packets) onPacket(s, p);
      }
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    const q = Object.fromEntries(url.searchParams);
    state.requests.push({ method: 'UPGRADE', path: url.pathname, query: q });
    if (state.refuseWebSocket || url.pathname !== '/socketcluster/') { socket.destroy(); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      let s;
      if (q.sid) {
        s = state.sessions.get(q.sid);
        if (!s) { ws.close(); return; }
        s.probe = ws;
      } else {
        s = newSession('websocket', false);
        s.ws = ws;
        ws.send(encodePacketText(open(s)));
        connectEvent(s);
      }
      ws.on('message', (data, isBinary) => {
        const text = data.toString('utf8');
        state.frames.push(isBinary ? data : text);
        let p;
        try {
          p = decodePacketText(text);
        } catch {
          ws.close();
          closeSession(s);
          return;
        }
        if (ws === s.probe) {
          if (p.type === 'ping' && p.data === 'probe') {
            ws.send('3probe');
            setTimeout(() => { if (s.get && s.transport === 'polling') { const r = s.get; s.get = null; writePayload(r, s, [{ type: 'noop' }]); } }, 100);
          } else if (p.type === 'upgrade') {
            s.transport = 'websocket';
            s.ws = ws;
            s.probe = null;
            const queued = s.queue;
            s.queue = [];
            if (s.get) { const r = s.get; s.get = null; writePayload(r, s, [{ type: 'noop' }]); }
            sendPackets(s, queued);
          } else {
            ws.close();
          }
          return;
        }
        onPacket(s, p);
      });
      ws.on('close', () => { if (s.ws === ws) closeSession(s); });
    });
  });

  const sockets = new Set();
  server.on('connection', (sock) => { sockets.add(sock); sock.on('close', () => sockets.delete(sock)); });

  await new Promise((resolve) => server.listen(state.port, '127.0.0.1', resolve));
  state.port = server.address().port;

  state.stop = () => new Promise((resolve) => {
    for (const s of state.sessions.values()) s.closed = true;
    state.sessions.clear();
    for (const c of wss.clients) c.terminate();
    for (const sock of sockets) sock.destroy();
    server.close(() => resolve());
  });
  state.emitTo = emitTo;
  return state;
}
