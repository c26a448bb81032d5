/** RFC 9180 §4.1 DHKEM(X25519, HKDF-SHA256): DeriveKeyPair, (Auth)Encap, (Auth)Decap. */
import { fail } from '../errors.ts';
import { bytesEqual } from '../bytes.ts';
import type { EphemeralSource, X25519KeyPair } from './types.ts';
import type { HpkePrimitives } from './primitives.ts';
import { HASH_LENGTH, KEM_SUITE_ID, X25519_KEY_LENGTH, labeledExpand, labeledExtract, labeledIkmMessage, labeledInfo } from './labeled.ts';
import { type ImportedSecretKey, cachingPublicKeyImporter, cachingSecretKeyImporter, importSecretKey } from './keyCache.ts';
import { checkDhNotAllZero, checkPublicKey, checkSecretKey } from './validate.ts';

const EMPTY = new Uint8Array(0);

export interface Encapsulation {
  readonly sharedSecret: Uint8Array;
  readonly enc: Uint8Array;
}

export interface Kem {
  deriveKeyPair(ikm: Uint8Array): X25519KeyPair;
  generateKeyPair(rng: (n: number) => Uint8Array): X25519KeyPair;
  /** pk(sk) for a long-term secret key (cached; do not mutate the result). */
  publicKeyOf(secretKey: Uint8Array): Uint8Array;
  encap(pkR: Uint8Array, eph: EphemeralSource): Encapsulation;
  decap(enc: Uint8Array, skR: Uint8Array): Uint8Array;
  authEncap(pkR: Uint8Array, skS: Uint8Array, eph: EphemeralSource): Encapsulation;
  authDecap(enc: Uint8Array, skR: Uint8Array, pkS: Uint8Array): Uint8Array;
}

