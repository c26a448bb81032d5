import { isBytes, type CborMap } from '../cbor/index.ts';
import { fail } from '../errors.ts';
import { ALG, CONTEXT, COSE_TAG, HEADER } from './constants.ts';
import { chachaOpen, chachaSeal, CHACHA_NONCE_BYTES } from './chacha20poly1305.ts';
import { encStructure } from './encStructure.ts';
import {
  decodeCoseArray,
  decodeHeaders,
  encodeCoseMessage,
  encodeProtectedHeader,
  headerParam,
  protectedAlg,
  type CoseDecodeOptions,
  type CoseHeaders,
} from './message.ts';

/** COSE_Encrypt0 = [protected: bstr, unprotected: map, ciphertext: bstr] (RFC 9052 §5.2). */
export interface Encrypt0Message extends CoseHeaders {
  readonly ciphertext: Uint8Array;
}

export function encodeEncrypt0(
  message: { readonly protectedBytes: Uint8Array; readonly unprotected: CborMap; readonly ciphertext: Uint8Array },
  options: { readonly tagged?: boolean } = {},
): Uint8Array {
  return encodeCoseMessage(COSE_TAG.Encrypt0, [message.protectedBytes, message.unprotected, message.ciphertext], options.tagged ?? true);
}

/** Strict structural decode (no key needed); tagged 16 or untagged. */
export function decodeEncrypt0(bytes: Uint8Array, options?: CoseDecodeOptions): Encrypt0Message {
  const [protectedItem, unprotectedItem, ciphertext] = decodeCoseArray(bytes, COSE_TAG.Encrypt0, 3, options);
  const headers = decodeHeaders(protectedItem, unprotectedItem);
  if (!isBytes(ciphertext)) fail('COSE_BAD_STRUCTURE', 'ciphertext is not a byte string (detached content is not supported)');
  return { ...headers, ciphertext };
}

export interface ChaChaEncrypt0Input {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly plaintext: Uint8Array;
  readonly externalAad?: Uint8Array;
  /** Extra unprotected parameters (e.g. kid); the IV (label 5) is added. */
  readonly unprotected?: CborMap;
}

/** COSE_Encrypt0 with ChaCha20/Poly1305 (alg 24) under a known key and IV. */
export function encryptEncrypt0ChaCha(input: ChaChaEncrypt0Input): Uint8Array {
  const protectedBytes = encodeProtectedHeader(new Map([[HEADER.alg, ALG.ChaCha20Poly1305]]));
  const unprotected: CborMap = new Map(input.unprotected);
  unprotected.set(HEADER.iv, input.iv);
  const aad = encStructure(CONTEXT.Encrypt0, protectedBytes, input.externalAad);
  const ciphertext = chachaSeal(input.key, input.iv, aad, input.plaintext);
  return encodeEncrypt0({ protectedBytes, unprotected, ciphertext });
}

export function decryptEncrypt0ChaCha(bytes: Uint8Array, key: Uint8Array, externalAad?: Uint8Array): Uint8Array {
  const message = decodeEncrypt0(bytes);
  return decryptChaChaContent(message, CONTEXT.Encrypt0, key, externalAad);
}

/** Shared by COSE_Encrypt0 and COSE_Encrypt (direct): alg 24 check, IV from the headers, AEAD open. */
export function decryptChaChaContent(
  message: Encrypt0Message,
  context: typeof CONTEXT.Encrypt0 | typeof CONTEXT.Encrypt,
  key: Uint8Array,
  externalAad?: Uint8Array,
): Uint8Array {
  const alg = protectedAlg(message);
  if (alg === undefined) fail('COSE_BAD_HEADER', 'protected header has no alg');
  if (alg !== ALG.ChaCha20Poly1305) fail('COSE_UNKNOWN_ALG');
  const iv = headerParam(message, HEADER.iv);
  if (!isBytes(iv) || iv.length !== CHACHA_NONCE_BYTES) fail('COSE_BAD_HEADER', 'IV is missing or not 12 bytes');
  const aad = encStructure(context, message.protectedBytes, externalAad);
  return chachaOpen(key, iv, aad, message.ciphertext);
}
