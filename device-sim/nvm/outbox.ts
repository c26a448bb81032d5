import type { FirmwareBugName } from '../firmware/bugs.ts';
import type { LogRecord } from './logRecord.ts';
import type { NvmStorage } from './storage.ts';

/** What happens when the ring is full and a reading is due. */
export type OutboxPolicy = 'drop-oldest' | 'stop-measuring';
export const OUTBOX_POLICIES: readonly OutboxPolicy[] = ['drop-oldest', 'stop-measuring'];

export interface OutboxEntry {
  readonly seq: number;
  readonly ts: number;
  readonly envelope: Uint8Array;
  /** Transmissions so far (0: never sent). RAM only. */
  attempts: number;
  /** Sent and not yet acknowledged on the current link. RAM only. */
  inflight: boolean;
}

export interface DroppedReading {
  readonly seq: number;
  /** It had been transmitted at least once before it was dropped (the agent may still have it). */
  readonly wasSent: boolean;
}

export interface OutboxRestore {
  /** Highest seq ever sealed (−1: none): the next seq is maxSeq + 1, so seq never repeats. */
  readonly maxSeq: number;
  readonly pending: number;
  readonly tornBytes: number;
  /** Readings dropped by policy over the device's whole life. */
  readonly droppedTotal: number;
}

/**
 * The bounded outbox ring of sealed, unacknowledged readings, backed by the NVM log.
 * A sealed reading is written (and fsynced) before its first transmission; on boot the
 * log is replayed, so unacknowledged readings survive a reboot or a kill -9 and are
 * resent in seq order. When full: `drop-oldest` drops the oldest reading not in flight
 * (logged and counted), `stop-measuring` makes `hasRoom()` false so the firmware skips
 * the measurement (counted by the firmware).
 */
export class Outbox {
  private readonly entries = new Map<number, OutboxEntry>();
  private maxSeqValue = -1;
  private droppedTotalValue = 0;
  private recordsSinceCompaction = 0;

  constructor(
    private readonly storage: NvmStorage,
    readonly capacity: number,
    readonly policy: OutboxPolicy,
    /** A broken firmware variant (firmware/bugs.ts; tests only). */
    private readonly bug?: FirmwareBugName,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('outbox capacity must be a positive integer');
  }

  /** Rebuilds the ring from the log (boot). */
  restore(): OutboxRestore {
    this.entries.clear();
    const { records, tornBytes } = this.storage.readLog();
    for (const r of records) {
      switch (r.t) {
        case 'checkpoint':
          this.maxSeqValue = Math.max(this.maxSeqValue, r.maxSeq);
          this.droppedTotalValue = r.dropped;
          break;
        case 'sealed':
          this.maxSeqValue = Math.max(this.maxSeqValue, r.seq);
          this.entries.set(r.seq, { seq: r.seq, ts: r.ts, envelope: r.envelope, attempts: 0, inflight: false });
          break;
        case 'dropped':
          if (this.entries.delete(r.seq)) this.droppedTotalValue++;
          break;
        case 'acked':
        case 'rejected':
          this.entries.delete(r.seq);
          break;
      }
    }
    // a crash between "sealed" and a later ring trim can leave more than capacity: keep the order, trim nothing silently
    this.recordsSinceCompaction = records.length;
    this.compactIfNeeded();
    return { maxSeq: this.maxSeqValue, pending: this.entries.size, tornBytes, droppedTotal: this.droppedTotalValue };
  }

  get size(): number {
    return this.entries.size;
  }

  get maxSeq(): number {
    return this.maxSeqValue;
  }

  get droppedTotal(): number {
    return this.droppedTotalValue;
  }

  /** Room for one more reading, after applying the policy (drop-oldest always makes room unless everything is in flight). */
  hasRoom(): boolean {
    if (this.entries.size < this.capacity) return true;
    return this.policy === 'drop-oldest' && this.oldestDroppable() !== undefined;
  }

