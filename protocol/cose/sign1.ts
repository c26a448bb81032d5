import { ed25519 } from '@noble/curves/ed25519.js';
import { encodeCanonical, isBytes, type CborMap } from '../cbor/index.ts';
import { expectLength } from '../bytes.ts';
import { fail } from '../errors.ts';
import { ALG, CONTEXT, COSE_TAG, HEADER } from './constants.ts';
import {
  decodeCoseArray,
  decodeHeaders,
  encodeCoseMessage,
  encodeProtectedHeader,
  protectedAlg,
  type CoseDecodeOptions,
  type CoseHeaders,
} from './message.ts';

const EMPTY = new Uint8Array(0);
const ED25519_SIGNATURE_BYTES = 64;
const ED25519_KEY_BYTES = 32;

/** COSE_Sign1 = [protected, unprotected, payload: bstr, signature: bstr] (RFC 9052 §4.2). */
export interface Sign1Message extends CoseHeaders {
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

/** Sig_structure for COSE_Sign1 (RFC 9052 §4.4): ["Signature1", protected, external_aad, payload]. */
export function sigStructure1(protectedBytes: Uint8Array, payload: Uint8Array, externalAad: Uint8Array = EMPTY): Uint8Array {
  return encodeCanonical([CONTEXT.Signature1, protectedBytes, externalAad, payload]);
}

/** Signs `payload` as a tagged COSE_Sign1 with EdDSA/Ed25519 (alg -8 in the protected header). */
export function signSign1(input: {
  readonly payload: Uint8Array;
  /** Ed25519 secret key (32-byte seed, RFC 8032). */
  readonly secretKey: Uint8Array;
  readonly unprotected?: CborMap;
  readonly externalAad?: Uint8Array;
}): Uint8Array {
  expectLength(input.secretKey, ED25519_KEY_BYTES);
  const protectedBytes = encodeProtectedHeader(new Map([[HEADER.alg, ALG.EdDSA]]));
  const signature = ed25519.sign(sigStructure1(protectedBytes, input.payload, input.externalAad), input.secretKey);
  return encodeCoseMessage(COSE_TAG.Sign1, [protectedBytes, input.unprotected ?? new Map(), input.payload, signature]);
}

/** Strict structural decode (no key needed); tagged 18 or untagged. */
export function decodeSign1(bytes: Uint8Array, options?: CoseDecodeOptions): Sign1Message {
  const [protectedItem, unprotectedItem, payload, signature] = decodeCoseArray(bytes, COSE_TAG.Sign1, 4, options);
  const headers = decodeHeaders(protectedItem, unprotectedItem);
  if (!isBytes(payload)) fail('COSE_BAD_STRUCTURE', 'payload is not a byte string (detached payloads are not supported)');
  if (!isBytes(signature)) fail('COSE_BAD_STRUCTURE', 'signature is not a byte string');
  return { ...headers, payload, signature };
}

/**
 * Verifies an EdDSA/Ed25519 COSE_Sign1 (strict RFC 8032 verification, not
 * ZIP-215) and returns its payload. COSE_UNKNOWN_ALG unless alg is -8;
 * COSE_BAD_SIGNATURE if the signature does not verify.
 */
export function verifySign1(message: Uint8Array | Sign1Message, publicKey: Uint8Array, externalAad?: Uint8Array): Uint8Array {
  expectLength(publicKey, ED25519_KEY_BYTES);
  const decoded = message instanceof Uint8Array ? decodeSign1(message) : message;
  const alg = protectedAlg(decoded);
  if (alg === undefined) fail('COSE_BAD_HEADER', 'protected header has no alg');
  if (alg !== ALG.EdDSA) fail('COSE_UNKNOWN_ALG');
  if (decoded.signature.length !== ED25519_SIGNATURE_BYTES) fail('COSE_BAD_SIGNATURE');
  let valid: boolean;
  try {
    valid = ed25519.verify(decoded.signature, sigStructure1(decoded.protectedBytes, decoded.payload, externalAad), publicKey, {
      zip215: false,
    });
  } catch (e) {
    fail('COSE_BAD_SIGNATURE', undefined, e);
  }
  if (!valid) fail('COSE_BAD_SIGNATURE');
  return decoded.payload;
}
