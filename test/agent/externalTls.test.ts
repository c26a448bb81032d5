/**
 * Issue #20, external-broker mode over TLS against a real mosquitto (private instance on a free
 * loopback port): mosquitto listens on TLS only (TLS 1.2+), requires a client certificate of the ward CA
 * (require_certificate, use_identity_as_username: the certificate's CN is the MQTT identity, an ACL
 * binds each device to its own topics), and checks the ward CA's CRL (crlfile). The agent connects
 * with its own client certificate (mqtts://, external.caFile/certFile/keyFile). A device revoked on the
 * agent goes on the CRL; once mosquitto has the new CRL its next connection is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { WardCa } from '../../agent/tls/wardCa.ts';
import { readingTopic } from '../../protocol/topics.ts';
import { freePort, requireBinary, stopProcess, tempDir, waitFor } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';
import { connectTls, publishQos1 } from '../support/tlsClient.ts';

const ward = new WardFixture('external-tls-test');
let ca: WardCa;
let dataDir: string;
let dir: string;
let port: number;
let mosquitto: ChildProcess | undefined;
let agent: RunningAgent | undefined;
const clients: MqttClient[] = [];
const ids = new Map<string, { certPem: string; keyPem: string; serial: string }>();

/** Files mosquitto reads after dropping to its own user when started as root. */
function ownFiles(...paths: string[]): void {
  const uid = spawnSync('id', ['-u', 'mosquitto'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'mosquitto'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0 || process.getuid?.() !== 0) return;
  for (const p of paths) chownSync(p, Number(uid.stdout), Number(gid.stdout));
}

/** The CRL the agent keeps in its data dir, installed where mosquitto reads it (the operator's step, docs/PROTOCOL.md §9.8). */
function installCrl(): void {
  copyFileSync(ca.paths.crl, join(dir, 'crl.pem'));
  ownFiles(join(dir, 'crl.pem'));
}

async function startBroker(): Promise<void> {
  const bin = requireBinary('mosquitto');
  const p = spawn(bin, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  mosquitto = p;
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        if (p.exitCode !== null) throw new Error(`mosquitto exited: ${out}`);
        const s = netConnect(port, '127.0.0.1');
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }),
    10_000,
    'mosquitto to listen on TLS',
  );
}

const url = (): string => `mqtts://127.0.0.1:${port}`;

beforeAll(async () => {
  dataDir = tempDir();
  dir = tempDir('vitalseal-mosquitto-tls-');
  port = await freePort();
  // `vitalseal ward ca init`: the ward CA in the agent's data dir; it issues mosquitto's server certificate
  ca = await WardCa.init(dataDir);
  const server = await ca.issueServer([]);
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  writeFileSync(join(dir, 'server.crt'), server.certPem);
  writeFileSync(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
  installCrl();
  const agentId = await ca.issueDeviceWithKey('agent-x');
  writeFileSync(join(dataDir, 'agent-client.crt'), agentId.certPem);
  writeFileSync(join(dataDir, 'agent-client.key'), agentId.keyPem, { mode: 0o600 });
  for (const dev of ['dev-e1', 'dev-e2', 'dev-e3']) ids.set(dev, await ca.issueDeviceWithKey(dev));
  writeFileSync(
    join(dir, 'acl'),
    [
      'user agent-x',
      'topic readwrite vs/v1/#',
      '',
      'pattern write vs/v1/%u/r',
      'pattern write vs/v1/%u/status',
      'pattern read vs/v1/%u/ticket',
      '',
    ].join('\n'),
  );
  const persist = join(dir, 'data');
  mkdirSync(persist);
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      `cafile ${join(dir, 'ca.crt')}`,
      `certfile ${join(dir, 'server.crt')}`,
      `keyfile ${join(dir, 'server.key')}`,
      `crlfile ${join(dir, 'crl.pem')}`,
      'require_certificate true',
      'use_identity_as_username true',
      'tls_version tlsv1.2',
      'allow_anonymous false',
      `acl_file ${join(dir, 'acl')}`,
      'persistence true',
      `persistence_location ${persist}/`,
      'max_queued_messages 0',
      'log_type error',
      '',
    ].join('\n'),
  );
  ownFiles(dir, persist, join(dir, 'ca.crt'), join(dir, 'server.crt'), join(dir, 'server.key'), join(dir, 'acl'));
  await startBroker();
  agent = await startAgent(
    parseAgentConfig({
      dataDir,
      mode: 'external',
      external: {
        url: url(),
        clientId: 'agent-x',
        caFile: ca.paths.caCert,
        certFile: join(dataDir, 'agent-client.crt'),
        keyFile: join(dataDir, 'agent-client.key'),
      },
      http: { port: 0 },
      tls: { enabled: true },
      logLevel: 'silent',
    }),
    { defaultMetrics: false, authorityPublicKey: ward.authorityPublic },
  );
  for (const dev of ['dev-e1', 'dev-e2', 'dev-e3']) {
    agent.core.provisionDevice(dev);
    await agent.core.pushTicket(ward.ticketFor(dev));
  }
});

