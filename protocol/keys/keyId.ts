/**
 * Key ids: the first 16 bytes of SHA-256 of a key.
 * - temporary key pair: kid = SHA-256(pkR)[0:16] (public, as in the design);
 * - emergency key: kid = SHA-256(K)[0:16]. It names a secret key, which is fine: K is
 *   256 uniformly random bits, so its hash reveals nothing usable about it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, toHex } from '../bytes.ts';

export const KEY_ID_LENGTH = 16;

export function keyIdOf(key: Uint8Array): Uint8Array {
  return sha256(key).slice(0, KEY_ID_LENGTH);
}

export function keyIdMatches(kid: Uint8Array, key: Uint8Array): boolean {
  return bytesEqual(kid, keyIdOf(key));
}

export const keyIdHex = (kid: Uint8Array): string => toHex(kid);
