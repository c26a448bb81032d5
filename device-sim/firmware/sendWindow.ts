import type { FaultyTransmitter } from '../faults/faultyTransmitter.ts';
import type { Outbox } from '../nvm/outbox.ts';
import type { FirmwareBugName } from './bugs.ts';
import type { DeviceStats } from '../report/deviceStats.ts';
import type { Scheduler, TimerHandle } from '../time/scheduler.ts';
import type { DeviceLink } from '../transport/link.ts';

/** Shared by a fleet: how many things its devices are waiting on from the network. */
export interface NetworkGauge {
  awaiting: number;
}

interface Inflight {
  readonly attempt: number;
  readonly timer: TimerHandle;
  /** A copy of this attempt is on the wire (not dropped, held or delayed by a fault). */
  onWire: boolean;
}

/** What the send window needs from its device (read at call time: they change at every boot). */
export interface SendWindowHost {
  readonly stats: DeviceStats;
  outbox(): Outbox | undefined;
  transmitter(): FaultyTransmitter | undefined;
  link(): DeviceLink | undefined;
  linkUp(): boolean;
  bootCount(): number;
  /** A timer of the current boot (ignored after a reboot), tracked in `timers`. */
  after(ms: number, fn: () => void, timers?: Scheduler): TimerHandle;
  readonly timers: Set<TimerHandle>;
}

export interface SendWindowOptions {
  /** Readings in flight at once. */
  readonly window: number;
  /** Resend a reading not acknowledged after this long. */
  readonly ackTimeoutMs: number;
  /** Real monotonic ms, for latency. */
  readonly monotonic: () => number;
  /** Timers for acknowledgement timeouts (default: the host's scheduler). */
  readonly ackTimers: Scheduler | undefined;
  readonly network: NetworkGauge | undefined;
  /** A broken firmware variant (firmware/bugs.ts; tests only). */
  readonly bug?: FirmwareBugName | undefined;
}

/**
 * The send window of one device: sends the outbox in seq order with at most `window`
 * readings in flight, resends a reading not acknowledged in `ackTimeoutMs`, settles
 * acknowledgements and rejections, and records latency from the first transmission.
 */
export class SendWindow {
  private readonly inflight = new Map<number, Inflight>();
  /** seq → monotonic ms of its first transmission in this run (cleared when acknowledged). */
  private readonly firstSent = new Map<number, number>();

  constructor(
    private readonly o: SendWindowOptions,
    private readonly host: SendWindowHost,
  ) {}

  /** A transmitted reading is not yet acknowledged and a copy of it is on the wire. */
  get onWire(): boolean {
    for (const f of this.inflight.values()) if (f.onWire) return true;
    return false;
  }

  /** Sends the outbox in seq order while the window has room. */
  pump(): void {
    if (!this.host.linkUp()) return;
    const outbox = this.host.outbox()!;
    while (this.inflight.size < this.o.window) {
      const e = outbox.nextToSend();
      if (!e) break;
      this.transmit(e.seq, e.envelope, e);
    }
  }

  private transmit(seq: number, envelope: Uint8Array, entry: { attempts: number; inflight: boolean }): void {
    const stats = this.host.stats;
    const attempt = entry.attempts++;
    entry.inflight = true;
    if (this.firstSent.has(seq)) stats.retried++;
    else {
      stats.sent++;
      this.firstSent.set(seq, this.o.monotonic());
    }
    stats.transmissions++;
    const timer = this.host.after(this.o.ackTimeoutMs, () => this.onAckTimeout(seq, attempt), this.o.ackTimers);
    const record: Inflight = { attempt, timer, onWire: false };
    this.inflight.set(seq, record);
    const bootKey = this.host.bootCount() * 1_000_000 + attempt;
    // firmware-bug hook `resend-different-bytes`: a resend without the envelope's tag 16 (0xd0)
    const bytes = attempt > 0 && this.o.bug === 'resend-different-bytes' && envelope[0] === 0xd0 ? envelope.subarray(1) : envelope;
    if (this.host.transmitter()!.transmit(seq, bootKey, bytes)) this.markRecordOnWire(record);
  }

  /** The transmitter put a (held or delayed) copy of `seq` on the wire. */
  markOnWire(seq: number): void {
    const f = this.inflight.get(seq);
    if (f) this.markRecordOnWire(f);
  }

  private markRecordOnWire(record: Inflight): void {
    if (record.onWire) return;
    record.onWire = true;
    if (this.o.network && !this.host.link()?.inProcess) this.o.network.awaiting++;
  }

  /** Forgets an in-flight record (acknowledged, timed out, link lost). */
  private dropInflight(seq: number, record: Inflight): void {
    record.timer.cancel();
    this.host.timers.delete(record.timer);
    this.inflight.delete(seq);
    if (record.onWire && this.o.network && !this.host.link()?.inProcess) this.o.network.awaiting--;
  }

  /** Forgets everything in flight (link lost, power down). */
  clear(): void {
    for (const [seq, record] of [...this.inflight]) this.dropInflight(seq, record);
    this.host.outbox()?.clearInflight();
  }

  /** The outbox dropped `seq` (full, drop-oldest): no latency will be measured for it. */
  forget(seq: number): void {
    this.firstSent.delete(seq);
  }

  private onAckTimeout(seq: number, attempt: number): void {
    const f = this.inflight.get(seq);
    if (!f || f.attempt !== attempt) return;
    this.dropInflight(seq, f);
    const e = this.host.outbox()?.get(seq);
    if (e) e.inflight = false;
    this.host.stats.ackTimeouts++;
    this.pump();
  }

  private settle(seq: number): void {
    const f = this.inflight.get(seq);
    if (f) this.dropInflight(seq, f);
  }

  onAck(seq: number): void {
    const stats = this.host.stats;
    stats.acks++;
    const entry = this.host.outbox()?.ack(seq);
    this.settle(seq);
    if (entry) {
      stats.acknowledged++;
      stats.sequence.add(seq);
      const first = this.firstSent.get(seq);
      if (first !== undefined) stats.latency.add(this.o.monotonic() - first);
      this.firstSent.delete(seq);
    } else {
      stats.duplicateAcks++;
    }
    this.pump();
  }

  onRejected(seq: number | undefined, code: string): void {
    const stats = this.host.stats;
    stats.rejected[code] = (stats.rejected[code] ?? 0) + 1;
    if (seq !== undefined) {
      this.host.outbox()?.reject(seq);
      this.settle(seq);
      this.firstSent.delete(seq);
    }
    this.pump();
  }
}
