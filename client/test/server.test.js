// The same client scenarios against the project's real Go binary with
// testdata/workers/e2e/worker.js, on 127.0.0.1 only, through the built
// package entry (dist/index.mjs, what `import 'socketcluster-client'` gives). The binary comes from
// $SC_BIN, or is built with `go build ./cmd/socketcluster`. Nothing is
// skipped: when the binary cannot be built, does not start or does not run
// the worker (GET /e2e/ping must answer pong), one test fails with the reason.
// One worker process: publications do not cross worker processes until the
// binary starts its stores (--stores), so two clients on different workers
// would not see each other's messages.
import { test, after } from 'node:test';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineScenarios, closedPort } from './support/scenarios.js';
// The package itself (self-reference through package.json "exports": dist/index.mjs), as users import it.
import { connect } from 'socketcluster-client';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD_TIMEOUT_MS = 5 * 60 * 1000;
const START_TIMEOUT_MS = 20000;
const STOP_GRACE_MS = 5000;

async function findBinary() {
  if (process.env.SC_BIN) return { bin: process.env.SC_BIN };
  const dir = mkdtempSync(join(tmpdir(), 'sc-client-test-'));
  const bin = join(dir, 'socketcluster');
  try {
    await new Promise((resolve, reject) => {
      execFile('go', ['build', '-o', bin, './cmd/socketcluster'], { cwd: repoRoot, timeout: BUILD_TIMEOUT_MS }, (err, stdout, stderr) => {
        if (err) reject(new Error(String(stderr || err.message).trim().split('\n').slice(0, 3).join(' | ')));
        else resolve();
      });
    });
    return { bin, dir };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { problem: 'the server binary does not build: ' + err.message };
  }
}

function portOpen(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => { sock.destroy(); resolve(true); });
    sock.once('error', () => resolve(false));
  });
}

async function start(bin, port) {
  const args = ['--workerController', 'testdata/workers/e2e/worker.js', '--port', String(port), '--appName', 'e2e',
    '--listen', '127.0.0.1', '--workers', '1'];
  const child = spawn(bin, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  let exited = false;
  child.once('exit', () => { exited = true; });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await portOpen(port))) {
    if (exited || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not start on ${port}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return child;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await gone;
  clearTimeout(timer);
}

// workerAnswers reports whether the e2e worker's own HTTP handler runs
// (GET /e2e/ping -> pong), i.e. the binary really runs worker.js.
async function workerAnswers(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/e2e/ping`, { signal: AbortSignal.timeout(5000) });
    return (await res.text()) === 'pong';
  } catch {
    return false;
  }
}

const found = await findBinary();
let port;
let child;
if (!found.problem) {
  port = await closedPort();
  try {
    child = await start(found.bin, port);
    if (!(await workerAnswers(port))) {
      await stop(child);
      found.problem = 'the server binary does not run testdata/workers/e2e/worker.js (GET /e2e/ping did not answer pong)';
    }
  } catch (err) {
    found.problem = err.message;
  }
}
if (found.problem) {
  if (found.dir) rmSync(found.dir, { recursive: true, force: true });
  test('real server: binary runs the e2e worker', () => {
    throw new Error(found.problem);
  });
} else {
  const handle = {
    port,
    async restart() {
      await stop(child);
      const at = Date.now();
      child = await start(found.bin, port);
      return at;
    },
  };
  after(async () => {
    await stop(child);
    if (found.dir) rmSync(found.dir, { recursive: true, force: true });
  });
  defineScenarios('real server', () => handle, connect);

  // The CommonJS entry (dist/index.cjs, what require('socketcluster-client') gives) against the same server.
  test('real server: CommonJS entry connects by polling and gets an echo ack', { timeout: 30000 }, async () => {
    const cjs = createRequire(import.meta.url)('socketcluster-client');
    const s = cjs.connect({ hostname: '127.0.0.1', port, transports: ['polling'] });
    s.on('error', () => {});
    try {
      const got = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no echo within 10 s')), 10000);
        s.emit('echo', { via: 'cjs' }, (err, data) => {
          clearTimeout(timer);
          resolve({ err, data, transport: s.transport && s.transport.name });
        });
      });
      assert.deepEqual(got, { err: undefined, data: { via: 'cjs' }, transport: 'polling' });
    } finally {
      s.disconnect();
    }
  });
}
