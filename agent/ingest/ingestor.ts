import { MerkleLog } from '../../protocol/merkle/log.ts';
import { isVitalsealError } from '../../protocol/errors.ts';
import { nodeHashNative, recordLeafHash } from './hashes.ts';
import type { Clock } from '../../protocol/rng.ts';
import { AgentError } from '../errors.ts';
import type { AgentStore, DeviceCounters } from '../store/agentStore.ts';
import { SqliteNodeStore, type LeafKind } from '../store/sqliteNodeStore.ts';
import type { WalSync } from '../store/walSync.ts';
import type { EnvelopeDecoder, EnvelopeHeaderView, IngestItem, IngestObserver, IngestOutcome } from './types.ts';

export interface IngestorOptions {
  store: AgentStore;
  decode: EnvelopeDecoder;
  clock: Clock;
  maxEnvelopeBytes: number;
  maxFutureSkewMs: number;
  quarantineMaxRows: number;
  /** Most items committed in one transaction (the rest go in the next tick's). */
  maxBatch?: number;
  observer?: IngestObserver;
  /**
   * Makes committed WAL frames durable off the event loop (synchronous 'full'); when absent, a
   * COMMIT is taken as final when it returns (SQLite's own synchronous=FULL, or 'normal').
   */
  walSync?: WalSync | undefined;
}

/** A committed group waiting for its WAL sync before anyone is answered. */
interface CommittedGroup {
  batch: IngestItem[];
  outcomes: IngestOutcome[];
  access: PendingAccess[];
  accessResults: Array<{ leafIndex: number; leafHash: Uint8Array }>;
  startedAt: number;
  logSize: number;
}

interface KnownTicket {
  nbf: number;
  exp: number;
  patient: string;
}

type Verdict =
  | { kind: 'store'; view: EnvelopeHeaderView; device: string }
  | { kind: 'duplicate'; view: EnvelopeHeaderView; device: string }
  | { kind: 'quarantine'; reason: string; device: string | null; seq: number | null };

const LEAF_KIND_RECORD: LeafKind = 1;
const LEAF_KIND_ACCESS: LeafKind = 2;

/** An access event waiting for the next group commit (its body becomes a kind-2 leaf). */
interface PendingAccess {
  body: Uint8Array;
  resolve: (r: { leafIndex: number; leafHash: Uint8Array }) => void;
  reject: (e: Error) => void;
}

/**
 * The durable ingest pipeline. Items are validated, then committed in one SQLite
 * transaction per event-loop tick (group commit): records, log leaves and nodes, device
 * counters and quarantine rows commit together, and only then is each item's `done`
 * called — so an acknowledgement always follows the fsync'd commit.
 */
export class Ingestor {
  readonly log: MerkleLog;
  private readonly nodes: SqliteNodeStore;
  private queue: IngestItem[] = [];
  private accessQueue: PendingAccess[] = [];
  private readonly insertAccess: (leafIdx: number, at: number, body: Uint8Array) => void;
  private scheduled = false;
  private closed = false;
  private readonly counters = new Map<string, DeviceCounters>();
  private readonly tickets = new Map<string, Map<string, KnownTicket>>();
  private readonly opts: Required<Omit<IngestorOptions, 'observer' | 'walSync'>> & { observer: IngestObserver; walSync: WalSync | undefined };
  /** Committed, waiting for the next WAL sync. */
  private unsynced: CommittedGroup[] = [];
  /** The groups the fdatasync in flight covers. */
  private syncing: CommittedGroup[] | undefined;
  private syncError: Error | undefined;
  private durableSize: number;
  private readonly commitBatch: (batch: IngestItem[], access: PendingAccess[]) => IngestOutcome[];
  private accessResults: Array<{ leafIndex: number; leafHash: Uint8Array }> = [];
  private idle: Array<() => void> = [];
  private readonly commitListeners: Array<(logSize: number) => void> = [];

  constructor(opts: IngestorOptions) {
    this.opts = { maxBatch: 4096, observer: {}, ...opts, walSync: opts.walSync };
    this.nodes = new SqliteNodeStore(opts.store.db);
    this.log = new MerkleLog(this.nodes, nodeHashNative);
    this.durableSize = this.log.size;
    for (const t of opts.store.listTickets()) this.rememberTicket(t.device, t.kid, t);
    this.commitBatch = opts.store.db.transaction((batch: IngestItem[], access: PendingAccess[]) => {
      const outcomes = this.applyBatch(batch);
      this.accessResults = this.applyAccess(access);
      this.nodes.persistSize(); // once per transaction, not once per leaf
      return outcomes;
    });
    const insertAccess = opts.store.db.prepare<[number, number, Uint8Array]>('INSERT INTO access_events(leaf_idx, at, body) VALUES (?, ?, ?)');
    this.insertAccess = (i, at, body) => void insertAccess.run(i, at, body);
  }

