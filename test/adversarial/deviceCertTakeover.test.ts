/**
 * Issue #20, adversarial: a device presents another device's certificate (real TLS sockets, the agent
 * requiring mutual TLS). Connecting under its own name with A's certificate is CONNACK 5 and counted
 * (identity_mismatch); A's open connection is not taken over and A's readings go on; a stolen
 * certificate without its private key does not even complete the handshake; nothing A sent is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { readingTopic } from '../../protocol/topics.ts';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';
import { connectTls, httpsJson, metricValue, publishQos1 } from '../support/tlsClient.ts';

const ward = new WardFixture('cert-takeover-test');
let agent: RunningAgent;
let url: string;
let ca: string;
const clients: MqttClient[] = [];

beforeAll(async () => {
  agent = await startAgent(
    parseAgentConfig({
      dataDir: tempDir(),
      mqtt: { port: 0 },
      http: { port: 0 },
      tls: { enabled: true, port: 0, requireTls: true, clientCerts: 'required' },
      logLevel: 'silent',
    }),
    { defaultMetrics: false, authorityPublicKey: ward.authorityPublic },
  );
  url = `mqtts://127.0.0.1:${agent.mqttTlsAddress!.port}`;
  ca = agent.tls!.caPem;
  for (const dev of ['dev-a', 'dev-b']) {
    agent.core.provisionDevice(dev);
    await agent.core.pushTicket(ward.ticketFor(dev));
  }
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await agent?.stop();
});

describe("a device presenting another device's certificate", () => {
  it("is refused with CONNACK 5 and counted; A's connection and readings are untouched", async () => {
    const a = await agent.tls!.ca!.issueDeviceWithKey('dev-a');
    const b = await agent.tls!.ca!.issueDeviceWithKey('dev-b');
    const ca1 = await connectTls(url, 'dev-a', { ca, cert: a.certPem, key: a.keyPem, track: clients });
    await publishQos1(ca1, readingTopic('dev-a'), ward.seal('dev-a', 1));

    // dev-b (holding A's key and certificate, e.g. copied from A's flash) connects under its own name
    const err = (await connectTls(url, 'dev-b', { ca, cert: a.certPem, key: a.keyPem }).catch((e: unknown) => e)) as { code?: number };
    expect(err.code).toBe(5);
    // and under A's client id but B's user name
    const err2 = (await connectTls(url, 'dev-b', { ca, cert: a.certPem, key: a.keyPem, clientId: 'dev-a' }).catch((e: unknown) => e)) as {
      code?: number;
    };
    expect(err2.code).toBe(5);
    expect(ca1.connected).toBe(true); // no takeover of A's session
    await publishQos1(ca1, readingTopic('dev-a'), ward.seal('dev-a', 2));

    // A's certificate with B's key: the handshake fails (the key does not match the certificate)
    await expect(connectTls(url, 'dev-a', { ca, cert: a.certPem, key: b.keyPem, clientId: 'dev-a-x' })).rejects.toThrow();

    const text = (await httpsJson(`https://127.0.0.1:${agent.httpAddress.port}/metrics`, { ca })).text;
    expect(metricValue(text, 'vitalseal_tls_refusals_total', { reason: 'identity_mismatch', listener: 'mqtt' })).toBe(1);
    // the second try fails earlier: client id ≠ user name (§9.2)
    expect(metricValue(text, 'vitalseal_mqtt_auth_failures_total', { reason: 'bad_client_id' })).toBe(1);
    for (const seq of [1, 2]) expect(agent.core.store.recordIdAtSeq('dev-a', seq)).toBeDefined();
    expect(agent.core.store.recordsOfDevice('dev-b')).toEqual([]);
  });
});
