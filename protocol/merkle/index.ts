/** RFC 6962 §2.1 Merkle tree with SHA-256: hashes, roots, proofs and an append-only log. */
export { HASH_SIZE, leafHash, nodeHash, emptyRoot } from './hash.ts';
export { merkleRoot } from './root.ts';
export { inclusionProof, verifyInclusion, rootFromInclusionProof } from './inclusion.ts';
export { consistencyProof, verifyConsistency, rootFromConsistencyProof } from './consistency.ts';
export type { ProofResult } from './proofResult.ts';
export { MerkleLog, type AppendResult, type NodeHasher } from './log.ts';
export { MemoryNodeStore, type NodeStore } from './nodeStore.ts';