  /** Called after every successful group commit with the new log size (e.g. to wake the anchor service). */
  addCommitListener(l: (logSize: number) => void): void {
    this.commitListeners.push(l);
  }

  /** Items received and not yet answered (queued, or committed and waiting for their WAL sync). */
  get pending(): number {
    let n = this.queue.length + this.accessQueue.length;
    for (const g of [...this.unsynced, ...(this.syncing ?? [])]) n += g.batch.length + g.access.length;
    return n;
  }

  /** Why the ingestor stopped acknowledging (a failed fdatasync), if it did: /healthz reports it. */
  get failure(): Error | undefined {
    return this.syncError;
  }

  /**
   * Size of the log whose every leaf is durable and answered: what tree heads are signed over,
   * anchored and proved against. (`log.size` may already count leaves committed but still
   * waiting for their WAL sync.)
   */
  get size(): number {
    return this.durableSize;
  }

  /**
   * Appends an access event (served query, session, emergency release) as a kind-2 leaf in the
   * next group commit; resolves after that commit with its leaf index.
   */
  appendAccessEvent(body: Uint8Array): Promise<{ leafIndex: number; leafHash: Uint8Array }> {
    if (this.closed) return Promise.reject(new AgentError('AGENT_SHUTTING_DOWN'));
    return new Promise((resolve, reject) => {
      this.accessQueue.push({ body, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  rememberTicket(device: string, kid: Uint8Array, t: KnownTicket): void {
    let m = this.tickets.get(device);
    if (!m) this.tickets.set(device, (m = new Map()));
    m.set(hexOf(kid), { nbf: t.nbf, exp: t.exp, patient: t.patient });
  }

  patientOfKid(device: string, kid: Uint8Array): string | undefined {
    return this.tickets.get(device)?.get(hexOf(kid))?.patient;
  }

  submit(item: IngestItem): void {
    if (this.closed) {
      item.done({ kind: 'failed', error: new AgentError('AGENT_SHUTTING_DOWN') });
      return;
    }
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commits everything queued now (normally called once per tick by `submit`). */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0 || this.accessQueue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      const access = this.accessQueue.splice(0, this.accessQueue.length);
      this.commit(batch, access);
      if (this.queue.length > 0 && !this.closed) {
        // let the event loop breathe between large batches
        this.scheduled = true;
        setImmediate(() => this.flush());
        return;
      }
    }
    this.notifyIfIdle();
  }

  /** Stops accepting and resolves once every queued item is committed, synced and answered. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => {
      this.idle.push(resolve);
      if (!this.scheduled) this.flush();
    });
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.accessQueue.length === 0 && !this.scheduled && this.unsynced.length === 0 && this.syncing === undefined;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }

  private commit(batch: IngestItem[], access: PendingAccess[] = []): void {
    const startedAt = performance.now();
    if (this.syncError) return this.failGroup(batch, access, this.syncError);
    let outcomes: IngestOutcome[];
    try {
      outcomes = this.commitBatch(batch, access);
    } catch (e) {
      // the transaction rolled back: forget cached state, answer nobody positively
      this.nodes.reload();
      this.counters.clear();
      return this.failGroup(batch, access, e instanceof Error ? e : new Error(String(e)));
    }
    const group: CommittedGroup = { batch, outcomes, access, accessResults: this.accessResults, startedAt, logSize: this.log.size };
    this.accessResults = [];
    if (this.opts.walSync === undefined) return this.answer(group);
    this.unsynced.push(group);
    this.syncCommitted();
  }

  /**
   * Group commit of the fsync: one fdatasync at a time covers every group committed before it
   * started; groups committed meanwhile wait for the next one. Nobody is answered before the
   * sync that covers their COMMIT has completed.
   */
  private syncCommitted(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const covered = this.unsynced;
    this.unsynced = [];
    this.syncing = covered;
    this.opts.walSync!.sync((err) => {
      this.syncing = undefined;
      if (err && !this.syncError) {
        // After a failed fdatasync the kernel may have dropped the dirty pages: what is committed
        // can no longer be trusted to be on disk, so nothing more is acknowledged (devices keep
        // their readings and resend to a restarted agent, whose store holds only what is durable).
        this.syncError = new AgentError('STORE_SYNC_FAILED', err.message, { cause: err });
      }
      if (this.syncError) {
        const failed = [...covered, ...this.unsynced];
        this.unsynced = [];
        for (const g of failed) this.failGroup(g.batch, g.access, this.syncError);
      } else {
        for (const g of covered) this.answer(g);
        this.syncCommitted();
      }
      this.notifyIfIdle();
    });
  }

  /** The group is durable: advance the durable size, record metrics, answer every item. */
  private answer(g: CommittedGroup): void {
    this.durableSize = g.logSize;
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

  /** Appends a leaf hash to the log; its log_leaves row (with `kind`) is the node store's level 0. */
  private appendLeaf(leafHash: Uint8Array, kind: LeafKind): number {
    this.nodes.nextLeafKind = kind;
    return this.log.appendLeafHash(leafHash).index;
  }

  /** Runs inside the transaction, after the records of the same batch. */
  private applyAccess(access: PendingAccess[]): Array<{ leafIndex: number; leafHash: Uint8Array }> {
    const now = this.opts.clock.now();
    return access.map((a) => {
      const lh = recordLeafHash(a.body);
      const index = this.appendLeaf(lh, LEAF_KIND_ACCESS);
      this.insertAccess(index, now, a.body);
      return { leafIndex: index, leafHash: lh };
    });
  }

  /** Runs inside the transaction. */
  private applyBatch(batch: IngestItem[]): IngestOutcome[] {
    const now = this.opts.clock.now();
    const seqInBatch = new Map<string, string>(); // device/seq -> recordId hex, stored by this batch
    const touched = new Set<string>();
    const outcomes: IngestOutcome[] = [];
    for (const item of batch) {
      const v = this.judge(item, now, seqInBatch);
      if (v.kind === 'quarantine') {
        this.opts.store.insertQuarantine(
          { receivedAt: now, source: item.source, deviceHint: v.device, reason: v.reason, payload: item.payload },
          this.opts.quarantineMaxRows,
        );
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
      const index = this.appendLeaf(lh, LEAF_KIND_RECORD);
      this.opts.store.insertRecord({
        recordId,
        leafIndex: index,
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
      seqInBatch.set(`${v.device}/${header.seq}`, hexOf(recordId));
      outcomes.push({ kind: 'stored', recordId, leafIndex: index, device: v.device, seq: header.seq });
    }
    for (const d of touched) this.opts.store.saveCounters(d, this.countersOf(d));
    return outcomes;
  }

  private judge(item: IngestItem, now: number, seqInBatch: Map<string, string>): Verdict {
    const deviceHint = item.linkDevice;
    if (item.payload.length > this.opts.maxEnvelopeBytes) return { kind: 'quarantine', reason: 'ENVELOPE_TOO_LARGE', device: deviceHint, seq: null };
    let view: EnvelopeHeaderView;
    try {
      view = this.opts.decode(item.payload, this.opts.maxEnvelopeBytes);
    } catch (e) {
      return { kind: 'quarantine', reason: isVitalsealError(e) ? e.code : 'ENVELOPE_BAD_STRUCTURE', device: deviceHint, seq: null };
    }
    const { dev, seq, ts } = view.header;
    if (deviceHint !== null && dev !== deviceHint) return { kind: 'quarantine', reason: 'AGENT_DEVICE_MISMATCH', device: deviceHint, seq };
    const idHex = hexOf(view.recordId);
    // The record id hashes bytes that contain dev and seq, so a duplicate is exactly "this (dev, seq) is
    // stored with this id"; the same (dev, seq) with another id is a replay. Every stored record of
    // `dev` has seq <= its maxSeq (both commit together): a higher seq needs no index lookup at all.
    const maxSeq = this.counters.get(dev)?.maxSeq ?? this.opts.store.getDevice(dev)?.maxSeq ?? null;
    const seqKey = `${dev}/${seq}`;
    const storedId = seqInBatch.get(seqKey) ?? (maxSeq !== null && seq <= maxSeq ? this.storedIdAt(dev, seq) : undefined);
    if (storedId === idHex) return { kind: 'duplicate', view, device: dev };
    const ticket = this.tickets.get(dev)?.get(hexOf(view.kid));
    if (!ticket) return { kind: 'quarantine', reason: 'AGENT_UNKNOWN_KID', device: dev, seq };
    const skew = this.opts.maxFutureSkewMs;
    if (ts > now + skew || ts < ticket.nbf * 1000 - skew || ts > ticket.exp * 1000 + skew) {
      return { kind: 'quarantine', reason: 'AGENT_TS_OUT_OF_RANGE', device: dev, seq };
    }
    if (storedId !== undefined) return { kind: 'quarantine', reason: 'AGENT_SEQ_REPLAY', device: dev, seq };
    return { kind: 'store', view, device: dev };
  }

  private storedIdAt(device: string, seq: number): string | undefined {
    const id = this.opts.store.recordIdAtSeq(device, seq);
    return id ? hexOf(id) : undefined;
  }

  private countersOf(device: string, now?: number): DeviceCounters {
    let c = this.counters.get(device);
    if (c) return c;
    if (now !== undefined) this.opts.store.ensureDevice(device, now);
    const row = this.opts.store.getDevice(device);
    c = row
      ? { maxSeq: row.maxSeq, received: row.received, duplicates: row.duplicates, gaps: row.gaps, reorders: row.reorders, quarantined: row.quarantined, lastSeen: row.lastSeen }
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

/** Hex of bytes via Buffer (native; this is on the per-reading path). */
function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
