import { MerkleLog } from '../../protocol/merkle/log.ts';
import { nodeHashNative, recordLeafHash } from './hashes.ts';
import type { Clock } from '../../protocol/rng.ts';
import { AgentError } from '../errors.ts';
import type { AgentStore, DeviceCounters } from '../store/agentStore.ts';
import { SqliteNodeStore } from '../store/sqliteNodeStore.ts';
import type { StoreWriter } from '../store/storeWriter.ts';
import { emptyWriteBatch, type WriteBatch } from '../store/writeBatch.ts';
import { QuarantineQuota } from './quarantineQuota.ts';
import type { EnvelopeDecoder, IngestItem, IngestObserver, IngestOutcome, StoreHealth } from './types.ts';
import { ReadingValidator, type KnownTicket } from './validation.ts';

export interface IngestorOptions {
  /** Reads (device rows, dedup lookups, log nodes for proofs) on the event loop's connection. */
  store: AgentStore;
  /** Where the group commits go (a writer thread, or inline on the event loop). */
  writer: StoreWriter;
  decode: EnvelopeDecoder;
  clock: Clock;
  maxEnvelopeBytes: number;
  maxFutureSkewMs: number;
  /** Quarantine rows kept in all (the oldest rows of the largest buckets go first beyond it). */
  quarantineMaxRows: number;
  /**
   * Quarantine rows kept per device hint (the device the link authenticated or the topic names;
   * readings no link attributes share one bucket): one device's flood evicts only its own rows.
   */
  quarantineMaxRowsPerDevice?: number;
  /** A seq more than this above the device's highest is quarantined (AGENT_SEQ_JUMP), counters untouched. */
  maxSeqJump?: number;
  /** Every base-mode reading is quarantined (AGENT_BASE_MODE_REFUSED); default false. */
  requireAuthMode?: boolean;
  /** Most items committed in one transaction (the rest go in the next tick's). */
  maxBatch?: number;
  /**
   * Groups written and not yet answered before the next one waits (default 4: one syncing, and the
   * ones after it waiting in the writer, which commits all that wait in one transaction and one
   * fdatasync). Readings arriving meanwhile join one larger group instead of many small ones. More
   * than 2 keeps more of the publishers' windows at the writer while an fdatasync is slow
   * (measurements: bench/README.md "Measurements behind design choices").
   */
  maxGroupsInFlight?: number;
  /**
   * A group goes to the writer while another is in flight only once this many readings wait
   * (default 64); fewer wait for the group in flight to be answered and then go as one group.
   * With few devices, overlapping groups are small and each costs both threads a transaction and
   * an fdatasync; with many, overlapping lets the event loop build a group while the writer commits
   * the last (measurements: bench/README.md "Measurements behind design choices").
   */
  minOverlapReadings?: number;
  observer?: IngestObserver;
}

/** A group written to the store, waiting for its commit (and sync) before anyone is answered. */
interface WrittenGroup {
  batch: IngestItem[];
  outcomes: IngestOutcome[];
  access: PendingAccess[];
  accessResults: Array<{ leafIndex: number; leafHash: Uint8Array }>;
  /** device/seq keys of the records it stores (see `inFlightSeq`). */
  seqKeys: string[];
  startedAt: number;
  logSize: number;
}

/** An access event waiting for the next group commit (its body becomes a kind-2 leaf). */
interface PendingAccess {
  body: Uint8Array;
  resolve: (r: { leafIndex: number; leafHash: Uint8Array }) => void;
  reject: (e: Error) => void;
}

/**
 * The durable ingest pipeline. Once per event-loop tick the queued items are validated and turned
 * into one WriteBatch (records, log leaves and nodes, device counters, quarantine rows, status) —
 * all decisions, log positions and hashes are made here, on the event loop — and the batch goes to
 * the StoreWriter, which commits it in one transaction and makes it durable; only then is each
 * item's `done` called, so an acknowledgement always follows the durable commit. Several batches
 * may be in flight; what they will store is remembered (`inFlightSeq`, the counters cache, the
 * log's frontier) so the next batch is judged as if they were committed.
 */
