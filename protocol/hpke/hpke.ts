/**
 * RFC 9180 HPKE (base and auth modes) written once over a backend's primitives.
 * Suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305.
 */
import { type Hpke, type KeySchedule, HPKE_MODE_AUTH, HPKE_MODE_BASE } from './types.ts';
import type { HpkePrimitives } from './primitives.ts';
import { createKem } from './kem.ts';
import { createKeySchedule, exporterSecretOf } from './keySchedule.ts';
import { HpkeRecipientContext, HpkeSenderContext } from './context.ts';
import { cachingSecretKeyImporter } from './secretKeyCache.ts';
import { checkAeadKeyAndNonce, checkSecretKey } from './validate.ts';

export function createHpkeFromPrimitives<Handle>(p: HpkePrimitives<Handle>): Hpke {
  const longTermKey = cachingSecretKeyImporter(p);
  const kem = createKem(p, longTermKey);
  const keySchedule = createKeySchedule(p.hmacSha256);

  return {
    backend: p.name,
    deriveKeyPair: kem.deriveKeyPair,
    generateKeyPair: kem.generateKeyPair,
    publicKeyOf: (secretKey) => longTermKey(checkSecretKey(secretKey)).publicKey.slice(),

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
      // Exact-length copies: these are handed out (research disclosure), not views into larger buffers.
      return { key: scheduled.key.slice(), baseNonce: scheduled.baseNonce.slice(), exporterSecret: exporterSecretOf(p.hmacSha256, scheduled) };
    },
    aeadOpen(key, nonce, aad, ciphertext) {
      checkAeadKeyAndNonce(key, nonce);
      return p.aeadOpen(key, nonce, aad, ciphertext);
    },
  };
}
