// Client scenarios run against a server handle {port, restart(), events?,
// requests?}: the scripted fake server now, the real binary when it builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { WebSocket } from 'ws';
import { connect as connectSource } from '../../src/node-esm.js';

const STEP_TIMEOUT_MS = 10000;

export function once(emitter, event, ms = STEP_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for '${event}'`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

export async function until(cond, what, ms = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function ask(socket, event, data) {
  return new Promise((resolve) => socket.emit(event, data, (err, res) => resolve({ err, res })));
}

export async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

function refusedWebSocket(port) {
  return class RefusedWS extends WebSocket {
    constructor(url) {
      super(url.replace(/:\d+\//, ':' + port + '/'));
    }
  };
}

// defineScenarios registers every scenario; connect defaults to the source
// entry (src/node-esm.js), the real-server suite passes the built package's.
export function defineScenarios(label, getServer, connect = connectSource) {
  const sockets = [];
  const client = (opts) => {
    const s = connect(Object.assign({ hostname: '127.0.0.1', port: getServer().port, WebSocket }, opts));
    s.on('error', () => {});
    sockets.push(s);
    return s;
  };
  const cleanup = () => {
    for (const s of sockets.splice(0)) s.disconnect();
  };
  const opts = { timeout: 30000 };

  const transportCases = [
    { name: 'binary polling', options: { transports: ['polling'] }, want: 'polling' },
    { name: 'text (b64) polling', options: { transports: ['polling'], forceBase64: true }, want: 'polling' },
    { name: 'websocket', options: { transports: ['websocket'] }, want: 'websocket' },
    { name: 'websocket without binary', options: { transports: ['websocket'], forceBase64: true }, want: 'websocket' },
  ];
  for (const tc of transportCases) {
    test(`${label}: ${tc.name}: connect, hello, unicode echo ack, error ack, raw`, opts, async () => {
      try {
        const s = client(tc.options);
        const hello = once(s, 'hello');
        const [soid] = await once(s, 'connect');
        assert.equal(soid, s.id);
        assert.equal(s.ssid, s.id);
        assert.equal(s.connected, true);
        const [data] = await hello;
        assert.equal(data.id, s.id);
        assert.equal(s.transport.name, tc.want);
        const text = 'héllo € 𝄞 "quoted"\n';
        assert.deepEqual(await ask(s, 'echo', { text }), { err: undefined, res: { text } });
        const errors = [];
        s.on('error', (e) => errors.push(e));
        const failed = await ask(s, 'failstr', 1);
        assert.equal(failed.err, 'nope');
        assert.deepEqual(errors, ['nope']);
        const rawgot = once(s, 'rawgot');
        s.send('plain raw é');
        assert.equal((await rawgot)[0], 'plain raw é');
        const raw = once(s, 'raw');
        s.emit('rawplease', 'from server ü');
        assert.equal((await raw)[0], 'from server ü');
      } finally {
        cleanup();
      }
    });
  }

  test(`${label}: upgrade from polling to websocket`, opts, async () => {
    try {
      const s = client({});
      await once(s, 'connect');
      if (s.transport.name !== 'websocket') await once(s, 'upgrade');
      assert.equal(s.transport.name, 'websocket');
      assert.deepEqual((await ask(s, 'echo', 'after upgrade')).res, 'after upgrade');
    } finally {
      cleanup();
    }
  });

  test(`${label}: websocket refused: falls back to polling (websocket first)`, opts, async () => {
    try {
      const s = client({ transports: ['websocket', 'polling'], WebSocket: refusedWebSocket(await closedPort()) });
      await once(s, 'connect');
      assert.equal(s.transport.name, 'polling');
      assert.deepEqual((await ask(s, 'echo', 1)).res, 1);
    } finally {
      cleanup();
    }
  });

  test(`${label}: websocket refused: probe fails, polling keeps working`, opts, async () => {
    try {
      const s = client({ WebSocket: refusedWebSocket(await closedPort()) });
      await once(s, 'connect');
      assert.deepEqual((await ask(s, 'echo', 'a')).res, 'a');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(s.transport.name, 'polling');
      assert.deepEqual((await ask(s, 'echo', 'b')).res, 'b');
    } finally {
      cleanup();
    }
  });

  test(`${label}: emits made before connecting are buffered and flushed`, opts, async () => {
    try {
      const s = client({ transports: ['polling'] });
      assert.equal(s.connected, false);
      const results = await Promise.all([ask(s, 'echo', 1), ask(s, 'echo', 2), ask(s, 'echo', 3)]);
      assert.deepEqual(results.map((r) => r.res), [1, 2, 3]);
    } finally {
      cleanup();
    }
  });

  test(`${label}: ack timeout`, opts, async () => {
    try {
      const s = client({ ackTimeout: 300 });
      await once(s, 'connect');
      const errors = [];
      s.on('error', (e) => errors.push(e));
      const started = Date.now();
      const { err, res } = await ask(s, 'nohandler', { q: 1 });
      assert.equal(err.message, "Event response for 'nohandler' timed out");
      assert.equal(res.event, 'nohandler');
      assert.ok(Date.now() - started >= 290);
      assert.equal(errors[0], err);
    } finally {
      cleanup();
    }
  });

  test(`${label}: subscribe, publish, unsubscribe`, opts, async () => {
    try {
      const a = client({});
      const b = client({ transports: ['polling'] });
      await Promise.all([once(a, 'connect'), once(b, 'connect')]);
      const err = await new Promise((r) => a.subscribe('news', r));
      assert.equal(err, undefined);
      assert.deepEqual(a.subscriptions(), ['news']);
      const got = once(a, 'news');
      const pubErr = await new Promise((r) => b.publish('news', { n: 1 }, r));
      assert.equal(pubErr, undefined);
      assert.deepEqual((await got)[0], { n: 1 });
      await new Promise((r) => a.unsubscribe('news', r));
      assert.deepEqual(a.subscriptions(), []);
    } finally {
      cleanup();
    }
  });

  test(`${label}: reconnect after a server restart re-sends subscriptions`, opts, async (t) => {
    try {
      const a = client({});
      await once(a, 'connect');
      const firstId = a.id;
      await new Promise((r) => a.subscribe('chan', r));
      const disconnected = once(a, 'disconnect');
      const reconnected = once(a, 'connect', 20000);
      const restartedAt = await getServer().restart();
      await disconnected;
      await reconnected;
      const reconnectMs = Date.now() - restartedAt;
      assert.notEqual(a.id, firstId);
      assert.deepEqual(a.subscriptions(), ['chan']);
      const b = client({});
      await once(b, 'connect');
      const got = once(a, 'chan');
      b.publish('chan', 'again');
      assert.equal((await got)[0], 'again');
      t.diagnostic(`reconnect after restart: ${reconnectMs} ms`);
      const events = getServer().events;
      if (events) {
        const mine = events.filter((e) => e.sid === a.id).map((e) => e.event);
        assert.deepEqual(mine.slice(0, 2), ['subscribe', 'ready']);
      }
    } finally {
      cleanup();
    }
  });

  test(`${label}: disconnect() stops reconnecting; connect() resumes`, opts, async () => {
    try {
      const s = client({ transports: ['polling'] });
      await once(s, 'connect');
      const gone = once(s, 'disconnect');
      s.disconnect();
      await gone;
      assert.equal(s.connected, false);
      assert.equal(s.id, null);
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(s.connecting, false);
      s.connect();
      await once(s, 'connect');
      assert.deepEqual((await ask(s, 'echo', 'back')).res, 'back');
    } finally {
      cleanup();
    }
  });
}
