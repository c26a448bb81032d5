/**
 * A reading record as the agent serves it (GET /v1/records/:id, the signed RecordQuery and
 * AccessQuery answers; docs/PROTOCOL.md §11.5): the envelope, where it sits in the
 * log, an RFC 6962 inclusion proof to the root of `treeSize`, and the on-chain anchor of that
 * tree head if one covers it. Byte strings are lower-case hex without 0x (recordId, kid, proof,
 * root) except the envelope (base64) and the anchor's chain values (0x hex).
 */

/** The on-chain anchor of a tree head (Ledger contract `Anchored` event). */
export interface ServedAnchor {
  treeSize: number;
  root: `0x${string}`;
  txHash: `0x${string}`;
  blockNumber: number;
  blockHash: `0x${string}`;
  chainId: number;
  ledger: `0x${string}`;
  logId: `0x${string}`;
}

export interface ServedRecord {
  /** SHA-256(envelope), hex. */
  recordId: string;
  device: string;
  seq: number;
  ts: number;
  st: string;
  /** Key id of the envelope's recipient key, hex. */
  kid: string;
  leafIndex: number;
  treeSize: number;
  /** The envelope as received, base64. */
  envelope: string;
  /** Audit path of leafIndex in the tree of treeSize, hex hashes. */
  inclusionProof: string[];
  /** Root of the tree of treeSize, hex. */
  root: string;
  /** The anchor of exactly treeSize, or null if none (yet). */
  anchor: ServedAnchor | null;
  /**
   * The ward-signed session ticket of (device, kid), base64, when the agent holds it: its `idk` is the
   * device identity key a reader verifies the reading's origin against (docs/PROTOCOL.md §3.6, §5.7).
   */
  ticket?: string;
}
