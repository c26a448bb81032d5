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

  /** Milliseconds until `key` has a whole token (0 when it has one now); takes nothing. */
  waitMs(key: string): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const tokens = Math.min(this.o.burst, b.tokens + ((this.clock.now() - b.at) / 1000) * this.o.perSecond);
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.o.perSecond) * 1000);
  }

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