export function createKem<S, P>(p: HpkePrimitives<S, P>): Kem {
  const hmac = p.hmacSha256;
  const longTermSecretKey = cachingSecretKeyImporter(p);
  const longTermPublicKey = cachingPublicKeyImporter(p);
  // labeled_ikm of LabeledExtract("", "eae_prk", dh) without dh.
  const eaePrkPrefix = labeledIkmMessage(KEM_SUITE_ID, 'eae_prk');
  // labeled_info of LabeledExpand(eae_prk, "shared_secret", kem_context, 32) without kem_context.
  const sharedSecretPrefix = labeledInfo(KEM_SUITE_ID, 'shared_secret', EMPTY, HASH_LENGTH);

  // The two HMAC messages of ExtractAndExpand, with their constant parts written once, per mode (base:
  // one DH and kem_context enc ‖ pkR; Auth: two DHs and enc ‖ pkR ‖ pkS). Each call fills the variable
  // part and hashes at once (HMAC is synchronous and keeps no reference), so no call sees another's bytes.
  const scratch = [scratchMessages(1), scratchMessages(2)] as const;

  function scratchMessages(dhCount: 1 | 2): { readonly ikm: Uint8Array; readonly message: Uint8Array } {
    const ikm = new Uint8Array(eaePrkPrefix.length + dhCount * X25519_KEY_LENGTH);
    ikm.set(eaePrkPrefix, 0);
    const message = new Uint8Array(sharedSecretPrefix.length + (dhCount + 1) * X25519_KEY_LENGTH + 1);
    message.set(sharedSecretPrefix, 0);
    message[message.length - 1] = 1; // the single Expand block's counter
    return { ikm, message };
  }

  /** ExtractAndExpand(dh, kem_context) with kem_context = enc ‖ pkR [‖ pkS]; the single Expand block is computed directly. */
  function extractAndExpand(dh: Uint8Array, enc: Uint8Array, pkR: Uint8Array, pkS?: Uint8Array): Uint8Array {
    const { ikm, message } = scratch[pkS === undefined ? 0 : 1];
    ikm.set(dh, eaePrkPrefix.length);
    const eaePrk = hmac(EMPTY, ikm);
    ikm.fill(0, eaePrkPrefix.length); // the DH output does not outlive the call in the scratch
    let off = sharedSecretPrefix.length;
    message.set(enc, off);
    message.set(pkR, (off += X25519_KEY_LENGTH));
    if (pkS !== undefined) message.set(pkS, (off += X25519_KEY_LENGTH));
    return hmac(eaePrk, message);
  }

  const dh = (secretKey: S, publicKey: P): Uint8Array => checkDhNotAllZero(p.dh(secretKey, publicKey));
  const dhWithEnc = (secretKey: S, enc: Uint8Array): Uint8Array => dh(secretKey, p.importPublicKey(checkPublicKey(enc)));

  function ephemeralKey(eph: EphemeralSource): ImportedSecretKey<S> {
    if ('rng' in eph) return importSecretKey(p, checkSecretKey(eph.rng(X25519_KEY_LENGTH)));
    if ('ikmE' in eph) return importSecretKey(p, derivedSecretKey(eph.ikmE));
    const given = importSecretKey(p, checkSecretKey(eph.ephemeral.secretKey));
    if (!bytesEqual(given.publicKey, checkPublicKey(eph.ephemeral.publicKey)))
      fail('HPKE_BAD_PUBLIC_KEY', 'ephemeral public key does not match its secret key');
    return given;
  }

  /** RFC 9180 §7.1.3 for X25519: sk = LabeledExpand(LabeledExtract("", "dkp_prk", ikm), "sk", "", 32). */
  function derivedSecretKey(ikm: Uint8Array): Uint8Array {
    // The RFC asks for at least Nsk bytes of entropy in ikm; fewer than Nsk bytes cannot have it.
    if (!(ikm instanceof Uint8Array) || ikm.length < X25519_KEY_LENGTH) fail('HPKE_DERIVE_FAILED', 'ikm must be at least 32 bytes');
    const dkpPrk = labeledExtract(hmac, KEM_SUITE_ID, EMPTY, 'dkp_prk', ikm);
    return labeledExpand(hmac, KEM_SUITE_ID, dkpPrk, 'sk', EMPTY, X25519_KEY_LENGTH);
  }

  const keyPairOf = (secretKey: Uint8Array): X25519KeyPair => ({ secretKey, publicKey: p.publicKey(p.importSecretKey(secretKey)) });

  return {
    deriveKeyPair: (ikm) => keyPairOf(derivedSecretKey(ikm)),
    generateKeyPair: (rng) => keyPairOf(checkSecretKey(rng(X25519_KEY_LENGTH))),
    publicKeyOf: (secretKey) => longTermSecretKey(checkSecretKey(secretKey)).publicKey,

    encap(pkR, eph) {
      const recipient = longTermPublicKey(checkPublicKey(pkR));
      const e = ephemeralKey(eph);
      return { sharedSecret: extractAndExpand(dh(e.handle, recipient), e.publicKey, pkR), enc: e.publicKey };
    },

    decap(enc, skR) {
      const r = longTermSecretKey(checkSecretKey(skR));
      return extractAndExpand(dhWithEnc(r.handle, enc), enc, r.publicKey);
    },

    authEncap(pkR, skS, eph) {
      const recipient = longTermPublicKey(checkPublicKey(pkR));
      const s = longTermSecretKey(checkSecretKey(skS));
      const e = ephemeralKey(eph);
      const shared = new Uint8Array(2 * X25519_KEY_LENGTH);
      shared.set(dh(e.handle, recipient), 0);
      shared.set(dh(s.handle, recipient), X25519_KEY_LENGTH);
      return { sharedSecret: extractAndExpand(shared, e.publicKey, pkR, s.publicKey), enc: e.publicKey };
    },

    authDecap(enc, skR, pkS) {
      checkPublicKey(enc);
      const sender = longTermPublicKey(checkPublicKey(pkS));
      const r = longTermSecretKey(checkSecretKey(skR));
      const shared = new Uint8Array(2 * X25519_KEY_LENGTH);
      shared.set(dhWithEnc(r.handle, enc), 0);
      shared.set(dh(r.handle, sender), X25519_KEY_LENGTH);
      return extractAndExpand(shared, enc, r.publicKey, pkS);
    },
  };
}
