import type { Rng } from '../../protocol/rng.ts';
import { toHex } from '../../protocol/bytes.ts';
import { isDeviceId } from '../../protocol/deviceId.ts';
import { keyIdOf } from '../../protocol/keys/index.ts';
import { decodeTicket, type Ticket } from '../../protocol/ticket/index.ts';
import type { AgentCore } from '../core.ts';
import { AgentError } from '../errors.ts';
import { encodeAccessEvent, type AccessEvent } from '../../protocol/log/accessEvent.ts';
import type { WardKeys } from '../api/wardKeys.ts';
import { CustodyStore, type Assignment, type AssignmentVia } from './custodyStore.ts';
import { newPairingCode, normalizePairingCode, pairingCodeHash } from './pairingCode.ts';

export interface DeviceCustodyOptions {
  core: AgentCore;
  ward: WardKeys;
  rng: Rng;
  /** How long a pairing code stays valid (default 10 min). */
  pairingTtlMs?: number;
}

export interface AssignResult {
  device: string;
  patient: string;
  via: AssignmentVia;
  /** Sessions of the previous patient ended by this reassignment. */
  sessionsEnded: number;
  /** false when the device was already assigned to this patient (nothing changed, nothing logged). */
  changed: boolean;
  leafIndex: number | undefined;
}

export interface SessionRequest {
  device: string;
  pk: Uint8Array;
  nbf: number;
  exp: number;
}

/** A patient reference: a lowercase 0x address, or a ward-internal reference (MRN-like) set by an operator. */
const PATIENT_REF = /^(0x[0-9a-f]{40}|[A-Za-z0-9][A-Za-z0-9:._-]{0,127})$/;

export function normalizePatientRef(p: string): string | undefined {
  const s = /^0x[0-9a-fA-F]{40}$/.test(p) ? p.toLowerCase() : p;
  return PATIENT_REF.test(s) ? s : undefined;
}

/**
 * Who may hold sessions on a device (issue #15, defect 1). The ward operator assigns each device to
 * one identified patient, either by confirming the pairing code the patient's wallet obtained with a
 * signed request (the patient shows it at the bedside) or directly by patient reference. Only the
 * assigned patient gets session tickets for it; the ward authority signs tickets nowhere else.
 * Reassignment and release end the previous patient's live sessions on the device (superseding
 * tickets that expire now) and each is an access-log leaf the affected patient can read.
 * A session key belongs to the first patient it was registered for, forever (defect 2): a conflicting
 * registration is refused and logged as an access event that the key's owner sees.
 */
export class DeviceCustody {
  private readonly store: CustodyStore;
  private readonly core: AgentCore;
  private readonly ward: WardKeys;
  private readonly rng: Rng;
  private readonly pairingTtlMs: number;
  private tail: Promise<void> = Promise.resolve();

  constructor(o: DeviceCustodyOptions) {
    this.core = o.core;
    this.ward = o.ward;
    this.rng = o.rng;
    this.pairingTtlMs = o.pairingTtlMs ?? 10 * 60_000;
    this.store = new CustodyStore(o.core.db);
  }

  assignment(device: string): Assignment | undefined {
    return this.store.assignment(device);
  }

  assignments(): Assignment[] {
    return this.store.assignments();
  }

  /** A registered patient's pairing request: a fresh code for the operator to confirm (only its hash is kept). */
  requestPairing(patient: string, device: string): { device: string; code: string; expiresAt: number } {
    if (!isDeviceId(device)) throw new AgentError('AGENT_BAD_REQUEST', 'not a device id');
    const code = newPairingCode(this.rng);
    const now = this.core.clock.now();
    const expiresAt = now + this.pairingTtlMs;
    this.store.addPairing(device, pairingCodeHash(device, code), patient, now, expiresAt);
    return { device, code, expiresAt };
  }

  /** The operator types the code the patient shows: the device is assigned to that request's patient. */
  async confirmPairing(device: string, typedCode: string): Promise<AssignResult> {
    const code = normalizePairingCode(typedCode);
    const patient =
      code !== undefined && isDeviceId(device)
        ? this.store.pairingPatient(device, pairingCodeHash(device, code), this.core.clock.now())
        : undefined;
    if (patient === undefined) throw new AgentError('AGENT_PAIRING_NOT_FOUND');
    return this.assign(device, patient, 'pairing');
  }

