import { bytesEqual } from '../../protocol/bytes.ts';
import { isAuthMode } from '../../protocol/envelope/header.ts';
import { isVitalsealError } from '../../protocol/errors.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import type { AgentStore, DeviceCounters } from '../store/agentStore.ts';
import type { EnvelopeDecoder, EnvelopeHeaderView, IngestItem } from './types.ts';

export interface KnownTicket {
  nbf: number;
  exp: number;
  patient: string;
  /** The signed ticket itself, when known: a v2 ticket certifies the device's identity key (docs/PROTOCOL.md §7.1). */
  ticket?: Uint8Array;
}

/** What the validator keeps of a ticket: its window, its patient, and whether its device seals in HPKE Auth mode. */
interface TicketWindow {
  nbf: number;
  exp: number;
  patient: string;
  /** The ticket certifies a device identity key: a base-mode reading under it is not from the device. */
  authOnly: boolean;
  /** That identity key (hex), to refuse readings under it once it is revoked. */
  idk: string | undefined;
}

/** A device's tickets by kid (hex), and the one its last reading named (a device seals with one ticket at a time). */
interface DeviceTickets {
  byKid: Map<string, TicketWindow>;
  lastKid: Uint8Array | undefined;
  last: TicketWindow | undefined;
}

export type Verdict =
  | { kind: 'store'; view: EnvelopeHeaderView; device: string; seqKey: string }
  | { kind: 'duplicate'; view: EnvelopeHeaderView; device: string }
  | { kind: 'quarantine'; reason: string; device: string | null; seq: number | null };

export interface ReadingValidatorOptions {
  /** Device rows and dedup lookups (on the event loop's connection). */
  readonly store: AgentStore;
  readonly decode: EnvelopeDecoder;
  readonly maxEnvelopeBytes: number;
  readonly maxFutureSkewMs: number;
  /** A seq more than this above the device's highest is quarantined (AGENT_SEQ_JUMP). */
  readonly maxSeqJump: number;
  /** ingest.requireAuthMode: every base-mode reading is quarantined (AGENT_BASE_MODE_REFUSED), not only those under a v2 ticket. */
  readonly requireAuthMode?: boolean;
  /** The ingestor's counters cache (as the groups built so far leave them): read, never written here. */
  readonly counters: ReadonlyMap<string, DeviceCounters>;
  /** device/seq -> record id of every record in a group in flight (the ingestor's): read only. */
  readonly inFlightSeq: ReadonlyMap<string, Uint8Array>;
}

/**
 * The per-reading checks of the ingest path, in order: revoked link device, size, decode, device
 * binding (the link's device = the envelope's), revoked envelope device, duplicate, kid/ticket
 * known, HPKE Auth mode where required (ingest.requireAuthMode, or a ticket that certifies the
 * device's identity key), ts within the ticket's window and the future skew, replay, seq jump. Judged against the
 * state the ingestor's groups in flight will leave (its counters cache and `inFlightSeq`); the
 * group commit that acts on the verdict is in ingestor.ts.
 */
export class ReadingValidator {
  private readonly tickets = new Map<string, DeviceTickets>();
  /** Devices the operator revoked: every reading of theirs judged from then on is quarantined (AGENT_DEVICE_REVOKED). */
  private readonly revoked = new Set<string>();
  /** Device identity keys (hex) the operator revoked: readings under a ticket that carries one are quarantined (AGENT_IDENTITY_REVOKED). */
  private readonly revokedIdentityKeys = new Set<string>();

  private readonly counters: ReadonlyMap<string, DeviceCounters>;
  private readonly inFlightSeq: ReadonlyMap<string, Uint8Array>;

  constructor(private readonly o: ReadingValidatorOptions) {
    this.counters = o.counters;
    this.inFlightSeq = o.inFlightSeq;
  }

  revoke(device: string): void {
    this.revoked.add(device);
  }

  reinstate(device: string): void {
    this.revoked.delete(device);
  }

  isRevoked(device: string): boolean {
    return this.revoked.has(device);
  }

  revokeIdentityKey(idk: Uint8Array): void {
    this.revokedIdentityKeys.add(hexOf(idk));
  }

  rememberTicket(device: string, kid: Uint8Array, t: KnownTicket): void {
    let d = this.tickets.get(device);
    if (!d) this.tickets.set(device, (d = { byKid: new Map(), lastKid: undefined, last: undefined }));
    const idk = t.ticket === undefined ? undefined : decodeTicket(t.ticket).idk;
    d.byKid.set(hexOf(kid), { nbf: t.nbf, exp: t.exp, patient: t.patient, authOnly: idk !== undefined, idk: idk && hexOf(idk) });
    d.lastKid = d.last = undefined;
  }

