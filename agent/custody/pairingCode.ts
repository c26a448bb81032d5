import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../../protocol/bytes.ts';
import type { Rng } from '../../protocol/rng.ts';

/**
 * Pairing codes: 8 symbols of Crockford's base32 (40 bits), shown as `XXXX-XXXX`. The patient's wallet
 * gets one from a signed pairing request and shows it at the bedside; the ward operator types it in.
 * Crockford's alphabet has no I, L, O, U, so codes read aloud or retyped survive the usual confusions.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const PAIRING_CODE_SYMBOLS = 8;

export function newPairingCode(rng: Rng): string {
  const bytes = rng(5); // 40 bits = 8 × 5 bits
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = PAIRING_CODE_SYMBOLS - 1; i >= 0; i--) out += ALPHABET[Number((bits >> BigInt(5 * i)) & 31n)];
  return `${out.slice(0, 4)}-${out.slice(4)}`;
}

/** The canonical form of a typed code (case, dashes, spaces, O→0, I/L→1), or undefined if it cannot be one. */
export function normalizePairingCode(typed: string): string | undefined {
  const s = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (s.length !== PAIRING_CODE_SYMBOLS || [...s].some((c) => !ALPHABET.includes(c))) return undefined;
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

/** What the store keeps instead of the code: SHA-256(device ‖ 0x00 ‖ code). */
export function pairingCodeHash(device: string, code: string): Uint8Array {
  return sha256(concatBytes(utf8(device), new Uint8Array([0]), utf8(code)));
}
