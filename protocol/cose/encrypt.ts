import { isBytes, type CborMap, type CborValue } from '../cbor/index.ts';
import { bytesEqual } from '../bytes.ts';
import { fail } from '../errors.ts';
import { ALG, CONTEXT, COSE_TAG, HEADER } from './constants.ts';
import { chachaSeal } from './chacha20poly1305.ts';
import { decryptChaChaContent, type Encrypt0Message } from './encrypt0.ts';
import { encStructure } from './encStructure.ts';
import { decodeCoseArray, decodeHeaders, encodeCoseMessage, encodeProtectedHeader, type CoseDecodeOptions } from './message.ts';

/**
 * Just enough COSE_Encrypt (tag 96, RFC 9052 §5.1) for ChaCha20/Poly1305 content
 * with one `direct` recipient (alg -6): what the cose-wg example chacha-poly-01 uses.
 */
export interface EncryptDirectMessage extends Encrypt0Message {
  /** kid of the direct recipient, if it carries one. */
  readonly recipientKid: Uint8Array | undefined;
}

export function encryptDirectChaCha(input: {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly plaintext: Uint8Array;
  readonly kid: Uint8Array;
  readonly externalAad?: Uint8Array;
}): Uint8Array {
  const protectedBytes = encodeProtectedHeader(new Map([[HEADER.alg, ALG.ChaCha20Poly1305]]));
  const unprotected: CborMap = new Map([[HEADER.iv, input.iv]]);
  const aad = encStructure(CONTEXT.Encrypt, protectedBytes, input.externalAad);
  const ciphertext = chachaSeal(input.key, input.iv, aad, input.plaintext);
  const recipient: CborValue[] = [
    new Uint8Array(0),
    new Map<number, CborValue>([
      [HEADER.alg, ALG.Direct],
      [HEADER.kid, input.kid],
    ]),
    new Uint8Array(0),
  ];
  return encodeCoseMessage(COSE_TAG.Encrypt, [protectedBytes, unprotected, ciphertext, [recipient]]);
}

export function decodeEncryptDirect(bytes: Uint8Array, options?: CoseDecodeOptions): EncryptDirectMessage {
  const [protectedItem, unprotectedItem, ciphertext, recipients] = decodeCoseArray(bytes, COSE_TAG.Encrypt, 4, options);
  const headers = decodeHeaders(protectedItem, unprotectedItem);
  if (!isBytes(ciphertext)) fail('COSE_BAD_STRUCTURE', 'ciphertext is not a byte string');
  if (!Array.isArray(recipients) || recipients.length !== 1) fail('COSE_BAD_STRUCTURE', 'expected exactly one recipient');
  const recipient = recipients[0];
  if (!Array.isArray(recipient) || recipient.length !== 3) fail('COSE_BAD_STRUCTURE', 'recipient is not a 3-element array');
  const [rProtected, rUnprotected, rCiphertext] = recipient;
  const rHeaders = decodeHeaders(rProtected, rUnprotected);
  if ((rHeaders.protected.get(HEADER.alg) ?? rHeaders.unprotected.get(HEADER.alg)) !== ALG.Direct)
    fail('COSE_UNKNOWN_ALG', 'recipient is not direct');
  if (rHeaders.protectedBytes.length !== 0 || !isBytes(rCiphertext) || rCiphertext.length !== 0) {
    fail('COSE_BAD_STRUCTURE', 'a direct recipient has an empty protected header and ciphertext');
  }
  const kid = rHeaders.unprotected.get(HEADER.kid);
  if (kid !== undefined && !isBytes(kid)) fail('COSE_BAD_HEADER', 'kid is not a byte string');
  return { ...headers, ciphertext, recipientKid: kid };
}

export function decryptDirectChaCha(
  bytes: Uint8Array,
  key: Uint8Array,
  options: { readonly kid?: Uint8Array; readonly externalAad?: Uint8Array } = {},
): Uint8Array {
  const message = decodeEncryptDirect(bytes);
  if (options.kid !== undefined && (message.recipientKid === undefined || !bytesEqual(message.recipientKid, options.kid))) {
    fail('COSE_DECRYPT_FAILED', 'no recipient for this kid');
  }
  return decryptChaChaContent(message, CONTEXT.Encrypt, key, options.externalAad);
}
