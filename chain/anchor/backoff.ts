import { nextDelay } from '../../protocol/backoff.ts';

/** Exponential backoff with ±`jitter` spread; randomness injected (`random()` in [0, 1)). */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Relative spread, e.g. 0.2 = ±20 %. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 5_000, factor: 2, jitter: 0.2 };

/** Delay before retry number `attempt` (1 = first retry); the curve is protocol/backoff.ts's `nextDelay`. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  return nextDelay(attempt - 1, { baseMs: policy.initialMs, maxMs: policy.maxMs, factor: policy.factor, jitter: policy.jitter }, random);
}