  /** The ticket `kid` names for `device`: the last one found, else a lookup by hex (cached for the next reading). */
  ticketOf(device: string, kid: Uint8Array): TicketWindow | undefined {
    const d = this.tickets.get(device);
    if (d === undefined) return undefined;
    if (d.lastKid !== undefined && bytesEqual(d.lastKid, kid)) return d.last;
    const t = d.byKid.get(hexOf(kid));
    if (t !== undefined) {
      d.lastKid = new Uint8Array(kid); // an owned copy: `kid` may be a view into a packet
      d.last = t;
    }
    return t;
  }

  /** The verdict on one reading (no allocation beyond its seq key and the verdict). */
  judge(item: IngestItem, now: number): Verdict {
    const deviceHint = item.linkDevice;
    if (deviceHint !== null && this.revoked.has(deviceHint))
      return { kind: 'quarantine', reason: 'AGENT_DEVICE_REVOKED', device: deviceHint, seq: null };
    if (item.payload.length > this.o.maxEnvelopeBytes)
      return { kind: 'quarantine', reason: 'ENVELOPE_TOO_LARGE', device: deviceHint, seq: null };
    let view: EnvelopeHeaderView;
    try {
      view = this.o.decode(item.payload, this.o.maxEnvelopeBytes);
    } catch (e) {
      return { kind: 'quarantine', reason: isVitalsealError(e) ? e.code : 'ENVELOPE_BAD_STRUCTURE', device: deviceHint, seq: null };
    }
    const { dev, seq, ts } = view.header;
    if (deviceHint !== null && dev !== deviceHint) return { kind: 'quarantine', reason: 'AGENT_DEVICE_MISMATCH', device: deviceHint, seq };
    if (this.revoked.size > 0 && this.revoked.has(dev)) return { kind: 'quarantine', reason: 'AGENT_DEVICE_REVOKED', device: dev, seq };
    // The record id hashes bytes that contain dev and seq, so a duplicate is exactly "this (dev, seq) is
    // stored with this id"; the same (dev, seq) with another id is a replay. Every stored record of
    // `dev` has seq <= its maxSeq (both commit together): a higher seq needs no index lookup at all.
    const maxSeq = this.counters.get(dev)?.maxSeq ?? this.o.store.getDevice(dev)?.maxSeq ?? null;
    const seqKey = `${dev}/${seq}`;
    const storedId = this.inFlightSeq.get(seqKey) ?? (maxSeq !== null && seq <= maxSeq ? this.storedIdAt(dev, seq) : undefined);
    if (storedId !== undefined && bytesEqual(storedId, view.recordId)) return { kind: 'duplicate', view, device: dev };
    const ticket = this.ticketOf(dev, view.kid);
    if (!ticket) return { kind: 'quarantine', reason: 'AGENT_UNKNOWN_KID', device: dev, seq };
    // Key-less, the agent can tell the HPKE mode (the authenticated "m" label) but not the sender: an
    // Auth-mode reading sealed with another key than the ticket's idk is caught by readers (§5.7).
    if ((ticket.authOnly || this.o.requireAuthMode === true) && !isAuthMode(view.header)) {
      return { kind: 'quarantine', reason: 'AGENT_BASE_MODE_REFUSED', device: dev, seq };
    }
    if (ticket.idk !== undefined && this.revokedIdentityKeys.size > 0 && this.revokedIdentityKeys.has(ticket.idk)) {
      return { kind: 'quarantine', reason: 'AGENT_IDENTITY_REVOKED', device: dev, seq };
    }
    const skew = this.o.maxFutureSkewMs;
    if (ts > now + skew || ts < ticket.nbf * 1000 - skew || ts > ticket.exp * 1000 + skew) {
      return { kind: 'quarantine', reason: 'AGENT_TS_OUT_OF_RANGE', device: dev, seq };
    }
    if (storedId !== undefined) return { kind: 'quarantine', reason: 'AGENT_SEQ_REPLAY', device: dev, seq };
    // a jump to e.g. 2^53-1 would make every later honest reading a "reorder" and the gap count meaningless
    if (maxSeq !== null && seq - maxSeq > this.o.maxSeqJump) return { kind: 'quarantine', reason: 'AGENT_SEQ_JUMP', device: dev, seq };
    return { kind: 'store', view, device: dev, seqKey };
  }

  private storedIdAt(device: string, seq: number): Uint8Array | undefined {
    return this.o.store.recordIdAtSeq(device, seq);
  }
}

/** Hex of bytes via Buffer (native; this is on the per-reading path). */
function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
