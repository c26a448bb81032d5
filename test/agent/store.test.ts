import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { migrate, openDatabase } from '../../agent/store/db.ts';
import { MIGRATIONS, RECORD_ID_BUCKET_BITS, SCHEMA_VERSION } from '../../agent/store/migrations.ts';
import { RecordIdIndexer } from '../../agent/store/recordIds.ts';
import { BatchWriter } from '../../agent/store/batchWriter.ts';
import { AgentStore, RECORD_BY_INDEXED_ID_SQL } from '../../agent/store/agentStore.ts';
import { QueryStore } from '../../agent/api/queryStore.ts';
import { Ingestor } from '../../agent/ingest/ingestor.ts';
import type { IngestOutcome } from '../../agent/ingest/types.ts';
import type { WalSync } from '../../agent/store/walSync.ts';
import { InlineWriter, type StoreWriter } from '../../agent/store/storeWriter.ts';
import { ThreadWriter } from '../../agent/store/writerThread.ts';
import { emptyWriteBatch, type WriteBatch } from '../../agent/store/writeBatch.ts';
import { decodeEnvelopeHeader } from '../../agent/core.ts';
import type { AgentError } from '../../agent/errors.ts';
import { WardFixture } from '../support/ward.ts';
import { SqliteNodeStore } from '../../agent/store/sqliteNodeStore.ts';
import { nodeHashNative, recordLeafHash } from '../../agent/ingest/hashes.ts';
import { MemoryNodeStore, MerkleLog, verifyInclusion, type NodeStore } from '../../protocol/merkle/index.ts';

const dirs: string[] = [];
function tempDb(): string {
  const d = mkdtempSync(join(tmpdir(), 'vitalseal-store-'));
  dirs.push(d);
  return join(d, 'agent.sqlite');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const COUNT_RECORDS = 'SELECT COUNT(*) AS n FROM records';

/**
 * Inserts `n` records straight into the tables, ids sha256("r<i>"), leaf hashes sha256("l<i>"): before
 * schema v7 a log_leaves row and a record row each, from v7 on one record row holding its leaf hash.
 */
function fillRecords(db: Database.Database, n: number): void {
  const separateLeaves = db.prepare("SELECT type FROM sqlite_master WHERE name = 'log_leaves'").pluck().get() === 'table';
  const leaf = separateLeaves ? db.prepare('INSERT INTO log_leaves(idx, leaf_hash, kind) VALUES (?, ?, 1)') : undefined;
  const rec = separateLeaves
    ? db.prepare(
        "INSERT INTO records(leaf_idx, record_id, device, seq, ts, st, kid, envelope, received_at, source) VALUES (?, ?, 'dev-1', ?, 1, 'spo2', ?, ?, 1, 'mqtt')",
      )
    : db.prepare(
        "INSERT INTO records(leaf_idx, record_id, device, seq, ts, st, kid, envelope, received_at, source, leaf_hash) VALUES (?, ?, 'dev-1', ?, 1, 'spo2', ?, ?, 1, 'mqtt', ?)",
      );
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      leaf?.run(i, sha(`l${i}`));
      if (separateLeaves) rec.run(i, sha(`r${i}`), i + 1, Buffer.alloc(16), Buffer.from([i & 0xff]));
      else rec.run(i, sha(`r${i}`), i + 1, Buffer.alloc(16), Buffer.from([i & 0xff]), sha(`l${i}`));
    }
  })();
}

