/**
 * Device identity keys at the ward (issue #20, docs/PROTOCOL.md §3.6, §7.5): the operator registers
 * the key the device reported, the ward certifies it in every ticket (v2), a rotation leaves tickets
 * and readings under the old key alone, a revocation stops tickets and readings under the key, and
 * survives a restart.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateWardKeys } from '../../agent/api/wardKeys.ts';
import { AgentCore } from '../../agent/core.ts';
import { DeviceCustody } from '../../agent/custody/deviceCustody.ts';
import type { IngestOutcome } from '../../agent/ingest/types.ts';
import { toHex } from '../../protocol/bytes.ts';
import { createSessionSealer } from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import { tempDir } from '../support/services.ts';

const dir = tempDir('vitalseal-idk-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hpke = createHpke('node');
const A = `0x${'aa'.repeat(20)}`;
const T0 = 1_767_225_600_000;
let tick = 0;
// 1 ms per call: registrations get distinct times (a device's keys list in registration order)
const clock = { now: () => T0 + tick++ };

function open(name: string): { core: AgentCore; custody: DeviceCustody } {
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

const submit = (core: AgentCore, payload: Uint8Array): Promise<IngestOutcome> =>
  new Promise((done) => core.ingestor.submit({ linkDevice: 'oxi-01', payload, source: 'mqtt', done }));
const session = (n: number) => {
  const kp = hpke.generateKeyPair(seededRng(`idk/session/${n}`));
  return { pk: kp.publicKey, req: { device: 'oxi-01', pk: kp.publicKey, nbf: T0 / 1000 - 60, exp: T0 / 1000 + 3600 } };
};
/** The device seals one Auth-mode reading under `ticket` with the identity secret it holds. */
const sealUnder = (ticket: Uint8Array, skS: Uint8Array, seq: number) => {
  const t = decodeTicket(ticket);
  const s = createSessionSealer({
    recipient: { publicKey: t.pk, kid: t.kid },
    hpke,
    rng: seededRng(`idk/eph/${seq}`),
    senderSecretKey: skS,
  });
  return s.seal({ reading: { st: 'spo2', ts: T0 + seq, v: [97], u: '%' }, header: { dev: 'oxi-01', seq, ts: T0 + seq, st: 'spo2' } });
};

describe('device identity keys at the ward', () => {
  const key1 = hpke.generateKeyPair(seededRng('idk/device/1'));
  const key2 = hpke.generateKeyPair(seededRng('idk/device/2'));

  it('register → v2 tickets carry it; rotate → new tickets carry the new key, readings under the old ticket still stored; revoke → no ticket, readings refused, also after a restart', async () => {
    let { core, custody } = open('ward');
    try {
      core.provisionDevice('oxi-01');
      await custody.assign('oxi-01', A, 'operator');
      // before registration: v1 tickets (base mode stays possible for devices without identity keys)
      expect(decodeTicket((await custody.openSession(A, session(0).req)).ticket).v).toBe(1);

      expect(custody.registerIdentityKey('oxi-01', key1.publicKey)).toEqual({
        device: 'oxi-01',
        idk: toHex(key1.publicKey),
        rotated: null,
      });
      const t1 = (await custody.openSession(A, session(1).req)).ticket;
      expect(decodeTicket(t1)).toMatchObject({ v: 2, idk: key1.publicKey });
      expect((await submit(core, sealUnder(t1, key1.secretKey, 0))).kind).toBe('stored');

      // rotation: the device generated key2 (and keeps key1 until its next ticket)
      expect(custody.registerIdentityKey('oxi-01', key2.publicKey).rotated).toBe(toHex(key1.publicKey));
      expect((await submit(core, sealUnder(t1, key1.secretKey, 1))).kind).toBe('stored'); // nothing lost
      const t2 = (await custody.openSession(A, session(2).req)).ticket;
      expect(decodeTicket(t2).idk).toEqual(key2.publicKey);
      expect((await submit(core, sealUnder(t2, key2.secretKey, 2))).kind).toBe('stored');
      expect(() => custody.registerIdentityKey('oxi-01', key1.publicKey)).toThrow(
        expect.objectContaining({ code: 'AGENT_IDENTITY_KEY_INVALID' }),
      );
      expect(() => custody.registerIdentityKey('oxi-01', key2.publicKey.slice(1))).toThrow(
        expect.objectContaining({ code: 'AGENT_IDENTITY_KEY_INVALID' }),
      );

      // revocation of key2: no new ticket, the next reading under t2 is refused; one under t1 (rotated key1) still stored
      expect(custody.revokeIdentityKey('oxi-01')).toEqual({ device: 'oxi-01', revoked: toHex(key2.publicKey) });
      await expect(custody.openSession(A, session(3).req)).rejects.toMatchObject({ code: 'AGENT_IDENTITY_REVOKED' });
      expect(await submit(core, sealUnder(t2, key2.secretKey, 3))).toMatchObject({ kind: 'quarantined', reason: 'AGENT_IDENTITY_REVOKED' });
      expect((await submit(core, sealUnder(t1, key1.secretKey, 4))).kind).toBe('stored');
      expect(custody.identityKeys('oxi-01').map((k) => [k.idk, k.ended])).toEqual([
        [toHex(key1.publicKey), 'rotated'],
        [toHex(key2.publicKey), 'revoked'],
      ]);
    } finally {
      await core.close();
    }
    ({ core, custody } = open('ward'));
    try {
      expect(await submit(core, sealUnder(decodeTicketBytes(core, key2.publicKey), key2.secretKey, 5))).toMatchObject({
        kind: 'quarantined',
        reason: 'AGENT_IDENTITY_REVOKED',
      });
      await expect(custody.openSession(A, session(4).req)).rejects.toMatchObject({ code: 'AGENT_IDENTITY_REVOKED' });
      // a new key lifts the refusal
      const key3 = hpke.generateKeyPair(seededRng('idk/device/3'));
      custody.registerIdentityKey('oxi-01', key3.publicKey);
      expect(decodeTicket((await custody.openSession(A, session(5).req)).ticket).idk).toEqual(key3.publicKey);
    } finally {
      await core.close();
    }
  });
});

