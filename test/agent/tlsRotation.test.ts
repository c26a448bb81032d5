/**
 * Issue #20, rotation and revocation without losing a reading (real TLS sockets on loopback): a device
 * publishes throughout while (1) the agent's TLS key and certificate are rotated (POST /admin/tls/rotate:
 * setSecureContext, open connections go on, new handshakes get the new certificate), (2) the device's
 * own certificate is rotated (new certificate issued for a new key, the device switches, the old one is
 * revoked and then refused), and (3) the device is revoked (its connection closed, its next handshake and
 * its password refused). Every PUBACKed reading is stored; none is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { connect as tlsConnect } from 'node:tls';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { generateDeviceKey } from '../../agent/tls/wardCa.ts';
import { readingTopic } from '../../protocol/topics.ts';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';
import { connectTls, httpsJson, metricValue, publishQos1 } from '../support/tlsClient.ts';

const ward = new WardFixture('tls-rotation-test');
let agent: RunningAgent;
let url: string;
let api: string;
let ca: string;
const clients: MqttClient[] = [];

const admin = (path: string, method: string, body?: unknown) =>
  httpsJson(`${api}${path}`, { ca, method, token: agent.adminToken, ...(body !== undefined ? { body } : {}) });

/** The serial of the certificate the agent's MQTT TLS listener presents now. */
function serverSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: agent.mqttTlsAddress!.port, ca }, () => {
      resolve(s.getPeerCertificate().serialNumber.toLowerCase());
      s.destroy();
    });
    s.once('error', reject);
  });
}

/** A publisher that sends readings seq = next… one at a time (each awaits its PUBACK) until stopped. */
function publishLoop(c: () => MqttClient, dev: string, from: number): { stop(): Promise<number>; acked: number[] } {
  const acked: number[] = [];
  let running = true;
  const done = (async () => {
    let seq = from;
    while (running) {
      await publishQos1(c(), readingTopic(dev), ward.seal(dev, seq));
      acked.push(seq++);
      await new Promise((r) => setTimeout(r, 5));
    }
    return seq;
  })();
  return {
    acked,
    stop: async () => {
      running = false;
      return done;
    },
  };
}

beforeAll(async () => {
  const config = parseAgentConfig({
    dataDir: tempDir(),
    mqtt: { port: 0 },
    http: { port: 0 },
    tls: { enabled: true, port: 0 },
    logLevel: 'silent',
  });
  agent = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
  url = `mqtts://127.0.0.1:${agent.mqttTlsAddress!.port}`;
  api = `https://127.0.0.1:${agent.httpAddress.port}`;
  ca = agent.tls!.caPem;
  for (const dev of ['dev-r1', 'dev-r2', 'dev-r3']) {
    agent.core.provisionDevice(dev);
    await agent.core.pushTicket(ward.ticketFor(dev));
  }
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await agent?.stop();
});

/** A device certificate through the admin API: the key is made here, only its public half goes to the agent. */
async function enrol(dev: string): Promise<{ certPem: string; keyPem: string; serial: string }> {
  const k = await generateDeviceKey();
  const res = await admin(`/admin/devices/${dev}/certificates`, 'POST', { publicKey: k.publicKeyPem });
  expect(res.status).toBe(200);
  const j = res.json as { serial: string; cert: string; caCert: string };
  expect(j.caCert).toBe(ca);
  return { certPem: j.cert, keyPem: k.keyPem, serial: j.serial };
}

