import type { NodeStore } from '../../protocol/merkle/node-store.ts';
import type { Db } from './db.ts';
import type { WriteBatch } from './writeBatch.ts';

interface FrontierNodes {
  index: number;
  hash: Uint8Array;
  prevIndex: number;
  prevHash: Uint8Array | undefined;
}

/** What a log leaf is: 1 = a reading record, 2 = an access event (column log_leaves.kind). */
export type LeafKind = 1 | 2;

/**
 * The transparency log's NodeStore on SQLite. Level 0 (the leaf hashes) is table log_leaves, one
 * row per leaf with its kind; the hashes of complete subtrees above it are table log_nodes; the
 * size is meta 'log_size'. (Databases written before v0.2 also hold level 0 in log_nodes; those
 * rows equal log_leaves and are no longer read.)
 * Writes are rows of the ingestor's current WriteBatch (`writeInto`), so leaves, nodes, size and
 * records commit or fail together; reads use the event loop's connection. The last two nodes written per
 * level is cached: it is all an append reads (and a root computation mostly), so the hot path does
 * no SELECT, and nodes of batches still in flight are served from the cache. After a failed batch
 * call `reload()`.
 */
export class SqliteNodeStore implements NodeStore {
  /** Kind of the next leaf `put` at level 0 (set by the ingestor before each append). */
  nextLeafKind: LeafKind = 1;
  private readonly getNodeStmt;
  private readonly getLeafStmt;
  private readonly getSizeStmt;
  /** The last two nodes written per level: an append reads the left sibling of the node it just wrote. */
  private frontier = new Map<number, FrontierNodes>();
  private leafCount = 0;
  private batch: WriteBatch | undefined;

  constructor(db: Db) {
    this.getNodeStmt = db.prepare<[number, number], { hash: Buffer }>('SELECT hash FROM log_nodes WHERE level = ? AND idx = ?');
    this.getLeafStmt = db.prepare<[number], { hash: Buffer }>('SELECT leaf_hash AS hash FROM log_leaves WHERE idx = ?');
    this.getSizeStmt = db.prepare<[], { value: Buffer }>("SELECT value FROM meta WHERE key = 'log_size'");
    this.reload();
  }

  /** Where the next `put`s go. */
  writeInto(batch: WriteBatch): void {
    this.batch = batch;
  }

  reload(): void {
    this.frontier = new Map();
    const row = this.getSizeStmt.get();
    this.leafCount = row ? Number(row.value.readBigUInt64BE(0)) : 0;
  }

  get(level: number, index: number): Uint8Array | undefined {
    const f = this.frontier.get(level);
    if (f) {
      if (f.index === index) return f.hash;
      if (f.prevIndex === index) return f.prevHash;
    }
    const row = level === 0 ? this.getLeafStmt.get(index) : this.getNodeStmt.get(level, index);
    if (!row) return undefined;
    const hash = new Uint8Array(row.hash);
    if (!f || index > f.index) this.remember(level, index, hash);
    return hash;
  }

  put(level: number, index: number, hash: Uint8Array): void {
    if (!this.batch) throw new Error('SqliteNodeStore.put outside a write batch');
    if (level === 0) this.batch.leaves.push([index, hash, this.nextLeafKind]);
    else this.batch.nodes.push([level, index, hash]);
    this.remember(level, index, hash);
  }

  private remember(level: number, index: number, hash: Uint8Array): void {
    const f = this.frontier.get(level);
    this.frontier.set(level, { index, hash, prevIndex: f?.index ?? -1, prevHash: f?.hash });
  }

  size(): number {
    return this.leafCount;
  }

  /** Records the size in memory; the ingestor writes it with the batch (WriteBatch.logSize). */
  setSize(n: number): void {
    this.leafCount = n;
  }
}
