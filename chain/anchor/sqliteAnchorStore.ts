/**
 * AnchorStore on the agent's SQLite database (better-sqlite3). The agent opens the
 * database (WAL, synchronous=FULL) and calls `migrateAnchorTables(db)` from its own
 * migrations; every write here is one autocommit statement or one transaction.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Hex } from 'viem';
import { ChainError } from '../errors.ts';
import type { AnchorRecord, AnchorStore, ConfirmedAnchor, ConfirmedTx, PendingAnchor } from './types.ts';

type Database = BetterSqlite3.Database;

/** Idempotent: creates the anchors table and its indexes if missing. */
export function migrateAnchorTables(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS anchors (
      log_id         TEXT    NOT NULL,
      tree_size      INTEGER NOT NULL CHECK (tree_size > 0),
      root           TEXT    NOT NULL,
      status         TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed')),
      kind           TEXT    NOT NULL CHECK (kind IN ('new', 'reanchor')),
      prev_tree_size INTEGER,
      tx_hash        TEXT,
      block_number   INTEGER,
      block_hash     TEXT,
      created_at     INTEGER NOT NULL,
      sent_at        INTEGER,
      confirmed_at   INTEGER,
      anchor_count   INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (log_id, tree_size),
      CHECK (status = 'pending' OR (tx_hash IS NOT NULL AND block_number IS NOT NULL AND block_hash IS NOT NULL))
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX IF NOT EXISTS anchors_one_pending ON anchors (log_id) WHERE status = 'pending';
    CREATE INDEX IF NOT EXISTS anchors_status ON anchors (log_id, status, tree_size);
  `);
}

interface Row {
  log_id: string;
  tree_size: number;
  root: string;
  status: 'pending' | 'confirmed';
  kind: 'new' | 'reanchor';
  prev_tree_size: number | null;
  tx_hash: string | null;
  block_number: number | null;
  block_hash: string | null;
  created_at: number;
  sent_at: number | null;
  confirmed_at: number | null;
  anchor_count: number;
}

function toRecord(r: Row): AnchorRecord {
  if (r.status === 'pending') {
    const p: PendingAnchor = {
      status: 'pending',
      kind: r.kind,
      logId: r.log_id as Hex,
      treeSize: r.tree_size,
      root: r.root as Hex,
      createdAt: r.created_at,
      txHash: r.tx_hash as Hex | null,
      sentAt: r.sent_at,
      anchorCount: r.anchor_count,
    };
    return p;
  }
  return toConfirmed(r);
}

function toConfirmed(r: Row): ConfirmedAnchor {
  if (r.status !== 'confirmed' || r.tx_hash === null || r.block_number === null || r.block_hash === null) {
    throw new ChainError('ANCHOR_STORE_INVALID', `anchor row ${r.tree_size} is not a confirmed anchor`);
  }
  return {
    status: 'confirmed',
    logId: r.log_id as Hex,
    treeSize: r.tree_size,
    root: r.root as Hex,
    prevTreeSize: r.prev_tree_size ?? 0,
    txHash: r.tx_hash as Hex,
    blockNumber: r.block_number,
    blockHash: r.block_hash as Hex,
    createdAt: r.created_at,
    confirmedAt: r.confirmed_at ?? r.created_at,
    anchorCount: r.anchor_count,
  };
}

const lower = (h: Hex): Hex => h.toLowerCase() as Hex;

export class SqliteAnchorStore implements AnchorStore {
  private readonly q;

  constructor(private readonly db: Database) {
    migrateAnchorTables(db);
    this.q = {
      pending: db.prepare<[string], Row>(`SELECT * FROM anchors WHERE log_id = ? AND status = 'pending'`),
      lastConfirmed: db.prepare<[string], Row>(
        `SELECT * FROM anchors WHERE log_id = ? AND status = 'confirmed' ORDER BY tree_size DESC LIMIT 1`,
      ),
      get: db.prepare<[string, number], Row>(`SELECT * FROM anchors WHERE log_id = ? AND tree_size = ?`),
      confirmedAfter: db.prepare<[string, number], Row>(
        `SELECT * FROM anchors WHERE log_id = ? AND status = 'confirmed' AND tree_size > ? ORDER BY tree_size`,
      ),
      list: db.prepare<[string], Row>(`SELECT * FROM anchors WHERE log_id = ? ORDER BY tree_size`),
      covering: db.prepare<[string, number], Row>(
        `SELECT * FROM anchors WHERE log_id = ? AND status = 'confirmed' AND tree_size > ? ORDER BY tree_size LIMIT 1`,
      ),
      addPending: db.prepare(
        `INSERT INTO anchors (log_id, tree_size, root, status, kind, created_at, anchor_count)
         VALUES (@logId, @treeSize, @root, 'pending', 'new', @createdAt, 0)`,
      ),
      markReanchoring: db.prepare(
        `UPDATE anchors SET status = 'pending', kind = 'reanchor', sent_at = NULL
         WHERE log_id = ? AND tree_size = ? AND status = 'confirmed'`,
      ),
      unmarkLargerReanchor: db.prepare(
        `UPDATE anchors SET status = 'confirmed'
         WHERE log_id = ? AND tree_size > ? AND status = 'pending' AND kind = 'reanchor'`,
      ),
      setSent: db.prepare(`UPDATE anchors SET tx_hash = ?, sent_at = ? WHERE log_id = ? AND tree_size = ? AND status = 'pending'`),
      confirm: db.prepare(
        `UPDATE anchors SET status = 'confirmed', tx_hash = @txHash, block_number = @blockNumber, block_hash = @blockHash,
           prev_tree_size = @prevTreeSize, confirmed_at = @confirmedAt,
           anchor_count = anchor_count + (CASE WHEN status = 'pending' THEN 1 ELSE 0 END)
         WHERE log_id = @logId AND tree_size = @treeSize`,
      ),
      adopt: db.prepare(
        `INSERT INTO anchors (log_id, tree_size, root, status, kind, prev_tree_size, tx_hash, block_number, block_hash,
           created_at, confirmed_at, anchor_count)
         VALUES (@logId, @treeSize, @root, 'confirmed', 'new', @prevTreeSize, @txHash, @blockNumber, @blockHash,
           @createdAt, @confirmedAt, 1)`,
      ),
      dropPending: db.prepare(`DELETE FROM anchors WHERE log_id = ? AND tree_size = ? AND status = 'pending'`),
    };
  }

  pending(logId: Hex): PendingAnchor | undefined {
    const r = this.q.pending.get(lower(logId));
    return r ? (toRecord(r) as PendingAnchor) : undefined;
  }

  lastConfirmed(logId: Hex): ConfirmedAnchor | undefined {
    const r = this.q.lastConfirmed.get(lower(logId));
    return r ? toConfirmed(r) : undefined;
  }

  get(logId: Hex, treeSize: number): AnchorRecord | undefined {
    const r = this.q.get.get(lower(logId), treeSize);
    return r ? toRecord(r) : undefined;
  }

  confirmedAfter(logId: Hex, after: number): ConfirmedAnchor[] {
    return this.q.confirmedAfter.all(lower(logId), after).map(toConfirmed);
  }

  list(logId: Hex): AnchorRecord[] {
    return this.q.list.all(lower(logId)).map(toRecord);
  }

  coveringAnchor(logId: Hex, leafIndex: number): ConfirmedAnchor | undefined {
    const r = this.q.covering.get(lower(logId), leafIndex);
    return r ? toConfirmed(r) : undefined;
  }

  addPending(p: { logId: Hex; treeSize: number; root: Hex; createdAt: number }): void {
    try {
      this.q.addPending.run({ logId: lower(p.logId), treeSize: p.treeSize, root: lower(p.root), createdAt: p.createdAt });
    } catch (cause) {
      throw new ChainError('ANCHOR_STORE_INVALID', `cannot add pending head ${p.treeSize} (another is pending or it exists)`, { cause });
    }
  }

  markReanchoring(logId: Hex, treeSize: number): void {
    let changes: number;
    try {
      changes = this.db.transaction(() => {
        // A larger head still pending re-anchor (the chain rewound again meanwhile) goes
        // back to the confirmed list; being above the chain head, it is re-anchored next.
        this.q.unmarkLargerReanchor.run(lower(logId), treeSize);
        return this.q.markReanchoring.run(lower(logId), treeSize).changes;
      })();
    } catch (cause) {
      throw new ChainError('ANCHOR_STORE_INVALID', `cannot re-anchor head ${treeSize} while another is pending`, { cause });
    }
    if (changes !== 1) throw new ChainError('ANCHOR_STORE_INVALID', `no confirmed head ${treeSize} to re-anchor`);
  }

  setSent(logId: Hex, treeSize: number, txHash: Hex, sentAt: number): void {
    if (this.q.setSent.run(lower(txHash), sentAt, lower(logId), treeSize).changes !== 1) {
      throw new ChainError('ANCHOR_STORE_INVALID', `no pending head ${treeSize}`);
    }
  }

  confirm(logId: Hex, treeSize: number, tx: ConfirmedTx): void {
    const changes = this.q.confirm.run({
      logId: lower(logId),
      treeSize,
      txHash: lower(tx.txHash),
      blockNumber: tx.blockNumber,
      blockHash: lower(tx.blockHash),
      prevTreeSize: tx.prevTreeSize,
      confirmedAt: tx.confirmedAt,
    }).changes;
    if (changes !== 1) throw new ChainError('ANCHOR_STORE_INVALID', `no head ${treeSize} to confirm`);
  }

  adopt(rec: { logId: Hex; treeSize: number; root: Hex; createdAt: number } & ConfirmedTx): void {
    this.q.adopt.run({
      logId: lower(rec.logId),
      treeSize: rec.treeSize,
      root: lower(rec.root),
      prevTreeSize: rec.prevTreeSize,
      txHash: lower(rec.txHash),
      blockNumber: rec.blockNumber,
      blockHash: lower(rec.blockHash),
      createdAt: rec.createdAt,
      confirmedAt: rec.confirmedAt,
    });
  }

  dropPending(logId: Hex, treeSize: number): void {
    this.q.dropPending.run(lower(logId), treeSize);
  }
}
