// Reconnect delays. Default: exponential backoff with full jitter,
//   delay = random in [0, min(maxDelay, initialDelay * multiplier^attempt))
// with initialDelay 500 ms, multiplier 2, maxDelay 10 s, so the first retry
// happens within half a second and no retry waits longer than 10 s.
// The 0.9.x options {delay, randomness} (without the new keys) keep the old
// formula: round(round(delay + randomness*rand) * 1.5^min(attempt, 5)).

/** First ceiling of the jittered delay, in ms. */
export const RECONNECT_INITIAL_DELAY_MS = 500;
/** Growth factor of the ceiling per failed attempt. */
export const RECONNECT_MULTIPLIER = 2;
/** Largest ceiling, in ms. */
export const RECONNECT_MAX_DELAY_MS = 10000;
/** Exponent cap of the legacy 0.9.x formula. */
const LEGACY_MAX_EXPONENT = 5;
/** Growth factor of the legacy 0.9.x formula. */
const LEGACY_MULTIPLIER = 1.5;

function num(value, fallback) {
  return typeof value === 'number' && isFinite(value) && value >= 0 ? value : fallback;
}

/**
 * reconnectDelay returns how long to wait before reconnect attempt number
 * `attempt` (0 for the first retry after a drop).
 */
export function reconnectDelay(attempt, options, random) {
  const opts = options || {};
  const rand = random || Math.random;
  const legacy = ('delay' in opts || 'randomness' in opts) &&
    !('initialDelay' in opts || 'maxDelay' in opts || 'multiplier' in opts);
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
