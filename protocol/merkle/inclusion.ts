/**
 * RFC 6962 §2.1.1 inclusion proofs. The verifier follows transparency-dev/merkle
 * proof/verify.go, so it accepts and rejects exactly what its test data says.
 */
import { fail } from '../errors.ts';
import { bytesEqual } from '../bytes.ts';
import { HASH_SIZE } from './hash.ts';
import { bitLength, isSafeUint, popCount, shiftRight, xor } from './bits.ts';
import { chainBorderRight, chainInner } from './chain.ts';
import { proofError, proofOk, type ProofResult } from './proofResult.ts';
import { largestPowerOfTwoBelow, rangeRoot } from './root.ts';

/**
 * Splits the inclusion proof of `index` in a tree of `size` leaves into the part below
 * the point where the paths to `index` and `size - 1` meet (`inner`) and the left
 * siblings along the right border above it (`border`). inner + border = proof length.
 */
export function decomposeInclusionProof(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  const border = popCount(shiftRight(index, inner));
  return { inner, border };
}

/**
 * The root that `proof` leads to for leaf `leafIndex` of a tree of `treeSize` leaves,
 * without throwing. Errors: PROOF_BAD_INDEX (index not a safe integer < treeSize),
 * PROOF_BAD_SIZE (treeSize not a safe integer), PROOF_BAD_HASH (leaf or proof hash not
 * 32 bytes), PROOF_WRONG_LENGTH (proof has the wrong number of hashes).
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): ProofResult {
  if (!isSafeUint(treeSize)) return proofError('PROOF_BAD_SIZE');
  if (!isSafeUint(leafIndex) || leafIndex >= treeSize) return proofError('PROOF_BAD_INDEX');
  if (!isHash(leafHash)) return proofError('PROOF_BAD_HASH');
  if (!Array.isArray(proof)) return proofError('PROOF_WRONG_LENGTH');
  const { inner, border } = decomposeInclusionProof(leafIndex, treeSize);
  if (proof.length !== inner + border) return proofError('PROOF_WRONG_LENGTH');
  if (!proof.every(isHash)) return proofError('PROOF_BAD_HASH');
  const below = chainInner(leafHash, proof.slice(0, inner), leafIndex);
  return proofOk(chainBorderRight(below, proof.slice(inner)));
}

/**
 * Checks that `leafHash` is leaf `leafIndex` of the tree of `treeSize` leaves whose root is
 * `root`. Throws a VitalsealError: the codes of `rootFromInclusionProof`, PROOF_BAD_HASH
 * for a root that is not 32 bytes, PROOF_MISMATCH when the proof leads to another root.
 */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const result = rootFromInclusionProof(leafIndex, treeSize, leafHash, proof);
  if (!result.ok) throw result.error;
  if (!isHash(root)) fail('PROOF_BAD_HASH');
  if (!bytesEqual(result.root, root)) fail('PROOF_MISMATCH');
}

/**
 * PATH(m, D[n]) of RFC 6962 §2.1.1 for leaf `index` of the first `size` entries of a list
 * of leaf hashes (default: all). Reference implementation, O(n) hashes: a growing log
 * uses `MerkleLog.inclusionProof`. Throws LOG_INDEX_OUT_OF_RANGE.
 */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, size: number = leafHashes.length): Uint8Array[] {
  if (!isSafeUint(size) || size > leafHashes.length) fail('LOG_INDEX_OUT_OF_RANGE');
  if (!isSafeUint(index) || index >= size) fail('LOG_INDEX_OUT_OF_RANGE');
  const path: Uint8Array[] = [];
  collectPath(leafHashes, index, 0, size, path);
  return path;
}

/** Appends PATH(index - start, D[start:end]) to `out`, leaf level first. */
function collectPath(leaves: readonly Uint8Array[], index: number, start: number, end: number, out: Uint8Array[]): void {
  if (end - start <= 1) return;
  const k = largestPowerOfTwoBelow(end - start);
  if (index < start + k) {
    collectPath(leaves, index, start, start + k, out);
    out.push(rangeRoot(leaves, start + k, end));
  } else {
    collectPath(leaves, index, start + k, end, out);
    out.push(rangeRoot(leaves, start, start + k));
  }
}

export function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}
