/**
 * Issue #15, defect 6 (attacker: another local user of the gateway, reading files on disk).
 *
 * Before the fix agent.sqlite and its -wal/-shm were created 0644 in a 0755 data dir, and another
 * user read a quarantined payload. A real agent (embedded broker + embedded chain, as `vitalseal demo`
 * runs it) ingests a reading and an oversize (quarantined) payload, stops, restarts — also after its
 * files were loosened as an older version or another umask left them — and every file under its data
 * dir must be 0600 and every directory 0700, while running and after stopping. The quarantine keeps
 * a bounded prefix of a payload and says so (admin API: truncated, storedBytes). A wallet file is 0600.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { seededRng } from '../../protocol/rng.ts';
import { Wallet } from '../../wallet/wallet.ts';
import { tempDir, waitFor } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

const ward = new WardFixture('file-permissions');
const base = tempDir('vitalseal-perms-');
const dataDir = join(base, 'agent'); // does not exist yet: the agent creates it
const DEV = 'perm-dev';
const OVERSIZE = 10_000;
const MARKER = 'PLAINTEXT-OF-A-PATIENT:';
let agent: RunningAgent | undefined;

/** Stops the running agent (also when a test failed half-way: the next one needs the data dir). */
async function stopAgent(): Promise<void> {
  const a = agent;
  agent = undefined;
  await a?.stop();
}
afterEach(stopAgent);
afterAll(stopAgent);

async function start(): Promise<RunningAgent> {
  return startAgent(
    parseAgentConfig({
      dataDir,
      mode: 'embedded',
      mqtt: { port: 0, maxPacketBytes: 16_384 },
      http: { port: 0 },
      logLevel: 'silent',
      chain: { mode: 'embedded', intervalMs: 250, maxLeaves: 200 },
    }),
    { defaultMetrics: false, authorityPublicKey: ward.authorityPublic },
  );
}

/** Every entry under `dir` (and `dir`) whose mode is not 0700 (directory) or 0600 (file), as "path mode". */
function loosePaths(dir: string): string[] {
  const bad: string[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    if (st.isDirectory()) {
      if ((st.mode & 0o777) !== 0o700) bad.push(`${p} ${(st.mode & 0o777).toString(8)}`);
      for (const e of readdirSync(p)) walk(join(p, e));
    } else if (!st.isSymbolicLink() && (st.mode & 0o777) !== 0o600) {
      bad.push(`${p} ${(st.mode & 0o777).toString(8)}`);
    }
  };
  walk(dir);
  return bad;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f));
}

function connect(port: number, secret: string): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: DEV,
    username: DEV,
    password: secret,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
}

describe('files of the agent and its chain are private', () => {
  it('ingest, stop, restart: every file under the data dir is 0600 and every directory 0700', { timeout: 120_000 }, async () => {
    agent = await start();
    const secret = agent.core.provisionDevice(DEV).secret;
    await agent.core.pushTicket(ward.ticketFor(DEV));
    const c = await connect(agent.mqttAddress!.port, secret);
    await c.publishAsync(`vs/v1/${DEV}/r`, Buffer.from(ward.seal(DEV, 1)), { qos: 1 });
    const oversize = Buffer.alloc(OVERSIZE, 0);
    for (let i = 0; i + MARKER.length <= OVERSIZE; i += MARKER.length) oversize.write(MARKER, i);
    await c.publishAsync(`vs/v1/${DEV}/r`, oversize, { qos: 1 });
    await c.endAsync();
    await waitFor(
      () => agent!.core.store.recordCount() === 1 && agent!.core.store.quarantine(10).length === 1,
      10_000,
      'the reading and the quarantined payload',
    );
    await waitFor(() => files(dataDir).some((f) => f.endsWith('anvil-state.json')), 10_000, 'a chain state dump');

    // while running: the SQLite files (with -wal and -shm), keys, token, chain files
    const names = files(dataDir).map((f) => f.slice(dataDir.length + 1));
    for (const n of [
      'agent.sqlite',
      'agent.sqlite-wal',
      'agent.sqlite-shm',
      'agent-key.json',
      'admin-token',
      'ward-keys.json',
      'chain/anvil-state.json',
      'chain/chain.json',
      'chain/embedded.json',
    ]) {
      expect(names).toContain(n);
    }
    expect(loosePaths(dataDir)).toEqual([]);

    await stopAgent();
    expect(loosePaths(dataDir)).toEqual([]);

    agent = await start();
    expect(loosePaths(dataDir)).toEqual([]);
    await stopAgent();
    expect(loosePaths(dataDir)).toEqual([]);
  });

  it('repairs the modes an older version or a lax umask left on the next start', { timeout: 120_000 }, async () => {
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'chain'), 0o755);
    for (const f of files(dataDir)) if (statSync(f).isFile()) chmodSync(f, 0o644);
    expect(loosePaths(dataDir).length).toBeGreaterThan(5);
    agent = await start();
    expect(loosePaths(dataDir)).toEqual([]);
    await stopAgent();
    expect(loosePaths(dataDir)).toEqual([]);
  });

  it('the quarantine keeps a bounded prefix of an oversize payload and says so', { timeout: 60_000 }, async () => {
    agent = await start();
    const res = await fetch(`http://127.0.0.1:${agent.httpAddress.port}/admin/quarantine`, {
      headers: { authorization: `Bearer ${agent.adminToken}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { recent: Array<{ reason: string; size: number; storedBytes: number; truncated: boolean }> };
    const row = body.recent.find((r) => r.reason === 'ENVELOPE_TOO_LARGE');
    expect(row).toBeDefined();
    expect(row!.size).toBe(OVERSIZE);
    expect(row!.truncated).toBe(true);
    expect(row!.storedBytes).toBeGreaterThan(0);
    expect(row!.storedBytes).toBeLessThanOrEqual(1024);
    await stopAgent();
    // on disk: no more than that prefix of the payload
    const db = new Database(join(dataDir, 'agent.sqlite'), { readonly: true });
    try {
      const rows = db.prepare<[], { size: number; payload: Buffer }>('SELECT size, payload FROM quarantine').all();
      expect(rows).toHaveLength(1);
      expect(rows[0]!.size).toBe(OVERSIZE);
      expect(rows[0]!.payload.length).toBe(row!.storedBytes);
    } finally {
      db.close();
    }
  });

  it('a wallet file is 0600', () => {
    mkdirSync(join(base, 'wallets'));
    const path = join(base, 'wallets', 'w.json');
    Wallet.create(path, 'passphrase', { rng: seededRng('perm-wallet'), scryptN: 1 << 10 });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
