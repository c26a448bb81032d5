import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../../protocol/rng.ts';
import { RateLimitedError } from '../api/apiError.ts';
import { TokenBuckets } from '../api/tokenBucket.ts';

export interface BucketLimit {
  burst: number;
  perSecond: number;
}

/** Per-client-address token buckets of the HTTP routes (AgentConfig http.rateLimit). */
export interface HttpRateLimitOptions {
  /** GET /v1/records/:id, /v1/log/*, /v1/ward, /openapi.json and unknown routes. */
  read: BucketLimit;
  /** /healthz and /metrics (scrapers, probes). */
  ops: BucketLimit;
  /** Every /admin/* request. */
  admin: BucketLimit;
  /** Admin requests with a missing or wrong token: once empty, /admin/* answers 429 without comparing the token. */
  adminAuthFailures: BucketLimit;
  /** Loopback clients skip read, ops and admin (never adminAuthFailures). */
  exemptLoopback: boolean;
}

/**
 * Defaults: generous for one ward's operators, readers and scrapers, small for token guesses
 * (10 at once, then one per 10 s: a 256-bit token is out of reach anyway, and a guesser learns
 * nothing while locked). Loopback is exempt from the general buckets because the agent's own
 * tools run there — the fleet runner provisions thousands of devices through /admin/*, bench/pipeline
 * fetches thousands of records as fast as it can — and a local process can reach the store anyway;
 * set exemptLoopback false behind a local reverse proxy.
 */
export const DEFAULT_HTTP_RATE_LIMITS: HttpRateLimitOptions = {
  read: { burst: 300, perSecond: 100 },
  ops: { burst: 120, perSecond: 20 },
  admin: { burst: 300, perSecond: 100 },
  adminAuthFailures: { burst: 10, perSecond: 0.1 },
  exemptLoopback: true,
};

/** POST /v1/* is limited by the signed API itself (per address before the signature, per requester after). */
type Bucket = 'read' | 'ops' | 'admin' | 'none';

function bucketOf(req: FastifyRequest): Bucket {
  const path = req.url.split('?', 1)[0]!;
  if (path === '/admin' || path.startsWith('/admin/')) return 'admin';
  if (path === '/healthz' || path === '/metrics') return 'ops';
  if (req.method === 'POST' && path.startsWith('/v1/')) return 'none';
  return 'read';
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

/** The HTTP server's per-IP rate limits (issue #15 defect 8.5); refusals are RateLimitedError (429, Retry-After). */
export class HttpRateLimits {
  private readonly buckets: Record<Exclude<Bucket, 'none'>, TokenBuckets>;
  private readonly authFailures: TokenBuckets;

  constructor(
    private readonly o: HttpRateLimitOptions,
    clock: Clock,
  ) {
    this.buckets = { read: new TokenBuckets(o.read, clock), ops: new TokenBuckets(o.ops, clock), admin: new TokenBuckets(o.admin, clock) };
    this.authFailures = new TokenBuckets(o.adminAuthFailures, clock);
  }

  /** Adds the onRequest hook that charges every request to its address's bucket. */
  install(app: FastifyInstance): void {
    app.addHook('onRequest', async (req) => {
      const bucket = bucketOf(req);
      if (bucket === 'none' || (this.o.exemptLoopback && isLoopback(req.ip))) return;
      const b = this.buckets[bucket];
      if (!b.take(req.ip)) throw new RateLimitedError(retryAfterSec(b.waitMs(req.ip)));
    });
  }

  /** Before an admin token is compared: refused while the address's failed attempts are used up. */
  checkAdminLock(ip: string): void {
    const wait = this.authFailures.waitMs(ip);
    if (wait > 0) throw new RateLimitedError(retryAfterSec(wait));
  }

  /** A missing or wrong admin token from `ip`. */
  adminAuthFailed(ip: string): void {
    this.authFailures.take(ip);
  }
}

function retryAfterSec(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
