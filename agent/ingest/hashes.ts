import { hash } from 'node:crypto';

/**
 * The agent's RFC 6962 hashes with node:crypto (native SHA-256, the ingest hot path). protocol/merkle
 * computes the same bytes in pure JS (`leafHash`, `nodeHash`); test/agent/ingest-unit.test.ts
 * cross-checks both on random inputs.
 */

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** SHA-256(bytes): an envelope's record id. */
export function sha256Native(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(hash('sha256', bytes, 'buffer'));
}

/** RFC 6962 leaf hash SHA-256(0x00 ‖ entry). */
export function recordLeafHash(entry: Uint8Array): Uint8Array {
  // one-shot crypto.hash over a prefixed copy: about half the cost of a createHash() object here
  const buf = new Uint8Array(1 + entry.length);
  buf[0] = LEAF_PREFIX;
  buf.set(entry, 1);
  return new Uint8Array(hash('sha256', buf, 'buffer'));
}

/** RFC 6962 interior node SHA-256(0x01 ‖ left ‖ right). */
export function nodeHashNative(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = NODE_PREFIX;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return new Uint8Array(hash('sha256', buf, 'buffer'));
}
