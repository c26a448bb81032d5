/**
 * HPKE primitives on node:crypto only: the agent's and the fleet's fast path.
 *
 * X25519 keys are imported as JWK (the raw-key path), not PKCS#8/SPKI DER (OpenSSL's
 * decoders), and public keys read back from the JWK export; a private JWK needs an `x`
 * member but Node ignores its value, so a fixed placeholder is passed. `createHmac`
 * serves HPKE's short HKDF calls, not `hkdfSync`. Internal values (HMAC, DH outputs)
 * stay Buffers; what is handed out is a plain Uint8Array.
 * Measurements: bench/README.md "Measurements behind design choices".
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hash,
  type KeyObject,
} from 'node:crypto';
import { fail } from '../errors.ts';
import type { HpkePrimitives } from './primitives.ts';
import { AEAD_TAG_LENGTH } from './labeled.ts';

/** base64url of 32 zero bytes: the ignored `x` of an imported private JWK. */
const PLACEHOLDER_X = 'A'.repeat(43);
const AEAD_OPTIONS = { authTagLength: AEAD_TAG_LENGTH } as const;

/** A plain Uint8Array view of a Buffer (no copy), so both backends return the same type. */
const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const base64url = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

export const nodePrimitives: HpkePrimitives<KeyObject, KeyObject> = {
  name: 'node',
  importSecretKey(secretKey) {
    try {
      return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: base64url(secretKey), x: PLACEHOLDER_X }, format: 'jwk' });
    } catch (cause) {
      return fail('HPKE_BAD_SECRET_KEY', undefined, cause);
    }
  },
  publicKey(secretKey) {
    const { x } = secretKey.export({ format: 'jwk' });
    // A copy: a small Buffer.from() lives in Node's shared 8 KiB pool, which also holds
    // other recent decodings (such as a JWK `d`); a view would expose it through `.buffer`.
    return new Uint8Array(Buffer.from(x!, 'base64url'));
  },
  importPublicKey(publicKey) {
    try {
      return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: base64url(publicKey) }, format: 'jwk' });
    } catch (cause) {
      return fail('HPKE_BAD_PUBLIC_KEY', undefined, cause);
    }
  },
  dh(secretKey, publicKey) {
    try {
      // OpenSSL refuses to return the all-zero shared secret ("failed during derivation").
      return diffieHellman({ privateKey: secretKey, publicKey });
    } catch (cause) {
      return fail('HPKE_DH_ALL_ZERO', undefined, cause);
    }
  },
  hmacSha256: (key, data) => createHmac('sha256', key).update(data).digest(),
  // ~3× faster than noble's for a 600-byte envelope: the record id of every openReading
  sha256: sha256Native,
  aeadSeal(key, nonce, aad, plaintext) {
    const cipher = createCipheriv('chacha20-poly1305', key, nonce, AEAD_OPTIONS);
    if (aad.length > 0) cipher.setAAD(aad, { plaintextLength: plaintext.length });
    const body = cipher.update(plaintext);
    cipher.final();
    const out = new Uint8Array(body.length + AEAD_TAG_LENGTH);
    out.set(body, 0);
    out.set(cipher.getAuthTag(), body.length);
    return out;
  },
  aeadOpen(key, nonce, aad, ciphertext) {
    const bodyLength = ciphertext.length - AEAD_TAG_LENGTH;
    if (bodyLength < 0) fail('HPKE_OPEN_FAILED');
    try {
      const decipher = createDecipheriv('chacha20-poly1305', key, nonce, AEAD_OPTIONS);
      decipher.setAuthTag(ciphertext.subarray(bodyLength));
      if (aad.length > 0) decipher.setAAD(aad, { plaintextLength: bodyLength });
      const body = decipher.update(ciphertext.subarray(0, bodyLength));
      decipher.final();
      return plain(body);
    } catch {
      return fail('HPKE_OPEN_FAILED');
    }
  },
};

const DIGEST_BYTES = 32;

/**
 * SHA-256 with the one-shot `crypto.hash` (Node ≥ 20.12; the engines field asks ≥ 20.19): one native
 * call, no Hash object. Its 'buffer' result owns a fresh 32-byte ArrayBuffer (not Node's shared pool),
 * so a plain view of it hands out nothing else; should a build ever return a pooled or offset Buffer,
 * the digest is copied instead.
 */
function sha256Native(data: Uint8Array): Uint8Array {
  const d = hash('sha256', data, 'buffer');
  if (d.byteOffset === 0 && d.buffer.byteLength === DIGEST_BYTES) return new Uint8Array(d.buffer, 0, DIGEST_BYTES);
  return new Uint8Array(d);
}
