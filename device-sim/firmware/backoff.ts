import { nextDelay } from '../../protocol/backoff.ts';
import type { Prng } from '../random/prng.ts';

export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/**
 * Exponential backoff with full jitter: sleep = uniform(0, min(cap, base · 2^attempt)), the
 * curve of protocol/backoff.ts's `nextDelay`. Spreads a fleet's reconnections after an agent
 * restart instead of synchronising them.
 */
export function backoffDelay(attempt: number, o: BackoffOptions, prng: Prng): number {
  return nextDelay(Math.min(attempt, 30), { baseMs: o.baseMs, maxMs: o.capMs, jitter: 'full' }, () => prng.uniform());
}
