/** Length checks at the HPKE API boundary: every key is exactly 32 bytes. */
import { fail } from '../errors.ts';
import { AEAD_KEY_LENGTH, AEAD_NONCE_LENGTH, X25519_KEY_LENGTH } from './labeled.ts';

export function checkPublicKey(pk: Uint8Array): Uint8Array {
  if (!(pk instanceof Uint8Array) || pk.length !== X25519_KEY_LENGTH) fail('HPKE_BAD_PUBLIC_KEY');
  return pk;
}

export function checkSecretKey(sk: Uint8Array): Uint8Array {
  if (!(sk instanceof Uint8Array) || sk.length !== X25519_KEY_LENGTH) fail('HPKE_BAD_SECRET_KEY');
  return sk;
}

export function checkAeadKeyAndNonce(key: Uint8Array, nonce: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== AEAD_KEY_LENGTH) fail('INPUT_BAD_LENGTH', 'AEAD key must be 32 bytes');
  if (!(nonce instanceof Uint8Array) || nonce.length !== AEAD_NONCE_LENGTH) fail('INPUT_BAD_LENGTH', 'AEAD nonce must be 12 bytes');
}

/** RFC 7748 §6.1: an all-zero X25519 output means a low-order public key; HPKE must abort. */
export function checkDhNotAllZero(dh: Uint8Array): Uint8Array {
  let acc = 0;
  for (let i = 0; i < dh.length; i++) acc |= dh[i]!;
  if (acc === 0) fail('HPKE_DH_ALL_ZERO');
  return dh;
}
