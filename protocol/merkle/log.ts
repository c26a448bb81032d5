/**
 * An append-only RFC 6962 Merkle log. Every operation costs O(log n) hash
 * computations and NodeStore reads; an append writes O(log n) nodes (2 on average).
 * Trees of past sizes stay provable: complete subtrees never change.
 */
import { fail } from '../errors.ts';
import { HASH_SIZE, emptyRoot, leafHash as hashLeaf, nodeHash } from './hash.ts';
import { bitAt, bitLength, floorLog2, isSafeUint, shiftRight, trailingZeros, xor } from './bits.ts';
import { isHash } from './inclusion.ts';
import { MemoryNodeStore, type NodeStore } from './nodeStore.ts';

export interface AppendResult {
  /** Position of the new leaf (0-based); the log size after the append is index + 1. */
  readonly index: number;
  readonly leafHash: Uint8Array;
}

/**
 * How a log computes an interior node, SHA-256(0x01 ‖ left ‖ right) (RFC 6962 §2.1). The default is
 * the pure-JS `nodeHash`; a host with a native SHA-256 (the agent: node:crypto) injects its own,
 * which must return the same 32 bytes (the agent's tests cross-check both).
 */
export type NodeHasher = (left: Uint8Array, right: Uint8Array) => Uint8Array;

export class MerkleLog {
  constructor(
    readonly store: NodeStore = new MemoryNodeStore(),
    private readonly hashNode: NodeHasher = nodeHash,
  ) {}

  /** Number of leaves in the log. */
  get size(): number {
    return this.store.size();
  }

  /** Appends one entry: its leaf hash is SHA-256(0x00 ‖ leafData). */
  append(leafData: Uint8Array): AppendResult {
    return this.appendLeafHash(hashLeaf(leafData));
  }

  /** Appends an already computed 32-byte leaf hash (INPUT_BAD_LENGTH otherwise). */
  appendLeafHash(leafHash: Uint8Array): AppendResult {
    if (!isHash(leafHash)) fail('INPUT_BAD_LENGTH', 'leaf hash must be 32 bytes');
    const index = this.size;
    if (index >= Number.MAX_SAFE_INTEGER) fail('LOG_INDEX_OUT_OF_RANGE', 'log is full');
    const stored = leafHash.slice();
    this.store.put(0, index, stored);
    // Every right child completed by this leaf completes its parent too.
    let level = 0;
    let nodeIndex = index;
    let hash: Uint8Array = stored;
    while (nodeIndex % 2 === 1) {
      hash = this.hashNode(this.node(level, nodeIndex - 1), hash);
      level++;
      nodeIndex = (nodeIndex - 1) / 2;
      this.store.put(level, nodeIndex, hash);
    }
    this.store.setSize(index + 1);
    return { index, leafHash: stored.slice() };
  }

  /** The leaf hash at `index` (LOG_INDEX_OUT_OF_RANGE unless index < size). */
  leafHashAt(index: number): Uint8Array {
    if (!isSafeUint(index) || index >= this.size) fail('LOG_INDEX_OUT_OF_RANGE');
    return this.node(0, index).slice();
  }

  /** MTH of the first `size` leaves (default: the whole log); the empty root for 0. */
  root(size: number = this.size): Uint8Array {
    this.checkSize(size);
    return size === 0 ? emptyRoot() : this.rangeHash(0, size);
  }

  /**
   * Inclusion proof (RFC 6962 PATH) of leaf `index` in the tree of the first `size`
   * leaves (default: the whole log), leaf level first. LOG_INDEX_OUT_OF_RANGE unless
   * index < size ≤ this.size.
   */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.checkSize(size);
    if (!isSafeUint(index) || index >= size) fail('LOG_INDEX_OUT_OF_RANGE');
    return this.pathProof(index, 0, size);
  }

  /**
   * Consistency proof (RFC 6962 PROOF) from the tree of `size1` leaves to the tree of
   * `size2` leaves (default: the whole log); empty when size1 = 0 or size1 = size2.
   * LOG_INDEX_OUT_OF_RANGE unless 0 ≤ size1 ≤ size2 ≤ this.size.
   */
  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    this.checkSize(size2);
    if (!isSafeUint(size1) || size1 > size2) fail('LOG_INDEX_OUT_OF_RANGE');
    if (size1 === 0 || size1 === size2) return [];
    // Start from the largest complete subtree that ends at size1 (level `shift`); it is
    // part of the proof unless it is the whole old tree (size1 a power of two).
    const shift = trailingZeros(size1);
    const last = size1 - 1;
    const proof: Uint8Array[] = [];
    if (size1 !== 2 ** shift) proof.push(this.node(shift, shiftRight(last, shift)).slice());
    return proof.concat(this.pathProof(last, shift, size2));
  }

  /**
   * Sibling hashes on the path from the level-`fromLevel` ancestor of `leaf` to the root
   * of the tree of `size` leaves, lowest first.
   */
  private pathProof(leaf: number, fromLevel: number, size: number): Uint8Array[] {
    const proof: Uint8Array[] = [];
    // Below the level where the paths to `leaf` and `size - 1` meet, siblings sit on
    // either side; only the topmost right sibling can be an incomplete subtree.
    const inner = bitLength(xor(leaf, size - 1));
    for (let level = fromLevel; level < inner; level++) {
      const start = xor(shiftRight(leaf, level), 1) * 2 ** level;
      proof.push(this.rangeHash(start, Math.min(start + 2 ** level, size)));
    }
    // Above it the path runs along the right border: only left siblings, all complete.
    for (let level = inner; shiftRight(leaf, level) > 0; level++) {
      if (bitAt(leaf, level) === 1) proof.push(this.node(level, shiftRight(leaf, level) - 1).slice());
    }
    return proof;
  }

  /**
   * MTH of leaves [start, end), end > start, where start is a multiple of a power of two
   * ≥ end - start: the right-to-left fold of its complete subtrees, largest first.
   */
  private rangeHash(start: number, end: number): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let pos = start; pos < end; ) {
      const level = floorLog2(end - pos);
      parts.push(this.node(level, pos / 2 ** level));
      pos += 2 ** level;
    }
    const single = parts.length === 1;
    let hash = parts.pop()!;
    while (parts.length > 0) hash = this.hashNode(parts.pop()!, hash);
    return single ? hash.slice() : hash; // never hand out the store's own arrays
  }

  private node(level: number, index: number): Uint8Array {
    const hash = this.store.get(level, index);
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) fail('LOG_STORE_MISSING_NODE');
    return hash;
  }

  private checkSize(size: number): void {
    if (!isSafeUint(size) || size > this.size) fail('LOG_INDEX_OUT_OF_RANGE');
  }
}
