import { emptyRoot, nodeHash } from './hash.ts';
import { floorLog2 } from './bits.ts';

/**
 * MTH(D[n]) of RFC 6962 §2.1 for a list of leaf hashes (already `leafHash`ed).
 * O(n) hashes; use `MerkleLog.root` for a log that grows.
 */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return emptyRoot();
  return rangeRoot(leafHashes, 0, leafHashes.length);
}

/** MTH(D[start:end]) for end > start, splitting at the largest power of two < n. */
export function rangeRoot(leafHashes: readonly Uint8Array[], start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 1) return leafHashes[start]!.slice();
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(rangeRoot(leafHashes, start, start + k), rangeRoot(leafHashes, start + k, end));
}

/** The largest power of two strictly less than n (n ≥ 2): the split point k of RFC 6962. */
export function largestPowerOfTwoBelow(n: number): number {
  return 2 ** floorLog2(n - 1);
}