export class Ingestor {
  readonly log: MerkleLog;
  private readonly nodes: SqliteNodeStore;
  private queue: IngestItem[] = [];
  private accessQueue: PendingAccess[] = [];
  private statusQueue = new Map<string, { online: boolean; at: number }>();
  private scheduled = false;
  private closed = false;
  private readonly counters = new Map<string, DeviceCounters>();
  /** The per-reading checks (validation.ts): it reads `counters` and `inFlightSeq` as this class leaves them. */
  private readonly validator: ReadingValidator;
  private readonly opts: Required<Omit<IngestorOptions, 'observer'>> & { observer: IngestObserver };
  /** Written, not yet answered, oldest first. */
  private inFlight: WrittenGroup[] = [];
  /** device/seq -> record id of every record in a group in flight. */
  private readonly inFlightSeq = new Map<string, Uint8Array>();
  /** A batch failed: later ones are refused until every group in flight is answered and state is reloaded. */
  private broken: Error | undefined;
  /** Failing from a failed commit until a group with readings or access events commits again (/healthz). */
  private health: StoreHealth = { kind: 'healthy' };
  /** A sync failed after its commit: the database holds rows never counted in `durableRecords` (recount on reload). */
  private recountRecords = false;
  private durableSize: number;
  /** Records stored and durable (counted once at start, then per answered group: /healthz stays O(1)). */
  private durableRecords: number;
  private batch: WriteBatch;
  private idle: Array<() => void> = [];
  private readonly commitListeners: Array<(logSize: number) => void> = [];
  /** Quarantine rows per device hint, as the groups built so far leave them (trims ride in each WriteBatch). */
  private readonly quarantineQuota: QuarantineQuota;

  constructor(opts: IngestorOptions) {
    this.opts = {
      maxBatch: 4096,
      maxGroupsInFlight: 4,
      minOverlapReadings: 64,
      observer: {},
      quarantineMaxRowsPerDevice: 1000,
      maxSeqJump: 1_000_000,
      requireAuthMode: false,
      ...opts,
    };
    this.quarantineQuota = new QuarantineQuota(this.opts.quarantineMaxRowsPerDevice, opts.quarantineMaxRows, this.storedQuarantineCounts());
    this.batch = emptyWriteBatch(opts.quarantineMaxRows);
    this.nodes = new SqliteNodeStore(opts.store.db, nodeHashNative);
    this.nodes.writeInto(this.batch);
    this.log = new MerkleLog(this.nodes, nodeHashNative);
    this.durableSize = this.log.size;
    this.durableRecords = opts.store.recordCount();
    const o = this.opts;
    this.validator = new ReadingValidator({
      store: o.store,
      decode: o.decode,
      maxEnvelopeBytes: o.maxEnvelopeBytes,
      maxFutureSkewMs: o.maxFutureSkewMs,
      maxSeqJump: o.maxSeqJump,
      requireAuthMode: o.requireAuthMode,
      counters: this.counters,
      inFlightSeq: this.inFlightSeq,
    });
    for (const t of opts.store.listTickets()) this.rememberTicket(t.device, t.kid, t);
    for (const d of opts.store.revokedDevices()) this.validator.revoke(d);
  }

  /**
   * From now on every reading of `device` is refused (quarantined with AGENT_DEVICE_REVOKED), on
   * every transport — also readings received earlier and not yet judged. Every transport goes
   * through here; each also cuts the device off where it can (see AgentCore.revokeDevice).
   */
  revokeDevice(device: string): void {
    this.validator.revoke(device);
  }

  /** The device was provisioned again: its readings are judged as usual. */
  reinstateDevice(device: string): void {
    this.validator.reinstate(device);
  }

  isRevoked(device: string): boolean {
    return this.validator.isRevoked(device);
  }

  /** Called after every successful group commit with the new log size (e.g. to wake the anchor service). */
  addCommitListener(l: (logSize: number) => void): void {
    this.commitListeners.push(l);
  }

  /** Items received and not yet answered (queued, or written and waiting for their commit). */
  get pending(): number {
    let n = this.queue.length + this.accessQueue.length;
    for (const g of this.inFlight) n += g.batch.length + g.access.length;
    return n;
  }

  /** Why the ingestor does not acknowledge now (the last failed commit while the store is failing): /healthz reports it. */
  get failure(): Error | undefined {
    return this.health.kind === 'failing' ? this.health.error : undefined;
  }

  get storeHealth(): StoreHealth {
    return this.health;
  }

  /**
   * Size of the log whose every leaf is durable and answered: what tree heads are signed over,
   * anchored and proved against. (`log.size` may already count leaves of groups in flight.)
   */
  get size(): number {
    return this.durableSize;
  }

