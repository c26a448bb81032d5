import { MerkleLog } from '../../protocol/merkle/log.ts';
import { isVitalsealError } from '../../protocol/errors.ts';
import { createHash } from 'node:crypto';
import type { Clock } from '../../protocol/rng.ts';
import { AgentError } from '../errors.ts';
import type { AgentStore, DeviceCounters } from '../store/agentStore.ts';
import { SqliteNodeStore } from '../store/sqliteNodeStore.ts';
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

const LEAF_KIND_RECORD = 1;
const LEAF_KIND_ACCESS = 2;

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
  private readonly opts: Required<Omit<IngestorOptions, 'observer'>> & { observer: IngestObserver };
  private readonly commitBatch: (batch: IngestItem[], access: PendingAccess[]) => IngestOutcome[];
  private accessResults: Array<{ leafIndex: number; leafHash: Uint8Array }> = [];
  private idle: Array<() => void> = [];
  private readonly commitListeners: Array<(logSize: number) => void> = [];

  constructor(opts: IngestorOptions) {
    this.opts = { maxBatch: 4096, observer: {}, ...opts };
    this.nodes = new SqliteNodeStore(opts.store.db);
    this.log = new MerkleLog(this.nodes);
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

  get pending(): number {
    return this.queue.length + this.accessQueue.length;
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
    const waiters = this.idle;
    this.idle = [];
    for (const w of waiters) w();
  }

  /** Stops accepting and resolves once every queued item is committed and answered. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length === 0 && this.accessQueue.length === 0 && !this.scheduled) return;
    await new Promise<void>((resolve) => {
      this.idle.push(resolve);
      if (!this.scheduled) this.flush();
    });
  }

  private commit(batch: IngestItem[], access: PendingAccess[] = []): void {
    const t0 = performance.now();
    let outcomes: IngestOutcome[];
    try {
      outcomes = this.commitBatch(batch, access);
    } catch (e) {
      // the transaction rolled back: forget cached state, answer nobody positively
      this.nodes.reload();
      this.counters.clear();
      const error = e instanceof Error ? e : new Error(String(e));
      this.opts.observer.onCommitFailed?.(error, batch.length);
      for (const item of batch) item.done({ kind: 'failed', error });
      for (const a of access) a.reject(error);
      return;
    }
    const accessResults = this.accessResults;
    this.accessResults = [];
    const seconds = (performance.now() - t0) / 1000;
    this.opts.observer.onCommit?.(batch.length, seconds, this.log.size);
    for (const l of this.commitListeners) l(this.log.size);
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      const outcome = outcomes[i]!;
      this.opts.observer.onOutcome?.(outcome, item.source);
      item.done(outcome);
    }
    for (let i = 0; i < access.length; i++) access[i]!.resolve(accessResults[i]!);
  }

  /** Runs inside the transaction, after the records of the same batch. */
  private applyAccess(access: PendingAccess[]): Array<{ leafIndex: number; leafHash: Uint8Array }> {
    const now = this.opts.clock.now();
    return access.map((a) => {
      const lh = recordLeafHash(a.body);
      const { index } = this.log.appendLeafHash(lh);
      this.opts.store.insertLeaf(index, lh, LEAF_KIND_ACCESS);
      this.insertAccess(index, now, a.body);
      return { leafIndex: index, leafHash: lh };
    });
  }

  /** Runs inside the transaction. */
  private applyBatch(batch: IngestItem[]): IngestOutcome[] {
    const now = this.opts.clock.now();
    const seenInBatch = new Map<string, string>(); // recordId hex -> device
    const seqInBatch = new Map<string, string>(); // device/seq -> recordId hex
    const touched = new Set<string>();
    const outcomes: IngestOutcome[] = [];
    for (const item of batch) {
      const v = this.judge(item, now, seenInBatch, seqInBatch);
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
      const { index } = this.log.appendLeafHash(lh);
      this.opts.store.insertLeaf(index, lh, LEAF_KIND_RECORD);
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
      seenInBatch.set(hexOf(recordId), v.device);
      seqInBatch.set(`${v.device}/${header.seq}`, hexOf(recordId));
      outcomes.push({ kind: 'stored', recordId, leafIndex: index, device: v.device, seq: header.seq });
    }
    for (const d of touched) this.opts.store.saveCounters(d, this.countersOf(d));
    return outcomes;
  }

  private judge(item: IngestItem, now: number, seenInBatch: Map<string, string>, seqInBatch: Map<string, string>): Verdict {
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
    // Every stored record of `dev` has seq <= its maxSeq (both commit together): a higher seq can be
    // neither a duplicate nor a replay, so the common path skips both index lookups.
    const maxSeq = this.counters.get(dev)?.maxSeq ?? this.opts.store.getDevice(dev)?.maxSeq ?? null;
    const mayBeStored = maxSeq !== null && seq <= maxSeq;
    if (seenInBatch.has(idHex) || (mayBeStored && this.opts.store.hasRecord(view.recordId))) return { kind: 'duplicate', view, device: dev };
    const ticket = this.tickets.get(dev)?.get(hexOf(view.kid));
    if (!ticket) return { kind: 'quarantine', reason: 'AGENT_UNKNOWN_KID', device: dev, seq };
    const skew = this.opts.maxFutureSkewMs;
    if (ts > now + skew || ts < ticket.nbf * 1000 - skew || ts > ticket.exp * 1000 + skew) {
      return { kind: 'quarantine', reason: 'AGENT_TS_OUT_OF_RANGE', device: dev, seq };
    }
    const otherInBatch = seqInBatch.get(`${dev}/${seq}`);
    const other = otherInBatch ?? (() => {
      const id = mayBeStored ? this.opts.store.recordIdAtSeq(dev, seq) : undefined;
      return id ? hexOf(id) : undefined;
    })();
    if (other !== undefined && other !== idHex) return { kind: 'quarantine', reason: 'AGENT_SEQ_REPLAY', device: dev, seq };
    return { kind: 'store', view, device: dev };
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

const LEAF_PREFIX = Buffer.from([0x00]);

/**
 * RFC 6962 leaf hash SHA-256(0x00 ‖ envelope) with node:crypto (the agent's hot path; protocol/merkle's
 * `leafHash` computes the same bytes in pure JS, which the tests cross-check).
 */
export function recordLeafHash(envelope: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(envelope).digest());
}
