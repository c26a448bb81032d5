import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import type { Db } from './db.ts';
import { AgentError } from '../errors.ts';
import { INDEXED_BUCKETS_SQL, RECORD_ID_BUCKET_BITS } from './recordIds.ts';
import { LEAVES_FROM_SQL } from './logLeaves.ts';

export interface DeviceCounters {
  maxSeq: number | null;
  received: number;
  duplicates: number;
  gaps: number;
  reorders: number;
  quarantined: number;
  lastSeen: number | null;
}

export interface DeviceRow extends DeviceCounters {
  id: string;
  createdAt: number;
  revoked: boolean;
  online: boolean;
  statusAt: number | null;
}

export interface TicketInfo {
  device: string;
  kid: Uint8Array;
  patient: string;
  nbf: number;
  exp: number;
  ticket: Uint8Array;
  pushedAt: number;
}

export interface RecordRow {
  recordId: Uint8Array;
  leafIndex: number;
  device: string;
  seq: number;
  ts: number;
  st: string;
  kid: Uint8Array;
  envelope: Uint8Array;
  receivedAt: number;
  source: string;
}

export interface QuarantineRow {
  id: number;
  receivedAt: number;
  source: string;
  deviceHint: string | null;
  reason: string;
  /** Size of the payload as received. */
  size: number;
  /** Bytes of it kept (a bounded prefix: ingestor QUARANTINE_KEEP_BYTES). */
  storedBytes: number;
  /** True when only a prefix is kept (storedBytes < size). */
  truncated: boolean;
}

/** Device secrets are 256-bit random tokens: a salted SHA-256 is enough (no password stretching needed). */
export function hashDeviceSecret(salt: Uint8Array, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest();
}

/**
 * The record with id @id among buckets @last, @last - 1, …, 0 of record_ids: one primary-key probe per
 * bucket, newest first; CROSS JOIN keeps the bucket list as the outer loop (EXPLAIN QUERY PLAN:
 * SEARCH i USING PRIMARY KEY (bucket=? AND record_id=?), checked in test/agent/store.test.ts).
 */
export const RECORD_BY_INDEXED_ID_SQL = `WITH RECURSIVE bucket(n) AS (SELECT @last UNION ALL SELECT n - 1 FROM bucket WHERE n > 0)
  SELECT r.* FROM bucket CROSS JOIN record_ids i ON i.bucket = bucket.n AND i.record_id = @id
  JOIN records r ON r.leaf_idx = i.leaf_idx LIMIT 1`;

/** Prepared statements over the agent schema. All writes happen inside the caller's transaction. */
export class AgentStore {
  readonly db: Db;
  private readonly s;

