/**
 * Issue #20, transport: the embedded broker on MQTT over TLS with mutual TLS (real TLS sockets on
 * loopback), the HTTPS API, and every refused case counted in vitalseal_tls_refusals_total: expired,
 * wrong-CA, self-signed and revoked client certificates, no certificate when one is required, TLS 1.1
 * and plain TCP to the TLS port (downgrade), requireTls closing the plain listener.
 */
import 'reflect-metadata'; // before @peculiar/x509 (its tsyringe needs the polyfill)
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { WardCa, tlsPaths } from '../../agent/tls/wardCa.ts';
import { readingTopic } from '../../protocol/topics.ts';
import { tempDir, waitFor } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';
import { connectTls, httpsJson, metricValue, publishQos1 } from '../support/tlsClient.ts';

const ward = new WardFixture('tls-test');
let agent: RunningAgent;
let dataDir: string;
let url: string;
let api: string;
let ca: string;
const clients: MqttClient[] = [];
const secrets = new Map<string, string>();

/** A self-signed client certificate naming `dev` (no CA behind it). */
async function selfSigned(dev: string): Promise<{ certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${dev}`,
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `urn:vitalseal:device:${dev}` }])],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem'), keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

async function metrics(): Promise<string> {
  return (await httpsJson(`${api}/metrics`, { ca })).text;
}
const refusals = async (reason: string): Promise<number> =>
  metricValue(await metrics(), 'vitalseal_tls_refusals_total', { reason, listener: 'mqtt' });

beforeAll(async () => {
  dataDir = tempDir();
  const config = parseAgentConfig({
    dataDir,
    mqtt: { port: 0 },
    http: { port: 0 },
    tls: { enabled: true, port: 0 },
    logLevel: process.env.TLS_DEBUG ? 'warn' : 'silent',
  });
  agent = await startAgent(config, { defaultMetrics: false, authorityPublicKey: ward.authorityPublic });
  url = `mqtts://127.0.0.1:${agent.mqttTlsAddress!.port}`;
  api = `https://127.0.0.1:${agent.httpAddress.port}`;
  ca = readFileSync(tlsPaths(dataDir).caCert, 'utf8');
  for (const dev of ['dev-t1', 'dev-t2', 'dev-t3', 'dev-pw']) {
    secrets.set(dev, agent.core.provisionDevice(dev).secret);
    await agent.core.pushTicket(ward.ticketFor(dev));
  }
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await agent?.stop();
});

