/**
 * Kinds of the agent's transparency-log leaves (docs/PROTOCOL.md §11.2).
 * Every leaf hash is RFC 6962 leafHash(body); the kind says what the body is:
 * a reading record (body = the envelope bytes) or an access event (body = accessEvent.ts).
 */
export const LEAF_KIND = {
  /** A reading: the leaf body is the envelope as received; its record id is SHA-256(envelope). */
  record: 1,
  /** An access event: the leaf body is the canonical CBOR of accessEvent.ts. */
  accessEvent: 2,
} as const;

export type LeafKind = (typeof LEAF_KIND)[keyof typeof LEAF_KIND];

export function isLeafKind(v: unknown): v is LeafKind {
  return v === LEAF_KIND.record || v === LEAF_KIND.accessEvent;
}
