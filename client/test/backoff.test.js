import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconnectDelay, RECONNECT_INITIAL_DELAY_MS, RECONNECT_MULTIPLIER, RECONNECT_MAX_DELAY_MS } from '../src/backoff.js';

test('defaults: 500 ms initial ceiling, factor 2, cap 10 s', () => {
  assert.equal(RECONNECT_INITIAL_DELAY_MS, 500);
  assert.equal(RECONNECT_MULTIPLIER, 2);
  assert.equal(RECONNECT_MAX_DELAY_MS, 10000);
});

test('full jitter ceilings per attempt', () => {
  const almostOne = () => 0.999999;
  const cases = [[0, 499], [1, 999], [2, 1999], [3, 3999], [4, 7999], [5, 9999], [6, 9999], [100, 9999], [5000, 9999]];
  for (const [attempt, want] of cases) {
    assert.equal(reconnectDelay(attempt, {}, almostOne), want, `attempt ${attempt}`);
    assert.equal(reconnectDelay(attempt, {}, () => 0), 0, `attempt ${attempt} low end`);
  }
});

test('delays spread over the whole range', () => {
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const samples = Array.from({ length: 2000 }, () => reconnectDelay(0, undefined, rand));
  assert.ok(Math.min(...samples) < 50);
  assert.ok(Math.max(...samples) > 450);
  assert.ok(samples.every((d) => d >= 0 && d < 500));
});

test('custom options', () => {
  const opts = { initialDelay: 100, multiplier: 3, maxDelay: 1000 };
  assert.equal(reconnectDelay(0, opts, () => 0.5), 50);
  assert.equal(reconnectDelay(2, opts, () => 0.5), 450);
  assert.equal(reconnectDelay(3, opts, () => 0.5), 500);
});

test('legacy 0.9.x {delay, randomness} keeps the old formula', () => {
  const opts = { delay: 10000, randomness: 10000 };
  assert.equal(reconnectDelay(0, opts, () => 0), 10000);
  assert.equal(reconnectDelay(1, opts, () => 0.5), 22500);
  assert.equal(reconnectDelay(9, opts, () => 0), Math.round(10000 * Math.pow(1.5, 5)));
});
