/**
 * Ingest of HPKE Auth-mode readings (issue #20, docs/PROTOCOL.md §10.2): a base-mode reading is
 * quarantined with AGENT_BASE_MODE_REFUSED when the ward requires Auth mode (ingest.requireAuthMode)
 * or when its ticket certifies the device's identity key (v2); Auth-mode readings are stored; what
 * was stored before stays stored. The agent checks the mode key-less; it cannot check the sender.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentCore } from '../../agent/core.ts';
import type { IngestOutcome } from '../../agent/ingest/types.ts';
import { loadOrCreateWardKeys } from '../../agent/api/wardKeys.ts';
import { createSessionSealer, sealReading } from '../../protocol/envelope/index.ts';
import { keyIdOf } from '../../protocol/keys/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { tempDir } from '../support/services.ts';

const dir = tempDir('vitalseal-authmode-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hpke = createHpke('node');
const T0 = 1_767_225_600_000;
const clock = { now: () => T0 };
const patient = hpke.generateKeyPair(seededRng('authmode/patient'));
const identity = hpke.generateKeyPair(seededRng('authmode/device-identity'));
const recipient = { publicKey: patient.publicKey, kid: keyIdOf(patient.publicKey) };

function coreIn(name: string, requireAuthMode: boolean): AgentCore {
  return new AgentCore({
    dataDir: join(dir, name),
    clock,
    logger: pino({ level: 'silent' }),
    maxEnvelopeBytes: 4096,
    maxFutureSkewMs: 300_000,
    quarantineMaxRows: 1000,
    writer: 'inline',
    defaultMetrics: false,
    requireAuthMode,
  });
}

const submit = (core: AgentCore, dev: string, payload: Uint8Array): Promise<IngestOutcome> =>
  new Promise((done) => core.ingestor.submit({ linkDevice: dev, payload, source: 'mqtt', done }));
const reading = (seq: number) => ({ st: 'spo2', ts: T0 + seq, v: [97], u: '%' });
const header = (dev: string, seq: number) => ({ dev, seq, ts: T0 + seq, st: 'spo2' });
const base = (dev: string, seq: number) =>
  sealReading({ reading: reading(seq), header: header(dev, seq), recipient, hpke, rng: seededRng(`authmode/${dev}/${seq}`) });

async function pushTicket(core: AgentCore, name: string, dev: string, idk?: Uint8Array): Promise<void> {
  const ward = loadOrCreateWardKeys(join(dir, name));
  const nbf = T0 / 1000 - 60;
  await core.pushTicket(
    ward.issueTicket({ dev, kid: recipient.kid, pk: patient.publicKey, patient: 'p-1', nbf, exp: nbf + 3600, ...(idk ? { idk } : {}) }),
  );
}

describe('ingest of Auth-mode readings', () => {
  it('requireAuthMode: base mode quarantined (AGENT_BASE_MODE_REFUSED), Auth mode stored, a stored base reading is still a duplicate', async () => {
    const before = coreIn('require', false);
    await pushTicket(before, 'require', 'oxi-01');
    const old = base('oxi-01', 0);
    expect((await submit(before, 'oxi-01', old)).kind).toBe('stored');
    await before.close();

    const core = coreIn('require', true);
    try {
      // nothing already accepted is lost: the old base-mode reading is a duplicate, not a refusal
      expect((await submit(core, 'oxi-01', old)).kind).toBe('duplicate');
      expect(await submit(core, 'oxi-01', base('oxi-01', 1))).toMatchObject({ kind: 'quarantined', reason: 'AGENT_BASE_MODE_REFUSED' });
      const session = createSessionSealer({ recipient, hpke, rng: seededRng('authmode/s'), senderSecretKey: identity.secretKey });
      const auth = session.seal({ reading: reading(2), header: header('oxi-01', 2) });
      expect((await submit(core, 'oxi-01', auth)).kind).toBe('stored');
      expect(core.ingestor.deviceCounters('oxi-01')?.quarantined).toBe(1);
      const counted = (await core.metrics.quarantined.get()).values.find((v) => v.labels.reason === 'AGENT_BASE_MODE_REFUSED');
      expect(counted?.value).toBe(1);
    } finally {
      await core.close();
    }
  });

  it('without requireAuthMode: base mode stored under a v1 ticket, quarantined under a v2 ticket (it certifies an identity key)', async () => {
    const core = coreIn('ticket', false);
    try {
      await pushTicket(core, 'ticket', 'oxi-01');
      await pushTicket(core, 'ticket', 'oxi-02', identity.publicKey);
      expect((await submit(core, 'oxi-01', base('oxi-01', 0))).kind).toBe('stored');
      expect(await submit(core, 'oxi-02', base('oxi-02', 0))).toMatchObject({ kind: 'quarantined', reason: 'AGENT_BASE_MODE_REFUSED' });
      const session = createSessionSealer({ recipient, hpke, rng: seededRng('authmode/t'), senderSecretKey: identity.secretKey });
      expect((await submit(core, 'oxi-02', session.seal({ reading: reading(1), header: header('oxi-02', 1) }))).kind).toBe('stored');
    } finally {
      await core.close();
    }
  });

  it('the v2 ticket survives a restart: the agent re-learns from the stored ticket that the device seals in Auth mode', async () => {
    const core = coreIn('ticket', false);
    try {
      expect(await submit(core, 'oxi-02', base('oxi-02', 5))).toMatchObject({ kind: 'quarantined', reason: 'AGENT_BASE_MODE_REFUSED' });
    } finally {
      await core.close();
    }
  });
});
