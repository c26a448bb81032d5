import type { NodeStore } from '../../protocol/merkle/node-store.ts';
import type { Db } from './db.ts';

/** What a log leaf is: 1 = a reading record, 2 = an access event (column log_leaves.kind). */
export type LeafKind = 1 | 2;

/**
 * The transparency log's NodeStore on SQLite. Level 0 (the leaf hashes) is table log_leaves, one
 * row per leaf with its kind; the hashes of complete subtrees above it are table log_nodes; the
 * size is meta 'log_size'. (Databases written before v0.2 also hold level 0 in log_nodes; those
 * rows equal log_leaves and are no longer read.)
 * Writes go through the caller's transaction (the ingest group commit), so leaves, nodes, size and
 * records commit or roll back together. The last node written per level is cached: it is all an
 * append and a root computation read, so the hot path does no SELECT. The size is written once
 * per transaction (`persistSize`), not once per leaf. After a rolled-back transaction call `reload()`.
 */
export class SqliteNodeStore implements NodeStore {
  /** Kind of the next leaf `put` at level 0 (set by the ingestor before each append). */
  nextLeafKind: LeafKind = 1;
  private readonly getNodeStmt;
  private readonly putNodeStmt;
  private readonly getLeafStmt;
  private readonly putLeafStmt;
  private readonly setSizeStmt;
  private readonly getSizeStmt;
  private frontier = new Map<number, { index: number; hash: Uint8Array }>();
  private leafCount = 0;
  private sizeDirty = false;

  constructor(db: Db) {
    this.getNodeStmt = db.prepare<[number, number], { hash: Buffer }>('SELECT hash FROM log_nodes WHERE level = ? AND idx = ?');
    this.putNodeStmt = db.prepare<[number, number, Uint8Array]>('INSERT OR REPLACE INTO log_nodes(level, idx, hash) VALUES (?, ?, ?)');
    this.getLeafStmt = db.prepare<[number], { hash: Buffer }>('SELECT leaf_hash AS hash FROM log_leaves WHERE idx = ?');
    // plain INSERT: leaves and the size commit together, so a leaf beyond the size never exists
    this.putLeafStmt = db.prepare<[number, Uint8Array, number]>('INSERT INTO log_leaves(idx, leaf_hash, kind) VALUES (?, ?, ?)');
    this.setSizeStmt = db.prepare<[Buffer]>("INSERT OR REPLACE INTO meta(key, value) VALUES ('log_size', ?)");
    this.getSizeStmt = db.prepare<[], { value: Buffer }>("SELECT value FROM meta WHERE key = 'log_size'");
    this.reload();
  }

  reload(): void {
    this.frontier = new Map();
    this.sizeDirty = false;
    const row = this.getSizeStmt.get();
    this.leafCount = row ? Number(row.value.readBigUInt64BE(0)) : 0;
  }

  get(level: number, index: number): Uint8Array | undefined {
    const f = this.frontier.get(level);
    if (f && f.index === index) return f.hash;
    const row = level === 0 ? this.getLeafStmt.get(index) : this.getNodeStmt.get(level, index);
    if (!row) return undefined;
    const hash = new Uint8Array(row.hash);
    if (!f || index > f.index) this.frontier.set(level, { index, hash });
    return hash;
  }

  put(level: number, index: number, hash: Uint8Array): void {
    if (level === 0) this.putLeafStmt.run(index, hash, this.nextLeafKind);
    else this.putNodeStmt.run(level, index, hash);
    this.frontier.set(level, { index, hash });
  }

  size(): number {
    return this.leafCount;
  }

  /** Records the size in memory; `persistSize()` writes it, once per transaction (the ingest commit). */
  setSize(n: number): void {
    this.leafCount = n;
    this.sizeDirty = true;
  }

  /** Writes the size if it changed; call inside the transaction that wrote the nodes. */
  persistSize(): void {
    if (!this.sizeDirty) return;
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(this.leafCount));
    this.setSizeStmt.run(b);
    this.sizeDirty = false;
  }
}
