import type { Database, Statement } from 'better-sqlite3';
import type { DeviceCounters } from './agentStore.ts';
import { unpackRows, type PackedRowSink } from './packedRows.ts';
import { RecordIdIndexer } from './recordIds.ts';
import type { WriteBatch } from './writeBatch.ts';

type QuarantineRow = WriteBatch['quarantine'][number];

/**
 * Prepared statements that apply WriteBatches (agent/store/writeBatch.ts); the caller wraps `apply`
 * in a transaction. A record's or access event's row carries its log leaf (schema v7): level 0 of the log.
 */
export class BatchWriter {
  private readonly s: {
    ensureDevice: Statement<[id: string, createdAt: number]>;
    node: Statement<[level: number, index: number, hash: Uint8Array]>;
    record: Statement<
      [
        recordId: Uint8Array,
        leafIndex: number,
        leafHash: Uint8Array,
        device: string,
        seq: number,
        ts: number,
        st: string,
        kid: Uint8Array,
        envelope: Uint8Array,
        receivedAt: number,
        source: string,
      ]
    >;
    access: Statement<[leafIndex: number, at: number, body: Uint8Array, leafHash: Uint8Array]>;
    counters: Statement<[DeviceCounters & { id: string }]>;
    quarantine: Statement<[QuarantineRow]>;
    trimQuarantineOf: Statement<[deviceHint: string | null, rows: number]>;
    trimQuarantine: Statement<[maxRows: number]>;
    status: Statement<[online: 0 | 1, at: number, device: string]>;
  };
  private readonly recordIds: RecordIdIndexer;
  private readonly sink: PackedRowSink;

  constructor(readonly db: Database) {
    this.s = {
      ensureDevice: db.prepare('INSERT OR IGNORE INTO devices(id, created_at) VALUES (?, ?)'),
      node: db.prepare('INSERT OR REPLACE INTO log_nodes(level, idx, hash) VALUES (?, ?, ?)'),
      record: db.prepare(
        'INSERT INTO records(record_id, leaf_idx, leaf_hash, device, seq, ts, st, kid, envelope, received_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      access: db.prepare('INSERT INTO access_events(leaf_idx, at, body, leaf_hash) VALUES (?, ?, ?, ?)'),
      counters: db.prepare(
        'UPDATE devices SET max_seq = @maxSeq, received = @received, duplicates = @duplicates, gaps = @gaps, reorders = @reorders, quarantined = @quarantined, last_seen = @lastSeen WHERE id = @id',
      ),
      quarantine: db.prepare(
        'INSERT INTO quarantine(received_at, source, device_hint, reason, size, payload) VALUES (@receivedAt, @source, @deviceHint, @reason, @size, @payload)',
      ),
      // the n oldest rows of one device hint's bucket (IS: the unattributed bucket is NULL)
      trimQuarantineOf: db.prepare(
        'DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine WHERE device_hint IS ? ORDER BY id LIMIT ?)',
      ),
      // backstop: all but the newest N rows by count (a no-op while the ingestor's quota holds)
      trimQuarantine: db.prepare('DELETE FROM quarantine WHERE id IN (SELECT id FROM quarantine ORDER BY id DESC LIMIT -1 OFFSET ?)'),
      status: db.prepare('UPDATE devices SET online = ?, status_at = ? WHERE id = ?'),
    };
    this.recordIds = new RecordIdIndexer(db);
    const s = this.s;
    this.sink = {
      node: (level, i, h) => s.node.run(level, i, h),
      record: (recordId, leafIndex, leafHash, device, seq, ts, st, kid, envelope, receivedAt, source) =>
        s.record.run(recordId, leafIndex, leafHash, device, seq, ts, st, kid, envelope, receivedAt, source),
    };
  }

  /** `packed`: more nodes and records of the same batch (packedRows.ts), written before `b`'s own. */
  apply(b: WriteBatch, packed?: Uint8Array): void {
    const s = this.s;
    for (const [id, at] of b.newDevices) s.ensureDevice.run(id, at);
    if (packed) unpackRows(packed, this.sink);
    const sink = this.sink;
    for (const [level, i, h] of b.nodes) sink.node(level, i, h);
    for (const r of b.records)
      sink.record(r.recordId, r.leafIndex, r.leafHash, r.device, r.seq, r.ts, r.st, r.kid, r.envelope, r.receivedAt, r.source);
    for (const [i, at, body, leafHash] of b.accessEvents) s.access.run(i, at, body, leafHash);
    for (const c of b.counters) s.counters.run(c);
    for (const q of b.quarantine) s.quarantine.run(q);
    for (const [hint, n] of b.quarantineTrim) s.trimQuarantineOf.run(hint, n);
    if (b.quarantine.length > 0) s.trimQuarantine.run(b.quarantineMaxRows);
    for (const [dev, online, at] of b.status) s.status.run(online ? 1 : 0, at, dev);
    if (b.logSize !== null) this.recordIds.indexUpTo(b.logSize);
  }
}
