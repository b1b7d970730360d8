// The client against the scripted fake server (test/support/fake-server.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { startFakeServer } from './support/fake-server.js';
import { defineScenarios, once } from './support/scenarios.js';
import { connect } from '../src/node-esm.js';

let server;
const handle = {
  get port() { return server.port; },
  get events() { return server.events; },
  async restart() {
    const port = server.port;
    await server.stop();
    const at = Date.now();
    server = await startFakeServer({ port });
    return at;
  },
};

before(async () => { server = await startFakeServer(); });
after(async () => { await server.stop(); });

defineScenarios('fake server', () => handle);

test('wire: query parameters, content types and the sc handshake order', { timeout: 15000 }, async () => {
  server.requests.length = 0;
  server.events = [];
  const s = connect({ hostname: '127.0.0.1', port: server.port, transports: ['polling'], query: { token: 'x y' } });
  s.on('error', () => {});
  try {
    await once(s, 'connect');
    await new Promise((r) => s.emit('echo', 1, r));
    const mine = server.requests.filter((r) => r.query.token === 'x y');
    const [first, second] = mine;
    assert.equal(first.method, 'GET');
    assert.equal(first.query.EIO, '3');
    assert.equal(first.query.transport, 'polling');
    assert.equal(first.query.token, 'x y');
    assert.equal(first.query.sid, undefined);
    assert.match(first.query.t, /^\d+-\d+$/);
    assert.equal(first.query.b64, undefined);
    assert.equal(second.query.sid, s.id);
    const post = mine.find((r) => r.method === 'POST');
    assert.equal(post.contentType, 'application/octet-stream');
    const events = server.events.filter((e) => e.sid === s.id);
    assert.deepEqual(events.map((e) => e.event), ['ready', 'echo']);
    assert.deepEqual(events.map((e) => e.cid), [1, 2]);
    assert.equal(events[0].data, undefined);
  } finally {
    s.disconnect();
  }
});

test('wire: b64 polling sends text payloads', { timeout: 15000 }, async () => {
  server.requests.length = 0;
  const s = connect({ hostname: '127.0.0.1', port: server.port, transports: ['polling'], forceBase64: true, query: { tag: 'b64' } });
  s.on('error', () => {});
  try {
    await once(s, 'connect');
    await new Promise((r) => s.emit('echo', 'é', r));
    const mine = server.requests.filter((r) => r.query.tag === 'b64');
    assert.ok(mine.length >= 3);
    assert.ok(mine.every((r) => r.query.b64 === '1'));
    const post = mine.find((r) => r.method === 'POST' && r.body.includes('echo'));
    assert.equal(post.contentType, 'text/plain;charset=UTF-8');
    // "é" is pre-encoded to two byte-string characters, sent as UTF-8 again.
    assert.ok(post.body.includes(Buffer.from('"data":"\u00c3\u00a9"', 'utf8')));
    assert.match(post.body.toString('utf8'), /^\d+:4\{"event":"echo"/);
  } finally {
    s.disconnect();
  }
});

test('wire: websocket probe sends 2probe then 5; frames are double-encoded', { timeout: 15000 }, async () => {
  server.frames.length = 0;
  const s = connect({ hostname: '127.0.0.1', port: server.port, WebSocket });
  s.on('error', () => {});
  try {
    await once(s, 'upgrade');
    await new Promise((r) => s.emit('echo', 'héllo €', r));
    assert.deepEqual(server.frames.slice(0, 2), ['2probe', '5']);
    const frame = server.frames.find((f) => f.includes('echo'));
    assert.ok(frame.includes('h\u00c3\u00a9llo \u00e2\u0082\u00ac'));
  } finally {
    s.disconnect();
  }
});

test('heartbeat: client pings every pingInterval and drops a silent server', { timeout: 15000 }, async () => {
  const quick = await startFakeServer({ pingInterval: 100, pingTimeout: 200 });
  const s = connect({ hostname: '127.0.0.1', port: quick.port, transports: ['websocket'], WebSocket, autoReconnect: false });
  s.on('error', () => {});
  try {
    await once(s, 'connect');
    await until(() => quick.frames.filter((f) => f === '2').length >= 3, 'three pings');
    // Freeze the server's answers: the client must give up within pingTimeout.
    for (const sess of quick.sessions.values()) sess.ws.send = () => {};
    const [reason] = await once(s, 'disconnect', 3000);
    assert.equal(reason, 'ping timeout');
  } finally {
    s.disconnect();
    await quick.stop();
  }
});

async function until(cond, what) {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 10));
  }
}
