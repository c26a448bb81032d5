import { sha256 } from '@noble/hashes/sha2.js';

/** RFC 6962 §2.1 with SHA-256: every hash in the tree is 32 bytes. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** MTH({d}) = SHA-256(0x00 ‖ d): the hash of one log entry. */
export function leafHash(data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + data.length);
  buf[0] = LEAF_PREFIX;
  buf.set(data, 1);
  return sha256(buf);
}

/**
 * SHA-256(0x01 ‖ left ‖ right): the hash of an interior node.
 * Does not check lengths (hot path); verifiers check proof hashes before chaining.
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = NODE_PREFIX;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

const EMPTY_ROOT = sha256(new Uint8Array(0));

/** MTH({}) = SHA-256(""): the root of the empty tree (a fresh copy each call). */
export function emptyRoot(): Uint8Array {
  return EMPTY_ROOT.slice();
}
