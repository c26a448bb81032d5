import type { Prng } from '../random/prng.ts';

export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
 * Jitter", 2015): sleep = uniform(0, min(cap, base · 2^attempt)). Spreads a fleet's
 * reconnections after an agent restart instead of synchronising them.
 */
export function backoffDelay(attempt: number, o: BackoffOptions, prng: Prng): number {
  const ceiling = Math.min(o.capMs, o.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(prng.uniform() * ceiling);
}
