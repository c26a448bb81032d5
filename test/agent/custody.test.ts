import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { AgentCore } from '../../agent/core.ts';
import { DeviceCustody, normalizePatientRef } from '../../agent/custody/deviceCustody.ts';
import { MAX_PENDING_PAIRINGS_PER_DEVICE } from '../../agent/custody/custodyStore.ts';
import { newPairingCode, normalizePairingCode } from '../../agent/custody/pairingCode.ts';
import { loadOrCreateWardKeys } from '../../agent/api/wardKeys.ts';
import { MIGRATIONS } from '../../agent/store/migrations.ts';
import { openDatabase } from '../../agent/store/db.ts';
import { AgentStore } from '../../agent/store/agentStore.ts';
import { seededRng } from '../../protocol/rng.ts';
import { tempKeyPairGen } from '../../protocol/keys/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { tempDir } from '../support/services.ts';

const dir = tempDir('vitalseal-custody-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hpke = createHpke('node');
const A = `0x${'aa'.repeat(20)}`;
const B = `0x${'bb'.repeat(20)}`;

function custodyIn(name: string, clock: { now(): number }): { core: AgentCore; custody: DeviceCustody } {
  const dataDir = join(dir, name);
  const core = new AgentCore({
    dataDir,
    clock,
    logger: pino({ level: 'silent' }),
    maxEnvelopeBytes: 4096,
    maxFutureSkewMs: 300_000,
    quarantineMaxRows: 1000,
    writer: 'inline',
    defaultMetrics: false,
  });
  return { core, custody: new DeviceCustody({ core, ward: loadOrCreateWardKeys(dataDir), rng: seededRng(name), pairingTtlMs: 60_000 }) };
}

describe('pairing codes', () => {
  it('are 8 Crockford base32 symbols and survive retyping (case, dashes, spaces, O/I/L)', () => {
    const rng = seededRng('codes');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = newPairingCode(rng);
      expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      expect(normalizePairingCode(c.toLowerCase().replace('-', ' '))).toBe(c);
      seen.add(c);
    }
    expect(seen.size).toBe(200);
    expect(normalizePairingCode('o1il-0000')).toBe('0111-0000');
    expect(normalizePairingCode('ABCD-EFG')).toBeUndefined();
    expect(normalizePairingCode('ABCD-EFGU')).toBeUndefined();
  });

  it('patient references: addresses are lowercased, odd strings refused', () => {
    expect(normalizePatientRef(A.toUpperCase().replace('0X', '0x'))).toBe(A);
    expect(normalizePatientRef('mrn:12345')).toBe('mrn:12345');
    expect(normalizePatientRef('')).toBeUndefined();
    expect(normalizePatientRef('a b')).toBeUndefined();
    expect(normalizePatientRef('x'.repeat(129))).toBeUndefined();
  });
});

