import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { tempDir } from '../support/services.ts';

/**
 * Issue #15, defect 8.5: GET and admin routes had no rate limit. A network client floods the public
 * GET routes and the admin API, and brute-forces the admin token; each is answered 429
 * API_RATE_LIMITED with a Retry-After header once its per-IP bucket is empty.
 */
let limited: RunningAgent; // small buckets, loopback not exempt (as for an agent exposed to the network)
let defaults: RunningAgent; // the default configuration
const tiny = { burst: 4, perSecond: 0.01 };

beforeAll(async () => {
  limited = await startAgent(
    parseAgentConfig({
      dataDir: tempDir('vitalseal-adv-rate-'),
      mqtt: { port: 0 },
      http: { port: 0, rateLimit: { read: tiny, ops: tiny, admin: tiny, adminAuthFailures: tiny, exemptLoopback: false } },
      logLevel: 'silent',
    }),
    { defaultMetrics: false },
  );
  defaults = await startAgent(
    parseAgentConfig({ dataDir: tempDir('vitalseal-adv-rate-'), mqtt: { port: 0 }, http: { port: 0 }, logLevel: 'silent' }),
    { defaultMetrics: false },
  );
});

afterAll(async () => {
  await limited?.stop();
  await defaults?.stop();
});

async function get(
  agent: RunningAgent,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; code: string | undefined; retryAfter: string | null }> {
  const res = await fetch(`http://127.0.0.1:${agent.httpAddress.port}${path}`, { headers });
  const j = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
  return { status: res.status, code: j.error?.code, retryAfter: res.headers.get('retry-after') };
}

describe('defect 8.5: per-IP rate limits on GET and admin routes', () => {
  it('throttles the public GET routes (records, log, ward, openapi) with 429 and Retry-After', async () => {
    const paths = [`/v1/records/${'ab'.repeat(32)}`, '/v1/log/sth', '/v1/ward', '/openapi.json'];
    for (const p of paths) expect((await get(limited, p)).status).not.toBe(429);
    for (const p of [...paths, '/v1/log/consistency?from=0']) {
      const r = await get(limited, p);
      expect(r.status, p).toBe(429);
      expect(r.code, p).toBe('API_RATE_LIMITED');
      expect(Number(r.retryAfter), p).toBeGreaterThanOrEqual(1);
    }
  });

  it('throttles /healthz and /metrics in their own bucket', async () => {
    for (let i = 0; i < 4; i++) expect((await get(limited, i % 2 ? '/metrics' : '/healthz')).status).toBe(200);
    const r = await get(limited, '/healthz');
    expect([r.status, r.code]).toEqual([429, 'API_RATE_LIMITED']);
    expect(r.retryAfter).not.toBeNull();
  });

  it('throttles the admin API even with the right token', async () => {
    const auth = { authorization: `Bearer ${limited.adminToken}` };
    for (let i = 0; i < 4; i++) expect((await get(limited, '/admin/devices', auth)).status).toBe(200);
    const r = await get(limited, '/admin/devices', auth);
    expect([r.status, r.code]).toEqual([429, 'API_RATE_LIMITED']);
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('throttles brute force of the admin token with the default configuration, from loopback too', async () => {
    const wrong = { authorization: `Bearer ${'0'.repeat(64)}` };
    let answered401 = 0;
    let r = await get(defaults, '/admin/devices', wrong);
    while (r.status === 401 && answered401 < 1000) {
      answered401++;
      r = await get(defaults, '/admin/devices', wrong);
    }
    expect(answered401).toBeLessThanOrEqual(10);
    expect([r.status, r.code]).toEqual([429, 'API_RATE_LIMITED']);
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    // while locked, even a right guess learns nothing: the token is not compared
    const right = await get(defaults, '/admin/devices', { authorization: `Bearer ${defaults.adminToken}` });
    expect([right.status, right.code]).toEqual([429, 'API_RATE_LIMITED']);
  });

  it('does not throttle an operator or a reader on loopback with the default configuration (fleet runner, benches)', async () => {
    for (let i = 0; i < 500; i++) {
      const r = await get(defaults, i % 2 ? '/v1/log/sth' : '/healthz');
      expect(r.status).toBe(200);
    }
  });
});
