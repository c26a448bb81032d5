import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../protocol/bytes.ts';
import { decodeEnvelope } from '../../protocol/envelope/index.ts';
import type { Scheduler } from '../time/scheduler.ts';
import { SimError } from '../errors.ts';
import type { DeviceLink, DeviceStatus, LinkEvents } from './link.ts';

/** What the in-process hub holds for one device. */
export interface LoopbackDeviceRecord {
  /** Stored envelopes by seq (first copy wins, like the agent's dedup by record id). */
  readonly stored: Map<number, Uint8Array>;
  readonly recordIds: Set<string>;
  duplicates: number;
  /** Same seq, different bytes (the agent would quarantine it as AGENT_SEQ_REPLAY). */
  seqReplays: number;
  /** Not a decodable envelope (the agent would quarantine it). */
  malformed: number;
  readonly statuses: DeviceStatus[];
  ticket?: Uint8Array;
  connected: boolean;
}

/**
 * An in-process stand-in for the edge agent: stores envelopes (dedup by SHA-256 of the
 * bytes, as the agent does), acknowledges after `ackDelayMs` on the simulator's scheduler,
 * hands out tickets. For unit tests and for measuring the fleet runner without a network.
 */
export class LoopbackHub {
  readonly devices = new Map<string, LoopbackDeviceRecord>();
  private readonly links = new Map<string, LoopbackLink>();
  /** Set false to make every open() fail (a broker outage). */
  available = true;

  constructor(
    readonly scheduler: Scheduler,
    readonly ackDelayMs = 0,
  ) {}

  device(dev: string): LoopbackDeviceRecord {
    let d = this.devices.get(dev);
    if (!d)
      this.devices.set(
        dev,
        (d = { stored: new Map(), recordIds: new Set(), duplicates: 0, seqReplays: 0, malformed: 0, statuses: [], connected: false }),
      );
    return d;
  }

  /** Publishes a ticket (retained: delivered now if connected, and on every connect). */
  pushTicket(dev: string, ticket: Uint8Array): void {
    this.device(dev).ticket = ticket;
    this.links.get(dev)?.deliverTicket();
  }

  link(dev: string, events: LinkEvents): LoopbackLink {
    const l = new LoopbackLink(this, dev, events);
    this.links.set(dev, l);
    return l;
  }

  /** Drops a device's connection as a broker would (e.g. on restart). */
  disconnect(dev: string): void {
    this.links.get(dev)?.drop('broker closed the connection');
  }

  /** @internal */
  receive(dev: string, envelope: Uint8Array): void {
    const d = this.device(dev);
    let seq: number;
    try {
      seq = decodeEnvelope(envelope).header.seq;
    } catch {
      d.malformed++;
      return;
    }
    const id = toHex(sha256(envelope));
    if (d.recordIds.has(id)) d.duplicates++;
    else if (d.stored.has(seq)) d.seqReplays++;
    else {
      d.recordIds.add(id);
      d.stored.set(seq, envelope);
    }
  }
}

export class LoopbackLink implements DeviceLink {
  readonly kind = 'loopback';
  readonly inProcess = true;
  readonly dropsCorruptCopies = false;
  private up = false;
  private generation = 0;

  constructor(
    private readonly hub: LoopbackHub,
    private readonly dev: string,
    private readonly events: LinkEvents,
  ) {}

  get isUp(): boolean {
    return this.up;
  }

  async open(): Promise<void> {
    if (!this.hub.available) throw new SimError('SIM_LINK_DOWN', 'hub unavailable');
    this.up = true;
    this.generation++;
    this.hub.device(this.dev).connected = true;
    this.deliverTicket();
  }

  deliverTicket(): void {
    const t = this.hub.device(this.dev).ticket;
    if (!t || !this.up) return;
    const gen = this.generation;
    this.hub.scheduler.after(0, () => {
      if (gen === this.generation && this.up) this.events.onTicket(t);
    });
  }

  drop(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.generation++;
    this.hub.device(this.dev).connected = false;
    this.events.onDown(reason);
  }

  async close(): Promise<void> {
    this.up = false;
    this.generation++;
    this.hub.device(this.dev).connected = false;
  }

  sendReading(seq: number, envelope: Uint8Array, corruptAt?: number): number {
    if (!this.up) return 0;
    const bytes = envelope.slice();
    if (corruptAt !== undefined) {
      const i = bytes.length - 16 + Math.floor(corruptAt * 16);
      bytes[i] = bytes[i]! ^ 0x5a;
    }
    const gen = this.generation;
    this.hub.receive(this.dev, bytes);
    this.hub.scheduler.after(this.hub.ackDelayMs, () => {
      if (gen === this.generation && this.up) this.events.onAck(seq);
    });
    return bytes.length;
  }

  sendStatus(status: DeviceStatus): void {
    if (this.up) this.hub.device(this.dev).statuses.push(status);
  }
}
