import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Wallet } from '../../wallet/wallet.ts';
import { LiveWard } from '../support/liveWard.ts';

/**
 * Issue #15, defect 8.4: ECDSA signatures are malleable — (r, s, v) and (r, n − s, v ^ 1) both
 * recover the same address. A network attacker who sees (or makes) a signed request can forge the
 * twin signature; the agent must accept only the low-s form (EIP-2) and refuse the other as
 * API_BAD_SIGNATURE. (The replay guard keys on (requester, nonce), not on the signature, so the
 * twin of an already-used request is refused either way: checked below.)
 */
let ward: LiveWard;
let stranger: Wallet;
const N = secp256k1.Point.CURVE().n;

/** The high-s twin of a 65-byte r‖s‖v signature. */
function highS(sig: `0x${string}`): `0x${string}` {
  const hex = sig.slice(2);
  const r = hex.slice(0, 64);
  const s = BigInt(`0x${hex.slice(64, 128)}`);
  const v = parseInt(hex.slice(128, 130), 16);
  expect(s <= N / 2n).toBe(true); // the wallet signs low-s (viem/noble default)
  const twin = (N - s).toString(16).padStart(64, '0');
  const flipped = v === 27 ? 28 : v === 28 ? 27 : v ^ 1;
  return `0x${r}${twin}${flipped.toString(16).padStart(2, '0')}`;
}

async function post(path: string, body: unknown): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(ward.api + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const j = (await res.json()) as { error?: { code?: string } };
  return { status: res.status, code: j.error?.code };
}

beforeAll(async () => {
  ward = await LiveWard.start('adv-high-s');
  stranger = await ward.wallet('stranger', 7, undefined);
}, 120_000);

afterAll(async () => {
  await ward?.stop();
});

describe('defect 8.4: high-s ECDSA signatures are refused (EIP-2)', () => {
  const query = () => ({ patient: stranger.address, device: '', fromLeaf: 0, limit: 1 });

  it('accepts the low-s signature the wallet makes (the refusal that follows is about registration, not the signature)', async () => {
    const req = await ward.client().signed(stranger, 'RecordQuery', query());
    expect(await post('/v1/query/records', req)).toEqual({ status: 403, code: 'API_NOT_REGISTERED' });
  });

  it('refuses the high-s twin of a fresh request as API_BAD_SIGNATURE', async () => {
    const req = await ward.client().signed(stranger, 'RecordQuery', query());
    expect(await post('/v1/query/records', { ...req, signature: highS(req.signature) })).toEqual({
      status: 401,
      code: 'API_BAD_SIGNATURE',
    });
    // the refused twin did not burn the nonce: the genuine request still goes through
    expect(await post('/v1/query/records', req)).toEqual({ status: 403, code: 'API_NOT_REGISTERED' });
  });

  it('refuses the high-s twin of a request already served (no replay through malleability)', async () => {
    const req = await ward.client().signed(stranger, 'RecordQuery', query());
    expect((await post('/v1/query/records', req)).code).toBe('API_NOT_REGISTERED');
    const twin = await post('/v1/query/records', { ...req, signature: highS(req.signature) });
    expect(twin.status).toBeGreaterThanOrEqual(400);
    expect(['API_BAD_SIGNATURE', 'API_REPLAYED']).toContain(twin.code);
  });
});
