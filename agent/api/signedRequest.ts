import { verifyTypedData, isAddress, type Address } from 'viem';
import { fromHex } from '../../protocol/bytes.ts';
import { ApiError } from './apiError.ts';
import type { NonceStore } from './nonceStore.ts';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { TokenBuckets } from './tokenBucket.ts';
import { typedDataOf, type ApiDomain, type ApiPrimaryType, type MessageOf, type SignedRequest } from '../../protocol/api/typedData.ts';

export interface RequestGuard {
  domain: ApiDomain;
  nonces: NonceStore;
  limiter: TokenBuckets;
  nowMs: () => number;
  /** Longest accepted lifetime of a request (seconds). */
  maxLifetimeSec: number;
}

/**
 * Checks a signed request in the order that keeps it cheap and unabusable: expiry, signature
 * (EIP-712, viem verifyTypedData), rate limit of the now-authenticated requester, nonce (once).
 * Returns the requester's address, lower-case.
 */
export async function checkSignedRequest<P extends Exclude<ApiPrimaryType, 'Disclosure'>>(
  guard: RequestGuard,
  primaryType: P,
  req: SignedRequest<MessageOf[P]>,
): Promise<Address> {
  const m = req.message;
  if (!isAddress(m.requester)) throw new ApiError('API_BAD_REQUEST', 'requester is not an address');
  const nowSec = Math.floor(guard.nowMs() / 1000);
  if (m.expiry < nowSec) throw new ApiError('API_EXPIRED');
  if (m.expiry > nowSec + guard.maxLifetimeSec) throw new ApiError('API_EXPIRY_TOO_FAR');
  // EIP-2: only the low-s form of a signature is valid; its high-s twin (r, n - s, v ^ 1) recovers the
  // same address and would let anyone turn one valid request into a second, different-looking one
  if (!isLowS(req.signature)) throw new ApiError('API_BAD_SIGNATURE');
  let ok = false;
  try {
    ok = await verifyTypedData({
      address: m.requester,
      signature: req.signature,
      ...typedDataOf(guard.domain, primaryType, m),
    } as Parameters<typeof verifyTypedData>[0]);
  } catch {
    ok = false;
  }
  if (!ok) throw new ApiError('API_BAD_SIGNATURE');
  const requester = m.requester.toLowerCase() as Address;
  if (!guard.limiter.take(requester)) throw new ApiError('API_RATE_LIMITED');
  guard.nonces.claim(requester, fromHex(m.nonce.slice(2)), m.expiry, nowSec);
  return requester;
}

const HALF_N = secp256k1.Point.CURVE().n / 2n;

/**
 * True when s is at most n/2, for a 65-byte r‖s‖v signature or a 64-byte EIP-2098 r‖(yParity‖s);
 * any other shape is left to verifyTypedData, which refuses it.
 */
function isLowS(signature: string): boolean {
  if (!/^0x(?:[0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/.test(signature)) return true;
  const word = BigInt(`0x${signature.slice(66, 130)}`);
  const s = signature.length === 130 ? word & ((1n << 255n) - 1n) : word; // the compact form's top bit is yParity
  return s <= HALF_N;
}
