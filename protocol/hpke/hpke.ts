/**
 * RFC 9180 HPKE (base and auth modes) written once over a backend's primitives.
 * Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305.
 */
import { type Hpke, type KeySchedule, HPKE_MODE_AUTH, HPKE_MODE_BASE } from './types.ts';
import type { HpkePrimitives } from './primitives.ts';
import { createKem } from './kem.ts';
import { createKeySchedule, exporterSecretOf } from './keySchedule.ts';
import { HpkeRecipientContext, HpkeSenderContext } from './context.ts';
import { checkAeadKeyAndNonce } from './validate.ts';

/** A plain, exact-length copy (values handed out must not be views into larger or Buffer-pooled memory). */
const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b);

export function createHpkeFromPrimitives<S, P>(p: HpkePrimitives<S, P>): Hpke {
  const kem = createKem(p);
  const keySchedule = createKeySchedule(p.hmacSha256);

  return {
    backend: p.name,
    deriveKeyPair: kem.deriveKeyPair,
    generateKeyPair: kem.generateKeyPair,
    publicKeyOf: (secretKey) => copy(kem.publicKeyOf(secretKey)),

    setupBaseS(pkR, info, eph) {
      const { sharedSecret, enc } = kem.encap(pkR, eph);
      return new HpkeSenderContext(p, keySchedule(HPKE_MODE_BASE, sharedSecret, info), enc);
    },
    setupBaseR(enc, skR, info) {
      return new HpkeRecipientContext(p, keySchedule(HPKE_MODE_BASE, kem.decap(enc, skR), info));
    },
    setupAuthS(pkR, info, skS, eph) {
      const { sharedSecret, enc } = kem.authEncap(pkR, skS, eph);
      return new HpkeSenderContext(p, keySchedule(HPKE_MODE_AUTH, sharedSecret, info), enc);
    },
    setupAuthR(enc, skR, info, pkS) {
      return new HpkeRecipientContext(p, keySchedule(HPKE_MODE_AUTH, kem.authDecap(enc, skR, pkS), info));
    },

    // Single-shot calls use sequence number 0, whose nonce is base_nonce itself: no context object.
    seal(pkR, info, aad, plaintext, eph) {
      const { sharedSecret, enc } = kem.encap(pkR, eph);
      const { key, baseNonce } = keySchedule(HPKE_MODE_BASE, sharedSecret, info);
      return { enc, ciphertext: p.aeadSeal(key, baseNonce, aad, plaintext) };
    },
    open(enc, skR, info, aad, ciphertext) {
      const { key, baseNonce } = keySchedule(HPKE_MODE_BASE, kem.decap(enc, skR), info);
      return p.aeadOpen(key, baseNonce, aad, ciphertext);
    },
    sealAuth(pkR, info, aad, plaintext, skS, eph) {
      const { sharedSecret, enc } = kem.authEncap(pkR, skS, eph);
      const { key, baseNonce } = keySchedule(HPKE_MODE_AUTH, sharedSecret, info);
      return { enc, ciphertext: p.aeadSeal(key, baseNonce, aad, plaintext) };
    },
    openAuth(enc, skR, info, aad, ciphertext, pkS) {
      const { key, baseNonce } = keySchedule(HPKE_MODE_AUTH, kem.authDecap(enc, skR, pkS), info);
      return p.aeadOpen(key, baseNonce, aad, ciphertext);
    },

    keyScheduleR(enc, skR, info, pkS): KeySchedule {
      const scheduled =
        pkS === undefined
          ? keySchedule(HPKE_MODE_BASE, kem.decap(enc, skR), info)
          : keySchedule(HPKE_MODE_AUTH, kem.authDecap(enc, skR, pkS), info);
      return {
        key: copy(scheduled.key),
        baseNonce: copy(scheduled.baseNonce),
        exporterSecret: copy(exporterSecretOf(p.hmacSha256, scheduled)),
      };
    },
    sha256: p.sha256,
    aeadOpen(key, nonce, aad, ciphertext) {
      checkAeadKeyAndNonce(key, nonce);
      return p.aeadOpen(key, nonce, aad, ciphertext);
    },
  };
}
