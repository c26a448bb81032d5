/**
 * MQTT over WebSocket over TLS (issue #20, docs/PROTOCOL.md §9.8, `tls.websocketPort`): a device
 * connects to the embedded broker over wss:// with its client certificate of the ward CA (mutual TLS
 * required) and its readings are stored; a connection without a client certificate is refused and
 * counted before any MQTT byte.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { DeviceFirmware } from '../../device-sim/firmware/device.ts';
import { MemoryNvm } from '../../device-sim/nvm/storage.ts';
import { PROFILES } from '../../device-sim/profiles/index.ts';
import { realScheduler } from '../../device-sim/time/realScheduler.ts';
import { MqttLink } from '../../device-sim/transport/mqttLink.ts';
import { authority, nowS, patientTicket } from '../device-sim/helpers.ts';
import { tempDir } from '../support/services.ts';

const dir = tempDir('vitalseal-wss-');
let agent: RunningAgent;
const A = authority(11);

beforeAll(async () => {
  agent = await startAgent(
    parseAgentConfig({
      dataDir: join(dir, 'agent'),
      mqtt: { port: 0 },
      http: { port: 0 },
      logLevel: 'silent',
      tls: { enabled: true, port: 0, websocketPort: 0, requireTls: true, clientCerts: 'required' },
    }),
    { defaultMetrics: false },
  );
});
afterAll(async () => {
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('MQTT over WebSocket over TLS', () => {
  it('a device connects over wss:// with mutual TLS and its readings are stored', async () => {
    expect(agent.mqttWssAddress).toBeDefined();
    expect(agent.mqttAddress).toBeUndefined(); // requireTls: plain MQTT closed
    const dev = 'wss-1';
    agent.core.provisionDevice(dev);
    const cert = await agent.tls!.ca!.issueDeviceWithKey(dev);
    const { ticket } = patientTicket(dev, A, { nbf: nowS() - 60, exp: nowS() + 3600 });
    await agent.core.pushTicket(ticket);
    const url = `wss://127.0.0.1:${agent.mqttWssAddress!.port}`;
    const fw = new DeviceFirmware({
      provisioning: { id: dev, profile: PROFILES['pulse-oximeter'], periodMs: 100, authorityPublicKey: A.publicKey },
      scheduler: realScheduler(),
      storage: new MemoryNvm(),
      link: (d, ev) => new MqttLink({ url, deviceId: d.id, tls: { ca: agent.tls!.caPem, cert: cert.certPem, key: cert.keyPem } }, ev),
      seed: 'wss',
      runStartMs: Date.now(),
      backend: 'node',
      ackTimeoutMs: 2000,
    });
    fw.start();
    try {
      const end = Date.now() + 20_000;
      while (fw.stats.acknowledged < 5 && Date.now() < end) await sleep(50);
      expect(fw.stats.acknowledged).toBeGreaterThanOrEqual(5);
    } finally {
      await fw.shutdown();
    }
    const stored = agent.core.store.recordsOfDevice(dev, 0, 1000);
    expect(stored.length).toBeGreaterThanOrEqual(fw.stats.acknowledged);
    expect(agent.core.store.getDevice(dev)!.quarantined).toBe(0);
  }, 60_000);

  it('refuses a wss:// connection without a client certificate (no_client_cert), before any CONNACK', async () => {
    const before = await refusals('no_client_cert');
    const c = mqtt.connect(`wss://127.0.0.1:${agent.mqttWssAddress!.port}`, {
      clientId: 'wss-2',
      username: 'wss-2',
      password: 'x',
      ca: agent.tls!.caPem,
      rejectUnauthorized: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    let connected = false;
    c.on('connect', () => {
      connected = true;
    });
    c.on('error', () => undefined);
    const end = Date.now() + 10_000;
    while ((await refusals('no_client_cert')) === before && Date.now() < end) await sleep(50);
    c.end(true);
    expect(connected).toBe(false);
    expect(await refusals('no_client_cert')).toBe(before + 1);
  }, 30_000);
});

async function refusals(reason: string): Promise<number> {
  const m = await agent.core.metrics.registry.getSingleMetric('vitalseal_tls_refusals_total')!.get();
  return m.values.filter((v) => v.labels['reason'] === reason).reduce((n, v) => n + v.value, 0);
}