afterAll(async () => {
  for (const c of clients) c.end(true);
  await agent?.stop().catch(() => undefined);
  await stopProcess(mosquitto);
});

const device = (dev: string): Promise<MqttClient> => {
  const id = ids.get(dev)!;
  return connectTls(url(), dev, { ca: ca.certPem, cert: id.certPem, key: id.keyPem, track: clients });
};

describe('external mosquitto over TLS with client certificates', () => {
  it('the agent subscribes over mutual TLS; a device with its certificate publishes and the reading is stored', async () => {
    const c = await device('dev-e1');
    await publishQos1(c, readingTopic('dev-e1'), ward.seal('dev-e1', 1));
    await waitFor(() => agent!.core.store.recordIdAtSeq('dev-e1', 1) !== undefined, 10_000, 'reading stored');
    c.end(true);
  });

  it('mosquitto refuses a client without a certificate, one of another CA, and plain TCP MQTT', async () => {
    await expect(connectTls(url(), 'dev-e2', { ca: ca.certPem })).rejects.toThrow();
    const foreign = await (await WardCa.init(tempDir())).issueDeviceWithKey('dev-e2');
    await expect(connectTls(url(), 'dev-e2', { ca: ca.certPem, cert: foreign.certPem, key: foreign.keyPem })).rejects.toThrow();
    const plain = mqtt.connect(`mqtt://127.0.0.1:${port}`, { clientId: 'dev-e2', reconnectPeriod: 0, connectTimeout: 3000 });
    clients.push(plain);
    await expect(
      new Promise((resolve, reject) => {
        plain.once('connect', resolve);
        plain.once('error', reject);
        plain.once('close', () => reject(new Error('closed')));
      }),
    ).rejects.toThrow();
  });

  it("a device presenting another device's certificate cannot publish as that device (identity = certificate CN, ACL)", async () => {
    // dev-e3's certificate, publishing to dev-e2's topic: mosquitto drops it (no delivery to the agent)
    const c = await device('dev-e3');
    await publishQos1(c, readingTopic('dev-e3'), ward.seal('dev-e3', 1));
    await waitFor(() => agent!.core.store.recordIdAtSeq('dev-e3', 1) !== undefined, 10_000, "dev-e3's own reading stored");
    c.publish(readingTopic('dev-e2'), Buffer.from(ward.seal('dev-e2', 1)), { qos: 1 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(agent!.core.store.recordIdAtSeq('dev-e2', 1)).toBeUndefined();
    c.end(true);
  });

  it("revoking a device puts its certificate on the CRL; with it mosquitto refuses the device's next connection", async () => {
    const c = await device('dev-e2');
    await publishQos1(c, readingTopic('dev-e2'), ward.seal('dev-e2', 2));
    await waitFor(() => agent!.core.store.recordIdAtSeq('dev-e2', 2) !== undefined, 10_000, 'reading before revocation stored');
    c.end(true);
    const crlBefore = readFileSync(ca.paths.crl, 'utf8');
    agent!.core.revokeDevice('dev-e2');
    await waitFor(() => readFileSync(ca.paths.crl, 'utf8') !== crlBefore, 5000, 'the CRL rewritten');
    expect(agent!.tls!.isRevoked(ids.get('dev-e2')!.serial)).toBe(true);
    installCrl();
    // mosquitto reads its CRL at start: restart it (persistent sessions survive; the agent reconnects)
    await stopProcess(mosquitto);
    await startBroker();
    await expect(device('dev-e2')).rejects.toThrow();
    // the other devices still connect; a reading is stored after the agent's reconnect
    const ok = await device('dev-e1');
    await publishQos1(ok, readingTopic('dev-e1'), ward.seal('dev-e1', 2));
    await waitFor(() => agent!.core.store.recordIdAtSeq('dev-e1', 2) !== undefined, 15_000, 'reading after the CRL reload stored');
    ok.end(true);
    expect(agent!.core.store.recordIdAtSeq('dev-e2', 2)).toBeDefined(); // nothing accepted is lost
  });
});
