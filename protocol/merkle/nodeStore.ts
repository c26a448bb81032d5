/**
 * Where a MerkleLog keeps its hashes. The log stores only hashes of *complete*
 * subtrees, addressed by (level, index): node (level, index) is the root of the
 * 2^level leaves [index·2^level, (index+1)·2^level); level 0 holds the leaf hashes.
 * A node is written once, when its last leaf is appended, and never changes after.
 *
 * Contract for implementations (the agent implements it on SQLite):
 * - `get` returns the 32-byte hash stored at (level, index), or undefined.
 * - `put` stores a hash; it is an upsert (a crash after `put` but before `setSize`
 *   leaves nodes beyond `size()`, which the next append overwrites with the same
 *   or a new value). The log never mutates a hash after handing it to `put`.
 * - `size` / `setSize` hold the number of leaves. One append calls `put` between
 *   1 and ⌊log2 n⌋ + 1 times (1 leaf + the parents it completes; ~2 on average) and
 *   then `setSize` once: run them in one transaction for crash consistency.
 * - level < 64 and index < 2^53 (JavaScript safe integers) always.
 */
export interface NodeStore {
  get(level: number, index: number): Uint8Array | undefined;
  put(level: number, index: number, hash: Uint8Array): void;
  size(): number;
  setSize(n: number): void;
}

/** NodeStore in memory: one array per level (~2n hashes of 32 bytes for n leaves). */
export class MemoryNodeStore implements NodeStore {
  private readonly levels: Uint8Array[][] = [];
  private leafCount = 0;

  get(level: number, index: number): Uint8Array | undefined {
    return this.levels[level]?.[index];
  }

  put(level: number, index: number, hash: Uint8Array): void {
    while (this.levels.length <= level) this.levels.push([]);
    this.levels[level]![index] = hash;
  }

  size(): number {
    return this.leafCount;
  }

  setSize(n: number): void {
    this.leafCount = n;
  }
}
