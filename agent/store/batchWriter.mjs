// Plain JavaScript (typed by batchWriter.d.mts): it runs in the writer thread, which starts as plain
// Node — loading the TypeScript toolchain there cost ~28 MiB of RSS (measured with .prof tooling).
import { unpackRows } from './packedRows.mjs';
import { RecordIdIndexer } from './recordIds.mjs';

/**
 * Prepared statements that apply WriteBatches (agent/store/writeBatch.ts); the caller wraps `apply`
 * in a transaction. Rows go in dependency order: leaves before the records that reference them.
 */
export class BatchWriter {
  /** @param {import('better-sqlite3').Database} db */
  constructor(db) {
    this.db = db;
    this.s = {
      ensureDevice: db.prepare('INSERT OR IGNORE INTO devices(id, created_at) VALUES (?, ?)'),
      leaf: db.prepare('INSERT INTO log_leaves(idx, leaf_hash, kind) VALUES (?, ?, ?)'),
      node: db.prepare('INSERT OR REPLACE INTO log_nodes(level, idx, hash) VALUES (?, ?, ?)'),
      record: db.prepare(
        'INSERT INTO records(record_id, leaf_idx, device, seq, ts, st, kid, envelope, received_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      access: db.prepare('INSERT INTO access_events(leaf_idx, at, body) VALUES (?, ?, ?)'),
      counters: db.prepare(
        'UPDATE devices SET max_seq = @maxSeq, received = @received, duplicates = @duplicates, gaps = @gaps, reorders = @reorders, quarantined = @quarantined, last_seen = @lastSeen WHERE id = @id',
      ),
      quarantine: db.prepare(
        'INSERT INTO quarantine(received_at, source, device_hint, reason, size, payload) VALUES (@receivedAt, @source, @deviceHint, @reason, @size, @payload)',
      ),
      // the n oldest rows of one device hint's bucket (IS: the unattributed bucket is NULL)
      trimQuarantineOf: db.prepare('DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE device_hint IS ? ORDER BY id LIMIT ?)'),
      // backstop: all but the newest N rows by count (a no-op while the ingestor's quota holds)
      trimQuarantine: db.prepare('DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine ORDER BY id DESC LIMIT -1 OFFSET ?)'),
      status: db.prepare('UPDATE devices SET online = ?, status_at = ? WHERE id = ?'),
    };
    this.recordIds = new RecordIdIndexer(db);
    const s = this.s;
    /** @type {import('./packedRows.d.mts').PackedRowSink} */
    this.sink = {
      leaf: (i, h, kind) => s.leaf.run(i, h, kind),
      node: (level, i, h) => s.node.run(level, i, h),
      record: (recordId, leafIndex, device, seq, ts, st, kid, envelope, receivedAt, source) =>
        s.record.run(recordId, leafIndex, device, seq, ts, st, kid, envelope, receivedAt, source),
    };
  }

  /** `packed`: more leaves, nodes and records of the same batch (packedRows.mjs), written before `b`'s own. */
  apply(b, packed) {
    const s = this.s;
    for (const [id, at] of b.newDevices) s.ensureDevice.run(id, at);
    if (packed) unpackRows(packed, this.sink);
    const sink = this.sink;
    for (const [i, h, kind] of b.leaves) sink.leaf(i, h, kind);
    for (const [level, i, h] of b.nodes) sink.node(level, i, h);
    for (const r of b.records) sink.record(r.recordId, r.leafIndex, r.device, r.seq, r.ts, r.st, r.kid, r.envelope, r.receivedAt, r.source);
    for (const [i, at, body] of b.accessEvents) s.access.run(i, at, body);
    for (const c of b.counters) s.counters.run(c);
    for (const q of b.quarantine) s.quarantine.run(q);
    for (const [hint, n] of b.quarantineTrim) s.trimQuarantineOf.run(hint, n);
    if (b.quarantine.length > 0) s.trimQuarantine.run(b.quarantineMaxRows);
    for (const [dev, online, at] of b.status) s.status.run(online ? 1 : 0, at, dev);
    if (b.logSize !== null) this.recordIds.indexUpTo(b.logSize);
  }
}