describe('TLS on: the ward CA and the listeners', () => {
  it('creates the ward CA in the data dir with its key 0600, a server certificate and a CRL', () => {
    const p = tlsPaths(dataDir);
    for (const f of [p.caKey, p.serverKey]) expect(readFileSync(f, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(readFileSync(p.crl, 'utf8')).toContain('BEGIN X509 CRL');
    expect(agent.tls?.ca?.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('serves the API on HTTPS (verified against the ward CA); plain HTTP to it fails', async () => {
    const h = await httpsJson(`${api}/healthz`, { ca });
    expect(h.status).toBe(200);
    await expect(fetch(`http://127.0.0.1:${agent.httpAddress.port}/healthz`)).rejects.toThrow();
    await waitFor(
      async () => metricValue(await metrics(), 'vitalseal_tls_refusals_total', { reason: 'not_tls', listener: 'https' }) === 1,
      5000,
      'plain HTTP to the HTTPS port counted',
    );
    // a client that does not trust the ward CA refuses the agent
    await expect(httpsJson(`${api}/healthz`, { ca: agent.tls!.certPem })).rejects.toThrow();
  });
});

describe('mutual TLS: a device authenticates by its ward certificate', () => {
  it('a device with its certificate connects without a password; its reading is PUBACKed and stored', async () => {
    const id = await agent.tls!.ca!.issueDeviceWithKey('dev-t1');
    const c = await connectTls(url, 'dev-t1', { ca, cert: id.certPem, key: id.keyPem, track: clients });
    await publishQos1(c, readingTopic('dev-t1'), ward.seal('dev-t1', 1));
    expect(agent.core.store.recordIdAtSeq('dev-t1', 1)).toBeDefined();
    c.end(true);
  });

  it('a device without a certificate keeps username/password over TLS (clientCerts optional)', async () => {
    const c = await connectTls(url, 'dev-pw', { ca, password: secrets.get('dev-pw')!, track: clients });
    await publishQos1(c, readingTopic('dev-pw'), ward.seal('dev-pw', 1));
    expect(agent.core.store.recordIdAtSeq('dev-pw', 1)).toBeDefined();
    c.end(true);
  });

  it("a device presenting another device's certificate is refused (CONNACK 5) and counted", async () => {
    const other = await agent.tls!.ca!.issueDeviceWithKey('dev-t2');
    const before = await refusals('identity_mismatch');
    const err = await connectTls(url, 'dev-t3', { ca, cert: other.certPem, key: other.keyPem, password: secrets.get('dev-t3')! }).catch(
      (e: Error & { code?: number }) => e,
    );
    expect((err as { code?: number }).code).toBe(5);
    expect(await refusals('identity_mismatch')).toBe(before + 1);
  });

  it('an expired certificate is refused at the handshake and counted', async () => {
    const old = await agent.tls!.ca!.issueDeviceWithKey('dev-t2', {
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const before = await refusals('expired');
    await expect(connectTls(url, 'dev-t2', { ca, cert: old.certPem, key: old.keyPem })).rejects.toThrow();
    await waitFor(async () => (await refusals('expired')) === before + 1, 5000, 'expired refusal counted');
  });

  it('a certificate of another CA (wrong CA) and a self-signed one are refused and counted', async () => {
    const foreign = await WardCa.init(tempDir());
    const wrong = await foreign.issueDeviceWithKey('dev-t2');
    const w0 = await refusals('wrong_ca');
    await expect(connectTls(url, 'dev-t2', { ca, cert: wrong.certPem, key: wrong.keyPem })).rejects.toThrow();
    await waitFor(async () => (await refusals('wrong_ca')) === w0 + 1, 5000, 'wrong-CA refusal counted');
    const s0 = await refusals('self_signed');
    const self = await selfSigned('dev-t2');
    await expect(connectTls(url, 'dev-t2', { ca, cert: self.certPem, key: self.keyPem })).rejects.toThrow();
    await waitFor(async () => (await refusals('self_signed')) === s0 + 1, 5000, 'self-signed refusal counted');
  });

  it('a revoked certificate: its open connection is closed, its next handshake refused (CRL), counted', async () => {
    const id = await agent.tls!.ca!.issueDeviceWithKey('dev-t2');
    const c = await connectTls(url, 'dev-t2', { ca, cert: id.certPem, key: id.keyPem, track: clients });
    await publishQos1(c, readingTopic('dev-t2'), ward.seal('dev-t2', 1));
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    const res = await httpsJson(`${api}/admin/certificates/${id.serial}`, { ca, method: 'DELETE', token: agent.adminToken });
    expect(res.json).toEqual({ serial: id.serial, revoked: true });
    await closed;
    expect(readFileSync(tlsPaths(dataDir).crl, 'utf8')).toContain('BEGIN X509 CRL');
    const before = await refusals('revoked');
    await expect(connectTls(url, 'dev-t2', { ca, cert: id.certPem, key: id.keyPem })).rejects.toThrow();
    await waitFor(async () => (await refusals('revoked')) === before + 1, 5000, 'revoked refusal counted');
    expect(agent.core.store.recordIdAtSeq('dev-t2', 1)).toBeDefined(); // nothing accepted is lost
  });

  it('public /metrics carries reasons only, no device ids', async () => {
    const text = await metrics();
    expect(text).toContain('vitalseal_tls_refusals_total');
    expect(text.split('\n').filter((l) => l.startsWith('vitalseal_tls_refusals_total') && l.includes('dev-'))).toEqual([]);
  });
});

describe('downgrade attempts', () => {
  it('a TLS 1.1 client is refused (minVersion TLSv1.2) and counted', async () => {
    const before = await refusals('protocol_version');
    const err = await new Promise<Error>((resolve) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port: agent.mqttTlsAddress!.port,
        ca,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      });
      s.once('secureConnect', () => resolve(new Error('handshake succeeded')));
      s.once('error', resolve);
    });
    expect(err.message).not.toBe('handshake succeeded');
    await waitFor(async () => (await refusals('protocol_version')) === before + 1, 5000, 'protocol_version refusal counted');
  });

  it('plain MQTT (TCP) to the TLS port gets no CONNACK and is counted as not_tls', async () => {
    const before = await refusals('not_tls');
    const got = await new Promise<Buffer>((resolve) => {
      const s = netConnect(agent.mqttTlsAddress!.port, '127.0.0.1', () => {
        // CONNECT, MQTT 3.1.1, client id "x"
        s.write(Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 1, 0x78]));
      });
      const chunks: Buffer[] = [];
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', () => undefined);
      s.once('close', () => resolve(Buffer.concat(chunks)));
    });
    expect(got[0]).not.toBe(0x20); // never a CONNACK
    await waitFor(async () => (await refusals('not_tls')) === before + 1, 5000, 'not_tls refusal counted');
  });
});

describe('requireTls and clientCerts required', () => {
  it('closes the plain listener and refuses a device without a certificate', async () => {
    const dir = tempDir();
    const strict = await startAgent(
      parseAgentConfig({
        dataDir: dir,
        mqtt: { port: 0 },
        http: { port: 0 },
        tls: { enabled: true, port: 0, requireTls: true, clientCerts: 'required', minVersion: 'TLSv1.3' },
        logLevel: 'silent',
      }),
      { defaultMetrics: false },
    );
    try {
      expect(strict.mqttAddress).toBeUndefined();
      const sca = strict.tls!.caPem;
      const secret = strict.core.provisionDevice('dev-s1').secret;
      const surl = `mqtts://127.0.0.1:${strict.mqttTlsAddress!.port}`;
      await expect(connectTls(surl, 'dev-s1', { ca: sca, password: secret })).rejects.toThrow();
      const text = (await httpsJson(`https://127.0.0.1:${strict.httpAddress.port}/metrics`, { ca: sca })).text;
      expect(metricValue(text, 'vitalseal_tls_refusals_total', { reason: 'no_client_cert', listener: 'mqtt' })).toBe(1);
      const id = await strict.tls!.ca!.issueDeviceWithKey('dev-s1');
      const c = await connectTls(surl, 'dev-s1', { ca: sca, cert: id.certPem, key: id.keyPem });
      c.end(true);
    } finally {
      await strict.stop();
    }
  });

  it('refuses requireTls without tls.enabled (config)', () => {
    expect(() => parseAgentConfig({ dataDir: join(tempDir(), 'x'), tls: { requireTls: true } })).toThrow(/needs tls.enabled/);
  });
});