  /**
   * Adds a freshly sealed reading (durable before returning). With drop-oldest and a full
   * ring, the oldest reading not in flight is dropped first and returned.
   */
  add(seq: number, ts: number, envelope: Uint8Array): DroppedReading | undefined {
    // firmware-bug hook: a seq counter that restarts after a reboot writes over its own history
    if (seq <= this.maxSeqValue && this.bug !== 'seq-reuse-after-reboot') throw new RangeError('seq must grow');
    let dropped: DroppedReading | undefined;
    const records: LogRecord[] = [];
    if (this.entries.size >= this.capacity) {
      const victim = this.policy === 'drop-oldest' ? this.oldestDroppable() : undefined;
      if (victim === undefined) throw new RangeError('outbox is full');
      this.entries.delete(victim.seq);
      this.droppedTotalValue++;
      dropped = { seq: victim.seq, wasSent: victim.attempts > 0 };
      records.push({ t: 'dropped', seq: victim.seq });
    }
    records.push({ t: 'sealed', seq, ts, envelope });
    this.storage.append(records, true);
    this.recordsSinceCompaction += records.length;
    this.maxSeqValue = Math.max(this.maxSeqValue, seq);
    this.entries.set(seq, { seq, ts, envelope, attempts: 0, inflight: false });
    this.compactIfNeeded();
    return dropped;
  }

  /**
   * Firmware-bug hook `skip-outbox-replay`: forgets (in RAM only) the readings restored at boot,
   * so they are never resent. Returns how many.
   */
  skipReplay(): number {
    const n = this.entries.size;
    this.entries.clear();
    return n;
  }

  get(seq: number): OutboxEntry | undefined {
    return this.entries.get(seq);
  }

  /** The agent committed `seq`: remove it. Returns the entry (undefined: not pending, e.g. a duplicate ack). */
  ack(seq: number): OutboxEntry | undefined {
    return this.remove(seq, 'acked');
  }

  /** The agent stored `seq` in quarantine (serial error frame): remove it, it must not be resent. */
  reject(seq: number): OutboxEntry | undefined {
    return this.remove(seq, 'rejected');
  }

  /** The oldest reading not in flight: the next to (re)send. */
  nextToSend(): OutboxEntry | undefined {
    for (const e of this.entries.values()) if (!e.inflight) return e;
    return undefined;
  }

  /** After a link loss: nothing is in flight any more. */
  clearInflight(): number {
    let n = 0;
    for (const e of this.entries.values()) {
      if (e.inflight) n++;
      e.inflight = false;
    }
    return n;
  }

  inflightCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.inflight) n++;
    return n;
  }

  pendingSeqs(): number[] {
    return [...this.entries.keys()];
  }

  private oldestDroppable(): OutboxEntry | undefined {
    for (const e of this.entries.values()) if (!e.inflight) return e;
    return undefined;
  }

  private remove(seq: number, t: 'acked' | 'rejected'): OutboxEntry | undefined {
    const e = this.entries.get(seq);
    if (e === undefined) return undefined;
    this.entries.delete(seq);
    // firmware-bug hook `replay-acked`: the acknowledgement stays in RAM, the log still says "sealed"
    if (t === 'acked' && this.bug === 'replay-acked') return e;
    this.storage.append([{ t, seq }], false);
    this.recordsSinceCompaction++;
    this.compactIfNeeded();
    return e;
  }

  /** Rewrites the log as checkpoint + pending readings once it holds far more than the ring. */
  private compactIfNeeded(): void {
    if (this.recordsSinceCompaction < 4 * this.capacity + 64) return;
    const records: LogRecord[] = [{ t: 'checkpoint', maxSeq: this.maxSeqValue, dropped: this.droppedTotalValue }];
    for (const e of this.entries.values()) records.push({ t: 'sealed', seq: e.seq, ts: e.ts, envelope: e.envelope });
    this.storage.rewriteLog(records);
    this.recordsSinceCompaction = records.length;
  }
}
