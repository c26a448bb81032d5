/**
 * The three hash-chaining loops of transparency-dev/merkle proof/verify.go.
 * Proof hashes are ordered from the leaf level upwards.
 */
import { nodeHash } from './hash.ts';
import { bitAt } from './bits.ts';

/** Chains a path below the right border: bit i of `index` says on which side proof[i] goes. */
export function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: number): Uint8Array {
  let h = seed;
  for (let i = 0; i < proof.length; i++) {
    h = bitAt(index, i) === 0 ? nodeHash(h, proof[i]!) : nodeHash(proof[i]!, h);
  }
  return h;
}

/** Like chainInner but only uses left siblings: yields the hash of the older, smaller subtree. */
export function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: number): Uint8Array {
  let h = seed;
  for (let i = 0; i < proof.length; i++) {
    if (bitAt(index, i) === 1) h = nodeHash(proof[i]!, h);
  }
  return h;
}

/** Chains along the right border of the tree, where every proof hash is a left sibling. */
export function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  let h = seed;
  for (const p of proof) h = nodeHash(p, h);
  return h;
}
