/** RFC 9180 §4.1 DHKEM(X25519, HKDF-SHA256): DeriveKeyPair, (Auth)Encap, (Auth)Decap. */
import { fail } from '../errors.ts';
import type { EphemeralSource, X25519KeyPair } from './types.ts';
import type { HpkePrimitives } from './primitives.ts';
import { HASH_LENGTH, KEM_SUITE_ID, X25519_KEY_LENGTH, labeledExpand, labeledExtract, labeledIkmMessage, labeledInfo } from './labeled.ts';
import { bytesEqual } from '../bytes.ts';
import { type ImportedSecretKey, type SecretKeyImporter, importSecretKey } from './secretKeyCache.ts';
import { checkDhNotAllZero, checkPublicKey, checkSecretKey } from './validate.ts';

const EMPTY = new Uint8Array(0);

export interface Encapsulation {
  readonly sharedSecret: Uint8Array;
  readonly enc: Uint8Array;
}

export interface Kem {
  deriveKeyPair(ikm: Uint8Array): X25519KeyPair;
  generateKeyPair(rng: (n: number) => Uint8Array): X25519KeyPair;
  encap(pkR: Uint8Array, eph: EphemeralSource): Encapsulation;
  decap(enc: Uint8Array, skR: Uint8Array): Uint8Array;
  authEncap(pkR: Uint8Array, skS: Uint8Array, eph: EphemeralSource): Encapsulation;
  authDecap(enc: Uint8Array, skR: Uint8Array, pkS: Uint8Array): Uint8Array;
}

export function createKem<Handle>(p: HpkePrimitives<Handle>, longTermKey: SecretKeyImporter<Handle>): Kem {
  const hmac = p.hmacSha256;
  // labeled_ikm of LabeledExtract("", "eae_prk", dh) without dh.
  const eaePrkPrefix = labeledIkmMessage(KEM_SUITE_ID, 'eae_prk');
  // labeled_info of LabeledExpand(eae_prk, "shared_secret", kem_context, 32) without kem_context.
  const sharedSecretPrefix = labeledInfo(KEM_SUITE_ID, 'shared_secret', EMPTY, HASH_LENGTH);

  /** ExtractAndExpand(dh, kem_context) with kem_context = enc ‖ pkR [‖ pkS]; the single Expand block is computed directly. */
  function extractAndExpand(dh: Uint8Array, enc: Uint8Array, pkR: Uint8Array, pkS?: Uint8Array): Uint8Array {
    const ikm = new Uint8Array(eaePrkPrefix.length + dh.length);
    ikm.set(eaePrkPrefix, 0);
    ikm.set(dh, eaePrkPrefix.length);
    const eaePrk = hmac(EMPTY, ikm);
    const contextLength = X25519_KEY_LENGTH * (pkS === undefined ? 2 : 3);
    const message = new Uint8Array(sharedSecretPrefix.length + contextLength + 1);
    let off = sharedSecretPrefix.length;
    message.set(sharedSecretPrefix, 0);
    message.set(enc, off);
    message.set(pkR, (off += X25519_KEY_LENGTH));
    if (pkS !== undefined) message.set(pkS, (off += X25519_KEY_LENGTH));
    message[message.length - 1] = 1;
    return hmac(eaePrk, message);
  }

  function dh(secretKey: Handle, publicKey: Uint8Array): Uint8Array {
    return checkDhNotAllZero(p.dh(secretKey, publicKey));
  }

  function ephemeralKey(eph: EphemeralSource): ImportedSecretKey<Handle> {
    if ('rng' in eph) return importSecretKey(p, checkSecretKey(eph.rng(X25519_KEY_LENGTH)));
    if ('ikmE' in eph) return importSecretKey(p, derivedSecretKey(eph.ikmE));
    const given = importSecretKey(p, checkSecretKey(eph.ephemeral.secretKey));
    if (!bytesEqual(given.publicKey, checkPublicKey(eph.ephemeral.publicKey))) fail('HPKE_BAD_PUBLIC_KEY', 'ephemeral public key does not match its secret key');
    return given;
  }

  /** RFC 9180 §7.1.3 for X25519: sk = LabeledExpand(LabeledExtract("", "dkp_prk", ikm), "sk", "", 32). */
  function derivedSecretKey(ikm: Uint8Array): Uint8Array {
    // The RFC asks for at least Nsk bytes of entropy in ikm; fewer than Nsk bytes cannot have it.
    if (!(ikm instanceof Uint8Array) || ikm.length < X25519_KEY_LENGTH) fail('HPKE_DERIVE_FAILED', 'ikm must be at least 32 bytes');
    const dkpPrk = labeledExtract(hmac, KEM_SUITE_ID, EMPTY, 'dkp_prk', ikm);
    return labeledExpand(hmac, KEM_SUITE_ID, dkpPrk, 'sk', EMPTY, X25519_KEY_LENGTH);
  }

  function keyPairOf(secretKey: Uint8Array): X25519KeyPair {
    return { secretKey, publicKey: p.publicKey(p.importSecretKey(secretKey)) };
  }

  return {
    deriveKeyPair: (ikm) => keyPairOf(derivedSecretKey(ikm)),
    generateKeyPair: (rng) => keyPairOf(checkSecretKey(rng(X25519_KEY_LENGTH))),

    encap(pkR, eph) {
      checkPublicKey(pkR);
      const e = ephemeralKey(eph);
      const shared = dh(e.handle, pkR);
      return { sharedSecret: extractAndExpand(shared, e.publicKey, pkR), enc: e.publicKey };
    },

    decap(enc, skR) {
      checkPublicKey(enc);
      const r = longTermKey(checkSecretKey(skR));
      return extractAndExpand(dh(r.handle, enc), enc, r.publicKey);
    },

    authEncap(pkR, skS, eph) {
      checkPublicKey(pkR);
      const s = longTermKey(checkSecretKey(skS));
      const e = ephemeralKey(eph);
      const shared = new Uint8Array(2 * X25519_KEY_LENGTH);
      shared.set(dh(e.handle, pkR), 0);
      shared.set(dh(s.handle, pkR), X25519_KEY_LENGTH);
      return { sharedSecret: extractAndExpand(shared, e.publicKey, pkR, s.publicKey), enc: e.publicKey };
    },

    authDecap(enc, skR, pkS) {
      checkPublicKey(enc);
      checkPublicKey(pkS);
      const r = longTermKey(checkSecretKey(skR));
      const shared = new Uint8Array(2 * X25519_KEY_LENGTH);
      shared.set(dh(r.handle, enc), 0);
      shared.set(dh(r.handle, pkS), X25519_KEY_LENGTH);
      return extractAndExpand(shared, enc, r.publicKey, pkS);
    },
  };
}
