/**
 * Issue #15, defect 4: expired consent must not be honoured until the next block.
 *
 * The attacker is a clinician whose consent (or an emergency clinician whose break-glass
 * window) has just run out. The embedded chain (anvil) mines only when a transaction
 * arrives, so on an idle chain the latest block's timestamp stays in the past; the agent
 * must still refuse within 1 s of the wall-clock expiry. Everything goes through the
 * public interfaces: the patient's own transactions on the chain, signed HTTP requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { startEmbeddedChain } from '../../chain/embedded.ts';
import { devPrivateKey } from '../../chain/devKeys.ts';
import type { ChainContracts } from '../../chain/contracts.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { AgentClient } from '../../wallet/agentClient.ts';
import { contractsFor, registerByAdmin, registerPatient, type ChainLink } from '../../wallet/chainLink.ts';
import { grantConsent } from '../../wallet/consent.ts';
import { breakGlassAndRelease, initEmergency } from '../../wallet/emergency.ts';
import { WalletError } from '../../wallet/errors.ts';
import { Wallet } from '../../wallet/wallet.ts';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

const BREAK_GLASS_SECONDS = 3;
const DEVICE = 'expiry-01';
const READINGS = 24;

const dataDir = tempDir('vitalseal-expired-consent-');
const rng = seededRng('adversarial-expired-consent');
const hpke = createHpke('node');
const ward = new WardFixture('adversarial-expired-consent');
let agent: RunningAgent;
let mqttClient: MqttClient;
let api: string;
let link: ChainLink;
let admin: ChainContracts;
const wallets = {} as Record<'patient' | 'clinician' | 'emergency', Wallet>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const blockNumber = async (): Promise<number> => Number(await admin.clients.publicClient.getBlockNumber());
const latestBlockTime = async (): Promise<number> => Number((await admin.clients.publicClient.getBlock()).timestamp);

/** Served record count, or the stable refusal code. */
async function query(who: Wallet, device = ''): Promise<number | string> {
  try {
    const r = (await new AgentClient(api, rng).call(who, '/v1/query/records', 'RecordQuery', {
      patient: wallets.patient.address,
      device,
      fromLeaf: 0,
      limit: 500,
    })) as { records: unknown[] };
    return r.records.length;
  } catch (e) {
    if (e instanceof WalletError && e.apiCode !== undefined) return e.apiCode;
    throw e;
  }
}

async function release(who: Wallet): Promise<string> {
  try {
    await new AgentClient(api, rng).call(who, '/v1/emergency/release', 'EmergencyRelease', {
      patient: wallets.patient.address,
      recipientKey: who.vitalsealPublicKey,
    });
    return 'released';
  } catch (e) {
    if (e instanceof WalletError && e.apiCode !== undefined) return e.apiCode;
    throw e;
  }
}

/** Sleeps until `notAfter` (inclusive last second, Unix seconds) is `afterMs` in the past on the wall clock. */
async function waitPastExpiry(notAfter: number, afterMs: number): Promise<void> {
  const end = (notAfter + 1) * 1000 + afterMs;
  const left = end - Date.now();
  if (left > 0) await sleep(left);
}