  /** Records durably stored (equals `SELECT COUNT(*) FROM records` once nothing is in flight). */
  get records(): number {
    return this.durableRecords;
  }

  /**
   * Appends an access event (served query, session, emergency release) as a kind-2 leaf in the
   * next group commit; resolves after that commit with its leaf index.
   */
  appendAccessEvent(body: Uint8Array): Promise<{ leafIndex: number; leafHash: Uint8Array }> {
    if (this.closed) return Promise.reject(new AgentError('AGENT_SHUTTING_DOWN'));
    return new Promise((resolve, reject) => {
      this.accessQueue.push({ body, resolve, reject });
      this.schedule();
    });
  }

  /** Records a device going online/offline with the next group commit (last one per device wins). */
  recordStatus(device: string, online: boolean, at: number): void {
    if (this.closed) return; // the next start marks every device offline anyway
    this.statusQueue.set(device, { online, at });
    this.schedule();
  }

  rememberTicket(device: string, kid: Uint8Array, t: KnownTicket): void {
    this.validator.rememberTicket(device, kid, t);
  }

  /** From now on readings under a ticket that carries this device identity key are quarantined (AGENT_IDENTITY_REVOKED). */
  revokeIdentityKey(idk: Uint8Array): void {
    this.validator.revokeIdentityKey(idk);
  }

  patientOfKid(device: string, kid: Uint8Array): string | undefined {
    return this.validator.ticketOf(device, kid)?.patient;
  }

