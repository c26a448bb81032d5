/**
 * Issue #20, the operator's commands: `vitalseal ward ca init` (the ward CA in the data dir, key 0600,
 * never overwritten), `vitalseal device add <id> --cert` against an agent on HTTPS (the device key is
 * made by the CLI and written 0600; the certificate works for mutual TLS), `device cert-revoke`, and
 * `ward tls-rotate` — the real CLI (bin/vitalseal.js) as a child process, the agent in this process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { readingTopic } from '../../protocol/topics.ts';
import { tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';
import { connectTls, publishQos1 } from '../support/tlsClient.ts';

const BIN = new URL('../../bin/vitalseal.js', import.meta.url).pathname;
const ward = new WardFixture('tls-cli-test');
let dataDir: string;
let agent: RunningAgent | undefined;

function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

beforeAll(() => {
  dataDir = tempDir();
});

afterAll(async () => {
  await agent?.stop();
});

describe('vitalseal ward ca init / device add --cert', () => {
  it('ward ca init creates the CA (key 0600) and refuses to overwrite it', async () => {
    const r = await run(['ward', 'ca', 'init', '-d', dataDir]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { caCert: string; fingerprint: string };
    expect(j.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(statSync(join(dataDir, 'tls', 'ca.key')).mode & 0o777).toBe(0o600);
    const again = await run(['ward', 'ca', 'init', '-d', dataDir]);
    expect(again.code).toBe(3);
    expect(again.err).toContain('TLS_CA_EXISTS');
  });

  it('device add --cert over HTTPS writes a 0600 key and a certificate that connects by mutual TLS; cert-revoke refuses it', async () => {
    agent = await startAgent(
      parseAgentConfig({ dataDir, mqtt: { port: 0 }, http: { port: 0 }, tls: { enabled: true, port: 0 }, logLevel: 'silent' }),
      { defaultMetrics: false, authorityPublicKey: ward.authorityPublic },
    );
    const a = agent;
    const base = `https://127.0.0.1:${a.httpAddress.port}`;
    const out = tempDir();
    const r = await run(['device', 'add', 'dev-c1', '--cert', '--out', out, '--agent', base, '-d', dataDir]);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as {
      id: string;
      secret: string;
      certificate: { serial: string; key: string; cert: string; caCert: string };
    };
    expect(j.id).toBe('dev-c1');
    expect(statSync(j.certificate.key).mode & 0o777).toBe(0o600);
    expect(r.out).not.toContain('PRIVATE KEY');
    await a.core.pushTicket(ward.ticketFor('dev-c1'));
    const url = `mqtts://127.0.0.1:${a.mqttTlsAddress!.port}`;
    const opts = {
      ca: readFileSync(j.certificate.caCert, 'utf8'),
      cert: readFileSync(j.certificate.cert, 'utf8'),
      key: readFileSync(j.certificate.key, 'utf8'),
    };
    const c = await connectTls(url, 'dev-c1', opts);
    await publishQos1(c, readingTopic('dev-c1'), ward.seal('dev-c1', 1));
    expect(a.core.store.recordIdAtSeq('dev-c1', 1)).toBeDefined();
    c.end(true);

    // --ca given explicitly, revoking the certificate by serial
    const rev = await run([
      'device',
      'cert-revoke',
      j.certificate.serial,
      '--agent',
      base,
      '-d',
      dataDir,
      '--ca',
      join(dataDir, 'tls', 'ca.crt'),
    ]);
    expect(rev.code, rev.err).toBe(0);
    expect(JSON.parse(rev.out)).toEqual({ serial: j.certificate.serial, revoked: true });
    await expect(connectTls(url, 'dev-c1', opts)).rejects.toThrow();

    // a rotation of the agent's TLS key through the CLI
    const before = a.tls!.certPem;
    const rot = await run(['ward', 'tls-rotate', '--agent', base, '-d', dataDir]);
    expect(rot.code, rot.err).toBe(0);
    expect(a.tls!.certPem).not.toBe(before);
  });

  it('an https agent whose CA the CLI does not trust is refused', async () => {
    const base = `https://127.0.0.1:${agent!.httpAddress.port}`;
    const other = tempDir();
    const r = await run(['device', 'list', '--agent', base, '-d', dataDir, '--ca', join(other, 'missing.crt')]);
    expect(r.code).not.toBe(0);
  });
});
