/**
 * Everything the kit observed from the device during a run, in order, bounded: at most
 * `maxEvents` events and `maxReadingBytes` bytes of envelopes are kept; older ones are dropped
 * (counted) so a flooding device cannot exhaust the kit's memory. Each event has a run-wide number
 * `n`, so a case can ask for "what came after my mark" whatever was dropped.
 */
import type { ArrivalInfo, InspectedReading, ParsedStatus } from './intake.ts';

/** What the device's MQTT CONNECT said (§9.2). */
export interface ConnectInfo {
  readonly clientId: string;
  readonly username?: string;
  readonly passwordMatches?: boolean;
  readonly protocolVersion?: number;
  readonly clean?: boolean;
  readonly keepalive?: number;
  readonly will?: { readonly topic: string; readonly payload: Uint8Array; readonly qos: number; readonly retain: boolean };
  /** The TLS connection it came over (§9.8), when the kit's broker listens over TLS. */
  readonly tls?: TlsConnectInfo;
}

/** A TLS connection to the kit's broker: negotiated version and cipher, the client certificate (mutual TLS). */
export interface TlsConnectInfo {
  /** 'TLSv1.2', 'TLSv1.3'. */
  readonly protocol: string;
  readonly cipher: string;
  /** The device presented a client certificate. */
  readonly clientCert: boolean;
  /** It chains to the CA the kit trusts. */
  readonly authorized: boolean;
  readonly clientCn?: string;
  /** Its CN or SAN URI urn:vitalseal:device:<id> names the device under test. */
  readonly namesDevice: boolean;
}

export type ObservedEvent =
  | { readonly kind: 'reading'; readonly reading: InspectedReading }
  | { readonly kind: 'status'; readonly status: ParsedStatus; readonly raw: Uint8Array; readonly arrival: ArrivalInfo }
  /** A serial frame the kit's decoder dropped (FRAME_* code). */
  | { readonly kind: 'bad-frame'; readonly code: string }
  /** A well-formed serial frame of a type a device never sends (ticket, ack, error). */
  | { readonly kind: 'unexpected-frame'; readonly type: number; readonly size: number }
  | { readonly kind: 'connect'; readonly connect: ConnectInfo; readonly accepted: boolean; readonly refusal?: string }
  | { readonly kind: 'disconnect'; readonly reason: string }
  | { readonly kind: 'subscribe'; readonly topic: string; readonly qos: number; readonly granted: boolean }
  /** An MQTT publish to a topic that is neither the device's reading nor its status topic. */
  | { readonly kind: 'publish'; readonly topic: string; readonly qos: number; readonly retain: boolean; readonly size: number }
  /** The broker published the device's last will (connection lost without DISCONNECT). */
  | { readonly kind: 'will'; readonly topic: string; readonly payload: Uint8Array }
  /** A TLS handshake with the kit's broker failed (the device refused the kit's certificate, or the kit the device's). */
  | { readonly kind: 'tls-error'; readonly reason: string }
  /** The kit's own link actions (port closed/reopened, connection closed). */
  | { readonly kind: 'kit'; readonly action: string };

export type Observation = ObservedEvent & { readonly n: number; readonly at: number };

export interface ObservationLimits {
  readonly maxEvents?: number;
  readonly maxReadingBytes?: number;
}

export class Observations {
  private readonly events: Observation[] = [];
  private next = 0;
  private readingBytes = 0;
  /** Events dropped to keep within the limits. */
  dropped = 0;
  private readonly listeners = new Set<() => void>();
  private readonly maxEvents: number;
  private readonly maxReadingBytes: number;

  constructor(
    private readonly now: () => number,
    limits: ObservationLimits = {},
  ) {
    this.maxEvents = limits.maxEvents ?? 20_000;
    this.maxReadingBytes = limits.maxReadingBytes ?? 32 * 1024 * 1024;
  }

  /** The number the next event will get: a mark for `since`. */
  get mark(): number {
    return this.next;
  }

  get size(): number {
    return this.events.length;
  }

  add(e: ObservedEvent): Observation {
    const o = { ...e, n: this.next++, at: this.now() } as Observation;
    this.events.push(o);
    if (o.kind === 'reading') this.readingBytes += o.reading.bytes.length;
    while (this.events.length > this.maxEvents || this.readingBytes > this.maxReadingBytes) {
      const old = this.events.shift()!;
      if (old.kind === 'reading') this.readingBytes -= old.reading.bytes.length;
      this.dropped++;
    }
    for (const l of [...this.listeners]) l();
    return o;
  }

  /** Events numbered `mark` or later that are still kept. */
  since(mark = 0): Observation[] {
    if (this.events.length === 0 || mark <= this.events[0]!.n) return [...this.events];
    const first = this.events[0]!.n;
    return this.events.slice(mark - first);
  }

  readings(mark = 0): InspectedReading[] {
    const out: InspectedReading[] = [];
    for (const e of this.since(mark)) if (e.kind === 'reading') out.push(e.reading);
    return out;
  }

  statuses(mark = 0): Array<Observation & { kind: 'status' }> {
    return this.since(mark).filter((e): e is Observation & { kind: 'status' } => e.kind === 'status');
  }

  /** Calls `fn` after every added event until the returned function is called. */
  listen(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
