/**
 * The attack of issue #20: a gateway-side forger who holds only the patient's public key (it read the
 * retained ticket on the ward network) publishes readings for the device. The agent cannot tell an
 * Auth-mode forgery from a genuine reading without the patient's secret key, so it stores, logs and
 * serves it; the clinician's wallet opens each served record against the identity key of its
 * ward-signed ticket and rejects the forgery as not from the device (ENVELOPE_ORIGIN_UNVERIFIED).
 * A base-mode forgery is quarantined by the agent (AGENT_BASE_MODE_REFUSED): the ticket certifies an
 * identity key, so that device seals in Auth mode — and so it is with ingest.requireAuthMode.
 *
 * In-process (AgentCore, the wallet's openServedRecord): nothing outside the test's process is started,
 * so it is a unit-tier file (vitest.config.ts); the MQTT path in front of the ingestor is the same
 * for genuine and forged bytes.
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
import { decodeEnvelope, identityFingerprint, sealReading } from '../../protocol/envelope/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import { openServedRecord } from '../../wallet/readings.ts';
import { tempDir } from '../support/services.ts';

const dir = tempDir('vitalseal-forged-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hpke = createHpke('node');
const PATIENT = `0x${'aa'.repeat(20)}`;
const T0 = 1_767_225_600_000;

function ward(name: string, requireAuthMode: boolean): { core: AgentCore; custody: DeviceCustody; authority: Uint8Array } {
  const dataDir = join(dir, name);
  const core = new AgentCore({
    dataDir,
    clock: { now: () => T0 },
    logger: pino({ level: 'silent' }),
    maxEnvelopeBytes: 4096,
    maxFutureSkewMs: 300_000,
    quarantineMaxRows: 1000,
    writer: 'inline',
    defaultMetrics: false,
    requireAuthMode,
  });
  const keys = loadOrCreateWardKeys(dataDir);
  return {
    core,
    custody: new DeviceCustody({ core, ward: keys, rng: seededRng(name), pairingTtlMs: 60_000 }),
    authority: keys.authorityPublicKey,
  };
}

const submit = (core: AgentCore, payload: Uint8Array): Promise<IngestOutcome> =>
  new Promise((done) => core.ingestor.submit({ linkDevice: 'oxi-01', payload, source: 'mqtt', done }));

describe.each([false, true])('a gateway-side forger with the patient public key (ingest.requireAuthMode %s)', (requireAuthMode) => {
  it('Auth-mode forgery: stored and served by the agent, rejected by the clinician wallet as not from the device; base-mode forgery quarantined', async () => {
    const { core, custody, authority } = ward(`ward-${requireAuthMode}`, requireAuthMode);
    try {
      // provisioning: the device generated its identity key; the operator registered the public half
      const device = hpke.generateKeyPair(seededRng('forged/device-identity'));
      core.provisionDevice('oxi-01');
      custody.registerIdentityKey('oxi-01', device.publicKey);
      await custody.assign('oxi-01', PATIENT, 'operator');
      // the patient's wallet opens a session; the clinician got the session secret from the patient
      const session = hpke.generateKeyPair(seededRng('forged/session'));
      const { ticket } = await custody.openSession(PATIENT, {
        device: 'oxi-01',
        pk: session.publicKey,
        nbf: T0 / 1000 - 60,
        exp: T0 / 1000 + 3600,
      });
      const t = decodeTicket(ticket); // the retained ticket: what anyone on the ward network can read
      expect(t.idk).toEqual(device.publicKey);
      const recipient = { publicKey: t.pk, kid: t.kid };
      const reading = (seq: number, v: number) => ({ st: 'spo2', ts: T0 + seq, v: [v], u: '%' });
      const header = (seq: number) => ({ dev: 'oxi-01', seq, ts: T0 + seq, st: 'spo2' });

      const genuine = sealReading({
        reading: reading(0, 97),
        header: header(0),
        recipient,
        hpke,
        rng: seededRng('g'),
        senderSecretKey: device.secretKey,
      });
      const forger = hpke.generateKeyPair(seededRng('forged/gateway'));
      const forgedAuth = sealReading({
        reading: reading(1, 71),
        header: header(1),
        recipient,
        hpke,
        rng: seededRng('f1'),
        senderSecretKey: forger.secretKey,
      });
      const forgedBase = sealReading({ reading: reading(2, 70), header: header(2), recipient, hpke, rng: seededRng('f2') });

      expect((await submit(core, genuine)).kind).toBe('stored');
      // the agent has no skR: an Auth-mode envelope sealed with the wrong key looks like any other
      expect((await submit(core, forgedAuth)).kind).toBe('stored');
      expect(await submit(core, forgedBase)).toMatchObject({ kind: 'quarantined', reason: 'AGENT_BASE_MODE_REFUSED' });

      const clinician = { secretKey: session.secretKey, hpke, authorityPublicKey: authority };
      const served = async (env: Uint8Array) => core.recordWithProof(toHex(decodeEnvelope(env).recordId));
      const ok = openServedRecord(await served(genuine), clinician);
      expect(ok).toMatchObject({ decrypt: 'ok', origin: 'device', reading: reading(0, 97) });
      expect(ok.originDetail).toBe(`verified: sealed by device oxi-01 identity ${identityFingerprint(device.publicKey)}`);

      const rejected = openServedRecord(await served(forgedAuth), clinician);
      expect(rejected).toMatchObject({ decrypt: 'not-from-device', origin: 'not-from-device', originError: 'ENVELOPE_ORIGIN_UNVERIFIED' });
      expect(rejected.reading).toBeUndefined(); // the forged value (71 %) never reaches the clinician

      // a served ticket the agent swapped for one with the forger's key is not the ward's: refused too
      const record = await served(forgedAuth);
      const swapped = { ...record, ticket: Buffer.from(swapIdk(ticket, forger.publicKey)).toString('base64') };
      expect(openServedRecord(swapped, clinician)).toMatchObject({ origin: 'not-from-device', originError: 'ENVELOPE_ORIGIN_UNVERIFIED' });
    } finally {
      await core.close();
    }
  });
});

/** The ticket with its payload's idk replaced, signature kept (what a gateway would have to do to pass its key off). */
function swapIdk(ticket: Uint8Array, idk: Uint8Array): Uint8Array {
  const hexTicket = toHex(ticket);
  const hexOld = toHex(decodeTicket(ticket).idk!);
  return Uint8Array.from(Buffer.from(hexTicket.replace(hexOld, toHex(idk)), 'hex'));
}
