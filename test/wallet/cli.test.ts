import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { main } from '../../cli/main.ts';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { Wallet } from '../../wallet/wallet.ts';
import { createHpke } from '../../protocol/node.ts';
import { fromHex } from '../../protocol/bytes.ts';
import { sealReading } from '../../protocol/envelope/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { tempDir } from '../support/services.ts';

/** The wallet / records / research commands, run in-process against a live agent on the embedded chain. */
const dir = tempDir('vitalseal-cli-');
const hpke = createHpke('node');
let agent: RunningAgent;
let flags: string[];
const f = (name: string) => join(dir, name);

function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return cliBare(...args, ...flags);
}

async function cliBare(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => (out.push(String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => (err.push(String(c)), true));
  try {
    const code = await main(['node', 'vitalseal', ...args]);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeAll(async () => {
  process.env['VITALSEAL_PASSPHRASE'] = 'cli-test-passphrase';
  agent = await startAgent(
    parseAgentConfig({
      dataDir: f('agent'),
      mqtt: { port: 0 },
      http: { port: 0 },
      logLevel: 'silent',
      chain: { mode: 'embedded', intervalMs: 100, maxLeaves: 10 },
    }),
    { defaultMetrics: false },
  );
  flags = ['--agent', `http://127.0.0.1:${agent.httpAddress.port}`, '--chain-dir', f('agent/chain')];
}, 60_000);

afterAll(async () => {
  delete process.env['VITALSEAL_PASSPHRASE'];
  await agent?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('vitalseal wallet / records / research', () => {
  it('runs the patient → clinician → emergency → researcher path', async () => {
    for (const [w, extra] of [
      ['p', ['--dev-account', '2']],
      ['c', []],
      ['e', []],
      ['r', []],
    ] as const) {
      expect((await cli('wallet', 'init', '--wallet', f(`${w}.json`), '--scrypt-log-n', '10', ...extra)).code).toBe(0);
    }
    const addr = (w: string) => (JSON.parse(readFileSync(f(`${w}.json`), 'utf8')) as { address: string }).address;
    expect((await cli('wallet', 'register', '--wallet', f('p.json'))).code).toBe(0);
    expect((await cli('wallet', 'register', '--wallet', f('c.json'), '--role', 'clinician')).code).toBe(0);
    expect((await cli('wallet', 'register', '--wallet', f('e.json'), '--role', 'emergency-clinician')).code).toBe(0);
    expect((await cli('wallet', 'register', '--wallet', f('r.json'), '--role', 'researcher')).code).toBe(0);
    // the ward provisions the device and assigns it: the patient's wallet pairs, the operator confirms the code
    const { secret } = agent.core.provisionDevice('dev-x');
    expect((await cli('wallet', 'session', 'start', '--device', 'dev-x', '--wallet', f('p.json'))).err).toContain(
      'API_DEVICE_NOT_ASSIGNED',
    );
    const pair = await cli('wallet', 'pair', '--device', 'dev-x', '--wallet', f('p.json'), '--json');
    expect(pair.code).toBe(0);
    const code = (JSON.parse(pair.out) as { code: string }).code;
    const operator = ['--agent', `http://127.0.0.1:${agent.httpAddress.port}`, '--token', agent.adminToken];
    expect((await cliBare('device', 'assign', 'dev-x', '--code', 'ZZZZ-ZZZZ', ...operator)).code).not.toBe(0);
    const assigned = await cliBare('device', 'assign', 'dev-x', '--code', code.toLowerCase(), ...operator);
    expect(assigned.code).toBe(0);
    expect(JSON.parse(assigned.out)).toMatchObject({ device: 'dev-x', patient: addr('p').toLowerCase(), via: 'pairing' });
    const s = await cli('wallet', 'session', 'start', '--device', 'dev-x', '--wallet', f('p.json'), '--json');
    expect(s.code).toBe(0);
    const kid = (JSON.parse(s.out) as { kid: string }).kid;

    // the device seals to the session key (read from the patient's wallet) and publishes
    const pw = Wallet.open(f('p.json'), 'cli-test-passphrase', seededRng('x'));
    const sess = pw.sessions.find((x) => x.kid === kid)!;
    const client: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${agent.mqttAddress!.port}`, {
      clientId: 'dev-x',
      username: 'dev-x',
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const rng = seededRng('cli-device');
    for (let i = 1; i <= 5; i++) {
      const ts = Date.now() - (10 - i) * 1000;
      const env = sealReading({
        reading: { st: 'spo2', ts, v: [90 + i, 70], u: '%' },
        header: { dev: 'dev-x', seq: i, ts, st: 'spo2' },
        recipient: { publicKey: fromHex(sess.pk), kid: fromHex(kid) },
        hpke,
        rng,
      });
      await client.publishAsync('vs/v1/dev-x/r', Buffer.from(env), { qos: 1 });
    }
    await client.endAsync();
    await agent.anchoring!.service.waitForAnchored(agent.core.ingestor.log.size, 20_000);

    expect(
      (
        await cli(
          'wallet',
          'consent',
          'grant',
          '--to',
          addr('c'),
          '--scope',
          'sensor:spo2',
          '--share-out',
          f('share.json'),
          '--wallet',
          f('p.json'),
        )
      ).code,
    ).toBe(0);
    expect((await cli('wallet', 'keys', 'import', f('share.json'), '--wallet', f('c.json'))).out).toContain('1 session keys imported');
    const dec = await cli('records', 'decrypt', '--patient', addr('p'), '--wallet', f('c.json'), '--ndjson');
    expect(dec.code).toBe(0);
    const rows = dec.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { values: string; proof: string; decrypt: string });
    expect(rows.map((r) => r.values)).toEqual(['91 70', '92 70', '93 70', '94 70', '95 70']);
    expect(rows.every((r) => r.proof === 'verified' && r.decrypt === 'ok')).toBe(true);

    // a tampered saved record is reported (exit 4), not hidden
    expect((await cli('records', 'fetch', '--patient', addr('p'), '--wallet', f('c.json'), '--out', f('recs.json'))).code).toBe(0);
    const saved = JSON.parse(readFileSync(f('recs.json'), 'utf8')) as { records: Array<{ inclusionProof: string[] }> };
    saved.records[2]!.inclusionProof[0] = '00'.repeat(32);
    writeFileSync(f('recs.json'), JSON.stringify(saved));
    const ver = await cli('records', 'verify', '--in', f('recs.json'), '--wallet', f('c.json'));
    expect(ver.code).toBe(4);
    expect(ver.err).toContain('tampered');

    // revocation takes effect
    expect((await cli('wallet', 'consent', 'revoke', '--to', addr('c'), '--scope', 'sensor:spo2', '--wallet', f('p.json'))).code).toBe(0);
    const denied = await cli('records', 'decrypt', '--patient', addr('p'), '--wallet', f('c.json'));
    expect(denied.code).toBe(3);
    expect(denied.err).toContain('API_CONSENT_DENIED');

    // emergency escrow + break-glass drill, visible in the patient's watch
    writeFileSync(f('profile.json'), JSON.stringify({ bloodType: 'AB-', allergies: ['latex'], medication: [] }));
    expect((await cli('wallet', 'emergency', 'init', '--profile', f('profile.json'), '--wallet', f('p.json'))).code).toBe(0);
    const bg = await cli(
      'wallet',
      'emergency',
      'break-glass',
      '--patient',
      addr('p'),
      '--reason',
      'drill',
      '--drill',
      '--wallet',
      f('e.json'),
      '--json',
    );
    expect(bg.code).toBe(0);
    expect(JSON.parse(bg.out)).toMatchObject({ drill: true, profile: { bloodType: 'AB-' } });
    const watch = await cli('wallet', 'watch', '--once', '--wallet', f('p.json'));
    expect(watch.out).toContain('BREAK-GLASS (drill)');
    expect(watch.out).toContain('your data anchored');

    // research disclosure of one reading
    const recId = (JSON.parse(readFileSync(f('recs.json'), 'utf8')) as { records: Array<{ recordId: string }> }).records[1]!.recordId;
    expect((await cli('wallet', 'disclose', '--record', recId, '--out', f('disc.json'), '--wallet', f('p.json'))).code).toBe(0);
    const opened = await cli('research', 'open', f('disc.json'), '--wallet', f('r.json'), '--json');
    expect(opened.code).toBe(0);
    expect(JSON.parse(opened.out)).toMatchObject({ reading: { v: [92, 70] }, check: { status: 'verified' } });
    const forged = JSON.parse(readFileSync(f('disc.json'), 'utf8')) as { issuedAt: number };
    forged.issuedAt += 1;
    writeFileSync(f('disc2.json'), JSON.stringify(forged));
    expect((await cli('research', 'open', f('disc2.json'), '--wallet', f('r.json'))).code).toBe(4);

    await agent.anchoring!.service.waitForAnchored(agent.core.ingestor.log.size, 20_000);
    const acc = await cli('wallet', 'access', '--wallet', f('p.json'));
    expect(acc.code).toBe(0);
    expect(acc.out).toMatch(/query .*verified/);
    expect(acc.out).toMatch(/emergency-release .*\(drill\)/);

    // ending the session supersedes the ticket with one that expires now
    expect((await cli('wallet', 'session', 'end', '--device', 'dev-x', '--wallet', f('p.json'))).code).toBe(0);
    const t = agent.core.store.listTickets().find((x) => Buffer.from(x.kid).toString('hex') === kid)!;
    expect(t.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect((await cli('wallet', 'session', 'end', '--device', 'dev-x', '--kid', '00'.repeat(16), '--wallet', f('p.json'))).code).toBe(3);

    // a wrong passphrase is refused with its code
    process.env['VITALSEAL_PASSPHRASE'] = 'wrong';
    const bad = await cli('wallet', 'show', '--wallet', f('p.json'));
    process.env['VITALSEAL_PASSPHRASE'] = 'cli-test-passphrase';
    expect(bad.code).toBe(4);
    expect(bad.err).toContain('WALLET_BAD_PASSPHRASE');
  }, 90_000);
});