  submit(item: IngestItem): void {
    if (this.closed) {
      item.done({ kind: 'failed', error: new AgentError('AGENT_SHUTTING_DOWN') });
      return;
    }
    this.queue.push(item);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes everything queued now (normally called once per tick by `submit`). */
  flush(): void {
    this.scheduled = false;
    // group commit: while enough groups are in flight, the queue grows and `written` flushes it
    if (this.inFlight.length >= this.opts.maxGroupsInFlight) return;
    if (this.inFlight.length > 0 && this.queue.length < this.opts.minOverlapReadings && !this.closed) return;
    while (this.queue.length > 0 || this.accessQueue.length > 0 || this.statusQueue.size > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      const access = this.accessQueue.splice(0, this.accessQueue.length);
      this.commit(batch, access);
      if (this.queue.length > 0 && !this.closed) {
        // let the event loop breathe between large batches
        this.schedule();
        return;
      }
    }
    this.notifyIfIdle();
  }

  /** Stops accepting and resolves once every queued item is committed, durable and answered. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => {
      this.idle.push(resolve);
      if (!this.scheduled) this.flush();
    });
  }

  private isIdle(): boolean {
    return (
      this.queue.length === 0 &&
      this.accessQueue.length === 0 &&
      this.statusQueue.size === 0 &&
      !this.scheduled &&
      this.inFlight.length === 0
    );
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }

  private commit(batch: IngestItem[], access: PendingAccess[]): void {
    const startedAt = performance.now();
    const refused = this.broken;
    if (refused) {
      this.statusQueue.clear();
      return this.failGroup(batch, access, refused);
    }
    const write = this.batch;
    const seqKeys: string[] = [];
    const outcomes = this.applyBatch(batch, seqKeys);
    const accessResults = this.applyAccess(access);
    for (const [dev, st] of this.statusQueue) {
      write.newDevices.push([dev, st.at]); // a device first heard of by its status (external broker, serial)
      write.status.push([dev, st.online, st.at]);
    }
    this.statusQueue.clear();
    if (write.records.length > 0 || write.accessEvents.length > 0) write.logSize = this.log.size;
    const group: WrittenGroup = { batch, outcomes, access, accessResults, seqKeys, startedAt, logSize: this.log.size };
    this.inFlight.push(group);
    this.batch = emptyWriteBatch(this.opts.quarantineMaxRows);
    this.nodes.writeInto(this.batch);
    this.opts.writer.write(write, (err) => this.written(group, err));
  }

  /** The writer's answer for `group` (answers arrive in write order). */
  private written(group: WrittenGroup, err: Error | null): void {
    this.inFlight.splice(this.inFlight.indexOf(group), 1);
    for (const k of group.seqKeys) this.inFlightSeq.delete(k);
    if (err === null && this.broken === undefined) {
      // the readings that arrived meanwhile go to the writer before this group's answers go out, so
      // the writer commits them while the event loop answers (bench/README.md "Measurements behind design choices")
      if (this.hasQueued()) this.flush();
      this.answer(group);
    } else {
      const error = err ?? this.broken!;
      if (err) {
        this.broken ??= err;
        // committed, then not made durable: its rows are in the database (the writer makes them durable before the next commit)
        if (err instanceof AgentError && err.code === 'STORE_SYNC_FAILED') this.recountRecords = true;
        this.storeFailed(err);
      }
      this.failGroup(group.batch, group.access, error);
      // every later group was built on this one's state: once all are answered, reload from the database
      if (this.inFlight.length === 0) this.reloadAfterFailure();
    }
    if (this.hasQueued()) this.schedule();
    this.notifyIfIdle();
  }

  private hasQueued(): boolean {
    return this.queue.length > 0 || this.accessQueue.length > 0 || this.statusQueue.size > 0;
  }

  /** Forgets cached state that failed batches had advanced, re-reads it, and lets the writer go on. */
  private reloadAfterFailure(): void {
    this.nodes.reload();
    this.counters.clear();
    this.inFlightSeq.clear();
    this.quarantineQuota.reset(this.storedQuarantineCounts());
    this.batch = emptyWriteBatch(this.opts.quarantineMaxRows);
    this.nodes.writeInto(this.batch);
    this.broken = undefined;
    if (this.recountRecords) {
      this.durableRecords = this.opts.store.recordCount();
      this.recountRecords = false;
    }
    this.opts.writer.reset();
  }

  /** A group commit failed: the store is failing (observers log it and set the health gauge on a change). */
  private storeFailed(err: Error): void {
    const code = err instanceof AgentError ? err.code : 'STORE_COMMIT_FAILED';
    const prev = this.health;
    const failing = prev.kind === 'failing';
    this.health = {
      kind: 'failing',
      code,
      error: err,
      since: failing ? prev.since : this.opts.clock.now(),
      failures: failing ? prev.failures + 1 : 1,
    };
    if (!failing || prev.code !== code) this.opts.observer.onStoreHealth?.(this.health, prev);
  }

  /** The group is durable: advance the durable size, record metrics, answer every item. */
  private answer(g: WrittenGroup): void {
    // a status-only group commits without growing the database: it says nothing about a full disk
    if (this.health.kind === 'failing' && g.batch.length + g.access.length > 0) {
      const prev = this.health;
      this.health = { kind: 'healthy' };
      this.opts.observer.onStoreHealth?.(this.health, prev);
    }
    this.durableSize = g.logSize;
    this.durableRecords += g.seqKeys.length; // one key per stored record
    const seconds = (performance.now() - g.startedAt) / 1000;
    this.opts.observer.onCommit?.(g.batch.length, seconds, g.logSize);
    for (const l of this.commitListeners) l(g.logSize);
    for (let i = 0; i < g.batch.length; i++) {
      const item = g.batch[i]!;
      const outcome = g.outcomes[i]!;
      this.opts.observer.onOutcome?.(outcome, item.source);
      item.done(outcome);
    }
    for (let i = 0; i < g.access.length; i++) g.access[i]!.resolve(g.accessResults[i]!);
  }

  private failGroup(batch: IngestItem[], access: PendingAccess[], error: Error): void {
    this.opts.observer.onCommitFailed?.(error, batch.length);
    for (const item of batch) item.done({ kind: 'failed', error });
    for (const a of access) a.reject(error);
  }

  /** Appends a leaf hash to the log; the caller's record (kind 1) or access event (kind 2) row stores it (level 0). */
  private appendLeaf(leafHash: Uint8Array): number {
    return this.log.appendLeafHash(leafHash).index;
  }

  /** Access events of this group, after its records. */
  private applyAccess(access: PendingAccess[]): Array<{ leafIndex: number; leafHash: Uint8Array }> {
    const now = this.opts.clock.now();
    return access.map((a) => {
      const lh = recordLeafHash(a.body);
      const index = this.appendLeaf(lh);
      this.batch.accessEvents.push([index, now, exactCopy(a.body), exactCopy(lh)]);
      return { leafIndex: index, leafHash: lh };
    });
  }

  private applyBatch(batch: IngestItem[], seqKeys: string[]): IngestOutcome[] {
    const now = this.opts.clock.now();
    const write = this.batch;
    const touched = new Set<string>();
    const outcomes: IngestOutcome[] = [];
    for (const item of batch) {
      const v = this.validator.judge(item, now);
      if (v.kind === 'quarantine') {
        // the row's bucket: the device the link names; a claim inside an unattributed payload is no one's
        const hint = item.linkDevice === null ? null : v.device;
        this.quarantineQuota.add(hint);
        write.quarantine.push({
          receivedAt: now,
          source: item.source,
          deviceHint: hint,
          reason: v.reason,
          size: item.payload.length,
          payload: exactCopy(item.payload.subarray(0, QUARANTINE_KEEP_BYTES)),
        });
        // counted against a device only when the link authenticated it (never create rows for spoofed names)
        if (item.linkDevice !== null) {
          this.countersOf(item.linkDevice, now).quarantined++;
          touched.add(item.linkDevice);
        }
        outcomes.push({ kind: 'quarantined', reason: v.reason, device: v.device, seq: v.seq });
        continue;
      }
      const { header, recordId } = v.view;
      const c = this.countersOf(v.device, now);
      touched.add(v.device);
      c.lastSeen = now;
      if (v.kind === 'duplicate') {
        c.duplicates++;
        outcomes.push({ kind: 'duplicate', recordId, device: v.device, seq: header.seq });
        continue;
      }
      const lh = recordLeafHash(item.payload);
      const index = this.appendLeaf(lh);
      // no copies: a StoreWriter applies the row before this tick ends (inline) or packs its bytes (thread)
      write.records.push({
        recordId,
        leafIndex: index,
        leafHash: lh,
        device: v.device,
        seq: header.seq,
        ts: header.ts,
        st: header.st,
        kid: v.view.kid,
        envelope: item.payload,
        receivedAt: now,
        source: item.source,
      });
      countSequence(c, header.seq);
      this.inFlightSeq.set(v.seqKey, recordId);
      seqKeys.push(v.seqKey);
      outcomes.push({ kind: 'stored', recordId, leafIndex: index, device: v.device, seq: header.seq });
    }
    for (const d of touched) write.counters.push({ id: d, ...this.countersOf(d) });
    if (write.quarantine.length > 0) write.quarantineTrim.push(...this.quarantineQuota.takeTrims());
    return outcomes;
  }

  /** Quarantine rows per device hint in the database (one scan of a table bounded by quarantineMaxRows). */
  private storedQuarantineCounts(): Array<[string | null, number]> {
    const rows = this.opts.store.db
      .prepare('SELECT device_hint AS hint, COUNT(*) AS n FROM quarantine GROUP BY device_hint')
      .all() as Array<{ hint: string | null; n: number }>;
    return rows.map((r) => [r.hint, r.n]);
  }

  private countersOf(device: string, now?: number): DeviceCounters {
    let c = this.counters.get(device);
    if (c) return c;
    const row = this.opts.store.getDevice(device);
    if (!row && now !== undefined) this.batch.newDevices.push([device, now]);
    c = row
      ? {
          maxSeq: row.maxSeq,
          received: row.received,
          duplicates: row.duplicates,
          gaps: row.gaps,
          reorders: row.reorders,
          quarantined: row.quarantined,
          lastSeen: row.lastSeen,
        }
      : { maxSeq: null, received: 0, duplicates: 0, gaps: 0, reorders: 0, quarantined: 0, lastSeen: null };
    this.counters.set(device, c);
    return c;
  }

  /** Counters as the ingest path sees them (cached, current). */
  deviceCounters(device: string): DeviceCounters | undefined {
    return this.counters.get(device) ?? this.opts.store.getDevice(device);
  }
}

/**
 * Sequence accounting: `gaps` counts sequence numbers skipped and not (yet) received;
 * a late arrival below the highest seq is a reorder and closes one gap.
 */
export function countSequence(c: DeviceCounters, seq: number): void {
  c.received++;
  if (c.maxSeq === null) {
    c.maxSeq = seq;
  } else if (seq > c.maxSeq) {
    c.gaps += seq - c.maxSeq - 1;
    c.maxSeq = seq;
  } else {
    c.reorders++;
    if (c.gaps > 0) c.gaps--;
  }
}

/** Quarantined payloads keep their first bytes only (the row says the whole size). */
const QUARANTINE_KEEP_BYTES = 512;

/**
 * A copy that owns exactly these bytes. Rows cross to the writer thread by structured clone, which
 * copies a view's whole ArrayBuffer — for an MQTT payload, a slice of a pooled socket buffer.
 */
function exactCopy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}
