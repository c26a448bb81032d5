import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { connectAsDevice } from '../support/mqttDevice.ts';
import { tempDir, waitFor } from '../support/services.ts';

/**
 * Issue #15, defect 8.6: one network host opens connection after connection to the embedded broker
 * until the global limit locks every device out. A per-IP cap refuses the host's extra connections
 * (counted in /metrics) while others keep connecting. Loopback is limited here on purpose
 * (mqtt.perIpExemptLoopback: false), as for a broker exposed to the network.
 */
let agent: RunningAgent;
let url: string;
const secrets = new Map<string, string>();
const clients: MqttClient[] = [];

function connectDevice(dev: string): Promise<MqttClient> {
  return connectAsDevice(url, dev, secrets.get(dev)!, { connectTimeout: 3000, track: clients });
}

beforeAll(async () => {
  const config = parseAgentConfig({
    dataDir: tempDir('vitalseal-adv-perip-'),
    mqtt: { port: 0, maxConnectionsPerIp: 2, perIpExemptLoopback: false },
    http: { port: 0 },
    logLevel: 'silent',
  });
  agent = await startAgent(config, { defaultMetrics: false });
  url = `mqtt://127.0.0.1:${agent.mqttAddress!.port}`;
  for (const dev of ['ip-1', 'ip-2', 'ip-3']) secrets.set(dev, agent.core.provisionDevice(dev).secret);
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await agent?.stop();
});

describe('defect 8.6: per-IP connection cap on the embedded broker', () => {
  it('refuses the connection beyond mqtt.maxConnectionsPerIp from one address and counts it', async () => {
    const first = await connectDevice('ip-1');
    await connectDevice('ip-2');
    await expect(connectDevice('ip-3')).rejects.toThrow();
    const text = await (await fetch(`http://127.0.0.1:${agent.httpAddress.port}/metrics`)).text();
    expect(text).toMatch(/vitalseal_mqtt_auth_failures_total\{reason="per_ip_limit"\} 1/);
    // a slot freed is a slot again
    first.end(true);
    await waitFor(() => agent.broker!.connectedDevices === 1, 5000, 'the first device to leave');
    await expect(connectDevice('ip-3')).resolves.toBeDefined();
  });
});
