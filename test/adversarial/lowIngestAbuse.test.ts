import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { connectAsDevice } from '../support/mqttDevice.ts';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

/**
 * Issue #15, defect 8 (items 2 and 3): a hostile but authenticated device abuses the ingest path
 * over MQTT — it floods bad readings to evict other devices' quarantine evidence, and it jumps its
 * sequence number to 2^53−1 to poison its own gap counter.
 */
const ward = new WardFixture('adv-ingest');
let agent: RunningAgent;
let url: string;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];

function connectDevice(dev: string): Promise<MqttClient> {
  return connectAsDevice(url, dev, secrets.get(dev)!, { connectTimeout: 5000, track: clients });
}

function publish(c: MqttClient, dev: string, payload: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) =>
    c.publish(`vs/v1/${dev}/r`, Buffer.from(payload), { qos: 1 }, (err) => (err ? reject(err) : resolve())),
  );
}

function quarantineRows(dev: string | null): Array<{ id: number; reason: string }> {
  return agent.core.db.prepare('SELECT id, reason FROM quarantine WHERE device_hint IS ? ORDER BY id').all(dev) as Array<{
    id: number;
    reason: string;
  }>;
}

beforeAll(async () => {
  // a small global cap (a valid setting before and after the fix) so that a flood reaches it quickly
  const config = parseAgentConfig({
    dataDir: tempDir('vitalseal-adv-ingest-'),
    mqtt: { port: 0 },
    http: { port: 0 },
    ingest: { quarantineMaxRows: 60 },
    logLevel: 'silent',
  });
  agent = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
  url = `mqtt://127.0.0.1:${agent.mqttAddress!.port}`;
  for (const dev of ['adv-a', 'adv-b', 'adv-j']) {
    secrets.set(dev, agent.core.provisionDevice(dev).secret);
    await agent.core.pushTicket(ward.ticketFor(dev));
  }
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await agent?.stop();
});

describe('defect 8.2: one device cannot evict the quarantine rows of another', () => {
  it("keeps device B's quarantined readings while device A floods bad readings", async () => {
    const b = await connectDevice('adv-b');
    for (let i = 0; i < 3; i++) await publish(b, 'adv-b', new Uint8Array([0xff, 0x00, i]));
    const evidence = quarantineRows('adv-b');
    expect(evidence).toHaveLength(3);

    const a = await connectDevice('adv-a');
    await Promise.all(Array.from({ length: 400 }, (_, i) => publish(a, 'adv-a', new Uint8Array([0xfe, i & 0xff, i >> 8]))));

    // B's evidence is still there, row for row
    expect(quarantineRows('adv-b')).toEqual(evidence);
    // A's flood is bounded (its own bucket: the newest rows are kept)
    const aRows = quarantineRows('adv-a');
    expect(aRows.length).toBeGreaterThan(0);
    expect(aRows.length).toBeLessThanOrEqual(60);
    const total = (agent.core.db.prepare('SELECT COUNT(*) AS n FROM quarantine').get() as { n: number }).n;
    expect(total).toBeLessThanOrEqual(60);
  });
});

describe('defect 8.3: a sequence jump far beyond the window is quarantined and does not poison the counters', () => {
  it('quarantines seq 2^53−1 after seq 1..3 with AGENT_SEQ_JUMP; max_seq and gaps stay those of the honest readings', async () => {
    const j = await connectDevice('adv-j');
    for (const seq of [1, 2, 3]) await publish(j, 'adv-j', ward.seal('adv-j', seq));
    await publish(j, 'adv-j', ward.seal('adv-j', Number.MAX_SAFE_INTEGER));
    await publish(j, 'adv-j', ward.seal('adv-j', 4));
    expect(quarantineRows('adv-j').map((r) => r.reason)).toEqual(['AGENT_SEQ_JUMP']);
    const dev = agent.core.store.listDevices().find((d) => d.id === 'adv-j')!;
    expect(dev.maxSeq).toBe(4);
    expect(dev.gaps).toBe(0);
    expect(dev.reorders).toBe(0);
    // the record was not stored either
    const stored = agent.core.db
      .prepare('SELECT COUNT(*) AS n FROM records WHERE device = ? AND seq = ?')
      .get('adv-j', Number.MAX_SAFE_INTEGER) as { n: number };
    expect(stored.n).toBe(0);
  });

  it('still accepts an honest gap inside the window (a device that was offline)', async () => {
    const j = clients[clients.length - 1]!;
    await publish(j, 'adv-j', ward.seal('adv-j', 5_000));
    const dev = agent.core.store.listDevices().find((d) => d.id === 'adv-j')!;
    expect(dev.maxSeq).toBe(5_000);
    expect(dev.gaps).toBe(5_000 - 4 - 1);
  });
});