describe('rotation without losing a reading', () => {
  it("the agent's TLS key rotates while a device publishes: its connection goes on, new handshakes see the new certificate", async () => {
    const id = await enrol('dev-r1');
    const c = await connectTls(url, 'dev-r1', { ca, cert: id.certPem, key: id.keyPem, track: clients });
    const before = await serverSerial();
    const loop = publishLoop(() => c, 'dev-r1', 1);
    await new Promise((r) => setTimeout(r, 150));
    const rotated = await admin('/admin/tls/rotate', 'POST');
    expect((rotated.json as { rotated: boolean }).rotated).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    const next = await loop.stop();
    expect(c.connected).toBe(true);
    const after = await serverSerial();
    expect(after).not.toBe(before);
    expect(after).toBe((rotated.json as { serial: string }).serial);
    // a new connection verifies the new certificate against the same ward CA
    const c2 = await connectTls(url, 'dev-r1', { ca, cert: id.certPem, key: id.keyPem, track: clients, clientId: 'dev-r1' });
    await publishQos1(c2, readingTopic('dev-r1'), ward.seal('dev-r1', next));
    for (const seq of [...loop.acked, next]) expect(agent.core.store.recordIdAtSeq('dev-r1', seq), `seq ${seq}`).toBeDefined();
    expect(loop.acked.length).toBeGreaterThan(5);
    c2.end(true);
  });

  it("a device's certificate rotates: it switches to the new one, the old one is revoked and refused, no reading lost", async () => {
    const old = await enrol('dev-r2');
    let c = await connectTls(url, 'dev-r2', { ca, cert: old.certPem, key: old.keyPem, track: clients });
    const loop1 = publishLoop(() => c, 'dev-r2', 1);
    await new Promise((r) => setTimeout(r, 100));
    const fresh = await enrol('dev-r2'); // both valid meanwhile
    const seq = await loop1.stop();
    c.end(true);
    c = await connectTls(url, 'dev-r2', { ca, cert: fresh.certPem, key: fresh.keyPem, track: clients });
    const loop2 = publishLoop(() => c, 'dev-r2', seq);
    const res = await admin(`/admin/certificates/${old.serial}`, 'DELETE');
    expect(res.json).toEqual({ serial: old.serial, revoked: true });
    await new Promise((r) => setTimeout(r, 100));
    await loop2.stop();
    expect(c.connected).toBe(true); // the new certificate's connection is untouched
    await expect(connectTls(url, 'dev-r2', { ca, cert: old.certPem, key: old.keyPem, clientId: 'dev-r2-old' })).rejects.toThrow();
    for (const s of [...loop1.acked, ...loop2.acked]) expect(agent.core.store.recordIdAtSeq('dev-r2', s), `seq ${s}`).toBeDefined();
  });
});

describe('revocation of a device', () => {
  it('closes its connection; its next handshake (certificate) and its password are refused; what was accepted stays', async () => {
    const id = await enrol('dev-r3');
    const c = await connectTls(url, 'dev-r3', { ca, cert: id.certPem, key: id.keyPem, track: clients });
    await publishQos1(c, readingTopic('dev-r3'), ward.seal('dev-r3', 1));
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    expect((await admin('/admin/devices/dev-r3', 'DELETE')).json).toEqual({ id: 'dev-r3', revoked: true });
    await closed;
    await expect(connectTls(url, 'dev-r3', { ca, cert: id.certPem, key: id.keyPem })).rejects.toThrow();
    const secret = 'not-the-secret';
    await expect(connectTls(url, 'dev-r3', { ca, password: secret })).rejects.toThrow();
    expect(agent.core.store.recordIdAtSeq('dev-r3', 1)).toBeDefined();
    const text = (await httpsJson(`${api}/metrics`, { ca })).text;
    expect(metricValue(text, 'vitalseal_tls_refusals_total', { reason: 'revoked', listener: 'mqtt' })).toBeGreaterThanOrEqual(1);
    // issuing a certificate for a revoked device is refused until it is provisioned again
    const k = await generateDeviceKey();
    const res = await admin('/admin/devices/dev-r3/certificates', 'POST', { publicKey: k.publicKeyPem });
    expect(res.status).toBe(400);
    expect((res.json as { error: { code: string } }).error.code).toBe('AGENT_DEVICE_REVOKED');
  });
});

describe('after a restart', () => {
  it('keeps the ward CA (same fingerprint), the issued certificates and the revocations', async () => {
    const dataDir = tempDir();
    const config = parseAgentConfig({ dataDir, mqtt: { port: 0 }, http: { port: 0 }, tls: { enabled: true, port: 0 }, logLevel: 'silent' });
    const first = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
    first.core.provisionDevice('dev-k1');
    await first.core.pushTicket(ward.ticketFor('dev-k1'));
    const kept = await first.tls!.ca!.issueDeviceWithKey('dev-k1');
    const gone = await first.tls!.ca!.issueDeviceWithKey('dev-k1');
    await first.tls!.revoke({ serial: gone.serial });
    const fingerprint = first.tls!.ca!.fingerprint;
    await first.stop();

    const again = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
    try {
      expect(again.tls!.ca!.fingerprint).toBe(fingerprint);
      const u = `mqtts://127.0.0.1:${again.mqttTlsAddress!.port}`;
      const cap = again.tls!.caPem;
      await expect(connectTls(u, 'dev-k1', { ca: cap, cert: gone.certPem, key: gone.keyPem })).rejects.toThrow();
      const c = await connectTls(u, 'dev-k1', { ca: cap, cert: kept.certPem, key: kept.keyPem });
      await publishQos1(c, readingTopic('dev-k1'), ward.seal('dev-k1', 1));
      expect(again.core.store.recordIdAtSeq('dev-k1', 1)).toBeDefined();
      c.end(true);
    } finally {
      await again.stop();
    }
  });
});
