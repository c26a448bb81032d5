import type { Clock } from '../../protocol/rng.ts';

export interface TokenBucketOptions {
  /** Tokens a requester may spend at once. */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
  /** Most requesters tracked (oldest forgotten first). */
  maxKeys?: number;
}

/** Per-key token bucket rate limiter (time injected). */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly o: TokenBucketOptions,
    private readonly clock: Clock,
  ) {}

  /** Takes one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (b) this.buckets.delete(key);
    else b = { tokens: this.o.burst, at: now };
    b.tokens = Math.min(this.o.burst, b.tokens + ((now - b.at) / 1000) * this.o.perSecond);
    b.at = now;
    this.buckets.set(key, b); // re-insert: Map order = least recently used first
    if (this.buckets.size > (this.o.maxKeys ?? 10_000)) this.buckets.delete(this.buckets.keys().next().value!);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
