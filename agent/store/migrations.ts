import type { Database } from 'better-sqlite3';
import { AgentError } from '../errors.ts';
import { RECORD_ID_BUCKET_BITS } from './recordIds.ts';

/**
 * Versioned schema migrations. `PRAGMA user_version` holds the last applied version;
 * each migration runs in its own transaction. Never edit a released migration: add one.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'records, log, devices, tickets, quarantine',
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;

        -- RFC 6962 log: one row per leaf; kind 1 = reading record, 2 = access event
        CREATE TABLE log_leaves (
          idx INTEGER PRIMARY KEY,
          leaf_hash BLOB NOT NULL,
          kind INTEGER NOT NULL
        );
        -- hashes of complete subtrees (level, index): O(log n) proofs without recomputation
        CREATE TABLE log_nodes (
          level INTEGER NOT NULL,
          idx INTEGER NOT NULL,
          hash BLOB NOT NULL,
          PRIMARY KEY (level, idx)
        ) WITHOUT ROWID;

        -- clustered by log position (appends at the end); the random record id is a small unique index
        CREATE TABLE records (
          leaf_idx INTEGER PRIMARY KEY REFERENCES log_leaves(idx),
          record_id BLOB NOT NULL UNIQUE,      -- SHA-256(envelope)
          device TEXT NOT NULL,
          seq INTEGER NOT NULL,
          ts INTEGER NOT NULL,
          st TEXT NOT NULL,
          kid BLOB NOT NULL,
          envelope BLOB NOT NULL,
          received_at INTEGER NOT NULL,
          source TEXT NOT NULL
        );
        CREATE UNIQUE INDEX records_device_seq ON records(device, seq);
        CREATE INDEX records_kid ON records(kid, seq);

        CREATE TABLE devices (
          id TEXT PRIMARY KEY,
          secret_salt BLOB,
          secret_hash BLOB,
          created_at INTEGER NOT NULL,
          revoked INTEGER NOT NULL DEFAULT 0,
          max_seq INTEGER,
          received INTEGER NOT NULL DEFAULT 0,
          duplicates INTEGER NOT NULL DEFAULT 0,
          gaps INTEGER NOT NULL DEFAULT 0,
          reorders INTEGER NOT NULL DEFAULT 0,
          quarantined INTEGER NOT NULL DEFAULT 0,
          last_seen INTEGER,
          online INTEGER NOT NULL DEFAULT 0,
          status_at INTEGER
        ) WITHOUT ROWID;

        CREATE TABLE tickets (
          device TEXT NOT NULL,
          kid BLOB NOT NULL,
          ticket BLOB NOT NULL,
          patient TEXT NOT NULL,
          nbf INTEGER NOT NULL,
          exp INTEGER NOT NULL,
          pushed_at INTEGER NOT NULL,
          PRIMARY KEY (device, kid)
        ) WITHOUT ROWID;

        CREATE TABLE quarantine (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          received_at INTEGER NOT NULL,
          source TEXT NOT NULL,
          device_hint TEXT,
          reason TEXT NOT NULL,
          size INTEGER NOT NULL,
          payload BLOB NOT NULL               -- first bytes only (bounded); ciphertext, never plaintext
        );
        CREATE INDEX quarantine_reason ON quarantine(reason);
      `);
    },
  },
  {
    version: 2,
    name: 'query API: request nonces, access events, emergency escrow',
    up(db) {
      db.exec(`
        -- signed API requests: one row per (requester, nonce) until the request's expiry (replay guard)
        CREATE TABLE api_nonces (
          requester TEXT NOT NULL,
          nonce BLOB NOT NULL,
          expiry INTEGER NOT NULL,
          PRIMARY KEY (requester, nonce)
        ) WITHOUT ROWID;
        CREATE INDEX api_nonces_expiry ON api_nonces(expiry);

        -- body (CBOR) of each kind-2 log leaf: served queries, sessions, emergency releases
        CREATE TABLE access_events (
          leaf_idx INTEGER PRIMARY KEY REFERENCES log_leaves(idx),
          at INTEGER NOT NULL,
          body BLOB NOT NULL
        );

        -- a patient's emergency profile (COSE_Encrypt0 under K) and K sealed (HPKE) to the ward's emergency key
        CREATE TABLE emergency_escrow (
          patient TEXT PRIMARY KEY,
          profile BLOB NOT NULL,
          sealed_enc BLOB NOT NULL,
          sealed_key BLOB NOT NULL,
          uploaded_at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 3,
    name: 'records: no random-key unique index on record_id (dedup by device+seq), log-ordered id index',
    up(db) {
      // A UNIQUE index on the random 32-byte record id dirtied one random index page per reading
      // (cost: bench/README.md, "Measurements behind design choices"). Duplicates are
      // found by (device, seq) instead — an envelope's id is the hash of bytes that contain both —
      // and lookups by id use an index ordered by log position first: (leaf_idx >> 12, record_id),
      // so inserts touch only the newest bucket's pages; a lookup probes each bucket of 4,096 leaves.
      db.exec(`
        CREATE TABLE records_v3 (
          leaf_idx INTEGER PRIMARY KEY REFERENCES log_leaves(idx),
          record_id BLOB NOT NULL,            -- SHA-256(envelope)
          device TEXT NOT NULL,
          seq INTEGER NOT NULL,
          ts INTEGER NOT NULL,
          st TEXT NOT NULL,
          kid BLOB NOT NULL,
          envelope BLOB NOT NULL,
          received_at INTEGER NOT NULL,
          source TEXT NOT NULL
        );
        INSERT INTO records_v3(leaf_idx, record_id, device, seq, ts, st, kid, envelope, received_at, source)
          SELECT leaf_idx, record_id, device, seq, ts, st, kid, envelope, received_at, source FROM records ORDER BY leaf_idx;
        DROP TABLE records;
        ALTER TABLE records_v3 RENAME TO records;
        CREATE UNIQUE INDEX records_device_seq ON records(device, seq);
        CREATE INDEX records_kid ON records(kid, seq);
        CREATE INDEX records_by_id ON records((leaf_idx >> ${RECORD_ID_BUCKET_BITS}), record_id);
      `);
    },
  },
  {
    version: 4,
    name: 'records: record ids indexed per complete bucket (table record_ids); log size from log_leaves',
    up(db) {
      // records_by_id took each random record id as it arrived, dirtying a random page of the newest
      // bucket per reading; record_ids gets a whole bucket at once, sorted (recordIds.ts). The log
      // size is MAX(log_leaves.idx) + 1 (the leaves are the log) instead of a meta row rewritten per commit.
      db.exec(`
        CREATE TABLE record_ids (
          bucket INTEGER NOT NULL,            -- leaf_idx >> ${RECORD_ID_BUCKET_BITS}
          record_id BLOB NOT NULL,
          leaf_idx INTEGER NOT NULL,
          PRIMARY KEY (bucket, record_id)
        ) WITHOUT ROWID;
        INSERT INTO record_ids(bucket, record_id, leaf_idx)
          SELECT leaf_idx >> ${RECORD_ID_BUCKET_BITS}, record_id, leaf_idx FROM records
          WHERE leaf_idx < ((SELECT COALESCE(MAX(idx) + 1, 0) FROM log_leaves) >> ${RECORD_ID_BUCKET_BITS}) << ${RECORD_ID_BUCKET_BITS}
          ORDER BY 1, 2;
        DROP INDEX records_by_id;
        DELETE FROM meta WHERE key = 'log_size';
      `);
    },
  },
  {
    version: 5,
    name: 'records: no (kid, seq) index',
    up(db) {
      // No statement's query plan used records_kid (the query API finds a patient's records through
      // tickets by log position or by (device, seq); test/agent/store.test.ts EXPLAINs them with the
      // index present), yet each commit wrote a page of it per device: ~1/3 of a 16-device commit's
      // pages (the gain from dropping it: bench/README.md, "Measurements behind design choices").
      db.exec('DROP INDEX records_kid;');
    },
  },
  {
    version: 6,
    name: 'custody: device assignments, pairing requests, session keys owned by one patient; quarantine by device',
    up(db) {
      // Who may hold sessions on a device (issue #15 defect 1) and who owns a session key (defect 2).
      // A kid's first registered patient owns it forever: the backfill takes, per kid, the earliest
      // ticket's patient (tickets written before v6 may disagree; later ones cannot change owner).
      db.exec(`
        CREATE TABLE device_assignments (
          device TEXT PRIMARY KEY,
          patient TEXT NOT NULL,              -- patient reference: the patient's lowercase address for API sessions
          via TEXT NOT NULL,                  -- 'pairing' (operator confirmed the patient's code) or 'operator'
          assigned_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        -- a patient's signed pairing request; the ward operator confirms it with the code the patient shows
        CREATE TABLE pairing_requests (
          device TEXT NOT NULL,
          code_hash BLOB NOT NULL,            -- SHA-256 of the code: the code itself is never stored
          patient TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          PRIMARY KEY (device, code_hash)
        ) WITHOUT ROWID;

        CREATE TABLE session_keys (
          kid BLOB PRIMARY KEY,
          patient TEXT NOT NULL,
          device TEXT NOT NULL,               -- the device of its first ticket
          registered_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO session_keys(kid, patient, device, registered_at)
          SELECT kid, patient, device, pushed_at FROM tickets ORDER BY pushed_at, device;

        -- the per-device quarantine quota trims the oldest rows of one device hint
        CREATE INDEX quarantine_device ON quarantine(device_hint, id);
      `);
    },
  },
  {
    version: 7,
    name: 'log leaves folded into their rows: records.leaf_hash, access_events.leaf_hash; log_leaves becomes a view',
    up(db) {
      // Each reading was two B-tree inserts (log_leaves, then records) plus the foreign-key probe of
      // records.leaf_idx into log_leaves. A leaf's hash now lives in the row of what it logs — a record
      // (kind 1) or an access event (kind 2) — and level 0 of the log is the union of both tables, kept
      // readable under its old name as a view (gain: bench/README.md, "Measurements behind design choices").
      // Every leaf must have its row, or the log would lose it: checked before anything moves.
      const orphans = db
        .prepare<[], number>(
          `SELECT COUNT(*) FROM log_leaves l WHERE NOT (
             (l.kind = 1 AND EXISTS (SELECT 1 FROM records r WHERE r.leaf_idx = l.idx)) OR
             (l.kind = 2 AND EXISTS (SELECT 1 FROM access_events a WHERE a.leaf_idx = l.idx)))`,
        )
        .pluck()
        .get()!;
      const rows = db.prepare<[], number>('SELECT (SELECT COUNT(*) FROM records) + (SELECT COUNT(*) FROM access_events)').pluck().get()!;
      const leaves = db.prepare<[], number>('SELECT COUNT(*) FROM log_leaves').pluck().get()!;
      if (orphans !== 0 || rows !== leaves)
        throw new AgentError(
          'STORE_LOG_CORRUPT',
          `schema v7: ${orphans} log leaves without their record or access event row, ${rows} rows for ${leaves} leaves`,
        );
      db.exec(`
        CREATE TABLE records_v7 (
          leaf_idx INTEGER PRIMARY KEY,
          leaf_hash BLOB NOT NULL,            -- RFC 6962 leaf hash of the envelope: level 0 of the log
          record_id BLOB NOT NULL,            -- SHA-256(envelope)
          device TEXT NOT NULL,
          seq INTEGER NOT NULL,
          ts INTEGER NOT NULL,
          st TEXT NOT NULL,
          kid BLOB NOT NULL,
          envelope BLOB NOT NULL,
          received_at INTEGER NOT NULL,
          source TEXT NOT NULL
        );
        INSERT INTO records_v7(leaf_idx, leaf_hash, record_id, device, seq, ts, st, kid, envelope, received_at, source)
          SELECT r.leaf_idx, l.leaf_hash, r.record_id, r.device, r.seq, r.ts, r.st, r.kid, r.envelope, r.received_at, r.source
          FROM records r JOIN log_leaves l ON l.idx = r.leaf_idx ORDER BY r.leaf_idx;
        DROP TABLE records;
        ALTER TABLE records_v7 RENAME TO records;
        CREATE UNIQUE INDEX records_device_seq ON records(device, seq);

        CREATE TABLE access_events_v7 (
          leaf_idx INTEGER PRIMARY KEY,
          leaf_hash BLOB NOT NULL,            -- RFC 6962 leaf hash of the body: level 0 of the log
          at INTEGER NOT NULL,
          body BLOB NOT NULL
        );
        INSERT INTO access_events_v7(leaf_idx, leaf_hash, at, body)
          SELECT a.leaf_idx, l.leaf_hash, a.at, a.body FROM access_events a JOIN log_leaves l ON l.idx = a.leaf_idx ORDER BY a.leaf_idx;
        DROP TABLE access_events;
        ALTER TABLE access_events_v7 RENAME TO access_events;

        DROP TABLE log_leaves;
        CREATE VIEW log_leaves(idx, leaf_hash, kind) AS
          SELECT leaf_idx, leaf_hash, 1 FROM records UNION ALL SELECT leaf_idx, leaf_hash, 2 FROM access_events;
      `);
    },
  },
];

export { RECORD_ID_BUCKET_BITS };

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Extra migrations registered by other layers (e.g. chain anchoring tables), run after ours, idempotent. */
export type ExtraMigration = (db: Database) => void;
