/**
 * Ward authority key rotation without losing a reading (issue #20, docs/PROTOCOL.md §7.7): a device
 * publishes throughout; the operator rotates the authority key (POST /admin/ward/authority-rotate),
 * re-provisions the device with the new key, and the patient opens a new session whose ticket the new
 * key signs. Every reading the agent acknowledged is stored; readings under the old and the new ticket
 * open in the wallet and their origin verifies against the authority keys GET /v1/ward publishes
 * (current and retired); a device still pinned to the old key refuses a ticket signed by the new one.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateWardKeys } from '../../agent/api/wardKeys.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import type { ServedRecord } from '../../protocol/api/servedRecord.ts';
import { DeviceFirmware } from '../../device-sim/firmware/device.ts';
import { MemoryNvm } from '../../device-sim/nvm/storage.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { realScheduler } from '../../device-sim/time/realScheduler.ts';
import { MqttLink } from '../../device-sim/transport/mqttLink.ts';
import { trustedAuthorities, type WardInfo } from '../../wallet/agentClient.ts';
import { openServedRecord } from '../../wallet/readings.ts';
import { startTestAgent } from '../device-sim/helpers.ts';
import { waitFor } from '../support/services.ts';

const hpke = createHpke('node');
const PATIENT = `0x${'ab'.repeat(20)}`;
let t: Awaited<ReturnType<typeof startTestAgent>>;
beforeAll(async () => {
  t = await startTestAgent();
});
afterAll(async () => {
  await t?.stop();
});

/** waitFor (test/support/services.ts) with this file's argument order and 20 s default. */
const until = (what: string, f: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => waitFor(f, ms, what);

describe('ward authority key rotation', () => {
  it('a device publishing throughout: every acknowledged reading stored; old and new readings open and their origin verifies', async () => {
    const { agent } = t;
    const api = `http://127.0.0.1:${agent.httpAddress.port}`;
    const admin = async (method: string, path: string): Promise<Record<string, unknown>> => {
      const r = await fetch(api + path, { method, headers: { authorization: `Bearer ${agent.adminToken}` } });
      expect(r.status).toBe(200);
      return (await r.json()) as Record<string, unknown>;
    };
    const k1 = agent.ward.authorityPublicKey;
    const dev = 'rot-1';
    const { secret } = agent.core.provisionDevice(dev);
    const storage = new MemoryNvm();
    const fw = new DeviceFirmware({
      provisioning: { id: dev, profile: PROFILES['pulse-oximeter'], periodMs: 100, secret, authorityPublicKey: k1 },
      scheduler: realScheduler(),
      storage,
      link: (d, ev) => new MqttLink({ url: `mqtt://127.0.0.1:${agent.mqttAddress!.port}`, deviceId: d.id, secret: d.secret! }, ev),
      seed: 'authority-rotation',
      runStartMs: Date.now(),
      backend: 'node',
      mode: 'session',
      ackTimeoutMs: 2000,
      onEvent: (e) => {
        if (e.kind === 'sealed') sealed++;
      },
    });
    let sealed = 0;
    fw.start();
    try {
      await until('the link', () => fw.linkUp);
      // the operator registers the identity key the device generated; the device is assigned to the patient
      const idk = hpke.publicKeyOf(fromHex(storage.loadState()!.identityKey!));
      agent.custody.registerIdentityKey(dev, idk);
      await agent.custody.assign(dev, PATIENT, 'operator');
      const nowS = Math.floor(Date.now() / 1000);
      const s1 = hpke.generateKeyPair(seededRng('rotation/s1'));
      const first = await agent.custody.openSession(PATIENT, { device: dev, pk: s1.publicKey, nbf: nowS - 60, exp: nowS + 3600 });
      await until('readings under the first ticket', () => fw.stats.acknowledged >= 10);

      // rotation: the device keeps publishing under its ticket signed by the old key
      const rotated = await admin('POST', '/admin/ward/authority-rotate');
      const k2 = agent.ward.authorityPublicKey;
      expect(rotated).toEqual({ rotated: true, authorityPublicKey: toHex(k2), previous: toHex(k1) });
      expect(toHex(k2)).not.toBe(toHex(k1));
      const before = fw.stats.acknowledged;
      await until('readings after the rotation under the old ticket', () => fw.stats.acknowledged >= before + 5);

      // a device not yet re-provisioned refuses a ticket signed by the new key, and goes on under its old ticket
      const nowS2 = Math.floor(Date.now() / 1000);
      const s2 = hpke.generateKeyPair(seededRng('rotation/s2'));
      await agent.custody.openSession(PATIENT, { device: dev, pk: s2.publicKey, nbf: nowS2 - 5, exp: nowS2 + 3600 });
      await until('the refusal of the new-key ticket', () => Object.keys(fw.stats.ticketRefusals).length > 0);
      expect(Object.keys(fw.stats.ticketRefusals)).toEqual(['TICKET_BAD_SIGNATURE']);
      const acked = fw.stats.acknowledged;
      await until('readings under the old ticket after the refusal', () => fw.stats.acknowledged >= acked + 3);

      // re-provisioning: the device pins the new key (NVM); the patient's next session ticket is adopted
      fw.reprovisionAuthority(k2);
      expect(storage.loadState()!.authorityPublicKey).toBe(toHex(k2));
      const s3 = hpke.generateKeyPair(seededRng('rotation/s3'));
      const third = await agent.custody.openSession(PATIENT, { device: dev, pk: s3.publicKey, nbf: nowS2 - 5, exp: nowS2 + 3600 });
      const kid3 = toHex(third.kid);
      const kidsStored = (): Set<string> => new Set(agent.core.store.recordsOfDevice(dev, 0, 1_000_000).map((r) => toHex(r.kid)));
      await until(
        'readings under the new ticket',
        () => agent.core.store.recordsOfDevice(dev, 0, 1_000_000).filter((r) => toHex(r.kid) === kid3).length >= 5,
      );
      await fw.shutdown();

      // every acknowledged reading is stored (once), nothing quarantined
      const stored = agent.core.store.recordsOfDevice(dev, 0, 1_000_000);
      expect(stored.length).toBeGreaterThanOrEqual(fw.stats.acknowledged);
      expect(stored.length).toBeLessThanOrEqual(sealed);
      const seqs = new Set(stored.map((r) => r.seq));
      expect(seqs.size).toBe(stored.length);
      // the rotation is durable: the key file reloads with the new key current and the old one retired
      const reloaded = loadOrCreateWardKeys(join(t.dir));
      expect(toHex(reloaded.authorityPublicKey)).toBe(toHex(k2));
      expect(reloaded.authorityKeys.map((k) => [toHex(k.publicKey), k.until === undefined])).toEqual([
        [toHex(k2), true],
        [toHex(k1), false],
      ]);
      expect(agent.core.store.getDevice(dev)!.quarantined).toBe(0);
      expect(kidsStored()).toEqual(new Set([toHex(first.kid), kid3]));

      // the ward publishes the current and the retired key; the wallet verifies old and new readings' origin
      const ward = (await (await fetch(`${api}/v1/ward`)).json()) as WardInfo;
      expect(ward.authorityPublicKey).toBe(toHex(k2));
      expect(ward.authorityKeys!.map((k) => [k.publicKey, k.current])).toEqual([
        [toHex(k2), true],
        [toHex(k1), false],
      ]);
      const trusted = trustedAuthorities(ward);
      const secrets = new Map([
        [toHex(first.kid), s1.secretKey],
        [kid3, s3.secretKey],
      ]);
      const origins: Record<string, number> = {};
      for (const r of stored) {
        const served = (await (await fetch(`${api}/v1/records/${toHex(r.recordId)}`)).json()) as ServedRecord;
        const opened = openServedRecord(served, { secretKey: secrets.get(served.kid)!, hpke, authorityPublicKey: trusted });
        expect(opened.decrypt).toBe('ok');
        expect(opened.origin).toBe('device');
        origins[served.kid === kid3 ? 'new' : 'old'] = (origins[served.kid === kid3 ? 'new' : 'old'] ?? 0) + 1;
        // with the current key alone, a reading under the old key's ticket does not verify
        if (served.kid !== kid3)
          expect(openServedRecord(served, { secretKey: s1.secretKey, hpke, authorityPublicKey: k2 }).origin).not.toBe('device');
      }
      expect(origins['old']).toBeGreaterThanOrEqual(18);
      expect(origins['new']).toBeGreaterThanOrEqual(5);
    } finally {
      await fw.shutdown().catch(() => undefined);
    }
  }, 90_000);
});