beforeAll(async () => {
  // The ward deploys its contracts with a short break-glass window; the agent reuses that deployment.
  const chainDir = join(dataDir, 'agent', 'chain');
  const pre = await startEmbeddedChain({ dataDir: chainDir, breakGlassSeconds: BREAK_GLASS_SECONDS, startTimeoutMs: 20_000 });
  await pre.chain.stop();
  // no anchoring during the test: nothing but the test's own transactions may mine a block
  agent = await startAgent(
    parseAgentConfig({
      dataDir: join(dataDir, 'agent'),
      mqtt: { port: 0 },
      http: { port: 0 },
      logLevel: 'silent',
      chain: { mode: 'embedded', intervalMs: 3_600_000, maxLeaves: 1_000_000 },
    }),
    { defaultMetrics: false, rng },
  );
  const anchoring = agent.anchoring!;
  expect(anchoring.deployment.breakGlassSeconds).toBe(BREAK_GLASS_SECONDS);
  link = { rpcUrl: anchoring.embedded!.chain.rpcUrl, deployment: anchoring.deployment, embedded: true };
  admin = anchoring.embedded!.adminContracts;
  api = `http://127.0.0.1:${agent.httpAddress.port}`;

  for (const [name, index] of [
    ['patient', 2],
    ['clinician', 3],
    ['emergency', 4],
  ] as const) {
    wallets[name] = Wallet.create(join(dataDir, `${name}.wallet.json`), 'test-only', {
      rng,
      ethPrivateKey: devPrivateKey(index),
      scryptN: 1 << 12,
    });
  }
  await registerPatient(contractsFor(wallets.patient, link), wallets.patient);
  await registerByAdmin(admin, wallets.clinician, 'Clinician');
  await registerByAdmin(admin, wallets.emergency, 'EmergencyClinician');

  // the patient's readings: a session ticket for the patient's address and sealed readings over MQTT
  const { secret } = agent.core.provisionDevice(DEVICE);
  await agent.core.pushTicket(ward.ticketFor(DEVICE, { patient: wallets.patient.address.toLowerCase() }));
  mqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.mqttAddress!.port}`, {
    clientId: DEVICE,
    username: DEVICE,
    password: secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  const now = Date.now();
  await Promise.all(
    Array.from({ length: READINGS }, (_, i) =>
      mqttClient.publishAsync(`vs/v1/${DEVICE}/r`, Buffer.from(ward.seal(DEVICE, i + 1, { ts: now - (READINGS - i) * 1000 })), { qos: 1 }),
    ),
  );
  expect(await query(wallets.patient)).toBe(READINGS);
}, 90_000);

afterAll(async () => {
  await mqttClient?.endAsync();
  await agent?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('expired access on an idle chain (issue #15, defect 4)', () => {
  it('a consent that expired 1 s ago is refused to 10 concurrent queries although no block was mined since', async () => {
    const { clinician, patient } = wallets;
    // ~2 s of consent, counted from whichever clock is later (anvil may run ahead after a burst of blocks)
    const notAfter = Math.max(Math.floor(Date.now() / 1000), await latestBlockTime()) + 2;
    await grantConsent(contractsFor(patient, link), clinician.address, { kind: 'all' }, notAfter);
    expect(await query(clinician)).toBe(READINGS); // honoured while valid
    const idleFrom = await blockNumber();

    await waitPastExpiry(notAfter, 1000);
    expect(await latestBlockTime()).toBeLessThanOrEqual(notAfter); // the chain's clock still says "valid"
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => query(clinician)),
      // a device with no records: the route's "empty but allowed" check (Consent.hasAccess on all)
      ...Array.from({ length: 2 }, () => query(clinician, 'no-such-device')),
    ]);
    expect(answers).toEqual(Array.from({ length: 12 }, () => 'API_CONSENT_DENIED'));
    expect(await blockNumber()).toBe(idleFrom); // no transaction was needed to close the access
  }, 60_000);

  it('a break-glass window that closed 1 s ago is refused (records and release) although no block was mined since', async () => {
    const { emergency, patient } = wallets;
    await initEmergency(patient, new AgentClient(api, rng), { bloodType: '0-', allergies: [], medication: [] }, { hpke, rng });
    const bg = await breakGlassAndRelease(emergency, contractsFor(emergency, link), new AgentClient(api, rng), patient.address, {
      reason: 'adversarial test',
      drill: true,
      hpke,
    });
    expect(bg.profile.bloodType).toBe('0-'); // released while open
    expect(await query(emergency)).toBe(READINGS);
    const idleFrom = await blockNumber();

    await waitPastExpiry(bg.until, 1000);
    expect(await latestBlockTime()).toBeLessThanOrEqual(bg.until);
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => query(emergency)),
      ...Array.from({ length: 2 }, () => query(emergency, 'no-such-device')),
      ...Array.from({ length: 5 }, () => release(emergency)),
    ]);
    expect(answers).toEqual([
      ...Array.from({ length: 12 }, () => 'API_CONSENT_DENIED'),
      ...Array.from({ length: 5 }, () => 'API_BREAK_GLASS_CLOSED'),
    ]);
    expect(await blockNumber()).toBe(idleFrom);
  }, 60_000);
});
