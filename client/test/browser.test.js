// dist/socketcluster.js in headless Chromium against the fake server: XHR2
// binary polling, b64 polling, JSONP, WebSocket upgrade and the session
// cookie. Needs /usr/bin/chromium and playwright-core from
// testdata/clients/node_modules (the e2e clients); every test fails (never
// skips) without them: run scripts/test-client, which installs them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeServer } from './support/fake-server.js';
import { CHROMIUM_ARGS } from '../e2e/flags.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
let playwright = null;
let missing = null;
try {
  playwright = createRequire(join(here, '../../testdata/clients/package.json'))('playwright-core');
} catch {
  missing = 'playwright-core is not installed in testdata/clients (npm ci there, or run scripts/test-client)';
}
if (!missing && !existsSync(CHROMIUM)) missing = 'no chromium at ' + CHROMIUM + ' (apt-get install chromium)';

let server;
let browser;
before(async () => {
  if (missing) throw new Error(missing);
  server = await startFakeServer({
    files: {
      '/socketcluster.js': { type: 'application/javascript', body: readFileSync(join(here, '../dist/socketcluster.js')) },
      '/': { type: 'text/html', body: '<!doctype html><title>t</title><script src="/socketcluster.js"></script><body></body>' },
    },
  });
  browser = await playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// run executes in the page: connects with opts, echoes, waits for the wanted transport.
async function run(page, opts, wantTransport) {
  return page.evaluate(([o, want]) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('page timed out')), 10000);
    const s = socketCluster.connect(o);
    s.on('error', () => {});
    s.on('connect', () => {
      const check = () => {
        if (want && s.transport.name !== want) return setTimeout(check, 20);
        s.emit('echo', 'héllo €\nline \\n 2', (err, data) => {
          clearTimeout(timer);
          resolve({ err: err || null, data, id: s.id, ssid: s.ssid, transport: s.transport.name, cookie: document.cookie });
          s.disconnect();
        });
      };
      check();
    });
  }), [opts, wantTransport || null]);
}

const cases = [
  { name: 'XHR2 binary polling', opts: { transports: ['polling'] }, want: 'polling', b64: false },
  { name: 'b64 polling', opts: { transports: ['polling'], forceBase64: true }, want: 'polling', b64: true },
  { name: 'JSONP polling', opts: { transports: ['polling'], forceJSONP: true }, want: 'polling', b64: true },
  { name: 'upgrade to websocket', opts: {}, want: 'websocket' },
  { name: 'websocket first', opts: { transports: ['websocket'] }, want: 'websocket' },
];

for (const tc of cases) {
  test(`chromium: ${tc.name}`, { timeout: 30000 }, async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server.port}/`);
      server.requests.length = 0;
      const r = await run(page, tc.opts, tc.want);
      assert.equal(r.err, null);
      assert.equal(r.data, 'héllo €\nline \\n 2');
      assert.equal(r.transport, tc.want);
      assert.equal(r.ssid, r.id);
      assert.equal(r.cookie, 'n/e2e/ssid=' + escape(r.id));
      if (tc.b64 !== undefined) {
        const polls = server.requests.filter((q) => q.query.transport === 'polling');
        assert.ok(polls.length > 0);
        assert.ok(polls.every((q) => (q.query.b64 === '1') === tc.b64), 'b64 on every request');
        assert.ok(polls.every((q) => q.query.EIO === '2'));
        if (tc.opts.forceJSONP) assert.ok(polls.every((q) => q.query.j === polls[0].query.j));
      }
    } finally {
      await context.close();
    }
  });
}

test('chromium: two tabs share the session cookie when the destination matches', { timeout: 30000 }, async () => {
  const context = await browser.newContext();
  try {
    const a = await context.newPage();
    await a.goto(`http://127.0.0.1:${server.port}/`);
    const first = await run(a, { transports: ['polling'] });
    const b = await context.newPage();
    await b.goto(`http://127.0.0.1:${server.port}/`);
    // Same destination prefix (_w0_<port>_0_) -> the existing cookie is kept.
    const second = await run(b, { transports: ['polling'] });
    assert.notEqual(second.id, first.id);
    assert.equal(second.ssid, first.id);
    // A different destination replaces it.
    await b.evaluate(() => { document.cookie = 'n/e2e/ssid=' + escape('_w9_1_0_1_other') + '; path=/;'; });
    const third = await run(b, { transports: ['polling'] });
    assert.equal(third.ssid, third.id);
  } finally {
    await context.close();
  }
});