describe('a session key across a rotation of the device identity key', () => {
  it('is not re-certified under the new key (its readings verify against its first ticket); ending it keeps the old key; a new key gets the new idk', async () => {
    const { core, custody } = open('rekey');
    try {
      const key1 = hpke.generateKeyPair(seededRng('rekey/device/1'));
      const key2 = hpke.generateKeyPair(seededRng('rekey/device/2'));
      core.provisionDevice('oxi-01');
      await custody.assign('oxi-01', A, 'operator');
      // a v1 session, then the device's first identity key: the kid is not re-certified as v2 either
      const s0 = session(10);
      expect(decodeTicket((await custody.openSession(A, s0.req)).ticket).v).toBe(1);
      custody.registerIdentityKey('oxi-01', key1.publicKey);
      await expect(custody.openSession(A, s0.req)).rejects.toMatchObject({ code: 'AGENT_BAD_REQUEST' });
      const s1 = session(11);
      const t1 = (await custody.openSession(A, s1.req)).ticket;
      // renewing under the same key is fine while the idk is unchanged
      expect(decodeTicket((await custody.openSession(A, { ...s1.req, exp: s1.req.exp + 60 })).ticket).idk).toEqual(key1.publicKey);
      custody.registerIdentityKey('oxi-01', key2.publicKey);
      await expect(custody.openSession(A, s1.req)).rejects.toMatchObject({ code: 'AGENT_BAD_REQUEST' });
      expect(decodeTicket(core.store.listTickets().find((t) => toHex(t.kid) === toHex(decodeTicket(t1).kid))!.ticket).idk).toEqual(
        key1.publicKey,
      );
      // ending the old session: the superseding ticket still certifies key1
      await custody.endSession(decodeTicket(t1));
      expect(decodeTicket(core.store.listTickets().find((t) => toHex(t.kid) === toHex(decodeTicket(t1).kid))!.ticket).idk).toEqual(
        key1.publicKey,
      );
      expect(decodeTicket((await custody.openSession(A, session(12).req)).ticket).idk).toEqual(key2.publicKey);
    } finally {
      await core.close();
    }
  });
});

/** The stored ticket that certifies `idk` (the agent keeps every ticket it issued). */
function decodeTicketBytes(core: AgentCore, idk: Uint8Array): Uint8Array {
  const row = core.store.listTickets().find((t) => {
    const k = decodeTicket(t.ticket).idk;
    return k !== undefined && toHex(k) === toHex(idk);
  });
  if (!row) throw new Error('no ticket with that identity key');
  return row.ticket;
}
