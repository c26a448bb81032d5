import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../agent/store/db.ts';
import { NonceStore } from '../../agent/api/nonceStore.ts';
import { TokenBuckets } from '../../agent/api/tokenBucket.ts';
import { buildOpenApi } from '../../agent/api/openapi.ts';
import { API_ERRORS, ApiError } from '../../agent/api/apiError.ts';
import { tempDir } from '../support/services.ts';

const dir = tempDir('vitalseal-api-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('replay guard (SQLite, migration v2)', () => {
  it('accepts a nonce once, also across a restart', () => {
    const file = join(dir, 'agent.sqlite');
    let db = openDatabase(file);
    const n = new Uint8Array(32).fill(7);
    new NonceStore(db).claim('0xAB', n, 2000, 1000);
    expect(() => new NonceStore(db).claim('0xab', n, 2000, 1000)).toThrow(expect.objectContaining({ code: 'API_REPLAYED' }));
    new NonceStore(db).claim('0xcd', n, 2000, 1000); // another requester may use the same nonce
    db.close();
    db = openDatabase(file);
    expect(() => new NonceStore(db).claim('0xab', n, 2000, 1000)).toThrow(expect.objectContaining({ code: 'API_REPLAYED' }));
    db.close();
  });
});

describe('token bucket', () => {
  it('allows a burst, refuses beyond, refills with time', () => {
    let now = 0;
    const b = new TokenBuckets({ burst: 3, perSecond: 1 }, { now: () => now });
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a')]).toEqual([true, true, true, false]);
    expect(b.take('b')).toBe(true);
    now += 1000;
    expect(b.take('a')).toBe(true);
    expect(b.take('a')).toBe(false);
  });
});

describe('error table and OpenAPI', () => {
  it('every refusal has a status and the description lists them', () => {
    for (const [code, v] of Object.entries(API_ERRORS)) {
      expect(new ApiError(code as keyof typeof API_ERRORS).status).toBe(v.status);
      expect(v.status).toBeGreaterThanOrEqual(400);
    }
    const doc = buildOpenApi([
      { method: 'post', url: '/x', summary: 's', body: { type: 'object' }, codes: ['API_REPLAYED', 'API_EXPIRED'] },
    ]) as { paths: Record<string, { post: { responses: Record<string, unknown> } }> };
    expect(Object.keys(doc.paths['/x']!.post.responses).sort()).toEqual(['200', '401', '409']);
  });
});