describe('agent store: schema v3-v5 (records, record-id index by bucket)', () => {
  it('migrates a v2 database: records kept, record ids indexed for complete buckets only, lookups by id and by (device, seq) work', () => {
    const file = tempDb();
    const v2 = new Database(file);
    for (const m of MIGRATIONS.filter((x) => x.version <= 2)) {
      m.up(v2);
      v2.pragma(`user_version = ${m.version}`);
    }
    const bucket = 2 ** RECORD_ID_BUCKET_BITS;
    fillRecords(v2, bucket + 10);
    v2.close();

    const db = openDatabase(file);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const indexes = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'").all() as Array<{ name: string }>
      )
        .map((r) => r.name)
        .sort();
      expect(indexes).toEqual(['records_device_seq']);
      expect(db.prepare('SELECT COUNT(*) AS n, MIN(bucket) AS lo, MAX(bucket) AS hi FROM record_ids').get()).toEqual({
        n: bucket,
        lo: 0,
        hi: 0,
      });
      expect(db.prepare("SELECT COUNT(*) AS n FROM meta WHERE key = 'log_size'").get()).toEqual({ n: 0 });
      const store = new AgentStore(db);
      expect(store.recordCount()).toBe(bucket + 10);
      expect(store.getRecord(sha('r7'))).toMatchObject({ leafIndex: 7, seq: 8, device: 'dev-1' }); // indexed bucket
      expect(store.getRecord(sha(`r${bucket + 3}`))).toMatchObject({ leafIndex: bucket + 3 }); // the unindexed tail
      expect(Buffer.from(store.recordIdAtSeq('dev-1', 3)!)).toEqual(sha('r2'));
      expect(migrate(db)).toBe(SCHEMA_VERSION); // idempotent
    } finally {
      db.close();
    }
  });

  it('no statement of the agent store or the query API plans with records_kid (v5 drops it): EXPLAINed on a database that has it', () => {
    // today's schema with records_kid put back: the statements of today's agent, with the index to tempt them
    const db0 = openDatabase(tempDb());
    try {
      db0.exec('CREATE INDEX records_kid ON records(kid, seq)');
      fillRecords(db0, 100);
      const prepare = db0.prepare.bind(db0);
      const prepared: string[] = [];
      (db0 as { prepare: (sql: string) => Database.Statement }).prepare = (sql: string) => {
        prepared.push(sql);
        return prepare(sql);
      };
      new AgentStore(db0);
      new QueryStore(db0);
      const onRecords = prepared.filter((q) => /\b(FROM|JOIN) records\b/.test(q));
      expect(onRecords.length).toBeGreaterThanOrEqual(7);
      expect(onRecords).toContain(COUNT_RECORDS);
      for (const q of onRecords) {
        if (q === COUNT_RECORDS) continue; // counting scans the smallest covering index: records_device_seq after v5 (below)
        const named = [...new Set(q.match(/@\w+/g) ?? [])];
        const params = named.length > 0 ? Object.fromEntries(named.map((n) => [n.slice(1), 1])) : (q.match(/\?/g) ?? []).map(() => 1);
        const plan = (prepare(`EXPLAIN QUERY PLAN ${q}`).all(params) as Array<{ detail: string }>).map((p) => p.detail).join('\n');
        expect(plan, q).not.toMatch(/records_kid/);
      }
    } finally {
      db0.close();
    }
    // a v4 file (it has records_kid): opening it runs v5, v6 and v7 as an upgrade would
    const file = tempDb();
    const v4 = new Database(file);
    try {
      for (const m of MIGRATIONS.filter((x) => x.version <= 4)) {
        m.up(v4);
        v4.pragma(`user_version = ${m.version}`);
      }
      fillRecords(v4, 100);
    } finally {
      v4.close();
    }
    const db = openDatabase(file);
    try {
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'records_kid'").all()).toEqual([]);
      expect(db.prepare(COUNT_RECORDS).get()).toEqual({ n: 100 });
      expect(db.prepare(`EXPLAIN QUERY PLAN ${COUNT_RECORDS}`).all()).toMatchObject([
        { detail: 'SCAN records USING COVERING INDEX records_device_seq' },
      ]);
    } finally {
      db.close();
    }
  });

  it('finds a record by id in every bucket and in the unindexed tail, and nothing for an unknown id', () => {
    const db = openDatabase(tempDb());
    try {
      const bucket = 2 ** RECORD_ID_BUCKET_BITS;
      const n = 2 * bucket + 17;
      fillRecords(db, n);
      db.transaction(() => new RecordIdIndexer(db).indexUpTo(n))();
      expect((db.prepare('SELECT COUNT(*) AS n FROM record_ids').get() as { n: number }).n).toBe(2 * bucket);
      const store = new AgentStore(db);
      for (const i of [0, 1, bucket - 1, bucket, bucket + 5, 2 * bucket, n - 1]) {
        expect(store.getRecord(sha(`r${i}`))?.leafIndex).toBe(i);
      }
      expect(store.getRecord(sha('not stored'))).toBeUndefined();
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${RECORD_BY_INDEXED_ID_SQL}`).all({ id: sha('r1'), last: 1 }) as Array<{
        detail: string;
      }>;
      expect(plan.map((p) => p.detail).join('\n')).toMatch(/SEARCH i USING PRIMARY KEY \(bucket=\? AND record_id=\?\)/);
    } finally {
      db.close();
    }
  });

  it('BatchWriter indexes a bucket, sorted, in the commit that completes it — a rolled-back one is indexed at the next bucket end', () => {
    const db = openDatabase(tempDb());
    try {
      const bucket = 2 ** RECORD_ID_BUCKET_BITS;
      const writer = new BatchWriter(db);
      const indexed = (): number => (db.prepare('SELECT COUNT(*) AS n FROM record_ids').get() as { n: number }).n;
      const group = (from: number, to: number): WriteBatch => {
        const b = emptyWriteBatch(0);
        if (from === 0) b.newDevices.push(['dev-1', 1]);
        for (let i = from; i < to; i++) {
          b.records.push({
            recordId: sha(`r${i}`),
            leafIndex: i,
            leafHash: sha(`l${i}`),
            device: 'dev-1',
            seq: i + 1,
            ts: 1,
            st: 'spo2',
            kid: new Uint8Array(16),
            envelope: new Uint8Array([i & 0xff]),
            receivedAt: 1,
            source: 'mqtt',
          });
        }
        b.logSize = to;
        return b;
      };
      const commit = (b: WriteBatch): void => db.transaction(() => writer.apply(b))();
      commit(group(0, bucket - 1));
      expect(indexed()).toBe(0);
      commit(group(bucket - 1, bucket + 2)); // crosses the end of bucket 0
      expect(indexed()).toBe(bucket);
      const ids = (db.prepare('SELECT record_id FROM record_ids WHERE bucket = 0').pluck().all() as Buffer[]).map((b) => b.toString('hex'));
      expect(ids).toEqual([...ids].sort());
      // bucket 1 completes in a transaction that then fails: nothing of it stays …
      expect(() =>
        db.transaction(() => {
          writer.apply(group(bucket + 2, 2 * bucket + 1));
          throw new Error('rolled back');
        })(),
      ).toThrow('rolled back');
      expect(indexed()).toBe(bucket);
      // … the same rows again in two commits (the writer's hint says bucket 1 is done), then bucket 2's end
      commit(group(bucket + 2, 2 * bucket));
      commit(group(2 * bucket, 2 * bucket + 1));
      const store = new AgentStore(db);
      expect(store.getRecord(sha(`r${bucket + 7}`))?.leafIndex).toBe(bucket + 7); // found in the scanned tail meanwhile
      commit(group(2 * bucket + 1, 3 * bucket));
      expect(indexed()).toBe(3 * bucket);
      expect(store.getRecord(sha(`r${bucket + 7}`))?.leafIndex).toBe(bucket + 7);
    } finally {
      db.close();
    }
  });
});

/** A WalSync whose fdatasyncs complete only when the test says so. */
class ManualSync {
  calls: Array<(err: Error | null) => void> = [];
  sync(done: (err: Error | null) => void): void {
    this.calls.push(done);
  }
  complete(err: Error | null = null): void {
    const done = this.calls.shift();
    if (!done) throw new Error('no sync in flight');
    done(err);
  }
}

function ingestorWith(
  sync: ManualSync,
  ward: WardFixture,
  devices: string[],
  overlap?: { maxGroupsInFlight: number; minOverlapReadings: number },
  prepare?: (db: Database.Database) => void,
  wrapWriter: (w: StoreWriter) => StoreWriter = (w) => w,
): Ingestor {
  const db = openDatabase(tempDb(), [], 'normal');
  prepare?.(db);
  const store = new AgentStore(db);
  const ingestor = new Ingestor({
    store,
    decode: decodeEnvelopeHeader,
    clock: { now: () => Date.now() },
    maxEnvelopeBytes: 4096,
    maxFutureSkewMs: 300_000,
    quarantineMaxRows: 100,
    writer: wrapWriter(new InlineWriter(db, sync as unknown as WalSync)),
    ...overlap,
  });
  const now = Math.floor(Date.now() / 1000);
  for (const d of devices) {
    store.ensureDevice(d, Date.now());
    ingestor.rememberTicket(d, ward.patient.kid, { nbf: now - 60, exp: now + 3600, patient: 'p' });
  }
  return ingestor;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Holds the batches written until `release()`: groups in flight that are not in the database yet. */
class HeldWriter implements StoreWriter {
  private held: Array<[WriteBatch, (err: Error | null) => void]> = [];
  constructor(private readonly inner: StoreWriter) {}
  write(batch: WriteBatch, done: (err: Error | null) => void): void {
    this.held.push([batch, done]);
  }
  release(): void {
    for (const [batch, done] of this.held.splice(0)) this.inner.write(batch, done);
  }
  reset(): void {
    this.inner.reset();
  }
  injectFault(fault: Parameters<StoreWriter['injectFault']>[0]): void {
    this.inner.injectFault(fault);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('schema v7: each log leaf in the row of what it logs (records.leaf_hash, access_events.leaf_hash)', () => {
  /**
   * A v6 database as the v6 agent left it: a log_leaves row per leaf (kind 1 for a reading, 2 for an
   * access event: every 7th leaf), the record or access event row beside it, node rows at every 4th level.
   */
  function v6Database(file: string, n: number): { memory: MerkleLog; records: Map<number, Record<string, unknown>>; events: unknown[] } {
    const v6 = new Database(file);
    for (const m of MIGRATIONS.filter((x) => x.version <= 6)) {
      m.up(v6);
      v6.pragma(`user_version = ${m.version}`);
    }
    const inMemory = new MemoryNodeStore();
    const nodeRows: Array<[number, number, Uint8Array]> = [];
    const capture: NodeStore = {
      get: (level, index) => inMemory.get(level, index),
      put: (level, index, hash) => {
        inMemory.put(level, index, hash);
        if (level > 0 && level % 4 === 0) nodeRows.push([level, index, hash]);
      },
      size: () => inMemory.size(),
      setSize: (size) => inMemory.setSize(size),
    };
    const memory = new MerkleLog(capture, nodeHashNative);
    const records = new Map<number, Record<string, unknown>>();
    const events: unknown[] = [];
    const leaf = v6.prepare('INSERT INTO log_leaves(idx, leaf_hash, kind) VALUES (?, ?, ?)');
    const rec = v6.prepare(
      'INSERT INTO records(leaf_idx, record_id, device, seq, ts, st, kid, envelope, received_at, source) VALUES (@leafIndex, @recordId, @device, @seq, @ts, @st, @kid, @envelope, @receivedAt, @source)',
    );
    const ev = v6.prepare('INSERT INTO access_events(leaf_idx, at, body) VALUES (?, ?, ?)');
    v6.prepare("INSERT INTO devices(id, created_at) VALUES ('dev-7', 1)").run();
    v6.transaction(() => {
      for (let i = 0; i < n; i++) {
        const body = new Uint8Array(createHash('sha256').update(`body ${i}`).digest()).subarray(0, 20 + (i % 50));
        const lh = recordLeafHash(body);
        const index = memory.appendLeafHash(lh).index;
        if (i % 7 === 3) {
          leaf.run(index, lh, 2);
          ev.run(index, 1000 + i, body);
          events.push({ leaf_idx: index, at: 1000 + i, body: Buffer.from(body) });
        } else {
          const r = {
            recordId: new Uint8Array(sha(Buffer.from(body).toString('hex'))),
            leafIndex: index,
            device: 'dev-7',
            seq: i + 1,
            ts: 5000 + i,
            st: 'spo2',
            kid: new Uint8Array(16).fill(i & 0xff),
            envelope: body,
            receivedAt: 9000 + i,
            source: i % 2 ? 'mqtt' : 'serial',
          };
          leaf.run(index, lh, 1);
          rec.run(r);
          records.set(index, r);
        }
      }
      const node = v6.prepare('INSERT INTO log_nodes(level, idx, hash) VALUES (?, ?, ?)');
      for (const [level, index, hash] of nodeRows) node.run(level, index, hash);
    })();
    v6.close();
    return { memory, records, events };
  }

  it('migrates a v6 database: the same leaves, roots and inclusion proofs (each verifies), the same served records; the log goes on', () => {
    const file = tempDb();
    const n = 777;
    const { memory, records, events } = v6Database(file, n);
    const leavesBefore = (() => {
      const v6 = new Database(file, { readonly: true });
      try {
        return v6.prepare('SELECT idx, leaf_hash, kind FROM log_leaves ORDER BY idx').all();
      } finally {
        v6.close();
      }
    })();
    const db = openDatabase(file);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBe(7);
      expect(db.prepare("SELECT type FROM sqlite_master WHERE name = 'log_leaves'").pluck().get()).toBe('view');
      expect(db.prepare('SELECT idx, leaf_hash, kind FROM log_leaves ORDER BY idx').all()).toEqual(leavesBefore);
      expect(db.prepare('SELECT leaf_idx, at, body FROM access_events ORDER BY leaf_idx').all()).toEqual(events);
      const store = new AgentStore(db);
      expect(store.recordCount()).toBe(records.size);
      for (const [index, r] of records) expect(store.getRecord(r.recordId as Uint8Array), `record at ${index}`).toEqual(r);
      expect(store.leafHashes(0, n).map((h) => Buffer.from(h).toString('hex'))).toEqual(
        Array.from({ length: n }, (_, i) => Buffer.from(memory.leafHashAt(i)).toString('hex')),
      );

      const nodes = new SqliteNodeStore(db, nodeHashNative);
      const log = new MerkleLog(nodes, nodeHashNative);
      expect(log.size).toBe(n);
      const root = log.root();
      expect(Buffer.from(root)).toEqual(Buffer.from(memory.root()));
      for (let index = 0; index < n; index++) {
        const proof = log.inclusionProof(index, n);
        expect(proof.map((h) => Buffer.from(h))).toEqual(memory.inclusionProof(index, n).map((h) => Buffer.from(h)));
        expect(() => verifyInclusion(index, n, log.leafHashAt(index), proof, root)).not.toThrow();
      }

      // the log goes on from the migrated rows, as the ingestor appends (the leaf in its record's row)
      const writer = new BatchWriter(db);
      const batch = emptyWriteBatch(0);
      nodes.writeInto(batch);
      for (let k = 0; k < 40; k++) {
        const envelope = new Uint8Array(sha(`more ${k}`));
        const lh = recordLeafHash(envelope);
        memory.appendLeafHash(lh);
        const leafIndex = log.appendLeafHash(lh).index;
        batch.records.push({
          recordId: new Uint8Array(sha(`id ${k}`)),
          leafIndex,
          leafHash: lh,
          device: 'dev-7',
          seq: 10_000 + k,
          ts: 1,
          st: 'spo2',
          kid: new Uint8Array(16),
          envelope,
          receivedAt: 1,
          source: 'mqtt',
        });
      }
      batch.logSize = log.size;
      db.transaction(() => writer.apply(batch))();
      const reopened = new MerkleLog(new SqliteNodeStore(db, nodeHashNative), nodeHashNative);
      expect(reopened.size).toBe(n + 40);
      expect(Buffer.from(reopened.root())).toEqual(Buffer.from(memory.root()));
      expect(migrate(db)).toBe(SCHEMA_VERSION); // idempotent
    } finally {
      db.close();
    }
  });

  it('refuses to migrate a v6 log with a leaf whose row is missing (STORE_LOG_CORRUPT), and leaves the file at v6', () => {
    const file = tempDb();
    v6Database(file, 50);
    const v6 = new Database(file);
    v6.prepare('DELETE FROM records WHERE leaf_idx = 20').run();
    v6.close();
    let code: string | undefined;
    try {
      openDatabase(file).close();
    } catch (e) {
      code = (e as AgentError).code;
    }
    expect(code).toBe('STORE_LOG_CORRUPT');
    const after = new Database(file, { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(6);
      expect(after.prepare("SELECT type FROM sqlite_master WHERE name = 'log_leaves'").pluck().get()).toBe('table');
      expect(after.prepare('SELECT COUNT(*) FROM log_leaves').pluck().get()).toBe(50);
    } finally {
      after.close();
    }
  });
});

describe('ingestor with the inline writer and an off-thread WAL sync (synchronous "full")', () => {
  const ward = new WardFixture('store-test');

  it('answers nobody before the fdatasync that follows its commit; groups committed meanwhile wait for the next one', async () => {
    const sync = new ManualSync();
    const ing = ingestorWith(sync, ward, ['dev-a'], { maxGroupsInFlight: 2, minOverlapReadings: 1 });
    const outcomes: IngestOutcome[] = [];
    const submit = (seq: number): void =>
      ing.submit({ linkDevice: 'dev-a', payload: ward.seal('dev-a', seq), source: 'mqtt', done: (o) => outcomes.push(o) });

    submit(1);
    submit(2);
    await tick(); // group 1 committed, its sync started
    expect(sync.calls).toHaveLength(1);
    expect(ing.log.size).toBe(2);
    expect(ing.size).toBe(0); // nothing durable yet: tree heads and proofs stay at 0
    expect(outcomes).toHaveLength(0);

    submit(3);
    await tick(); // group 2 committed while sync 1 is in flight: no second sync yet
    expect(sync.calls).toHaveLength(1);
    expect(ing.pending).toBe(3);

    sync.complete(); // sync 1 done: group 1 answered, sync 2 starts for group 2
    expect(outcomes.map((o) => o.kind)).toEqual(['stored', 'stored']);
    expect(ing.size).toBe(2);
    expect(sync.calls).toHaveLength(1);

    const closed = ing.close();
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    await tick();
    expect(isClosed).toBe(false); // close waits for the last sync
    sync.complete();
    await closed;
    expect(outcomes.map((o) => o.kind)).toEqual(['stored', 'stored', 'stored']);
    expect(ing.size).toBe(3);
  });

  it('judges a duplicate and a replay of a record in a group in flight, per device, and the same from the store once answered', async () => {
    const sync = new ManualSync();
    let held: HeldWriter | undefined;
    const ing = ingestorWith(sync, ward, ['dev-a', 'dev-b'], { maxGroupsInFlight: 4, minOverlapReadings: 1 }, undefined, (w) => {
      held = new HeldWriter(w);
      return held;
    });
    const outcomes: IngestOutcome[] = [];
    const submit = (dev: string, payload: Uint8Array): void =>
      ing.submit({ linkDevice: dev, payload, source: 'mqtt', done: (o) => outcomes.push(o) });
    const a1 = ward.seal('dev-a', 1);
    const a2 = ward.seal('dev-a', 2);
    const b1 = ward.seal('dev-b', 1);
    submit('dev-a', a1);
    submit('dev-a', a2);
    await tick(); // group 1 (dev-a 1, 2) written and held: not in the database yet
    expect(ing.pending).toBe(2);

    // group 2, built while group 1 is in flight: the same seq of another device is new, the same
    // envelope is a duplicate, another envelope with a seq in flight is a replay
    submit('dev-b', b1);
    submit('dev-a', a1);
    submit('dev-a', ward.seal('dev-a', 2));
    await tick();
    expect(ing.pending).toBe(5);
    held!.release(); // both groups commit now (the inline writer): the first sync answers the first, the next the second
    sync.complete();
    sync.complete();
    await tick();
    const summary = (o: IngestOutcome): string =>
      o.kind === 'failed' ? 'failed' : `${o.kind} ${o.device}/${o.seq}${o.kind === 'quarantined' ? ` ${o.reason}` : ''}`;
    expect(outcomes.map(summary)).toEqual([
      'stored dev-a/1',
      'stored dev-a/2',
      'stored dev-b/1',
      'duplicate dev-a/1',
      'quarantined dev-a/2 AGENT_SEQ_REPLAY',
    ]);
    expect(ing.records).toBe(3);

    // answered: nothing is in flight any more, the store answers the same
    outcomes.length = 0;
    submit('dev-b', b1);
    submit('dev-a', ward.seal('dev-a', 1));
    submit('dev-a', a2);
    await tick();
    held!.release();
    sync.complete();
    await tick();
    expect(outcomes.map(summary)).toEqual(['duplicate dev-b/1', 'quarantined dev-a/1 AGENT_SEQ_REPLAY', 'duplicate dev-a/2']);
    expect(ing.records).toBe(3);
    await ing.close();
  });

  it('by default a second group overlaps the one in flight only once 64 readings wait; fewer wait and then go as one group', async () => {
    const sync = new ManualSync();
    const ing = ingestorWith(sync, ward, ['dev-a']);
    const outcomes: IngestOutcome[] = [];
    const submit = (seq: number): void =>
      ing.submit({ linkDevice: 'dev-a', payload: ward.seal('dev-a', seq), source: 'mqtt', done: (o) => outcomes.push(o) });
    submit(1);
    await tick(); // group 1 (1 reading) committed, its sync started
    expect(ing.log.size).toBe(1);
    for (let seq = 2; seq <= 64; seq++) submit(seq);
    await tick();
    expect(ing.log.size).toBe(1); // 63 waiting: not written while group 1 waits for its sync
    expect(ing.pending).toBe(64);
    sync.complete(); // group 1 answered; the 63 waiting readings form group 2
    expect(outcomes).toHaveLength(1);
    await tick();
    expect(ing.log.size).toBe(64);
    for (let seq = 65; seq <= 128; seq++) submit(seq);
    await tick();
    expect(ing.log.size).toBe(128); // 64 waiting: group 3 is committed beside group 2 (one sync covers both later)
    expect(sync.calls).toHaveLength(1);
    sync.complete();
    expect(outcomes).toHaveLength(64);
    sync.complete();
    expect(outcomes).toHaveLength(128);
    expect(outcomes.every((o) => o.kind === 'stored')).toBe(true);
    await ing.close();
  });

  it('by default up to 4 groups are in flight: while a sync runs, the groups after it are written and share the next fdatasync', async () => {
    const sync = new ManualSync();
    const ing = ingestorWith(sync, ward, ['dev-g']);
    const outcomes: IngestOutcome[] = [];
    const submit = (from: number, to: number): void => {
      for (let seq = from; seq <= to; seq++)
        ing.submit({ linkDevice: 'dev-g', payload: ward.seal('dev-g', seq), source: 'mqtt', done: (o) => outcomes.push(o) });
    };
    submit(1, 1);
    await tick(); // group 1 committed, its sync started
    for (const [from, size] of [
      [2, 2],
      [66, 3],
      [130, 4],
    ] as const) {
      submit(from, from + 63);
      await tick();
      expect(ing.log.size, `group ${size}`).toBe(from + 63); // 64 waiting: group `size` goes beside the ones in flight
    }
    submit(194, 257);
    await tick();
    expect(ing.log.size).toBe(193); // four groups in flight: the fifth waits
    expect(ing.pending).toBe(257);
    expect(sync.calls).toHaveLength(1);
    while (sync.calls.length > 0) {
      sync.complete();
      await tick();
    }
    expect(outcomes.map((o) => (o.kind === 'stored' ? o.seq : -1))).toEqual(Array.from({ length: 257 }, (_, i) => i + 1));
    expect(ing.log.size).toBe(257);
    await ing.close();
  });

  it('hands the readings that waited to the writer before it answers the group in flight; answers keep their order', async () => {
    const sync = new ManualSync();
    const ing = ingestorWith(sync, ward, ['dev-d']);
    const answered: Array<[number, number]> = []; // [seq, log size when its answer came]
    const submit = (seq: number): void =>
      ing.submit({ linkDevice: 'dev-d', payload: ward.seal('dev-d', seq), source: 'mqtt', done: () => answered.push([seq, ing.log.size]) });
    submit(1);
    await tick();
    submit(2);
    submit(3);
    await tick();
    expect(ing.log.size).toBe(1); // 2 and 3 wait while group 1 syncs
    sync.complete(); // group 1 durable: group 2 (2, 3) is committed and its sync started, then 1 is answered
    expect(answered).toEqual([[1, 3]]);
    expect(sync.calls).toHaveLength(1);
    sync.complete();
    expect(answered).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    await ing.close();
  });

  it('a failed transaction fails its whole group (after the group before is answered); resent readings are then stored', async () => {
    const sync = new ManualSync();
    let db: Database.Database | undefined;
    const ing = ingestorWith(sync, ward, ['dev-c'], undefined, (d) => {
      db = d;
      d.exec("CREATE TRIGGER refuse_seq3 BEFORE INSERT ON records WHEN NEW.seq = 3 BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
    });
    const outcomes: Array<[number, string]> = [];
    const submit = (seq: number): void =>
      ing.submit({ linkDevice: 'dev-c', payload: ward.seal('dev-c', seq), source: 'mqtt', done: (o) => outcomes.push([seq, o.kind]) });
    submit(1);
    await tick();
    submit(2);
    submit(3);
    await tick(); // 2 and 3 wait while group 1 syncs
    sync.complete(); // group 1 answered, then 2 and 3 go as group 2, whose transaction fails
    await tick();
    expect(outcomes).toEqual([
      [1, 'stored'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    db!.exec('DROP TRIGGER refuse_seq3');
    submit(2);
    submit(3);
    await tick();
    expect(sync.calls).toHaveLength(1);
    sync.complete();
    expect(outcomes.slice(3)).toEqual([
      [2, 'stored'],
      [3, 'stored'],
    ]);
    expect(ing.size).toBe(3);
    expect(ing.log.size).toBe(3);
    await ing.close();
  });

  it('a failed fdatasync fails its group and everything after it with STORE_SYNC_FAILED (never acknowledged)', async () => {
    const sync = new ManualSync();
    const ing = ingestorWith(sync, ward, ['dev-b']);
    const outcomes: IngestOutcome[] = [];
    const submit = (seq: number): void =>
      ing.submit({ linkDevice: 'dev-b', payload: ward.seal('dev-b', seq), source: 'mqtt', done: (o) => outcomes.push(o) });
    submit(1);
    await tick();
    submit(2);
    await tick();
    sync.complete(new Error('EIO: i/o error'));
    submit(3);
    await tick();
    expect(outcomes).toHaveLength(3);
    for (const o of outcomes) {
      expect(o.kind).toBe('failed');
      if (o.kind === 'failed') expect((o.error as AgentError).code).toBe('STORE_SYNC_FAILED');
    }
    expect(ing.size).toBe(0);
    await ing.close();
  });
});

describe('writer thread (ThreadWriter)', () => {
  const row = (i: number) => ({
    recordId: new Uint8Array(sha(`r${i}`)),
    leafIndex: i,
    leafHash: new Uint8Array(sha(`l${i}`)),
    device: 'dev-t',
    seq: i + 1,
    ts: 1,
    st: 'spo2',
    kid: new Uint8Array(16),
    envelope: new Uint8Array([i]),
    receivedAt: 1,
    source: 'mqtt',
  });
  const writeAsync = (w: ThreadWriter, b: WriteBatch): Promise<Error | null> => new Promise((resolve) => w.write(b, resolve));

  it("commits batches in order, fails a failed batch's whole transaction, refuses every later batch until reset, then goes on", async () => {
    const file = tempDb();
    openDatabase(file).close();
    const w = new ThreadWriter(file, 'full');
    try {
      const ok = emptyWriteBatch(10);
      ok.newDevices.push(['dev-t', 1]);
      ok.records.push(row(0));
      ok.logSize = 1;
      // a record with the (device, seq) of one stored: the unique index fails the whole transaction
      const bad = emptyWriteBatch(10);
      bad.records.push({ ...row(5), seq: 1 });
      const after = emptyWriteBatch(10);
      after.records.push(row(1));
      expect(await writeAsync(w, ok)).toBeNull();
      // queued together they share one transaction, so both fail; later ones are refused until reset
      const [badResult, afterResult] = await Promise.all([writeAsync(w, bad), writeAsync(w, after)]);
      expect(badResult?.message).toMatch(/UNIQUE constraint failed: records\.device, records\.seq/);
      expect(afterResult).not.toBeNull();
      expect(await writeAsync(w, after)).not.toBeNull();
      w.reset();
      expect(await writeAsync(w, after)).toBeNull();
    } finally {
      await w.close();
    }
    const db = openDatabase(file);
    try {
      const store = new AgentStore(db);
      expect(store.recordCount()).toBe(2);
      expect(store.getRecord(sha('r1'))?.seq).toBe(2);
      expect(store.getRecord(sha('r5'))).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('answers a batch only after an fdatasync that started after its commit, once, in write order (batches arriving meanwhile share the next)', async () => {
    const file = tempDb();
    openDatabase(file).close();
    const log: string[] = [];
    const w = new ThreadWriter(file, 'full', { trace: (event, ids) => log.push(`${event} ${ids.join(',')}`) });
    const n = 40;
    try {
      const answers: Array<Promise<Error | null>> = [];
      for (let i = 0; i < n; i++) {
        const b = emptyWriteBatch(10);
        if (i === 0) b.newDevices.push(['dev-t', 1]);
        b.records.push(row(i));
        b.logSize = i + 1;
        const id = i + 1;
        answers.push(writeAsync(w, b).then((err) => (log.push(`done ${id}`), err)));
        if (i === 0) await answers[0]; // the thread is up: the rest arrive while it commits and syncs
        // vary the arrival: some batches together, some while a sync runs, some after
        if (i % 3 === 0) await new Promise((r) => setImmediate(r));
        if (i % 7 === 0) await new Promise((r) => setTimeout(r, 2));
      }
      expect(await Promise.all(answers)).toEqual(new Array(n).fill(null));
    } finally {
      await w.close();
    }
    const at = (prefix: string, id: number): number[] =>
      log.flatMap((line, i) =>
        line.startsWith(`${prefix} `) &&
        line
          .slice(prefix.length + 1)
          .split(',')
          .map(Number)
          .includes(id)
          ? [i]
          : [],
      );
    const done = log.filter((l) => l.startsWith('done ')).map((l) => Number(l.slice(5)));
    expect(done).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    for (let id = 1; id <= n; id++) {
      const [commit] = at('commit', id);
      const syncStart = at('sync-start', id);
      const syncDone = at('sync-done', id);
      const [answered] = at('done', id);
      expect(commit).toBeDefined();
      expect(syncStart).toHaveLength(1); // covered by exactly one fdatasync…
      expect(syncStart[0]!).toBeGreaterThan(commit!); // …that started after its commit
      expect(syncDone).toHaveLength(1);
      expect(syncDone[0]!).toBeGreaterThan(syncStart[0]!);
      expect(answered!).toBeGreaterThan(syncDone[0]!);
    }
    const db = openDatabase(file);
    try {
      expect(new AgentStore(db).recordCount()).toBe(n);
    } finally {
      db.close();
    }
  });
});