  constructor(db: Db) {
    this.db = db;
    this.s = {
      recordBySeq: db.prepare<[string, number], { record_id: Buffer }>('SELECT record_id FROM records WHERE device = ? AND seq = ?'),
      // record_ids holds every complete bucket of the log (recordIds.ts); the rest is scanned
      indexedBuckets: db.prepare<[], number>(INDEXED_BUCKETS_SQL).pluck(),
      recordInTail: db.prepare<[number, Uint8Array], Record<string, unknown>>(
        'SELECT * FROM records WHERE leaf_idx >= ? AND record_id = ? LIMIT 1',
      ),
      recordIndexed: db.prepare<[{ id: Uint8Array; last: number }], Record<string, unknown>>(RECORD_BY_INDEXED_ID_SQL),
      recordsByDevice: db.prepare<[string, number, number], Record<string, unknown>>(
        'SELECT * FROM records WHERE device = ? AND seq >= ? ORDER BY seq LIMIT ?',
      ),
      countRecords: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM records'),
      leafHashes: db.prepare<[{ from: number; limit: number }], Buffer>(LEAVES_FROM_SQL).pluck(),
      quarantineList: db.prepare<[number], Record<string, unknown>>(
        'SELECT id, received_at, source, device_hint, reason, size, length(payload) AS stored_bytes FROM quarantine ORDER BY id DESC LIMIT ?',
      ),
      quarantineByReason: db.prepare<[], { reason: string; n: number }>('SELECT reason, COUNT(*) AS n FROM quarantine GROUP BY reason'),
      device: db.prepare<[string], Record<string, unknown>>('SELECT * FROM devices WHERE id = ?'),
      devices: db.prepare<[], Record<string, unknown>>('SELECT * FROM devices ORDER BY id'),
      ensureDevice: db.prepare<[string, number]>('INSERT OR IGNORE INTO devices(id, created_at) VALUES (?, ?)'),
      upsertCredentials: db.prepare<[string, number, Uint8Array, Uint8Array]>(
        'INSERT INTO devices(id, created_at, secret_salt, secret_hash) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET secret_salt = excluded.secret_salt, secret_hash = excluded.secret_hash, revoked = 0',
      ),
      revokeDevice: db.prepare<[string]>('UPDATE devices SET revoked = 1 WHERE id = ?'),
      revokedDevices: db.prepare<[], string>('SELECT id FROM devices WHERE revoked = 1').pluck(),
      setAllOffline: db.prepare('UPDATE devices SET online = 0'),
      // a ticket row never changes owner: a re-issue (session end, restart) updates it for the same patient only
      upsertTicket: db.prepare(
        'INSERT INTO tickets(device, kid, ticket, patient, nbf, exp, pushed_at) VALUES (@device, @kid, @ticket, @patient, @nbf, @exp, @pushedAt) ON CONFLICT(device, kid) DO UPDATE SET ticket = excluded.ticket, nbf = excluded.nbf, exp = excluded.exp, pushed_at = excluded.pushed_at WHERE tickets.patient = excluded.patient',
      ),
      kidOwner: db.prepare<[Uint8Array], string>('SELECT patient FROM session_keys WHERE kid = ?').pluck(),
      claimKid: db.prepare<[Uint8Array, string, string, number]>(
        'INSERT INTO session_keys(kid, patient, device, registered_at) VALUES (?, ?, ?, ?)',
      ),
      tickets: db.prepare<[], Record<string, unknown>>('SELECT * FROM tickets ORDER BY pushed_at'),
      latestTicket: db.prepare<[string], { ticket: Buffer }>('SELECT ticket FROM tickets WHERE device = ? ORDER BY pushed_at DESC LIMIT 1'),
      patientsBetween: db.prepare<[number, number], { patient: string }>(
        'SELECT DISTINCT t.patient AS patient FROM records r JOIN tickets t ON t.device = r.device AND t.kid = r.kid WHERE r.leaf_idx >= ? AND r.leaf_idx < ?',
      ),
    };
  }

  recordIdAtSeq(device: string, seq: number): Uint8Array | undefined {
    const row = this.s.recordBySeq.get(device, seq);
    return row ? new Uint8Array(row.record_id) : undefined;
  }

  /**
   * The record named `recordId`: a scan of the log's last, unindexed bucket (≤ 4,096 rows), then one
   * index probe per complete bucket, newest first — an operator/audit path, not the ingest path.
   */
  getRecord(recordId: Uint8Array): RecordRow | undefined {
    // buckets below `indexed` were complete when read; a bucket indexed after that is still in the scanned tail
    const indexed = this.s.indexedBuckets.get()!;
    const row =
      this.s.recordInTail.get(indexed * 2 ** RECORD_ID_BUCKET_BITS, recordId) ??
      (indexed > 0 ? this.s.recordIndexed.get({ id: recordId, last: indexed - 1 }) : undefined);
    return row ? toRecord(row) : undefined;
  }

  recordsOfDevice(device: string, fromSeq = 0, limit = 1000): RecordRow[] {
    return this.s.recordsByDevice.all(device, fromSeq, limit).map(toRecord);
  }

  recordCount(): number {
    return this.s.countRecords.get()!.n;
  }

  /** Leaf hashes from `from`, in order, `limit` at most (for audits and root recomputation). */
  leafHashes(from: number, limit: number): Uint8Array[] {
    return this.s.leafHashes.all({ from, limit }).map((h) => new Uint8Array(h));
  }

  quarantine(limit = 100): QuarantineRow[] {
    return this.s.quarantineList.all(limit).map((r) => ({
      id: r.id as number,
      receivedAt: r.received_at as number,
      source: r.source as string,
      deviceHint: (r.device_hint as string | null) ?? null,
      reason: r.reason as string,
      size: r.size as number,
      storedBytes: r.stored_bytes as number,
      truncated: (r.stored_bytes as number) < (r.size as number),
    }));
  }

  quarantineCounts(): Record<string, number> {
    return Object.fromEntries(this.s.quarantineByReason.all().map((r) => [r.reason, r.n]));
  }

