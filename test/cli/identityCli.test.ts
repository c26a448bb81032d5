/**
 * Issue #20's operator and reader commands as the real CLI (bin/vitalseal.js, child processes) against
 * a real agent on HTTPS under its ward CA (in this process): `vitalseal ward authority-rotate`
 * (docs/PROTOCOL.md §7.7), `vitalseal device identity` (register, list, rotate, revoke a device's
 * identity key, §3.6), `vitalseal open --identity-key` (an Auth-mode reading, §5.7) and the wallet's
 * `--agent-ca` (an https agent verified against the ward CA). Exit codes and the stable error codes
 * in the output are asserted; set-up the CLI is not about (devices, assignments, sessions) is done
 * in process. Children are few (each costs 1–2 s of start-up).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { loadOrCreateWardKeys } from '../../agent/api/wardKeys.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { tlsPaths, WardCa } from '../../agent/tls/wardCa.ts';
import { checkTicket } from '../../device-sim/firmware/ticketCheck.ts';
import { toHex } from '../../protocol/bytes.ts';
import { sealReading } from '../../protocol/envelope/index.ts';
import { encodeKeyFile, tempKeyPairGen } from '../../protocol/keys/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import { AgentClient, trustedAuthorities } from '../../wallet/agentClient.ts';
import { Wallet } from '../../wallet/wallet.ts';
import { tempDir } from '../support/services.ts';

const BIN = new URL('../../bin/vitalseal.js', import.meta.url).pathname;
const hpke = createHpke('node');
const PATIENT = `0x${'cd'.repeat(20)}`;
const PASSPHRASE = 'identity-cli-test';
/** Per test: a few CLI children, 1–2 s each alone, several times that on a loaded 2-core machine. */
const CHILDREN_MS = 180_000;
let dataDir: string;
let agent: RunningAgent;
let base: string;
let caPem: string;