describe('device custody (AgentCore + SQLite, injected clock)', () => {
  it('a pairing code works once, for its device, before it expires', async () => {
    let now = 1_000_000;
    const { core, custody } = custodyIn('pairing', { now: () => now });
    try {
      core.provisionDevice('dev-1');
      core.provisionDevice('dev-2');
      const p = custody.requestPairing(A, 'dev-1');
      await expect(custody.confirmPairing('dev-2', p.code)).rejects.toMatchObject({ code: 'AGENT_PAIRING_NOT_FOUND' });
      now += 60_001;
      await expect(custody.confirmPairing('dev-1', p.code)).rejects.toMatchObject({ code: 'AGENT_PAIRING_NOT_FOUND' });
      const q = custody.requestPairing(A, 'dev-1');
      await expect(custody.confirmPairing('dev-1', q.code)).resolves.toMatchObject({
        device: 'dev-1',
        patient: A,
        via: 'pairing',
        changed: true,
      });
      await expect(custody.confirmPairing('dev-1', q.code)).rejects.toMatchObject({ code: 'AGENT_PAIRING_NOT_FOUND' });
      await expect(custody.assign('no-such-device', A, 'operator')).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
      await expect(custody.assign('dev-1', 'not a ref', 'operator')).rejects.toMatchObject({ code: 'AGENT_BAD_REQUEST' });
    } finally {
      await core.close();
    }
  });

  it(`keeps one pending request per patient and at most ${MAX_PENDING_PAIRINGS_PER_DEVICE} per device (the newest)`, async () => {
    let now = 5_000_000;
    const { core, custody } = custodyIn('pending', { now: () => now });
    try {
      core.provisionDevice('dev-1');
      const first = custody.requestPairing(A, 'dev-1');
      now++;
      const second = custody.requestPairing(A, 'dev-1'); // replaces A's first
      await expect(custody.confirmPairing('dev-1', first.code)).rejects.toMatchObject({ code: 'AGENT_PAIRING_NOT_FOUND' });
      const codes: string[] = [];
      for (let i = 0; i < MAX_PENDING_PAIRINGS_PER_DEVICE; i++) {
        now++;
        codes.push(custody.requestPairing(`0x${i.toString(16).padStart(40, '0')}`, 'dev-1').code);
      }
      await expect(custody.confirmPairing('dev-1', second.code)).rejects.toMatchObject({ code: 'AGENT_PAIRING_NOT_FOUND' });
      expect(core.db.prepare('SELECT COUNT(*) AS n FROM pairing_requests').get()).toEqual({ n: MAX_PENDING_PAIRINGS_PER_DEVICE });
      await expect(custody.confirmPairing('dev-1', codes[codes.length - 1]!)).resolves.toMatchObject({ changed: true });
      expect(core.db.prepare('SELECT COUNT(*) AS n FROM pairing_requests').get()).toEqual({ n: 0 }); // an assignment clears the device's requests
    } finally {
      await core.close();
    }
  });

  it('opens sessions only for the assigned patient; a key stays with its first patient; reassignment ends sessions', async () => {
    const clock = { now: () => Date.now() };
    const { core, custody } = custodyIn('sessions', clock);
    try {
      core.provisionDevice('dev-1');
      const nowSec = Math.floor(Date.now() / 1000);
      const key = tempKeyPairGen(A, seededRng('k'), hpke);
      const req = { device: 'dev-1', pk: key.publicKey, nbf: nowSec - 10, exp: nowSec + 3600 };
      await expect(custody.openSession(A, req)).rejects.toMatchObject({ code: 'AGENT_DEVICE_NOT_ASSIGNED' });
      await custody.assign('dev-1', A, 'operator');
      await custody.openSession(A, req);
      expect(core.store.sessionKeyOwner(key.kid)).toBe(A);
      await custody.assign('dev-1', B, 'operator');
      await expect(custody.openSession(B, req)).rejects.toMatchObject({ code: 'AGENT_SESSION_KEY_TAKEN' });
      const t = core.store.listTickets().find((x) => Buffer.from(x.kid).equals(key.kid))!;
      expect(t.patient).toBe(A);
      expect(t.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
      // a pushed ticket naming another patient than the assignment is refused before it reaches the store
      expect(() =>
        custody.checkPushedTicket({ v: 1, dev: 'dev-1', kid: key.kid, pk: key.publicKey, patient: A, nbf: nowSec, exp: nowSec + 60 }),
      ).toThrow(expect.objectContaining({ code: 'AGENT_DEVICE_NOT_ASSIGNED' }));
    } finally {
      await core.close();
    }
  });
});

describe('session key ownership in the store (schema v6)', () => {
  it('a ticket row never changes owner, whoever writes it', () => {
    const db = openDatabase(join(dir, 'own.sqlite'));
    try {
      const store = new AgentStore(db);
      const kid = new Uint8Array(16).fill(3);
      const t = { device: 'd', kid, patient: A, nbf: 1, exp: 2, ticket: new Uint8Array([1]), pushedAt: 10 };
      store.ensureDevice('d', 1);
      store.ensureDevice('e', 1);
      store.saveTicket(t);
      store.saveTicket({ ...t, exp: 3, ticket: new Uint8Array([2]), pushedAt: 11 }); // the owner's re-issue
      expect(() => store.saveTicket({ ...t, patient: B, pushedAt: 12 })).toThrow(
        expect.objectContaining({ code: 'AGENT_SESSION_KEY_TAKEN' }),
      );
      expect(() => store.saveTicket({ ...t, device: 'e', patient: B, pushedAt: 12 })).toThrow(
        expect.objectContaining({ code: 'AGENT_SESSION_KEY_TAKEN' }),
      );
      expect(store.listTickets().map((x) => [x.device, x.patient, x.exp])).toEqual([['d', A, 3]]);
      expect(store.sessionKeyOwner(kid)).toBe(A);
    } finally {
      db.close();
    }
  });

  it('migration v6 gives each existing kid to the patient of its earliest ticket', () => {
    const file = join(dir, 'v5.sqlite');
    const v5 = new Database(file);
    for (const m of MIGRATIONS.filter((x) => x.version <= 5)) {
      m.up(v5);
      v5.pragma(`user_version = ${m.version}`);
    }
    const ins = v5.prepare('INSERT INTO tickets(device, kid, ticket, patient, nbf, exp, pushed_at) VALUES (?, ?, ?, ?, 1, 2, ?)');
    const kid = Buffer.alloc(16, 9);
    ins.run('d1', kid, Buffer.from([1]), A, 100);
    ins.run('d2', kid, Buffer.from([2]), B, 200); // the takeover the old code allowed on another device
    v5.close();
    const db = openDatabase(file);
    try {
      expect(new AgentStore(db).sessionKeyOwner(kid)).toBe(A);
    } finally {
      db.close();
    }
  });
});
