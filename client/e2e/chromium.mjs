// chromium.mjs drives OUR client (the bundle the binary serves at /socketcluster.js) in real headless Chromium
// (Debian's /usr/bin/chromium through playwright-core from testdata/clients/node_modules) against the real binary.
// e2e/client_test.go starts the binary and runs this script once per scenario.
//
// Environment:
//   SC_URL              base URL of the server (required), e.g. http://127.0.0.1:8000
//   SC_SCENARIO         websocket | fallback | upgrade | ack | pubsub | cookie | restart | seed
//   SC_APP              appName the server runs with (cookie name n/<app>/ssid; default e2e)
//   SC_CHROMIUM         browser executable (default /usr/bin/chromium)
//   SC_ORIGINAL_BUNDLE  seed: path of the original 0.9.37 socketcluster.js, substituted for /socketcluster.js in a
//                       second browser context (same page, same server)
//   SC_TIMEOUT_MS       overall deadline (default 30000)
// Output: one JSON result line {ok, step, error, ...} on stdout (the e2e harness format); exit 0 on success.
// The restart scenario also prints {"phase":"restart"} and then reads one JSON line from stdin:
// {"killedAt": ms, "spawnedAt": ms, "readyAt": ms} (wall-clock ms, written by the Go side after it killed the
// binary and started it again on the same port).
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { CHROMIUM_ARGS } from './flags.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');


// STEP_MS bounds every single wait inside a scenario.
const STEP_MS = 10000;

const env = (name, fallback) => (process.env[name] === undefined || process.env[name] === '' ? fallback : process.env[name]);
const baseURL = env('SC_URL', '').replace(/\/$/, '');
const scenario = env('SC_SCENARIO', '');
const app = env('SC_APP', 'e2e');
const executablePath = env('SC_CHROMIUM', '/usr/bin/chromium');
const overallMs = Number(env('SC_TIMEOUT_MS', '30000'));

const result = { ok: false, script: 'chromium.mjs', scenario, step: 'start', steps: {} };
let finished = false;
let browser = null;

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function finish(ok, error) {
  if (finished) return;
  finished = true;
  if (browser) await browser.close().catch(() => {});
  result.ok = ok;
  if (ok) result.step = 'done';
  else result.error = String(error && error.stack ? error.stack : error);
  emit(result);
  if (!ok) process.stderr.write(`FAIL [chromium.mjs ${scenario}] step "${result.step}": ${result.error}\n`);
  process.exit(ok ? 0 : 1);
}

setTimeout(() => finish(false, `overall timeout of ${overallMs} ms exceeded`), overallMs).unref();
process.on('uncaughtException', (e) => finish(false, 'uncaught: ' + (e && e.stack ? e.stack : e)));
process.on('unhandledRejection', (e) => finish(false, 'unhandled rejection: ' + (e && e.stack ? e.stack : e)));