/** The CLI as a child process (async: the agent in this process must keep answering). */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.once('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

/** A device provisioned and assigned to PATIENT (in process: not what these tests are about). */
async function assignedDevice(id: string): Promise<void> {
  agent.core.provisionDevice(id);
  await agent.custody.assign(id, PATIENT, 'operator');
}

/** A session ticket for `device` (the agent as ward authority signs it), for a fresh patient key. */
async function sessionTicket(device: string, tag: string): Promise<Uint8Array> {
  const key = hpke.generateKeyPair(seededRng(`identity-cli/${tag}`));
  const nowS = Math.floor(Date.now() / 1000);
  return (await agent.custody.openSession(PATIENT, { device, pk: key.publicKey, nbf: nowS - 60, exp: nowS + 3600 })).ticket;
}

/** The code `p` rejects with ('ok' when it resolves). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

beforeAll(async () => {
  dataDir = tempDir('vitalseal-identity-cli-');
  await WardCa.init(dataDir);
  caPem = readFileSync(tlsPaths(dataDir).caCert, 'utf8');
  agent = await startAgent(
    parseAgentConfig({ dataDir, mqtt: { port: 0 }, http: { port: 0 }, tls: { enabled: true, port: 0 }, logLevel: 'silent' }),
    { defaultMetrics: false },
  );
  base = `https://127.0.0.1:${agent.httpAddress.port}`;
}, 60_000);

afterAll(async () => {
  await agent?.stop();
});

describe('vitalseal ward authority-rotate (§7.7)', () => {
  it(
    'new tickets are signed by the new key; the old key is published as retired; a re-provisioned device refuses the old key’s tickets',
    async () => {
      const dev = 'rot-cli-1';
      await assignedDevice(dev);
      const k1 = toHex(agent.ward.authorityPublicKey);
      const before = await sessionTicket(dev, 'before');
      const clock = { now: () => Date.now() };
      expect(checkTicket(before, { deviceId: dev, authorityPublicKey: agent.ward.authorityPublicKey, clock }).ok).toBe(true);

      // a wrong admin token: refused, nothing rotated
      const denied = await run(['ward', 'authority-rotate', '--agent', base, '-d', dataDir, '--token', 'not-the-token']);
      expect(denied.code, denied.err).not.toBe(0);
      expect(denied.err).toMatch(/\[[A-Z_]+\]/);
      expect(toHex(agent.ward.authorityPublicKey)).toBe(k1);

      const r = await run(['ward', 'authority-rotate', '--agent', base, '-d', dataDir]);
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out) as { rotated: boolean; authorityPublicKey: string; previous: string };
      expect(j).toEqual({ rotated: true, authorityPublicKey: toHex(agent.ward.authorityPublicKey), previous: k1 });
      expect(j.authorityPublicKey).not.toBe(k1);
      const k2 = agent.ward.authorityPublicKey;

      // published: GET /v1/ward (over the ward CA) names the new key current and the old one retired, with its end
      const ward = await AgentClient.withCa(base, seededRng('identity-cli/ward'), caPem).ward();
      expect(ward.authorityPublicKey).toBe(j.authorityPublicKey);
      expect(ward.authorityKeys!.map((k) => [k.publicKey, k.current])).toEqual([
        [j.authorityPublicKey, true],
        [k1, false],
      ]);
      expect(trustedAuthorities(ward).map((a) => [toHex(a.publicKey), a.until !== undefined])).toEqual([
        [j.authorityPublicKey, false],
        [k1, true],
      ]);
      // durable: the key file reloads with the new key current and the old one retired
      expect(loadOrCreateWardKeys(dataDir).authorityKeys.map((k) => [toHex(k.publicKey), k.until === undefined])).toEqual([
        [j.authorityPublicKey, true],
        [k1, false],
      ]);

      // the next ticket is signed by the new key: a re-provisioned device takes it, one still pinned to the old key refuses it
      const after = await sessionTicket(dev, 'after');
      expect(checkTicket(after, { deviceId: dev, authorityPublicKey: k2, clock }).ok).toBe(true);
      expect(checkTicket(after, { deviceId: dev, authorityPublicKey: Buffer.from(k1, 'hex'), clock })).toMatchObject({
        ok: false,
        code: 'TICKET_BAD_SIGNATURE',
      });
      // a re-provisioned device no longer accepts a ticket of the old key
      expect(checkTicket(before, { deviceId: dev, authorityPublicKey: k2, clock })).toMatchObject({
        ok: false,
        code: 'TICKET_BAD_SIGNATURE',
      });
    },
    CHILDREN_MS,
  );
});

describe('vitalseal device identity (§3.6): register, list, rotate, revoke over the admin API', () => {
  it(
    'tickets certify the registered key, then the rotated-to key; after --revoke no ticket is issued; a malformed key is refused',
    async () => {
      const dev = 'idk-cli-1';
      await assignedDevice(dev);
      const idk1 = toHex(hpke.generateKeyPair(seededRng('identity-cli/idk1')).publicKey);
      const idk2 = toHex(hpke.generateKeyPair(seededRng('identity-cli/idk2')).publicKey);
      const admin = ['--agent', base, '-d', dataDir];

      const reg = await run(['device', 'identity', dev, idk1, ...admin]);
      expect(reg.code, reg.err).toBe(0);
      expect(JSON.parse(reg.out)).toEqual({ device: dev, idk: idk1, rotated: null });
      const t1 = decodeTicket(await sessionTicket(dev, 'idk1'));
      expect([t1.v, t1.idk && toHex(t1.idk)]).toEqual([2, idk1]);

      const rot = await run(['device', 'identity', dev, idk2.toUpperCase(), ...admin]);
      expect(rot.code, rot.err).toBe(0);
      expect(JSON.parse(rot.out)).toEqual({ device: dev, idk: idk2, rotated: idk1 });
      const t2 = decodeTicket(await sessionTicket(dev, 'idk2'));
      expect(t2.idk && toHex(t2.idk)).toBe(idk2);

      const list = await run(['device', 'identity', dev, ...admin]);
      expect(list.code, list.err).toBe(0);
      const keys = (JSON.parse(list.out) as { device: string; keys: Array<{ idk: string; endedAt: number | null; ended: string | null }> })
        .keys;
      expect(keys.map((k) => [k.idk, k.ended])).toEqual([
        [idk1, 'rotated'],
        [idk2, null],
      ]);

      const rev = await run(['device', 'identity', dev, '--revoke', ...admin]);
      expect(rev.code, rev.err).toBe(0);
      expect(JSON.parse(rev.out)).toEqual({ device: dev, revoked: idk2 });
      expect(await codeOf(sessionTicket(dev, 'revoked'))).toBe('AGENT_IDENTITY_REVOKED');

      // 63 hex digits: the agent's schema refuses it, nothing registered
      const bad = await run(['device', 'identity', dev, idk1.slice(1), ...admin]);
      expect(bad.code).toBe(3);
      expect(bad.err).toMatch(/\[AGENT_BAD_REQUEST\]/);
      expect(await codeOf(sessionTicket(dev, 'still-revoked'))).toBe('AGENT_IDENTITY_REVOKED');
    },
    CHILDREN_MS,
  );
});

describe('vitalseal open --identity-key (§5.7)', () => {
  it(
    'an Auth-mode reading verifies with the idk its ticket certifies; another key: ENVELOPE_ORIGIN_UNVERIFIED; none: ENVELOPE_NO_SENDER_KEY; bad hex: usage',
    async () => {
      const dir = tempDir('vitalseal-open-idk-');
      const patient = tempKeyPairGen('p-open-idk', seededRng('identity-cli/patient'), hpke);
      const keyFile = join(dir, 'patient.key');
      writeFileSync(keyFile, encodeKeyFile(patient), { mode: 0o600 });
      const device = hpke.generateKeyPair(seededRng('identity-cli/device'));
      const other = hpke.generateKeyPair(seededRng('identity-cli/other'));
      const ts = 1_767_225_600_000;
      const env = sealReading({
        reading: { st: 'spo2', ts, v: [97, 72], u: '%,bpm' },
        header: { dev: 'oxi-idk', seq: 3, ts, st: 'spo2' },
        recipient: { publicKey: patient.publicKey, kid: patient.kid },
        hpke,
        rng: seededRng('identity-cli/ek'),
        senderSecretKey: device.secretKey,
      });
      const envFile = join(dir, 'reading.hex');
      writeFileSync(envFile, toHex(env));
      const open = (...extra: string[]) => run(['open', '--key', keyFile, '--in', envFile, ...extra]);

      const [right, wrong, none, malformed] = await Promise.all([
        open('--identity-key', toHex(device.publicKey)),
        open('--identity-key', toHex(other.publicKey), '--json'),
        open('--json'),
        open('--identity-key', 'zz'.repeat(32)),
      ]);
      expect(right.code, right.err).toBe(0);
      const j = JSON.parse(right.out) as {
        header: { dev: string; seq: number; m?: number };
        reading: { v: number[] };
        origin: { mode: string; verified: boolean };
      };
      expect(j.header).toMatchObject({ dev: 'oxi-idk', seq: 3, m: 2 });
      expect(j.reading.v).toEqual([97, 72]);
      expect(j.origin).toMatchObject({ mode: 'auth', verified: true });

      expect(wrong.code).toBe(4);
      expect(JSON.parse(wrong.out)).toMatchObject({ ok: false, error: { code: 'ENVELOPE_ORIGIN_UNVERIFIED' } });
      expect(wrong.out).not.toContain('97');
      expect(none.code).not.toBe(0);
      expect(JSON.parse(none.out)).toMatchObject({ ok: false, error: { code: 'ENVELOPE_NO_SENDER_KEY' } });
      expect(malformed.code).toBe(2);
      expect(malformed.err).toContain('--identity-key is not 64 hex digits');
    },
    CHILDREN_MS,
  );
});

describe('the wallet’s --agent-ca (an https agent verified against the ward CA)', () => {
  it(
    'with the ward CA the agent’s answer arrives; with another CA: WALLET_AGENT_UNTRUSTED, exit 4',
    async () => {
      const dir = tempDir('vitalseal-wallet-ca-');
      const walletFile = join(dir, 'w.json');
      Wallet.create(walletFile, PASSPHRASE, { rng: seededRng('identity-cli/wallet'), scryptN: 1 << 10 });
      const otherDir = tempDir('vitalseal-other-ca-');
      await WardCa.init(otherDir);
      const pair = (ca: string) =>
        run(['wallet', 'pair', '--device', 'rot-cli-1', '--wallet', walletFile, '--agent', base, '--agent-ca', ca, '--json'], {
          VITALSEAL_PASSPHRASE: PASSPHRASE,
        });
      const [trusted, untrusted] = await Promise.all([pair(tlsPaths(dataDir).caCert), pair(tlsPaths(otherDir).caCert)]);
      // this agent runs without a chain: its refusal of the signed request came over the verified connection
      expect(JSON.parse(trusted.out)).toMatchObject({ ok: false, error: { code: 'API_CHAIN_UNAVAILABLE' } });
      expect(untrusted.code).toBe(4);
      expect(JSON.parse(untrusted.out)).toMatchObject({ ok: false, error: { code: 'WALLET_AGENT_UNTRUSTED' } });
      expect((JSON.parse(untrusted.out) as { error: { message: string } }).error.message).toMatch(/certificate does not verify/);
    },
    CHILDREN_MS,
  );
});
