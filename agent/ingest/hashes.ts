import { hash } from 'node:crypto';

/**
 * The agent's RFC 6962 hashes with node:crypto (native SHA-256, the ingest hot path). protocol/merkle
 * computes the same bytes in pure JS (`leafHash`, `nodeHash`); test/agent/ingestUnit.test.ts
 * cross-checks both on random inputs.
 *
 * Hand-written around one-shot `crypto.hash` rather than a `createHash()` object per hash (about
 * twice the cost here): the prefixed input is built in one reused scratch buffer (hashing is
 * synchronous, so no call can see another's bytes), and the digest is returned as a view of the
 * buffer crypto allocated, not copied again.
 */

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;
const DIGEST_BYTES = 32;

let scratch = new Uint8Array(1024);

/** The first `length` bytes of the scratch buffer, grown when needed. */
function scratchOf(length: number): Uint8Array {
  if (scratch.length < length) scratch = new Uint8Array(Math.max(length, scratch.length * 2));
  return scratch;
}

/** A digest Buffer as a plain Uint8Array view (same memory, no copy). */
function digestOf(input: Uint8Array): Uint8Array {
  const d = hash('sha256', input, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, DIGEST_BYTES);
}

/** SHA-256(bytes): an envelope's record id. */
export function sha256Native(bytes: Uint8Array): Uint8Array {
  return digestOf(bytes);
}

/** RFC 6962 leaf hash SHA-256(0x00 ‖ entry). */
export function recordLeafHash(entry: Uint8Array): Uint8Array {
  const buf = scratchOf(1 + entry.length);
  buf[0] = LEAF_PREFIX;
  buf.set(entry, 1);
  return digestOf(buf.subarray(0, 1 + entry.length));
}

/** RFC 6962 interior node SHA-256(0x01 ‖ left ‖ right). */
export function nodeHashNative(left: Uint8Array, right: Uint8Array): Uint8Array {
  const length = 1 + left.length + right.length;
  const buf = scratchOf(length);
  buf[0] = NODE_PREFIX;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return digestOf(buf.subarray(0, length));
}