  /** Assigns a provisioned device; a different previous patient loses its live sessions on it. */
  assign(device: string, patientRef: string, via: AssignmentVia): Promise<AssignResult> {
    return this.serially(async () => {
      const patient = normalizePatientRef(patientRef);
      if (!isDeviceId(device) || patient === undefined)
        throw new AgentError('AGENT_BAD_REQUEST', 'device id or patient reference is malformed');
      if (!this.core.store.getDevice(device)) throw new AgentError('AGENT_NOT_FOUND', 'no such device');
      const previous = this.store.assignment(device);
      if (previous?.patient === patient)
        return { device, patient, via: previous.via, sessionsEnded: 0, changed: false, leafIndex: undefined };
      const ts = this.core.clock.now();
      // switch first: from here on only the new patient can open a session on the device
      this.store.assign({ device, patient, via, assignedAt: ts });
      let sessionsEnded = 0;
      if (previous) {
        sessionsEnded = await this.endSessionsOf(device, previous.patient);
        await this.logAccess({ t: 'release', patient: previous.patient, device, reason: 'reassigned', sessions: sessionsEnded, ts });
      }
      const access = await this.logAccess({ t: 'assign', patient, device, via, ts });
      this.core.logger.info({ device, via, reassigned: previous !== undefined }, 'device assigned');
      return { device, patient, via, sessionsEnded, changed: true, leafIndex: access.leafIndex };
    });
  }

  /** The device goes back to the ward: the patient's live sessions on it end. */
  release(device: string): Promise<{ device: string; sessionsEnded: number; leafIndex: number }> {
    return this.serially(async () => {
      const previous = isDeviceId(device) ? this.store.assignment(device) : undefined;
      if (!previous) throw new AgentError('AGENT_NOT_FOUND', 'the device is not assigned');
      this.store.release(device);
      const sessionsEnded = await this.endSessionsOf(device, previous.patient);
      const access = await this.logAccess({
        t: 'release',
        patient: previous.patient,
        device,
        reason: 'released',
        sessions: sessionsEnded,
        ts: this.core.clock.now(),
      });
      this.core.logger.info({ device }, 'device released');
      return { device, sessionsEnded, leafIndex: access.leafIndex };
    });
  }

  /**
   * The only place the ward authority signs a new session: the key must be new or already the
   * patient's, and the device must be assigned to the patient. Refusals that concern another patient
   * (its key, its device) are logged as access events that patient reads.
   */
  async openSession(patient: string, r: SessionRequest): Promise<{ ticket: Uint8Array; kid: Uint8Array; leafIndex: number }> {
    const kid = keyIdOf(r.pk);
    const ts = this.core.clock.now();
    const owner = this.core.store.sessionKeyOwner(kid);
    if (owner !== undefined && owner !== patient) {
      await this.logAccess({ t: 'session-refused', patient: owner, requester: patient, device: r.device, kid, reason: 'key-taken', ts });
      this.core.logger.warn({ device: r.device, kid: toHex(kid) }, 'session refused: the key belongs to another patient');
      throw new AgentError('AGENT_SESSION_KEY_TAKEN');
    }
    const assigned = this.store.assignment(r.device);
    if (assigned?.patient !== patient) {
      if (assigned)
        await this.logAccess({
          t: 'session-refused',
          patient: assigned.patient,
          requester: patient,
          device: r.device,
          kid,
          reason: 'not-assigned',
          ts,
        });
      throw new AgentError('AGENT_DEVICE_NOT_ASSIGNED');
    }
    const idk = this.identityKeyForTickets(r.device);
    // a session key whose ticket certified an earlier identity key of the device (it rotated since) stays
    // with that key: a new ticket for the same (device, kid) would replace the one its readings are
    // verified against (§11.5), and they would stop verifying. The wallet opens the session with a new key.
    const earlier = this.store.ticket(r.device, kid);
    const earlierIdk = earlier === undefined ? undefined : decodeTicket(earlier).idk;
    if (earlier !== undefined && (earlierIdk === undefined ? '' : toHex(earlierIdk)) !== (idk === undefined ? '' : toHex(idk)))
      throw new AgentError(
        'AGENT_BAD_REQUEST',
        "this session key's ticket certifies another identity key of the device than its current one: open the session with a new key",
      );
    const ticket = this.ward.issueTicket({ dev: r.device, kid, pk: r.pk, patient, nbf: r.nbf, exp: r.exp, ...(idk ? { idk } : {}) });
    await this.core.pushTicket(ticket);
    const access = await this.logAccess({ t: 'session', patient, device: r.device, kid, nbf: r.nbf, exp: r.exp, ts });
    return { ticket, kid, leafIndex: access.leafIndex };
  }

  /** Ends one session: its ticket is superseded by one that expires now (or one second after its nbf). */
  async endSession(stored: Ticket): Promise<number> {
    const exp = Math.max(stored.nbf + 1, Math.floor(this.core.clock.now() / 1000));
    // the superseding ticket certifies the same identity key as the one it ends (the readings under it are verified with it)
    const idk = stored.idk === undefined ? {} : { idk: stored.idk };
    await this.core.pushTicket(
      this.ward.issueTicket({ dev: stored.dev, kid: stored.kid, pk: stored.pk, patient: stored.patient, nbf: stored.nbf, exp, ...idk }),
    );
    return exp;
  }

