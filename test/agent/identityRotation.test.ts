/**
 * Device-side rotation of the identity key, end to end (issue #20, docs/PROTOCOL.md §3.6 "Rotating the
 * identity key"): a real agent and the reference simulator on MQTT. The device publishes in Auth mode
 * under a ticket that certifies its key; its link drops and readings pile up in its outbox; it rotates
 * its key (DeviceFirmware.rotateIdentity: new secret in NVM, the old one erased, its ticket dropped,
 * SIM_IDENTITY_KEY_ROTATED and the new idk reported); the outbox drains byte for byte under the old key;
 * the operator registers the idk the agent shows (PUT /admin/devices/:id/identity), the patient opens a
 * new session, and readings continue under the new key. Nothing is lost (every sealed seq acknowledged
 * and stored exactly once, no gap, nothing quarantined) and the wallet verifies the origin of old readings
 * against the old idk and of new ones against the new idk.
 *
 * What the system guarantees against someone holding the OLD secret (stolen before the rotation), tested
 * here exactly: (a) under the new ticket (and any later one) a reading sealed with the old key is
 * rejected by every reader as not from the device (ENVELOPE_ORIGIN_UNVERIFIED) — the agent itself stores
 * it (it cannot tell without the patient's secret); (b) under the ticket that certifies the old key, such
 * a reading is indistinguishable from the device's own (that is what lets the outbox drain) and readers
 * accept it, until (c) the operator revokes the rotated key (DELETE /admin/devices/:id/identity?idk=…):
 * from then on the agent quarantines it (AGENT_IDENTITY_REVOKED), and what was stored before still verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestOutcome } from '../../agent/ingest/types.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { decodeEnvelope, identityFingerprint, sealReading } from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import type { ServedRecord } from '../../protocol/api/servedRecord.ts';
import { DeviceFirmware } from '../../device-sim/firmware/device.ts';
import { identityPublicKeyOf } from '../../device-sim/firmware/identityKey.ts';
import { MemoryNvm } from '../../device-sim/nvm/storage.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { realScheduler } from '../../device-sim/time/realScheduler.ts';
import { MqttLink } from '../../device-sim/transport/mqttLink.ts';
import { openServedRecord } from '../../wallet/readings.ts';
import { startTestAgent } from '../device-sim/helpers.ts';
import { waitFor } from '../support/services.ts';

const hpke = createHpke('node');
const PATIENT = `0x${'ef'.repeat(20)}`;
let t: Awaited<ReturnType<typeof startTestAgent>>;
beforeAll(async () => {
  t = await startTestAgent();
});
afterAll(async () => {
  await t?.stop();
});

/** waitFor (test/support/services.ts) with this file's argument order and 20 s default. */
const until = (what: string, f: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => waitFor(f, ms, what);

describe('device-side identity key rotation, end to end', () => {
  it('no reading lost; old and new readings verify against their own idk; the old key after the rotation: rejected by readers under the new ticket, quarantined once revoked', async () => {
    const { agent } = t;
    const api = `http://127.0.0.1:${agent.httpAddress.port}`;
    const admin = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
      const r = await fetch(api + path, {
        method,
        headers: { authorization: `Bearer ${agent.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      expect(r.status, `${method} ${path}`).toBe(200);
      return (await r.json()) as Record<string, unknown>;
    };
    const refusals = async (code: string): Promise<number> =>
      (await agent.core.metrics.ticketRefusals.get()).values.find((v) => v.labels.code === code)?.value ?? 0;
    const reportedIdk = async (): Promise<string | undefined> =>
      ((await admin('GET', `/admin/devices/${dev}/identity`)).reported as { idk: string } | null)?.idk;

    const dev = 'rot-idk-1';
    const { secret } = agent.core.provisionDevice(dev);
    const storage = new MemoryNvm();
    const sealed = new Map<number, Uint8Array>();
    const fw = new DeviceFirmware({
      provisioning: {
        id: dev,
        profile: PROFILES['pulse-oximeter'],
        periodMs: 100,
        secret,
        authorityPublicKey: agent.ward.authorityPublicKey,
      },
      scheduler: realScheduler(),
      storage,
      link: (d, ev) => new MqttLink({ url: `mqtt://127.0.0.1:${agent.mqttAddress!.port}`, deviceId: d.id, secret: d.secret! }, ev),
      seed: 'identity-rotation-e2e',
      runStartMs: Date.now(),
      backend: 'node',
      mode: 'session',
      ackTimeoutMs: 2000,
      onEvent: (e) => {
        if (e.kind === 'sealed') {
          expect(sealed.has(e.seq)).toBe(false);
          sealed.set(e.seq, e.envelope);
        }
      },
    });
    fw.start();
    try {
      // provisioning: the operator registers the idk the agent shows for the device; the patient opens a session
      await until('the reported idk', async () => (await reportedIdk()) !== undefined);
      const idk1 = (await reportedIdk())!;
      expect(idk1).toBe(identityPublicKeyOf(storage.loadState()!));
      await admin('PUT', `/admin/devices/${dev}/identity`, { idk: idk1 });
      await agent.custody.assign(dev, PATIENT, 'operator');
      const nowS = Math.floor(Date.now() / 1000);
      const s1 = hpke.generateKeyPair(seededRng('idk-rotation-e2e/s1'));
      const first = await agent.custody.openSession(PATIENT, { device: dev, pk: s1.publicKey, nbf: nowS - 60, exp: nowS + 3600 });
      expect(toHex(decodeTicket(first.ticket).idk!)).toBe(idk1);
      await until('readings under the first ticket', () => fw.stats.acknowledged >= 10);

      // the link drops; readings pile up in the outbox, sealed with the old key; the device rotates meanwhile
      fw.linkOutage(2500);
      await until('readings in the outbox', () => fw.pending >= 5, 5000);
      const stolen = fromHex(storage.loadState()!.identityKey!); // a theft BEFORE the rotation (the device erases it)
      const lastOld = fw.seq - 1;
      const rotation = fw.rotateIdentity();
      expect(rotation.previous).toBe(idk1);
      expect(storage.loadState()!.identityKey).not.toBe(toHex(stolen));
      expect(fw.state.kind).toBe('provisioned'); // no ticket for the new key: it measures nothing

      // back online: the outbox drains under the old key; the new idk and the refusal of the old ticket are reported
      await until('the outbox drained', () => fw.pending === 0, 20_000);
      await until('the new idk reported', async () => (await reportedIdk()) === rotation.idk);
      await until('SIM_IDENTITY_KEY_ROTATED counted', async () => (await refusals('SIM_IDENTITY_KEY_ROTATED')) >= 1);
      expect(fw.seq - 1).toBe(lastOld); // nothing sealed without a ticket for the new key

      // the ward: register the new idk, a new session; readings continue in Auth mode under the new key
      const registered = await admin('PUT', `/admin/devices/${dev}/identity`, { idk: rotation.idk });
      expect(registered).toEqual({ device: dev, idk: rotation.idk, rotated: idk1 });
      // the old session key cannot be re-certified with the new idk: its ticket (idk1) stays what its readings verify against
      await expect(
        agent.custody.openSession(PATIENT, { device: dev, pk: s1.publicKey, nbf: nowS - 60, exp: nowS + 7200 }),
      ).rejects.toMatchObject({ code: 'AGENT_BAD_REQUEST' });
      const s2 = hpke.generateKeyPair(seededRng('idk-rotation-e2e/s2'));
      const second = await agent.custody.openSession(PATIENT, { device: dev, pk: s2.publicKey, nbf: nowS - 60, exp: nowS + 3600 });
      const kid1 = toHex(first.kid);
      const kid2 = toHex(second.kid);
      const under = (kid: string) => agent.core.store.recordsOfDevice(dev, 0, 1_000_000).filter((r) => toHex(r.kid) === kid);
      await until('readings under the new ticket', () => under(kid2).length >= 10);
      await until('the outbox empty', () => fw.pending === 0);
      fw.stopMeasuring();
      await until('the last readings acknowledged', () => fw.pending === 0);
      await fw.shutdown();

      // nothing lost: every sealed seq acknowledged and stored exactly once, byte for byte, no gap, no quarantine
      const stored = agent.core.store.recordsOfDevice(dev, 0, 1_000_000);
      const seqs = stored.map((r) => r.seq).sort((a, b) => a - b);
      expect(seqs).toEqual([...sealed.keys()].sort((a, b) => a - b));
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
      expect(fw.stats.acknowledged).toBe(sealed.size);
      for (const r of stored) expect(toHex(r.envelope)).toBe(toHex(sealed.get(r.seq)!));
      expect(agent.core.store.getDevice(dev)!.quarantined).toBe(0);
      expect(Math.max(...under(kid1).map((r) => r.seq))).toBe(lastOld);
      expect(Math.min(...under(kid2).map((r) => r.seq))).toBe(lastOld + 1);

      // the wallet: old readings verify against the old idk, new ones against the new idk
      const secrets = new Map([
        [kid1, s1.secretKey],
        [kid2, s2.secretKey],
      ]);
      const opts = (kid: string) => ({ secretKey: secrets.get(kid)!, hpke, authorityPublicKey: agent.ward.authorityPublicKey });
      const served = async (recordId: string): Promise<ServedRecord> =>
        (await (await fetch(`${api}/v1/records/${recordId}`)).json()) as ServedRecord;
      const fingerprints: Record<string, Set<string>> = { [kid1]: new Set(), [kid2]: new Set() };
      for (const r of stored) {
        const rec = await served(toHex(r.recordId));
        const opened = openServedRecord(rec, opts(rec.kid));
        expect(opened, `seq ${r.seq}`).toMatchObject({ decrypt: 'ok', origin: 'device' });
        fingerprints[rec.kid]!.add(opened.originDetail);
      }
      expect([...fingerprints[kid1]!]).toEqual([`verified: sealed by device ${dev} identity ${identityFingerprint(fromHex(idk1))}`]);
      expect([...fingerprints[kid2]!]).toEqual([
        `verified: sealed by device ${dev} identity ${identityFingerprint(fromHex(rotation.idk))}`,
      ]);

      // someone holding the old secret, after the rotation (it has the device's transport identity: a forger on the gateway)
      const submit = (payload: Uint8Array): Promise<IngestOutcome> =>
        new Promise((done) => agent.core.ingestor.submit({ linkDevice: dev, payload, source: 'mqtt', done }));
      const forge = (ticket: Uint8Array, seq: number) => {
        const tk = decodeTicket(ticket);
        const ts = Date.now();
        return sealReading({
          reading: { st: 'spo2', ts, v: [71, 140], u: '%,bpm' },
          header: { dev, seq, ts, st: 'spo2' },
          recipient: { publicKey: tk.pk, kid: tk.kid },
          hpke,
          rng: seededRng(`idk-rotation-e2e/forged/${seq}`),
          senderSecretKey: stolen,
        });
      };
      const next = fw.seq;
      // (a) under the new ticket: stored by the agent (it cannot tell), rejected by the reader
      const underNew = forge(second.ticket, next + 10);
      expect((await submit(underNew)).kind).toBe('stored');
      const a = openServedRecord(await served(toHex(decodeEnvelope(underNew).recordId)), opts(kid2));
      expect(a).toMatchObject({ decrypt: 'not-from-device', origin: 'not-from-device', originError: 'ENVELOPE_ORIGIN_UNVERIFIED' });
      expect(a.reading).toBeUndefined();
      // (b) under the ticket that certifies the old key: indistinguishable from the device's own — the limit of a rotation
      const underOld = forge(first.ticket, next + 11);
      expect((await submit(underOld)).kind).toBe('stored');
      expect(openServedRecord(await served(toHex(decodeEnvelope(underOld).recordId)), opts(kid1))).toMatchObject({ origin: 'device' });
      // (c) the operator revokes the rotated key (the device's old readings have all arrived): quarantined from now on
      expect(await admin('DELETE', `/admin/devices/${dev}/identity?idk=${idk1}`)).toEqual({ device: dev, revoked: idk1 });
      expect(await submit(forge(first.ticket, next + 12))).toMatchObject({ kind: 'quarantined', reason: 'AGENT_IDENTITY_REVOKED' });
      // the current key and its ticket stay; what was stored before the revocation still verifies
      expect((await admin('GET', `/admin/devices/${dev}/identity`)).keys).toEqual([
        expect.objectContaining({ idk: idk1, ended: 'revoked' }),
        expect.objectContaining({ idk: rotation.idk, ended: null }),
      ]);
      const old = stored.find((r) => toHex(r.kid) === kid1)!;
      expect(openServedRecord(await served(toHex(old.recordId)), opts(kid1))).toMatchObject({ origin: 'device' });
    } finally {
      await fw.shutdown().catch(() => undefined);
    }
  }, 90_000);
});
