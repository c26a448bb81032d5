import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../agent/store/db.ts';
import { BatchWriter } from '../../agent/store/batchWriter.ts';
import { NODE_LEVEL_STRIDE, SqliteNodeStore } from '../../agent/store/sqliteNodeStore.ts';
import { LEAF_AT_SQL, LEAF_RANGE_SQL, LEAVES_FROM_SQL, LOG_SIZE_SQL } from '../../agent/store/logLeaves.ts';
import { emptyWriteBatch } from '../../agent/store/writeBatch.ts';
import { nodeHashNative } from '../../agent/ingest/hashes.ts';
import { MemoryNodeStore, MerkleLog, leafHash, verifyConsistency, verifyInclusion } from '../../protocol/merkle/index.ts';
import type { VitalsealError } from '../../protocol/errors.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A log on SQLite built as the ingestor builds it (appends fill a WriteBatch, one transaction applies
 * it) in groups of uneven size, next to the same log in memory. Each leaf's row is an access event's
 * (the smallest row holding a leaf hash; a record's would do the same).
 */
function buildLogs(n: number): { db: ReturnType<typeof openDatabase>; sqlite: MerkleLog; memory: MerkleLog } {
  const dir = mkdtempSync(join(tmpdir(), 'vitalseal-nodes-'));
  dirs.push(dir);
  const db = openDatabase(join(dir, 'log.sqlite'));
  const nodes = new SqliteNodeStore(db, nodeHashNative);
  const sqlite = new MerkleLog(nodes, nodeHashNative);
  const memory = new MerkleLog(new MemoryNodeStore());
  const writer = new BatchWriter(db);
  const groups = [1, 7, 11, 150, 3, 64];
  for (let g = 0; sqlite.size < n; g++) {
    const batch = emptyWriteBatch(0);
    nodes.writeInto(batch);
    for (let i = 0; i < groups[g % groups.length]! && sqlite.size < n; i++) {
      const leaf = leafHash(randomBytes(40));
      batch.accessEvents.push([sqlite.appendLeafHash(leaf).index, 1, new Uint8Array(0), leaf]);
      memory.appendLeafHash(leaf);
    }
    batch.logSize = sqlite.size;
    db.transaction(() => writer.apply(batch))();
  }
  return { db, sqlite, memory };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('SqliteNodeStore: interior levels stored every NODE_LEVEL_STRIDE-th, the rest recomputed', () => {
  it('stores node rows only at levels 4, 8, … (one per complete subtree there); the leaves are the rows that hold them (view log_leaves)', () => {
    const n = 1000;
    const { db } = buildLogs(n);
    const levels = db.prepare('SELECT level, COUNT(*) AS c FROM log_nodes GROUP BY level ORDER BY level').all() as Array<{
      level: number;
      c: number;
    }>;
    expect(NODE_LEVEL_STRIDE).toBe(4);
    expect(levels).toEqual([
      { level: 4, c: Math.floor(n / 16) },
      { level: 8, c: Math.floor(n / 256) },
    ]);
    expect((db.prepare('SELECT COUNT(*) AS c FROM log_leaves').get() as { c: number }).c).toBe(n);
    db.close();
  });

  it("a store reopened on the file (nothing cached) gives the in-memory log's roots and proofs, which verify", () => {
    const n = 1000;
    const { db, memory } = buildLogs(n);
    const reopened = new MerkleLog(new SqliteNodeStore(db, nodeHashNative), nodeHashNative);
    expect(reopened.size).toBe(n);
    for (let size = 1; size <= n; size++) expect(hex(reopened.root(size))).toBe(hex(memory.root(size)));
    const sizes = [1, 2, 15, 16, 17, 255, 256, 257, 511, 700, 999, 1000];
    for (const size of sizes) {
      const root = reopened.root(size);
      for (const index of [0, 1, 7, 8, 15, 16, 100, 255, 256, 600, 998, 999].filter((i) => i < size)) {
        const proof = reopened.inclusionProof(index, size);
        expect(proof.map(hex)).toEqual(memory.inclusionProof(index, size).map(hex));
        expect(() => verifyInclusion(index, size, reopened.leafHashAt(index), proof, root)).not.toThrow();
      }
      for (const size1 of sizes.filter((s) => s <= size)) {
        const proof = reopened.consistencyProof(size1, size);
        expect(proof.map(hex)).toEqual(memory.consistencyProof(size1, size).map(hex));
        expect(() => verifyConsistency(size1, size, reopened.root(size1), root, proof)).not.toThrow();
      }
    }
    db.close();
  });

  it('appends after a reopen continue the same log (left siblings recomputed from the file)', () => {
    const { db, memory } = buildLogs(301);
    const nodes = new SqliteNodeStore(db, nodeHashNative);
    const log = new MerkleLog(nodes, nodeHashNative);
    const writer = new BatchWriter(db);
    for (let k = 0; k < 40; k++) {
      const batch = emptyWriteBatch(0);
      nodes.writeInto(batch);
      const leaf = leafHash(randomBytes(40));
      batch.accessEvents.push([log.appendLeafHash(leaf).index, 1, new Uint8Array(0), leaf]);
      memory.appendLeafHash(leaf);
      batch.logSize = log.size;
      db.transaction(() => writer.apply(batch))();
      expect(hex(log.root())).toBe(hex(memory.root()));
    }
    db.close();
  });

  it('reads level 0 from records and access_events by rowid, in order without sorting (MERGE, no temporary B-tree)', () => {
    const { db } = buildLogs(10);
    const plan = (sql: string, params: Record<string, number>): string =>
      (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as Array<{ detail: string }>).map((p) => p.detail).join('\n');
    for (const [sql, params] of [
      [LEAF_AT_SQL, { i: 3 }],
      [LEAF_RANGE_SQL, { from: 0, to: 8 }],
      [LEAVES_FROM_SQL, { from: 0, limit: 5 }],
      [LOG_SIZE_SQL, {}],
    ] as const) {
      const p = plan(sql, params);
      expect(p, sql).toMatch(/SEARCH records USING INTEGER PRIMARY KEY|SEARCH records$/m);
      expect(p, sql).toMatch(/SEARCH access_events/);
      expect(p, sql).not.toMatch(/TEMP B-TREE|SCAN (records|access_events)/);
    }
    expect(plan(LEAVES_FROM_SQL, { from: 0, limit: 5 })).toMatch(/MERGE \(UNION ALL\)/);
    db.close();
  });

  it('a missing stored row is LOG_STORE_MISSING_NODE, not a wrong hash', () => {
    const { db } = buildLogs(64);
    db.prepare('DELETE FROM access_events WHERE leaf_idx = 5').run();
    const reopened = new MerkleLog(new SqliteNodeStore(db, nodeHashNative), nodeHashNative);
    let code: string | undefined;
    try {
      reopened.inclusionProof(0, 64); // needs the level-2 node over leaves 4..7, recomputed from leaves incl. 5
    } catch (e) {
      code = (e as VitalsealError).code;
    }
    expect(code).toBe('LOG_STORE_MISSING_NODE');
    db.close();
  });
});