  ensureDevice(id: string, now: number): void {
    this.s.ensureDevice.run(id, now);
  }

  /** Creates (or rotates) a device's MQTT credentials; returns the secret, shown once, stored only hashed. */
  provisionDevice(id: string, now: number, secret: string = randomBytes(32).toString('base64url')): string {
    const salt = randomBytes(16);
    this.s.upsertCredentials.run(id, now, salt, hashDeviceSecret(salt, secret));
    return secret;
  }

  /** Marks a device revoked (its credentials stop working); false when no such device exists. */
  revokeDevice(id: string): boolean {
    return this.s.revokeDevice.run(id).changes === 1;
  }

  /** Ids of every revoked device (the ingestor refuses their readings). */
  revokedDevices(): string[] {
    return this.s.revokedDevices.all();
  }

  checkDeviceSecret(id: string, secret: string): boolean {
    const row = this.s.device.get(id);
    if (!row || row.revoked || !row.secret_salt || !row.secret_hash) return false;
    const expected = row.secret_hash as Buffer;
    const got = hashDeviceSecret(row.secret_salt as Buffer, secret);
    return got.length === expected.length && timingSafeEqual(got, expected);
  }

  getDevice(id: string): DeviceRow | undefined {
    const row = this.s.device.get(id);
    return row ? toDevice(row) : undefined;
  }

  listDevices(): DeviceRow[] {
    return this.s.devices.all().map(toDevice);
  }

  setAllOffline(): void {
    this.s.setAllOffline.run();
  }

  /**
   * Stores a session ticket. A session key (kid) belongs to the first patient it was registered for,
   * forever: a ticket naming the same kid for another patient is refused (AGENT_SESSION_KEY_TAKEN)
   * and no row changes owner (issue #15 defect 2: a former grantee re-registering a victim's key).
   */
  saveTicket(t: TicketInfo): void {
    this.db.transaction(() => {
      const owner = this.s.kidOwner.get(t.kid);
      if (owner === undefined) this.s.claimKid.run(t.kid, t.patient, t.device, t.pushedAt);
      else if (owner !== t.patient) throw new AgentError('AGENT_SESSION_KEY_TAKEN');
      if (this.s.upsertTicket.run(t).changes !== 1) throw new AgentError('AGENT_SESSION_KEY_TAKEN');
    })();
  }

  /** The patient a session key belongs to, if it was ever registered. */
  sessionKeyOwner(kid: Uint8Array): string | undefined {
    return this.s.kidOwner.get(kid);
  }

  listTickets(): TicketInfo[] {
    return this.s.tickets.all().map((r) => ({
      device: r.device as string,
      kid: new Uint8Array(r.kid as Buffer),
      patient: r.patient as string,
      nbf: r.nbf as number,
      exp: r.exp as number,
      ticket: new Uint8Array(r.ticket as Buffer),
      pushedAt: r.pushed_at as number,
    }));
  }

  /** Distinct patient pseudonyms (from the tickets) of the records at leaves [from, to). */
  patientsBetween(from: number, to: number): string[] {
    return this.s.patientsBetween.all(from, to).map((r) => r.patient);
  }

  latestTicket(device: string): Uint8Array | undefined {
    const row = this.s.latestTicket.get(device);
    return row ? new Uint8Array(row.ticket) : undefined;
  }
}

function toRecord(r: Record<string, unknown>): RecordRow {
  return {
    recordId: new Uint8Array(r.record_id as Buffer),
    leafIndex: r.leaf_idx as number,
    device: r.device as string,
    seq: r.seq as number,
    ts: r.ts as number,
    st: r.st as string,
    kid: new Uint8Array(r.kid as Buffer),
    envelope: new Uint8Array(r.envelope as Buffer),
    receivedAt: r.received_at as number,
    source: r.source as string,
  };
}

function toDevice(r: Record<string, unknown>): DeviceRow {
  return {
    id: r.id as string,
    createdAt: r.created_at as number,
    revoked: r.revoked === 1,
    online: r.online === 1,
    statusAt: (r.status_at as number | null) ?? null,
    maxSeq: (r.max_seq as number | null) ?? null,
    received: r.received as number,
    duplicates: r.duplicates as number,
    gaps: r.gaps as number,
    reorders: r.reorders as number,
    quarantined: r.quarantined as number,
    lastSeen: (r.last_seen as number | null) ?? null,
  };
}
