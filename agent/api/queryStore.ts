import type { Db } from '../store/db.ts';

export interface PatientRecordRow {
  recordId: Uint8Array;
  leafIndex: number;
  device: string;
  seq: number;
  st: string;
  kid: Uint8Array;
}

/** Reads the API needs over the agent schema: a patient's records (through its tickets), emergency escrows. */
export class QueryStore {
  private readonly s;
  constructor(db: Db) {
    this.s = {
      ofPatient: db.prepare<[string, number, number], Record<string, unknown>>(
        'SELECT r.record_id, r.leaf_idx, r.device, r.seq, r.st, r.kid FROM records r JOIN tickets t ON t.device = r.device AND t.kid = r.kid WHERE t.patient = ? AND r.leaf_idx >= ? ORDER BY r.leaf_idx LIMIT ?',
      ),
      ofPatientDevice: db.prepare<[string, string, number, number], Record<string, unknown>>(
        'SELECT r.record_id, r.leaf_idx, r.device, r.seq, r.st, r.kid FROM records r JOIN tickets t ON t.device = r.device AND t.kid = r.kid WHERE t.patient = ? AND r.device = ? AND r.leaf_idx >= ? ORDER BY r.leaf_idx LIMIT ?',
      ),
      ticket: db.prepare<[string, Uint8Array], { patient: string; nbf: number; exp: number; ticket: Buffer }>(
        'SELECT patient, nbf, exp, ticket FROM tickets WHERE device = ? AND kid = ?',
      ),
      access: db.prepare<[number, number], { leaf_idx: number; at: number; body: Buffer }>(
        'SELECT leaf_idx, at, body FROM access_events WHERE leaf_idx >= ? ORDER BY leaf_idx LIMIT ?',
      ),
      putEscrow: db.prepare(
        'INSERT OR REPLACE INTO emergency_escrow(patient, profile, sealed_enc, sealed_key, uploaded_at) VALUES (@patient, @profile, @enc, @sealed, @at)',
      ),
      escrow: db.prepare<[string], { profile: Buffer; sealed_enc: Buffer; sealed_key: Buffer }>(
        'SELECT profile, sealed_enc, sealed_key FROM emergency_escrow WHERE patient = ?',
      ),
    };
  }

  recordsOfPatient(patient: string, device: string, fromLeaf: number, limit: number): PatientRecordRow[] {
    const rows =
      device === ''
        ? this.s.ofPatient.all(patient.toLowerCase(), fromLeaf, limit)
        : this.s.ofPatientDevice.all(patient.toLowerCase(), device, fromLeaf, limit);
    return rows.map((r) => ({
      recordId: new Uint8Array(r.record_id as Buffer),
      leafIndex: r.leaf_idx as number,
      device: r.device as string,
      seq: r.seq as number,
      st: r.st as string,
      kid: new Uint8Array(r.kid as Buffer),
    }));
  }

  ticket(device: string, kid: Uint8Array): { patient: string; nbf: number; exp: number; ticket: Uint8Array } | undefined {
    const r = this.s.ticket.get(device, kid);
    return r ? { patient: r.patient, nbf: r.nbf, exp: r.exp, ticket: new Uint8Array(r.ticket) } : undefined;
  }

  /** Access events from leaf `fromLeaf` on (the caller filters by patient). */
  accessEvents(fromLeaf: number, scan: number): Array<{ leafIndex: number; at: number; body: Uint8Array }> {
    return this.s.access.all(fromLeaf, scan).map((r) => ({ leafIndex: r.leaf_idx, at: r.at, body: new Uint8Array(r.body) }));
  }

  putEscrow(patient: string, profile: Uint8Array, enc: Uint8Array, sealed: Uint8Array, at: number): void {
    this.s.putEscrow.run({ patient: patient.toLowerCase(), profile, enc, sealed, at });
  }

  escrow(patient: string): { profile: Uint8Array; enc: Uint8Array; sealed: Uint8Array } | undefined {
    const r = this.s.escrow.get(patient.toLowerCase());
    return r ? { profile: new Uint8Array(r.profile), enc: new Uint8Array(r.sealed_enc), sealed: new Uint8Array(r.sealed_key) } : undefined;
  }
}