function step(name) {
  result.step = name;
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

function equal(got, want, what) {
  if (!isDeepStrictEqual(got, want)) {
    throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

// Tab is one page with the test helper installed; it records engine requests, WebSockets and page errors.
class Tab {
  constructor(page) {
    this.page = page;
    this.errors = [];
    this.console = [];
    this.engineRequests = [];
    this.websockets = [];
    page.on('pageerror', (e) => this.errors.push(String(e && e.message ? e.message : e)));
    page.on('console', (m) => this.console.push(m.type() + ': ' + m.text()));
    page.on('request', (r) => {
      if (r.url().includes('/socketcluster/')) this.engineRequests.push({ type: r.resourceType(), url: r.url() });
    });
    page.on('websocket', (ws) => {
      const rec = { url: ws.url(), closed: false, error: null };
      ws.on('socketerror', (e) => { rec.error = String(e); });
      ws.on('close', () => { rec.closed = true; });
      this.websockets.push(rec);
    });
  }

  static async open(context, path = '/') {
    const tab = new Tab(await context.newPage());
    const resp = await tab.page.goto(baseURL + path, { waitUntil: 'domcontentloaded', timeout: STEP_MS });
    check(resp && resp.status() === 200, `GET ${path} answered ${resp ? resp.status() : 'nothing'}`);
    if (path === '/') {
      await tab.page.waitForFunction(() => typeof window.socketCluster === 'object', null, { timeout: STEP_MS });
      await tab.page.evaluate(installHelper);
    }
    return tab;
  }

  eval(fn, arg) {
    return this.page.evaluate(fn, arg);
  }

  // waitFor polls fn(arg) in the page until it returns a truthy value.
  async waitFor(fn, arg, what, ms = STEP_MS) {
    try {
      const handle = await this.page.waitForFunction(fn, arg, { timeout: ms, polling: 20 });
      return await handle.jsonValue();
    } catch (e) {
      const log = await this.eval(() => window.__h && window.__h.log.slice(-12)).catch(() => null);
      throw new Error(`timed out waiting for ${what}: ${e.message.split('\n')[0]}; page log: ${JSON.stringify(log)}`);
    }
  }

  connect(opts, channels = []) {
    return this.eval(([o, ch]) => window.__h.connect(o, ch), [opts, channels]);
  }

  waitConnected() {
    return this.waitFor(() => window.__h.socket && window.__h.socket.connected && window.__h.socket.id, null, 'connect');
  }

  // ask emits event with data and resolves with {err, data, ms} from the page.
  ask(event, data) {
    return this.eval(([ev, d]) => window.__h.ask(ev, d), [event, data]);
  }

  transport() {
    return this.eval(() => window.__h.socket.transport && window.__h.socket.transport.name);
  }

  pollingRequests() {
    return this.engineRequests.filter((r) => r.url.includes('transport=polling'));
  }
}

// installHelper runs in the page: window.__h keeps one socket and a timestamped log of what it saw.
function installHelper() {
  const h = { log: [], socket: null };
  const record = (kind, data) => h.log.push({ kind, data: data === undefined ? null : data, t: Date.now() });
  h.record = record;
  h.connect = (opts, channels) => {
    const s = socketCluster.connect(opts);
    h.socket = s;
    s.on('connect', (id) => record('connect', { id, transport: s.transport && s.transport.name, ssid: s.ssid }));
    s.on('disconnect', () => record('disconnect'));
    s.on('upgrade', () => record('upgrade', s.transport && s.transport.name));
    s.on('error', (e) => record('error', String(e && e.message ? e.message : e)));
    s.on('hello', (d) => record('hello', d));
    s.on('askresult', (d) => record('askresult', d));
    s.on('ask', (d, res) => res.end({ got: d }));
    for (const ch of channels) s.on(ch, (d) => record('msg:' + ch, d));
    return true;
  };
  h.ask = (event, data) => new Promise((resolve) => {
    const started = Date.now();
    h.socket.emit(event, data, (err, res) => resolve({
      err: err === undefined || err === null ? null : (err && err.message ? err.message : err),
      data: res === undefined ? null : res,
      ms: Date.now() - started,
    }));
  });
  h.channelOp = (op, channel) => new Promise((resolve) => h.socket[op](channel, (err) => resolve(err === undefined ? null : String(err))));
  h.publish = (channel, data) => new Promise((resolve) => h.socket.publish(channel, data, (err) => resolve(err === undefined ? null : String(err))));
  h.find = (kind) => h.log.filter((e) => e.kind === kind);
  h.after = (kind, t) => h.log.find((e) => e.kind === kind && e.t >= t) || null;
  window.__h = h;
}

const ECHO = { text: 'héllo € 𝄞 "q"\nline', n: [1, 2.5, null, true] };

// ---------------------------------------------------------------- scenarios

const scenarios = {
  // websocket: transports ['websocket'] opens a WebSocket directly, never polls; hello and an echo ack arrive.
  async websocket(ctx) {
    const tab = await Tab.open(ctx);
    step('connect');
    await tab.connect({ transports: ['websocket'] });
    const id = await tab.waitConnected();
    equal(await tab.transport(), 'websocket', 'transport');
    const hello = await tab.waitFor(() => window.__h.find('hello')[0], null, 'hello');
    equal(hello.data.id, id, 'hello id');
    step('echo');
    const echo = await tab.ask('echo', ECHO);
    equal([echo.err, echo.data], [null, ECHO], 'echo ack');
    check(tab.pollingRequests().length === 0, 'polling requests were made: ' + JSON.stringify(tab.pollingRequests().slice(0, 3)));
    check(tab.websockets.length === 1 && tab.websockets[0].url.includes('transport=websocket'),
      'want one WebSocket to /socketcluster/?transport=websocket, saw ' + JSON.stringify(tab.websockets));
    result.transport = 'websocket';
    return tab;
  },

  // fallback (server runs --transports polling, so every WebSocket is refused): websocket-first falls back to polling
  // in the same attempt; the default order stays on polling and never upgrades.
  async fallback(ctx) {
    const first = await Tab.open(ctx);
    step('websocket-first connect');
    await first.connect({ transports: ['websocket', 'polling'] });
    await first.waitConnected();
    equal(await first.transport(), 'polling', 'transport after fallback');
    check(first.websockets.length >= 1, 'no WebSocket was attempted');
    await until(() => first.websockets.every((w) => w.closed || w.error), 'the refused WebSocket to close: ' + JSON.stringify(first.websockets));
    equal((await first.ask('echo', ECHO)).data, ECHO, 'echo over fallback polling');
    check(first.pollingRequests().length > 0, 'no polling requests');
    result.refusedWebSockets = first.websockets.length;

    step('default order');
    const second = await Tab.open(ctx);
    await second.connect({});
    await second.waitConnected();
    equal((await second.ask('echo', 'a')).data, 'a', 'echo a');
    equal((await second.ask('echo', 'b')).data, 'b', 'echo b');
    equal(await second.transport(), 'polling', 'transport with polling-only server');
    equal(await second.eval(() => window.__h.find('upgrade').length), 0, 'upgrade events');
    return [first, second];
  },

  // upgrade: the default order connects by polling, probes and upgrades to websocket; acks keep working.
  async upgrade(ctx) {
    const tab = await Tab.open(ctx);
    step('connect');
    await tab.connect({});
    await tab.waitConnected();
    const connect = await tab.eval(() => window.__h.find('connect')[0]);
    equal(connect.data.transport, 'polling', 'transport at connect');
    step('upgrade');
    const up = await tab.waitFor(() => window.__h.find('upgrade')[0], null, 'upgrade');
    equal(up.data, 'websocket', 'upgrade event transport');
    equal(await tab.transport(), 'websocket', 'transport after upgrade');
    equal((await tab.ask('echo', ECHO)).data, ECHO, 'echo after upgrade');
    check(tab.pollingRequests().length > 0, 'no polling before the upgrade');
    check(tab.websockets.length === 1 && !tab.websockets[0].closed, 'want one open WebSocket: ' + JSON.stringify(tab.websockets));
    result.upgradeAfterMs = up.t - connect.t;
    return tab;
  },

  // ack: echo ack, error ack (also a local 'error' event), ack timeout, and a server emit answered by the page.
  async ack(ctx) {
    const tab = await Tab.open(ctx);
    await tab.connect({ ackTimeout: 300 });
    await tab.waitConnected();
    step('echo');
    const echo = await tab.ask('echo', ECHO);
    equal([echo.err, echo.data], [null, ECHO], 'echo ack');
    step('error ack');
    const failed = await tab.ask('failstr', 1);
    equal(failed.err, 'nope', 'error ack');
    equal((await tab.eval(() => window.__h.find('error').map((e) => e.data))), ['nope'], 'local error events');
    step('ack timeout');
    const timedOut = await tab.ask('nohandler', { q: 1 });
    equal(timedOut.err, "Event response for 'nohandler' timed out", 'timeout error');
    check(timedOut.ms >= 290 && timedOut.ms < 5000, 'timeout after ' + timedOut.ms + ' ms, want about 300');
    step('server emit with ack');
    equal((await tab.ask('askme', 7)).err, null, 'askme ack');
    const res = await tab.waitFor(() => window.__h.find('askresult')[0], null, 'askresult');
    equal(res.data, { err: null, answer: { got: 7 } }, 'server saw the page answer');
    result.ackTimeoutMs = timedOut.ms;
    return tab;
  },

  // pubsub: tab A subscribes, tab B (polling only) publishes; after unsubscribe A no longer receives that channel.
  async pubsub(ctx) {
    const a = await Tab.open(ctx);
    const b = await Tab.open(ctx);
    await a.connect({}, ['news', 'other']);
    await b.connect({ transports: ['polling'] });
    await a.waitConnected();
    await b.waitConnected();
    step('subscribe');
    equal(await a.eval(() => window.__h.channelOp('subscribe', 'news')), null, 'subscribe news');
    equal(await a.eval(() => window.__h.channelOp('subscribe', 'other')), null, 'subscribe other');
    equal((await a.eval(() => window.__h.socket.subscriptions())).sort(), ['news', 'other'], 'subscriptions');
    step('publish');
    equal(await b.eval(() => window.__h.publish('news', { n: 1, s: 'ü' })), null, 'publish ack');
    const got = await a.waitFor(() => window.__h.find('msg:news')[0], null, 'news message');
    equal(got.data, { n: 1, s: 'ü' }, 'published data');
    step('unsubscribe');
    equal(await a.eval(() => window.__h.channelOp('unsubscribe', 'news')), null, 'unsubscribe');
    equal(await a.eval(() => window.__h.socket.subscriptions()), ['other'], 'subscriptions after unsubscribe');
    equal(await b.eval(() => window.__h.publish('news', { n: 2 })), null, 'publish 2');
    equal(await b.eval(() => window.__h.publish('other', 'marker')), null, 'publish marker');
    await a.waitFor(() => window.__h.find('msg:other')[0], null, 'marker on other');
    equal(await a.eval(() => window.__h.find('msg:news').map((e) => e.data)), [{ n: 1, s: 'ü' }], 'news after unsubscribe');
    return [a, b];
  },

  // cookie: two tabs of one browser context share the session id (spec 3.5); a second context does not.
  async cookie(ctx) {
    const a = await Tab.open(ctx);
    await a.connect({ transports: ['polling'] });
    const idA = await a.waitConnected();
    step('first tab');
    const sa = await a.eval(() => ({ ssid: window.__h.socket.ssid, cookie: document.cookie }));
    equal(sa.ssid, idA, 'first tab ssid');
    equal(sa.cookie, `n/${app}/ssid=` + escapeLike(idA), 'first tab cookie');
    equal((await a.ask('whoami')).data, { id: idA, ssid: idA }, 'server view of the first tab');
    step('second tab');
    const b = await Tab.open(ctx);
    await b.connect({});
    const idB = await b.waitConnected();
    check(idB !== idA, 'two tabs got the same socket id');
    equal(await b.eval(() => window.__h.socket.ssid), idA, 'second tab ssid');
    equal((await b.ask('whoami')).data, { id: idB, ssid: idA }, 'server view of the second tab');
    step('other context');
    const other = await browser.newContext();
    const c = await Tab.open(other);
    await c.connect({});
    const idC = await c.waitConnected();
    equal(await c.eval(() => window.__h.socket.ssid), idC, 'another browser context has its own session');
    result.ssid = idA;
    return [a, b, c];
  },

  // restart: the Go side kills the binary and starts it again on the same port; the page reconnects, re-subscribes
  // and receives channel messages again. Timestamps are wall-clock ms (same clock in Go, Node and the page).
  async restart(ctx) {
    const a = await Tab.open(ctx);
    await a.connect({}, ['tick']);
    const firstId = await a.waitConnected();
    equal(await a.eval(() => window.__h.channelOp('subscribe', 'tick')), null, 'subscribe');
    await a.waitFor(() => window.__h.socket.transport.name === 'websocket', null, 'upgrade');
    // The page publishes to its own channel every 20 ms; while disconnected these are buffered and sent after the
    // re-subscription, so the first 'tick' after the restart marks when the subscription works again.
    await a.eval(() => { window.__h.timer = setInterval(() => window.__h.socket.publish('tick', Date.now()), 20); });
    await a.waitFor(() => window.__h.find('msg:tick')[0], null, 'tick before restart');

    step('restart');
    emit({ phase: 'restart' });
    const times = await readRestartTimes();
    result.restart = times;
    step('reconnect');
    const reconnect = await a.waitFor((t) => window.__h.after('connect', t), times.killedAt, 'reconnect', 20000);
    const hello = await a.waitFor((t) => window.__h.after('hello', t), reconnect.t, 'hello after reconnect');
    const tick = await a.waitFor((t) => window.__h.after('msg:tick', t), reconnect.t, 'tick after reconnect');
    check(reconnect.data.id !== firstId, 'same socket id after the restart');
    equal(await a.eval(() => window.__h.socket.subscriptions()), ['tick'], 'subscriptions after reconnect');
    await a.eval(() => clearInterval(window.__h.timer));

    step('another client publishes');
    const b = await Tab.open(await browser.newContext());
    await b.connect({ transports: ['polling'] });
    await b.waitConnected();
    equal(await b.eval(() => window.__h.publish('tick', 'from b')), null, 'publish from b');
    await a.waitFor(() => window.__h.find('msg:tick').some((e) => e.data === 'from b'), null, "b's message");

    const disconnect = await a.eval((t) => window.__h.after('disconnect', t), times.killedAt - 1000);
    result.measured = {
      killToDisconnectMs: disconnect ? disconnect.t - times.killedAt : null,
      spawnToReadyMs: times.readyAt - times.spawnedAt,
      spawnToConnectMs: reconnect.t - times.spawnedAt,
      spawnToFirstEventMs: hello.t - times.spawnedAt,
      spawnToFirstChannelMessageMs: tick.t - times.spawnedAt,
      killToFirstEventMs: hello.t - times.killedAt,
      reconnectTransport: reconnect.data.transport,
    };
    return [a, b];
  },

  // seed: the seed example (served by its unchanged worker.js from a copy without node_modules) shows random numbers
  // with our client; then the same page, same server, with the original 0.9.37 bundle substituted for
  // /socketcluster.js in a second browser context.
  async seed(ctx) {
    const ours = await seedNumbers(ctx);
    check(ours.version === '0.9.100', 'the page did not run our client (socketCluster.version ' + ours.version + ')');
    result.ours = ours;
    step('original bundle');
    const original = env('SC_ORIGINAL_BUNDLE', '');
    check(original && existsSync(original), 'SC_ORIGINAL_BUNDLE is missing: ' + original);
    const body = readFileSync(original);
    const ctx2 = await browser.newContext();
    let served = 0;
    await ctx2.route('**/socketcluster.js', (route) => {
      served++;
      return route.fulfill({ status: 200, contentType: 'text/javascript', body });
    });
    const theirs = await seedNumbers(ctx2);
    check(served === 1, 'the original bundle was served ' + served + ' times');
    check(theirs.version !== '0.9.100', 'the second page ran our client');
    result.original = theirs;
    return [];
  },
};

// until polls cond (on the Node side) every 20 ms for at most STEP_MS.
async function until(cond, what) {
  const deadline = Date.now() + STEP_MS;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// escapeLike is the page's escape() for socket ids (letters, digits, _ and - stay as they are).
function escapeLike(s) {
  return s.replace(/[^A-Za-z0-9@*_+\-./]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

async function seedNumbers(ctx) {
  step('seed page');
  const tab = await Tab.open(ctx, '/');
  await tab.waitFor(() => document.querySelectorAll('#numbers li').length >= 2, null, 'two random numbers', 15000);
  const st = await tab.eval(() => ({
    numbers: Array.from(document.querySelectorAll('#numbers li')).map((li) => li.textContent),
    status: document.getElementById('status').textContent,
    transport: window.scSocket && window.scSocket.transport ? window.scSocket.transport.name : null,
    version: window.socketCluster && window.socketCluster.version ? String(window.socketCluster.version) : null,
  }));
  for (const n of st.numbers) check(/^\d+$/.test(n) && Number(n) <= 99, 'page shows ' + JSON.stringify(n));
  check(st.status.startsWith('connected'), 'status ' + JSON.stringify(st.status));
  check(tab.errors.length === 0, 'page errors: ' + JSON.stringify(tab.errors));
  return st;
}

// readRestartTimes reads the Go side's one-line answer from stdin.
function readRestartTimes() {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin });
    const timer = setTimeout(() => reject(new Error('no restart times on stdin within 30 s')), 30000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      rl.close();
      try {
        const t = JSON.parse(line);
        check(Number.isFinite(t.killedAt) && Number.isFinite(t.spawnedAt) && Number.isFinite(t.readyAt), 'bad times ' + line);
        resolve(t);
      } catch (e) {
        reject(e);
      }
    });
  });
}

async function main() {
  check(baseURL, 'SC_URL is required');
  check(scenarios[scenario], 'unknown SC_SCENARIO ' + JSON.stringify(scenario) + '; one of ' + Object.keys(scenarios).join(', '));
  check(existsSync(executablePath), executablePath + ' not found (apt-get install chromium)');
  step('launch');
  const playwright = createRequire(join(repoRoot, 'testdata', 'clients', 'package.json'))('playwright-core');
  browser = await playwright.chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 20000 });
  result.browserVersion = browser.version();
  const ctx = await browser.newContext();
  const tabs = [].concat(await scenarios[scenario](ctx));
  step('page errors');
  for (const tab of tabs) check(tab.errors.length === 0, 'page errors: ' + JSON.stringify(tab.errors));
  await finish(true);
}

main().catch((e) => finish(false, e));
