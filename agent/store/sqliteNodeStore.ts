import type { NodeStore } from '../../protocol/merkle/nodeStore.ts';
import { nodeHash } from '../../protocol/merkle/hash.ts';
import type { NodeHasher } from '../../protocol/merkle/log.ts';
import type { Db } from './db.ts';
import { LEAF_AT_SQL, LEAF_RANGE_SQL, LOG_SIZE_SQL } from './logLeaves.ts';
import type { WriteBatch } from './writeBatch.ts';

interface FrontierNodes {
  index: number;
  hash: Uint8Array;
  prevIndex: number;
  prevHash: Uint8Array | undefined;
}

/**
 * Interior levels kept as rows: every 4th (4, 8, 12, …). A node of a level between is the fold of
 * at most 2^3 = 8 stored nodes (or leaves) below it, so a proof still reads O(log n) rows; the log
 * writes ~1/15 of a node row per leaf instead of ~1 (an 11-reading commit dirtied a page per level).
 */
export const NODE_LEVEL_STRIDE = 4;

/** Whether complete subtrees of this level are stored rows (level 0: the leaf_hash of records and access_events). */
export function isStoredLevel(level: number): boolean {
  return level % NODE_LEVEL_STRIDE === 0;
}

/**
 * The transparency log's NodeStore on SQLite. Level 0 (the leaf hashes) is column leaf_hash of the
 * rows the leaves log — records (kind 1) and access_events (kind 2), keyed by leaf_idx (schema v7;
 * view log_leaves unites them) — and the log's size is their last index + 1. Those rows are the
 * caller's to write, in the same batch as the append (`put` at level 0 writes nothing: the ingestor
 * puts the leaf hash into the record's or access event's row). The hashes of complete
 * subtrees at every NODE_LEVEL_STRIDE-th level above are table log_nodes, the levels between are
 * recomputed from those below. (Databases written before schema v4 also hold the levels between,
 * and before v0.2 level 0 in log_nodes; those rows are correct and no longer read.)
 * Node writes are rows of the ingestor's current WriteBatch (`writeInto`), so nodes and the
 * records holding the leaves commit or fail together; reads use the event loop's connection. The last two nodes
 * written per level (every level, stored or not) are cached: it is all an append reads (and a root
 * computation mostly), so the hot path does no SELECT, and nodes of batches still in flight are
 * served from the cache. After a failed batch call `reload()`.
 */
export class SqliteNodeStore implements NodeStore {
  private readonly getNodeStmt;
  private readonly getLeafStmt;
  private readonly nodeRangeStmt;
  private readonly leafRangeStmt;
  private readonly getSizeStmt;
  /** The last two nodes written per level: an append reads the left sibling of the node it just wrote. */
  private frontier = new Map<number, FrontierNodes>();
  private leafCount = 0;
  private batch: WriteBatch | undefined;

  /** `hashNode`: RFC 6962 interior hash for the levels between stored ones (the log's own hasher). */
  constructor(
    db: Db,
    private readonly hashNode: NodeHasher = nodeHash,
  ) {
    this.getNodeStmt = db.prepare<[number, number], Buffer>('SELECT hash FROM log_nodes WHERE level = ? AND idx = ?').pluck();
    this.getLeafStmt = db.prepare<[{ i: number }], Buffer>(LEAF_AT_SQL).pluck();
    this.nodeRangeStmt = db
      .prepare<[number, number, number], Buffer>('SELECT hash FROM log_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx')
      .pluck();
    this.leafRangeStmt = db.prepare<[{ from: number; to: number }], Buffer>(LEAF_RANGE_SQL).pluck();
    this.getSizeStmt = db.prepare<[], number>(LOG_SIZE_SQL).pluck();
    this.reload();
  }

  /** Where the next `put`s go. */
  writeInto(batch: WriteBatch): void {
    this.batch = batch;
  }

  reload(): void {
    this.frontier = new Map();
    this.leafCount = this.getSizeStmt.get()!;
  }

  get(level: number, index: number): Uint8Array | undefined {
    const f = this.frontier.get(level);
    if (f) {
      if (f.index === index) return f.hash;
      if (f.prevIndex === index) return f.prevHash;
    }
    const hash = isStoredLevel(level) ? this.readStored(level, index) : this.recompute(level, index);
    if (!hash) return undefined;
    if (!f || index > f.index) this.remember(level, index, hash);
    return hash;
  }

  put(level: number, index: number, hash: Uint8Array): void {
    if (!this.batch) throw new Error('SqliteNodeStore.put outside a write batch');
    // level 0: the caller's record or access event row holds the leaf hash
    if (level > 0 && isStoredLevel(level)) this.batch.nodes.push([level, index, hash]);
    this.remember(level, index, hash);
  }

  private readStored(level: number, index: number): Uint8Array | undefined {
    const row = level === 0 ? this.getLeafStmt.get({ i: index }) : this.getNodeStmt.get(level, index);
    return row ? new Uint8Array(row) : undefined;
  }

  /** Node (level, index) of a level that is not stored: the fold of its descendants at the stored level below. */
  private recompute(level: number, index: number): Uint8Array | undefined {
    const base = level - (level % NODE_LEVEL_STRIDE);
    const span = 2 ** (level - base);
    const first = index * span;
    const rows = base === 0 ? this.leafRangeStmt.all({ from: first, to: first + span }) : this.nodeRangeStmt.all(base, first, first + span);
    if (rows.length !== span) return undefined; // not complete (or not committed): the log reports LOG_STORE_MISSING_NODE
    let hashes: Uint8Array[] = rows.map((r) => new Uint8Array(r));
    while (hashes.length > 1) {
      const up: Uint8Array[] = [];
      for (let i = 0; i < hashes.length; i += 2) up.push(this.hashNode(hashes[i]!, hashes[i + 1]!));
      hashes = up;
    }
    return hashes[0];
  }

  private remember(level: number, index: number, hash: Uint8Array): void {
    const f = this.frontier.get(level);
    this.frontier.set(level, { index, hash, prevIndex: f?.index ?? -1, prevHash: f?.hash });
  }

  size(): number {
    return this.leafCount;
  }

  /** Records the size in memory; it becomes durable with the rows of the batch's leaves. */
  setSize(n: number): void {
    this.leafCount = n;
  }
}
