/**
 * The one exponential-backoff helper (the device simulator's reconnection and the chain
 * anchor's retries both use it). Pure: the randomness is injected, `uniform()` in [0, 1).
 */
export interface BackoffSpec {
  /** Ceiling of the first delay (attempt 0). */
  readonly baseMs: number;
  /** Largest ceiling. */
  readonly maxMs: number;
  /** Growth per attempt (default 2). */
  readonly factor?: number;
  /**
   * `'full'`: uniform in [0, ceiling) rounded down ("full jitter", AWS Architecture Blog,
   * "Exponential Backoff and Jitter", 2015: spreads a fleet's reconnections after a restart);
   * a number j: ceiling · (1 ± j) rounded, never below 0 (e.g. 0.2 = ±20 %).
   */
  readonly jitter: 'full' | number;
}

/** Delay before retry number `attempt` (0 = first): ceiling = min(maxMs, baseMs · factor^attempt), then jitter. */
export function nextDelay(attempt: number, spec: BackoffSpec, uniform: () => number): number {
  const ceiling = Math.min(spec.maxMs, spec.baseMs * (spec.factor ?? 2) ** Math.max(0, attempt));
  if (spec.jitter === 'full') return Math.floor(uniform() * ceiling);
  return Math.max(0, Math.round(ceiling + ceiling * spec.jitter * (2 * uniform() - 1)));
}
