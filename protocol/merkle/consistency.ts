/**
 * RFC 6962 §2.1.2 consistency proofs. The verifier follows transparency-dev/merkle
 * proof/verify.go (RootFromConsistencyProof), so it accepts and rejects exactly what
 * its test data says; in particular a proof *from* the empty tree is refused
 * (PROOF_BAD_SIZE): every tree extends the empty one, there is nothing to prove.
 */
import { fail } from '../errors.ts';
import { bytesEqual } from '../bytes.ts';
import { emptyRoot } from './hash.ts';
import { isSafeUint, shiftRight, trailingZeros } from './bits.ts';
import { chainBorderRight, chainInner, chainInnerRight } from './chain.ts';
import { decomposeInclusionProof, isHash } from './inclusion.ts';
import { proofError, proofOk, type ProofResult } from './proofResult.ts';
import { largestPowerOfTwoBelow, rangeRoot } from './root.ts';

/**
 * The root of the tree of `size2` leaves that `proof` leads to, given the tree of `size1`
 * leaves has root `root1`; checks along the way that the proof also leads to `root1`.
 * Never throws. Errors: PROOF_BAD_SIZE (sizes not safe integers, size2 < size1, or
 * size1 = 0 < size2), PROOF_WRONG_LENGTH, PROOF_BAD_HASH (a proof hash or root1 is not
 * 32 bytes), PROOF_MISMATCH (the proof does not lead to root1; for size1 = size2 = 0,
 * root1 is not the empty-tree root). For size1 = size2 > 0 the proof must be empty and
 * root1 is returned as is (a pure comparison, as in the reference verifier).
 */
export function rootFromConsistencyProof(size1: number, size2: number, root1: Uint8Array, proof: readonly Uint8Array[]): ProofResult {
  if (!isSafeUint(size1) || !isSafeUint(size2) || size2 < size1) return proofError('PROOF_BAD_SIZE');
  if (!Array.isArray(proof)) return proofError('PROOF_WRONG_LENGTH');
  if (!(root1 instanceof Uint8Array)) return proofError('PROOF_BAD_HASH');
  if (size1 === size2) {
    if (proof.length > 0) return proofError('PROOF_WRONG_LENGTH');
    if (size1 === 0 && !bytesEqual(root1, emptyRoot())) return proofError('PROOF_MISMATCH');
    return proofOk(root1);
  }
  if (size1 === 0) return proofError('PROOF_BAD_SIZE');
  if (proof.length === 0) return proofError('PROOF_WRONG_LENGTH');

  const decomposed = decomposeInclusionProof(size1 - 1, size2);
  const shift = trailingZeros(size1);
  const inner = decomposed.inner - shift; // shift < inner because size1 < size2
  const border = decomposed.border;
  // The proof starts with the hash of the subtree of 2^shift leaves that ends at size1,
  // unless size1 is exactly 2^shift: then that subtree is the old tree, root1 itself.
  const size1IsPowerOfTwo = size1 === 2 ** shift;
  const start = size1IsPowerOfTwo ? 0 : 1;
  if (proof.length !== start + inner + border) return proofError('PROOF_WRONG_LENGTH');
  if (!proof.every(isHash) || !isHash(root1)) return proofError('PROOF_BAD_HASH');
  const seed = size1IsPowerOfTwo ? root1 : proof[0]!;
  const path = proof.slice(start);
  const innerPath = path.slice(0, inner);
  const borderPath = path.slice(inner);
  const mask = shiftRight(size1 - 1, shift);

  const hash1 = chainBorderRight(chainInnerRight(seed, innerPath, mask), borderPath);
  if (!bytesEqual(hash1, root1)) return proofError('PROOF_MISMATCH');
  return proofOk(chainBorderRight(chainInner(seed, innerPath, mask), borderPath));
}

/**
 * Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1`
 * leaves with root `root1`. Throws a VitalsealError with the codes of
 * `rootFromConsistencyProof`, PROOF_BAD_HASH when size1 < size2 and root2 is not 32
 * bytes, or PROOF_MISMATCH when the proof does not lead to root2.
 */
export function verifyConsistency(size1: number, size2: number, root1: Uint8Array, root2: Uint8Array, proof: readonly Uint8Array[]): void {
  const result = rootFromConsistencyProof(size1, size2, root1, proof);
  if (!result.ok) throw result.error;
  if (size1 !== size2 && !isHash(root2)) fail('PROOF_BAD_HASH');
  if (!(root2 instanceof Uint8Array) || !bytesEqual(result.root, root2)) fail('PROOF_MISMATCH');
}

/**
 * PROOF(m, D[n]) of RFC 6962 §2.1.2 between the first `size1` and the first `size2`
 * (default: all) of a list of leaf hashes; empty when size1 = 0 or size1 = size2.
 * Reference implementation, O(n) hashes: a growing log uses `MerkleLog.consistencyProof`.
 * Throws LOG_INDEX_OUT_OF_RANGE unless 0 ≤ size1 ≤ size2 ≤ leafHashes.length.
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], size1: number, size2: number = leafHashes.length): Uint8Array[] {
  if (!isSafeUint(size2) || size2 > leafHashes.length) fail('LOG_INDEX_OUT_OF_RANGE');
  if (!isSafeUint(size1) || size1 > size2) fail('LOG_INDEX_OUT_OF_RANGE');
  const out: Uint8Array[] = [];
  if (size1 > 0 && size1 < size2) collectSubproof(leafHashes, size1, 0, size2, true, out);
  return out;
}

/** Appends SUBPROOF(m, D[start:end], b) to `out` (m counted from `start`), lowest level first. */
function collectSubproof(
  leaves: readonly Uint8Array[],
  m: number,
  start: number,
  end: number,
  isOldRoot: boolean,
  out: Uint8Array[],
): void {
  const n = end - start;
  if (m === n) {
    if (!isOldRoot) out.push(rangeRoot(leaves, start, end));
    return;
  }
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) {
    collectSubproof(leaves, m, start, start + k, isOldRoot, out);
    out.push(rangeRoot(leaves, start + k, end));
  } else {
    collectSubproof(leaves, m - k, start + k, end, false, out);
    out.push(rangeRoot(leaves, start, start + k));
  }
}
