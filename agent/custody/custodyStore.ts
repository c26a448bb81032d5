import type { Db } from '../store/db.ts';

export type AssignmentVia = 'pairing' | 'operator';

export interface Assignment {
  device: string;
  patient: string;
  via: AssignmentVia;
  assignedAt: number;
}

export interface ActiveTicketRow {
  kid: Uint8Array;
  ticket: Uint8Array;
}

/** Pending pairing requests kept per device (one per patient; the oldest goes first). */
export const MAX_PENDING_PAIRINGS_PER_DEVICE = 16;

/** SQL over the custody tables of schema v6: device assignments, pairing requests, a device's live tickets. */
export class CustodyStore {
  private readonly s;
  constructor(private readonly db: Db) {
    this.s = {
      assignment: db.prepare<[string], { device: string; patient: string; via: AssignmentVia; assigned_at: number }>(
        'SELECT device, patient, via, assigned_at FROM device_assignments WHERE device = ?',
      ),
      assignments: db.prepare<[], { device: string; patient: string; via: AssignmentVia; assigned_at: number }>(
        'SELECT device, patient, via, assigned_at FROM device_assignments ORDER BY device',
      ),
      assign: db.prepare<[string, string, AssignmentVia, number]>(
        'INSERT INTO device_assignments(device, patient, via, assigned_at) VALUES (?, ?, ?, ?) ON CONFLICT(device) DO UPDATE SET patient = excluded.patient, via = excluded.via, assigned_at = excluded.assigned_at',
      ),
      release: db.prepare<[string]>('DELETE FROM device_assignments WHERE device = ?'),
      purgePairings: db.prepare<[number]>('DELETE FROM pairing_requests WHERE expires_at <= ?'),
      dropPairingOf: db.prepare<[string, string]>('DELETE FROM pairing_requests WHERE device = ? AND patient = ?'),
      addPairing: db.prepare<[string, Uint8Array, string, number, number]>(
        'INSERT INTO pairing_requests(device, code_hash, patient, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      ),
      trimPairings: db.prepare<[string, string, number]>(
        'DELETE FROM pairing_requests WHERE device = ? AND code_hash NOT IN (SELECT code_hash FROM pairing_requests WHERE device = ? ORDER BY created_at DESC LIMIT ?)',
      ),
      pairing: db.prepare<[string, Uint8Array, number], { patient: string }>(
        'SELECT patient FROM pairing_requests WHERE device = ? AND code_hash = ? AND expires_at > ?',
      ),
      dropPairings: db.prepare<[string]>('DELETE FROM pairing_requests WHERE device = ?'),
      liveTickets: db.prepare<[string, string, number], { kid: Buffer; ticket: Buffer }>(
        'SELECT kid, ticket FROM tickets WHERE device = ? AND patient = ? AND exp > ? ORDER BY pushed_at',
      ),
      ticket: db.prepare<[string, Uint8Array], { ticket: Buffer }>('SELECT ticket FROM tickets WHERE device = ? AND kid = ?'),
    };
  }

  assignment(device: string): Assignment | undefined {
    const r = this.s.assignment.get(device);
    return r ? { device: r.device, patient: r.patient, via: r.via, assignedAt: r.assigned_at } : undefined;
  }

  assignments(): Assignment[] {
    return this.s.assignments.all().map((r) => ({ device: r.device, patient: r.patient, via: r.via, assignedAt: r.assigned_at }));
  }

  assign(a: Assignment): void {
    this.db.transaction(() => {
      this.s.assign.run(a.device, a.patient, a.via, a.assignedAt);
      this.s.dropPairings.run(a.device);
    })();
  }

  release(device: string): boolean {
    return this.s.release.run(device).changes === 1;
  }

  /** Stores a pairing request (replacing the patient's earlier one for this device); keeps the newest per device. */
  addPairing(device: string, codeHash: Uint8Array, patient: string, now: number, expiresAt: number): void {
    this.db.transaction(() => {
      this.s.purgePairings.run(now);
      this.s.dropPairingOf.run(device, patient);
      this.s.addPairing.run(device, codeHash, patient, now, expiresAt);
      this.s.trimPairings.run(device, device, MAX_PENDING_PAIRINGS_PER_DEVICE);
    })();
  }

  /** The patient of an unexpired pairing request for `device` with this code hash. */
  pairingPatient(device: string, codeHash: Uint8Array, now: number): string | undefined {
    return this.s.pairing.get(device, codeHash, now)?.patient;
  }

  /** Tickets of `patient` on `device` that have not expired at `nowSec`. */
  liveTickets(device: string, patient: string, nowSec: number): ActiveTicketRow[] {
    return this.s.liveTickets.all(device, patient, nowSec).map((r) => ({ kid: new Uint8Array(r.kid), ticket: new Uint8Array(r.ticket) }));
  }

  /** The stored ticket of (device, kid): the one readings under that kid are verified against (§11.5). */
  ticket(device: string, kid: Uint8Array): Uint8Array | undefined {
    const r = this.s.ticket.get(device, kid);
    return r ? new Uint8Array(r.ticket) : undefined;
  }
}