  /**
   * The operator registers the identity public key the device generated and reported (§3.6); the
   * agent never sees the secret. Every ticket issued from now on carries it; the previous key (if
   * any) ends as 'rotated': tickets already issued with it are left alone, so the device's readings
   * under them go on being accepted and stay verifiable (no reading is lost to a rotation).
   */
  registerIdentityKey(device: string, idk: Uint8Array): { device: string; idk: string; rotated: string | null } {
    if (!isDeviceId(device)) throw new AgentError('AGENT_BAD_REQUEST', 'not a device id');
    if (!(idk instanceof Uint8Array) || idk.length !== 32) throw new AgentError('AGENT_IDENTITY_KEY_INVALID');
    const keys = this.core.identityKeys.keysOf(device);
    const previous = keys.find((k) => k.endedAt === null);
    if (previous && toHex(previous.idk) === toHex(idk)) return { device, idk: toHex(idk), rotated: null };
    if (keys.some((k) => toHex(k.idk) === toHex(idk))) throw new AgentError('AGENT_IDENTITY_KEY_INVALID');
    this.core.identityKeys.register(device, idk, this.core.clock.now());
    this.core.logger.info({ device, idk: toHex(idk) }, previous ? 'device identity key rotated' : 'device identity key registered');
    return { device, idk: toHex(idk), rotated: previous ? toHex(previous.idk) : null };
  }

  /**
   * Revokes the device's current identity key (it leaked, or the device is lost): the ward issues no
   * ticket for the device until a new key is registered (AGENT_IDENTITY_REVOKED), and every reading
   * under a ticket that certifies the revoked key is quarantined (AGENT_IDENTITY_REVOKED). Readings
   * stored before stay stored. With `idk` naming an earlier, rotated key: that key is revoked (every
   * later reading under a ticket that certifies it is quarantined), the current key and tickets stay —
   * what closes a rotation (§3.6) once the readings the device sealed before it have arrived.
   */
  revokeIdentityKey(device: string, idk?: Uint8Array): { device: string; revoked: string } {
    const current = this.core.identityKeys.current(device);
    // an earlier key (rotated): its tickets' readings from now on are quarantined; the current key stays
    if (idk !== undefined && (current === undefined || toHex(current.idk) !== toHex(idk))) {
      const rotated = this.core.identityKeys.revokeRotated(device, idk);
      if (!rotated) throw new AgentError('AGENT_NOT_FOUND', 'the device has no rotated identity key with this public key');
      this.core.ingestor.revokeIdentityKey(rotated.idk);
      this.core.logger.warn({ device, idk: toHex(rotated.idk) }, 'rotated device identity key revoked');
      return { device, revoked: toHex(rotated.idk) };
    }
    const revoked = this.core.identityKeys.revoke(device, this.core.clock.now());
    if (!revoked) throw new AgentError('AGENT_NOT_FOUND', 'the device has no current identity key');
    this.core.ingestor.revokeIdentityKey(revoked.idk);
    this.core.logger.warn({ device, idk: toHex(revoked.idk) }, 'device identity key revoked');
    return { device, revoked: toHex(revoked.idk) };
  }

  identityKeys(device: string): Array<{ idk: string; registeredAt: number; endedAt: number | null; ended: string | null }> {
    return this.core.identityKeys
      .keysOf(device)
      .map((k) => ({ idk: toHex(k.idk), registeredAt: k.registeredAt, endedAt: k.endedAt, ended: k.ended }));
  }

  /** The identity public key the device last reported in its status (hex) and when, or null (agent/deviceStatus.ts). */
  reportedIdentityKey(device: string): { idk: string; at: number } | null {
    return this.core.deviceStatus.reported(device)?.idk ?? null;
  }

  /** The key tickets for `device` carry: its current one; none if it never had one; refused if its last one was revoked. */
  private identityKeyForTickets(device: string): Uint8Array | undefined {
    const keys = this.core.identityKeys.keysOf(device);
    const current = keys.find((k) => k.endedAt === null);
    if (current) return current.idk;
    if (keys.some((k) => k.ended === 'revoked')) throw new AgentError('AGENT_IDENTITY_REVOKED');
    return undefined;
  }

  /**
   * An operator pushes a ticket signed elsewhere (fleet provisioning, an offline authority): it may not
   * name another patient than the device's assignment, so a pushed ticket cannot bypass a reassignment.
   */
  checkPushedTicket(t: Ticket): void {
    const assigned = this.store.assignment(t.dev);
    if (assigned && assigned.patient !== t.patient)
      throw new AgentError('AGENT_DEVICE_NOT_ASSIGNED', 'the device is assigned to another patient');
  }

  private async endSessionsOf(device: string, patient: string): Promise<number> {
    const live = this.store.liveTickets(device, patient, Math.floor(this.core.clock.now() / 1000));
    for (const row of live) await this.endSession(decodeTicket(row.ticket));
    return live.length;
  }

  /** Assignments and releases run one at a time (each spans several awaits). */
  private serially<T>(f: () => Promise<T>): Promise<T> {
    const run = this.tail.then(f, f);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private logAccess(e: AccessEvent): Promise<{ leafIndex: number }> {
    return this.core.ingestor.appendAccessEvent(encodeAccessEvent(e));
  }
}
