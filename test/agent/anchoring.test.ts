import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { leafHash, verifyInclusion } from '../../protocol/merkle/index.ts';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

/** The live agent anchoring its log on the real embedded chain (anvil + the compiled contracts). */
const ward = new WardFixture('anchoring-test');
const dataDir = tempDir();
const config = parseAgentConfig({
  dataDir,
  mqtt: { port: 0 },
  http: { port: 0 },
  logLevel: 'silent',
  chain: { mode: 'embedded', intervalMs: 200, maxLeaves: 50 },
});
let agent: RunningAgent;
let client: MqttClient;

async function publishReadings(from: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await client.publishAsync('vs/v1/dev-1/r', Buffer.from(ward.seal('dev-1', from + i)), { qos: 1 });
}

beforeAll(async () => {
  agent = await startAgent(config, { defaultMetrics: false });
  const { secret } = agent.core.provisionDevice('dev-1');
  await agent.core.pushTicket(ward.ticketFor('dev-1', { patient: 'patient-ref-A' }));
  client = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.mqttAddress!.port}`, {
    clientId: 'dev-1',
    username: 'dev-1',
    password: secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
}, 60_000);

afterAll(async () => {
  await client?.endAsync();
  await agent?.stop();
});

describe('agent anchoring on the embedded chain', () => {
  it('anchors committed readings and serves proofs that verify against the root read from the chain', async () => {
    await publishReadings(1, 120);
    const a = agent.anchoring!;
    await a.service.waitForAnchored(120, 20_000);
    const onChain = await a.contracts.latest(a.logId);
    expect(onChain.treeSize).toBe(120);
    expect(onChain.root.toLowerCase()).toBe(`0x${toHex(agent.core.ingestor.log.root(120))}`);

    const rec = agent.core.store.recordsOfDevice('dev-1', 60, 1)[0]!;
    const served = (await agent.core.recordWithProof(toHex(rec.recordId))) as {
      leafIndex: number;
      treeSize: number;
      inclusionProof: string[];
      envelope: string;
      anchor: { treeSize: number; txHash: `0x${string}`; blockNumber: number } | null;
    };
    expect(served.anchor).not.toBeNull();
    // the verifier reads the anchored root from the chain, not from the agent
    const events = await a.contracts.anchoredEvents(a.logId, { treeSize: served.anchor!.treeSize });
    expect(events.length).toBeGreaterThan(0);
    const chainRoot = fromHex(events[events.length - 1]!.root.slice(2));
    verifyInclusion(
      served.leafIndex,
      served.treeSize,
      leafHash(new Uint8Array(Buffer.from(served.envelope, 'base64'))),
      served.inclusionProof.map(fromHex),
      chainRoot,
    );
    const receipt = await a.contracts.receiptOf(served.anchor!.txHash);
    expect(receipt?.blockNumber).toBe(served.anchor!.blockNumber);
  }, 60_000);

  it('notifies the patient of the batch with an Updated event', async () => {
    const a = agent.anchoring!;
    const { patientRefOf } = await import('../../protocol/patientRef.ts');
    const updates = await a.contracts.updatedEvents({ patientRef: patientRefOf('patient-ref-A'), logId: a.logId });
    expect(updates.length).toBeGreaterThan(0);
  }, 30_000);

  it('resumes after a restart: reconciles with latest(logId), anchors only what is new, no duplicate', async () => {
    await client.endAsync();
    await agent.stop();
    agent = await startAgent(config, { defaultMetrics: false });
    const { secret } = agent.core.provisionDevice('dev-1');
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.mqttAddress!.port}`, {
      clientId: 'dev-1',
      username: 'dev-1',
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await publishReadings(1000, 30);
    const a = agent.anchoring!;
    await a.service.waitForAnchored(150, 20_000);
    const events = await a.contracts.anchoredEvents(a.logId);
    const sizes = events.map((e) => e.treeSize);
    expect(new Set(sizes).size).toBe(sizes.length); // never the same head twice
    expect([...sizes].sort((x, y) => x - y)).toEqual(sizes); // strictly increasing
    expect(sizes[sizes.length - 1]).toBe(150);
  }, 90_000);
});
