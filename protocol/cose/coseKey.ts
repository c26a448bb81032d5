import {
  decodeStrict,
  encodeCanonical,
  isBytes,
  isCborMap,
  type CborMap,
  type CborValue,
  type StrictDecodeOptions,
} from '../cbor/index.ts';
import { expectLength } from '../bytes.ts';
import { fail } from '../errors.ts';
import { ALG, COSE_KEY, CRV, KTY } from './constants.ts';

const X25519_KEY_BYTES = 32;

/** An X25519 public key as the COSE_Key map {1: 1 (OKP), -1: 4 (X25519), -2: x, 3: 42 (HPKE-4)}. */
export function x25519CoseKeyMap(publicKey: Uint8Array): CborMap {
  expectLength(publicKey, X25519_KEY_BYTES);
  return new Map<number, CborValue>([
    [COSE_KEY.kty, KTY.OKP],
    [COSE_KEY.crv, CRV.X25519],
    [COSE_KEY.x, publicKey],
    [COSE_KEY.alg, ALG.HPKE4],
  ]);
}

/** Deterministic COSE_Key bytes of an X25519 public key. */
export function encodeX25519CoseKey(publicKey: Uint8Array): Uint8Array {
  return encodeCanonical(x25519CoseKeyMap(publicKey));
}

/**
 * Strictly reads an X25519 HPKE-4 public key from a decoded COSE_Key map:
 * exactly the labels kty, crv, x, alg with those values (COSE_BAD_KEY otherwise).
 */
export function x25519PublicKeyFromCoseKey(value: CborValue | undefined): Uint8Array {
  if (!isCborMap(value)) fail('COSE_BAD_KEY', 'COSE_Key is not a map');
  if (value.size !== 4) fail('COSE_BAD_KEY', 'COSE_Key has unexpected parameters');
  if (value.get(COSE_KEY.kty) !== KTY.OKP) fail('COSE_BAD_KEY', 'kty is not OKP');
  if (value.get(COSE_KEY.crv) !== CRV.X25519) fail('COSE_BAD_KEY', 'crv is not X25519');
  if (value.get(COSE_KEY.alg) !== ALG.HPKE4) fail('COSE_BAD_KEY', 'alg is not HPKE-4');
  const x = value.get(COSE_KEY.x);
  if (!isBytes(x) || x.length !== X25519_KEY_BYTES) fail('COSE_BAD_KEY', 'x is not a 32-byte string');
  return x;
}

/** Decodes COSE_Key bytes (strict CBOR, no tags) into the 32-byte X25519 public key. */
export function decodeX25519CoseKey(bytes: Uint8Array, limits?: Omit<StrictDecodeOptions, 'allowedTags'>): Uint8Array {
  return x25519PublicKeyFromCoseKey(decodeStrict(bytes, { ...limits, allowedTags: [], floats: 'nowhere' }));
}
