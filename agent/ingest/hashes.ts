import { createHash, hash } from 'node:crypto';

/**
 * The agent's RFC 6962 hashes with node:crypto (native SHA-256, the ingest hot path). protocol/merkle
 * computes the same bytes in pure JS (`leafHash`, `nodeHash`); test/agent/ingest-unit.test.ts
 * cross-checks both on random inputs.
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** SHA-256(bytes): an envelope's record id. */
export function sha256Native(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(hash('sha256', bytes, 'buffer'));
}

/** RFC 6962 leaf hash SHA-256(0x00 ‖ entry). */
export function recordLeafHash(entry: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(entry).digest());
}

/** RFC 6962 interior node SHA-256(0x01 ‖ left ‖ right). */
export function nodeHashNative(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest());
}
