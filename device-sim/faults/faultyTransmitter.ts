import type { DeviceStats } from '../report/deviceStats.ts';
import type { DeviceLink } from '../transport/link.ts';
import { transmitFault, type FaultRates } from './faultPlan.ts';

export interface FaultyTransmitterOptions {
  readonly rates: FaultRates;
  readonly seed: string;
  readonly device: string;
  /** A timer bound to the current boot (cancelled by a reboot). */
  readonly after: (ms: number, fn: () => void) => void;
  readonly stats: DeviceStats;
  /** The current link (undefined: none). */
  readonly link: () => DeviceLink | undefined;
  /** A reordered message goes out after the next one, or after this long at most. */
  readonly holdMs?: number;
  /** Called for every copy put on the wire. */
  readonly onWire?: (seq: number) => void;
}

/**
 * The unreliable part of the link, between the firmware and the real transport: applies
 * the seeded per-transmission fault (drop, duplicate, corrupt, reorder, delay) and counts
 * it. `transmit` returns whether a copy went on the wire at once (for virtual-time idle
 * detection: a dropped, held or delayed message is not awaiting the network).
 */
export class FaultyTransmitter {
  private held: { seq: number; envelope: Uint8Array; release: number } | undefined;
  private holdCounter = 0;

  constructor(private readonly o: FaultyTransmitterOptions) {}

  transmit(seq: number, attemptKey: number, envelope: Uint8Array): boolean {
    const fault = transmitFault(this.o.rates, this.o.seed, this.o.device, seq, attemptKey);
    const f = this.o.stats.faults;
    switch (fault.kind) {
      case 'none':
        return this.wireThenRelease(seq, envelope);
      case 'drop':
        f.drop++;
        return false;
      case 'duplicate': {
        f.duplicate++;
        const sent = this.wire(seq, envelope);
        this.wire(seq, envelope);
        this.releaseHeld();
        return sent;
      }
      case 'corrupt': {
        f.corrupt++;
        const link = this.o.link();
        const sent = this.wireThenRelease(seq, envelope, fault.at);
        if (link?.isUp) this.o.stats.corruptedSeqs.push(seq);
        return sent;
      }
      case 'reorder': {
        f.reorder++;
        if (this.held) {
          // already holding one: this one overtakes it
          const sent = this.wire(seq, envelope);
          this.releaseHeld();
          return sent;
        }
        const release = ++this.holdCounter;
        this.held = { seq, envelope, release };
        this.o.after(this.o.holdMs ?? 200, () => {
          if (this.held?.release === release) this.releaseHeld();
        });
        return false;
      }
      case 'delay':
        f.delay++;
        this.o.after(fault.ms, () => this.wire(seq, envelope));
        return false;
    }
  }

  /** Forgets a held message (the link went down or the device rebooted). */
  reset(): void {
    this.held = undefined;
  }

  private wireThenRelease(seq: number, envelope: Uint8Array, corruptAt?: number): boolean {
    const sent = this.wire(seq, envelope, corruptAt);
    this.releaseHeld();
    return sent;
  }

  private releaseHeld(): void {
    const h = this.held;
    this.held = undefined;
    if (h) this.wire(h.seq, h.envelope);
  }

  private wire(seq: number, envelope: Uint8Array, corruptAt?: number): boolean {
    const link = this.o.link();
    if (!link?.isUp) return false;
    const bytes = link.sendReading(seq, envelope, corruptAt);
    this.o.stats.bytesSent += bytes;
    // a copy the link will eat (corrupted serial frame) is not awaiting an answer
    const awaiting = bytes > 0 && (corruptAt === undefined || !link.dropsCorruptCopies);
    if (awaiting) this.o.onWire?.(seq);
    return awaiting;
  }
}
