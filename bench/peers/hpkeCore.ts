/**
 * Peer: @hpke/core (hpke-js), RFC 9180 on WebCrypto, with DHKEM(X25519, HKDF-SHA256) and
 * HKDF-SHA256 from @hpke/core itself.
 *
 * @hpke/core does not ship ChaCha20Poly1305 (its README: "It does not support the X448-based
 * KEM and the ChaCha20Poly1305 AEAD"); that AEAD lives in the extension package
 * @hpke/chacha20poly1305, which is not installed here. Its AEAD is a thin AeadInterface over
 * @noble/ciphers' chacha20poly1305, so the adapter below does the same: the suite is then
 * exactly vitalseal's (0x0020 / 0x0001 / 0x0003) and cross-decryption works both ways.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { webcrypto } from 'node:crypto';
import { AeadId, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256, type AeadEncryptionContext, type AeadInterface } from '@hpke/core';

const u8 = (x: ArrayBufferLike | ArrayBufferView): Uint8Array =>
  ArrayBuffer.isView(x) ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength) : new Uint8Array(x);

/** An exact-length ArrayBuffer copy (what @hpke/core's API returns and accepts). */
export const toArrayBuffer = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;

class NobleChaCha20Poly1305Context implements AeadEncryptionContext {
  private readonly key: Uint8Array;
  constructor(key: ArrayBufferLike | ArrayBufferView) {
    this.key = u8(key).slice();
  }
  async seal(
    iv: ArrayBufferLike | ArrayBufferView,
    data: ArrayBufferLike | ArrayBufferView,
    aad: ArrayBufferLike | ArrayBufferView,
  ): Promise<ArrayBuffer> {
    return toArrayBuffer(chacha20poly1305(this.key, u8(iv), u8(aad)).encrypt(u8(data)));
  }
  async open(
    iv: ArrayBufferLike | ArrayBufferView,
    data: ArrayBufferLike | ArrayBufferView,
    aad: ArrayBufferLike | ArrayBufferView,
  ): Promise<ArrayBuffer> {
    return toArrayBuffer(chacha20poly1305(this.key, u8(iv), u8(aad)).decrypt(u8(data)));
  }
}

/** ChaCha20Poly1305 (AEAD 0x0003) for @hpke/core, as @hpke/chacha20poly1305 implements it. */
export class ChaCha20Poly1305Aead implements AeadInterface {
  readonly id = AeadId.Chacha20Poly1305;
  readonly keySize = 32;
  readonly nonceSize = 12;
  readonly tagSize = 16;
  createEncryptionContext(key: ArrayBufferLike | ArrayBufferView): AeadEncryptionContext {
    return new NobleChaCha20Poly1305Context(key);
  }
}

export interface HpkeCorePeer {
  readonly suite: CipherSuite;
  /** Single-shot base-mode seal to a recipient public key (webcrypto.CryptoKey, imported once like vitalseal caches it). */
  seal(pkR: webcrypto.CryptoKey, plaintext: Uint8Array, aad: Uint8Array): Promise<{ enc: Uint8Array; ciphertext: Uint8Array }>;
  open(skR: webcrypto.CryptoKey, enc: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  importPublicKey(pk: Uint8Array): Promise<webcrypto.CryptoKey>;
  importSecretKey(sk: Uint8Array): Promise<webcrypto.CryptoKey>;
}

export function createHpkeCorePeer(): HpkeCorePeer {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new ChaCha20Poly1305Aead() });
  return {
    suite,
    async seal(pkR, plaintext, aad) {
      const r = await suite.seal({ recipientPublicKey: pkR }, toArrayBuffer(plaintext), toArrayBuffer(aad));
      return { enc: new Uint8Array(r.enc), ciphertext: new Uint8Array(r.ct) };
    },
    async open(skR, enc, ciphertext, aad) {
      return new Uint8Array(
        await suite.open({ recipientKey: skR, enc: toArrayBuffer(enc) }, toArrayBuffer(ciphertext), toArrayBuffer(aad)),
      );
    },
    importPublicKey: (pk) => suite.kem.importKey('raw', toArrayBuffer(pk), true),
    importSecretKey: (sk) => suite.kem.importKey('raw', toArrayBuffer(sk), false),
  };
}
