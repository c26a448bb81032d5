/**
 * Crash test of the durability rule "a reading is acknowledged only after it is committed":
 * an agent in a child process takes ≥ 20,000 QoS 1 readings from several mqtt.js publishers
 * (each keeping a window in flight) and is kill -9'ed at a seeded moment mid-stream. After a
 * restart on the same data dir, every PUBACKed reading must be stored exactly once, nothing
 * twice, and the log's root must match a recomputation from the stored leaves. Then the
 * un-acknowledged readings are resent: all acknowledged, the already stored ones as duplicates.
 *
 * Seed: VITALSEAL_CRASH_SEED (default below) picks the kill moment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { startAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { AgentCore } from '../../agent/core.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { leafHash, merkleRoot } from '../../protocol/merkle/index.ts';
import { seededRng, systemClock } from '../../protocol/rng.ts';
import { verifyTreeHead } from '../../protocol/treeHead.ts';
import { freePort, stopProcess, tempDir } from '../support/services.ts';
import { WardFixture } from '../support/ward.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const CHILD = join(REPO, 'test/agent/crashChild.ts');
const SEED = process.env.VITALSEAL_CRASH_SEED ?? 'crash-test-1';
const DEVICES = Array.from({ length: 5 }, (_, i) => `crash-${i}`);
const PER_DEVICE = 4000; // 20,000 readings in all
const WINDOW = 32; // QoS 1 publishes in flight per publisher
const TOTAL = DEVICES.length * PER_DEVICE;

interface Item {
  readonly i: number;
  readonly dev: string;
  readonly seq: number;
  readonly env: Buffer;
  readonly id: string; // record id: SHA-256(envelope), hex
}

const ward = new WardFixture('crash-test');
const dataDir = tempDir('vitalseal-crash-');
const secrets = new Map<string, string>();
const children = new Set<ChildProcess>();
let items: Item[] = [];

/** Starts the child agent and resolves once it listens. */
async function spawnAgent(port: number): Promise<{ proc: ChildProcess; mqttPort: number; httpPort: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, String(port)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: proc.stdout! });
  return new Promise((resolveReady, reject) => {
    const t = setTimeout(() => reject(new Error(`child agent not ready in 30 s: ${stderr}`)), 30_000);
    proc.once('exit', (code, sig) => reject(new Error(`child agent exited (${code ?? sig}) before ready: ${stderr}`)));
    lines.on('line', (line) => {
      const m = JSON.parse(line) as { ready?: boolean; mqttPort: number; httpPort: number };
      if (!m.ready) return;
      clearTimeout(t);
      resolveReady({ proc, mqttPort: m.mqttPort, httpPort: m.httpPort });
    });
  });
}

function connect(port: number, dev: string): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: dev,
    username: dev,
    password: secrets.get(dev)!,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    clean: true,
  });
}

/**
 * Publishes `list` in order with at most WINDOW in flight; `onAck` for each publish whose
 * callback reports no error (= PUBACK received). Resolves when every publish sent has been
 * answered (PUBACK or error) and either the list is done or the connection closed.
 */
function publishWindowed(
  c: MqttClient,
  list: readonly Item[],
  onAck: (it: Item) => void,
): Promise<{ sent: number; acked: number; failed: number }> {
  return new Promise((done) => {
    let next = 0;
    let inflight = 0;
    let acked = 0;
    let failed = 0;
    let closed = false;
    const finish = (): void => {
      if (inflight === 0 && (closed || next >= list.length)) done({ sent: next, acked, failed });
    };
    c.once('close', () => {
      closed = true;
      c.end(true); // answers the publishes still in flight with an error
      finish();
    });
    const pump = (): void => {
      while (!closed && inflight < WINDOW && next < list.length) {
        const it = list[next++]!;
        inflight++;
        c.publish(`vs/v1/${it.dev}/r`, it.env, { qos: 1 }, (err) => {
          inflight--;
          if (err) failed++;
          else {
            acked++;
            onAck(it);
          }
          pump();
          finish();
        });
      }
    };
    pump();
  });
}

beforeAll(async () => {
  // provision devices and tickets in the data dir the child agent will use
  const setup = await startAgent(parseAgentConfig({ dataDir, mqtt: { port: 0 }, http: { port: 0 }, logLevel: 'silent' }), {
    defaultMetrics: false,
  });
  for (const dev of DEVICES) {
    secrets.set(dev, setup.core.provisionDevice(dev).secret);
    await setup.core.pushTicket(ward.ticketFor(dev));
  }
  await setup.stop();
  // pre-seal every reading (interleaved by device, as the publishers send them)
  let i = 0;
  for (const dev of DEVICES) {
    for (let seq = 1; seq <= PER_DEVICE; seq++) {
      const env = Buffer.from(ward.seal(dev, seq));
      items.push({ i: i++, dev, seq, env, id: createHash('sha256').update(env).digest('hex') });
    }
  }
}, 120_000);

afterAll(async () => {
  for (const p of children) await stopProcess(p, 'SIGKILL');
  items = [];
  rmSync(dataDir, { recursive: true, force: true });
});

describe('crash test: kill -9 mid-stream', () => {
  it('loses no acknowledged reading, stores none twice, keeps the log consistent, and takes the rest on resend', {
    timeout: 120_000,
  }, async () => {
    const r = seededRng(SEED)(4);
    const killAfter = 3000 + (new DataView(r.buffer).getUint32(0) % (TOTAL - 6000)); // in [3000, TOTAL - 3000)
    const acked = new Set<string>();

    // --- 1. stream, kill -9 after `killAfter` PUBACKs
    const first = await spawnAgent(await freePort());
    const clients = await Promise.all(DEVICES.map((d) => connect(first.mqttPort, d)));
    let killedAt = -1;
    const t0 = performance.now();
    const runs = await Promise.all(
      DEVICES.map((dev, k) =>
        publishWindowed(
          clients[k]!,
          items.filter((it) => it.dev === dev),
          (it) => {
            acked.add(it.id);
            if (acked.size >= killAfter && killedAt < 0) {
              killedAt = acked.size;
              first.proc.kill('SIGKILL');
            }
          },
        ),
      ),
    );
    const streamMs = performance.now() - t0;
    await new Promise<void>((res) =>
      first.proc.exitCode !== null || first.proc.signalCode !== null ? res() : first.proc.once('exit', () => res()),
    );
    expect(first.proc.signalCode).toBe('SIGKILL');
    const sent = runs.reduce((s, x) => s + x.sent, 0);
    expect(killedAt).toBeGreaterThan(0);
    expect(sent).toBeLessThan(TOTAL); // killed mid-stream, not after the end

    // --- 2. restart on the same data dir; check the store read-only while it runs
    const second = await spawnAgent(await freePort());
    const db = new Database(join(dataDir, 'agent.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT record_id, leaf_idx, device, seq, envelope FROM records').all() as Array<{
        record_id: Buffer;
        leaf_idx: number;
        device: string;
        seq: number;
        envelope: Buffer;
      }>;
      const leaves = db.prepare('SELECT idx, leaf_hash FROM log_leaves ORDER BY idx').all() as Array<{ idx: number; leaf_hash: Buffer }>;
      const storedIds = new Set(rows.map((x) => x.record_id.toString('hex')));
      expect(storedIds.size).toBe(rows.length); // no record twice
      expect(new Set(rows.map((x) => `${x.device}/${x.seq}`)).size).toBe(rows.length);
      const missing = [...acked].filter((id) => !storedIds.has(id));
      expect(missing).toEqual([]); // every PUBACKed reading survived kill -9
      const published = new Set(items.map((it) => it.id));
      expect(rows.every((x) => published.has(x.record_id.toString('hex')))).toBe(true);
      // the log: one leaf per record, leaf = SHA-256(0x00 ‖ envelope), root recomputed = served root
      expect(leaves.map((l) => l.idx)).toEqual(leaves.map((_, k) => k));
      expect(leaves.length).toBe(rows.length);
      for (const x of rows) expect(toHex(leaves[x.leaf_idx]!.leaf_hash)).toBe(toHex(leafHash(x.envelope)));
      const sth = (await (await fetch(`http://127.0.0.1:${second.httpPort}/v1/log/sth`)).json()) as {
        size: number;
        root: string;
        sth: string;
        publicKey: string;
      };
      expect(sth.size).toBe(leaves.length);
      expect(toHex(merkleRoot(leaves.map((l) => new Uint8Array(l.leaf_hash))))).toBe(sth.root);
      expect(toHex(verifyTreeHead(new Uint8Array(Buffer.from(sth.sth, 'base64')), fromHex(sth.publicKey)).root)).toBe(sth.root);
      expect((db.prepare('SELECT COUNT(*) AS n FROM quarantine').get() as { n: number }).n).toBe(0);

      // --- 3. resend everything not acknowledged: all acknowledged, the stored ones as duplicates
      const ackedAtKill = acked.size;
      const unacked = items.filter((it) => !acked.has(it.id));
      const storedUnacked = unacked.filter((it) => storedIds.has(it.id)).length;
      const resendClients = await Promise.all(DEVICES.map((d) => connect(second.mqttPort, d)));
      const resent = await Promise.all(
        DEVICES.map((dev, k) =>
          publishWindowed(
            resendClients[k]!,
            unacked.filter((it) => it.dev === dev),
            (it) => acked.add(it.id),
          ),
        ),
      );
      for (const c of resendClients) await c.endAsync();
      expect(resent.reduce((s, x) => s + x.failed, 0)).toBe(0);
      expect(acked.size).toBe(TOTAL);
      const count = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT record_id) AS d FROM records').get() as { n: number; d: number };
      expect(count).toEqual({ n: TOTAL, d: TOTAL });
      const dups = db.prepare('SELECT SUM(duplicates) AS s, SUM(received) AS r FROM devices').get() as { s: number; r: number };
      expect(dups).toEqual({ s: storedUnacked, r: TOTAL });
      console.log(
        `crash test (seed ${SEED}): ${TOTAL} readings, ${DEVICES.length} publishers × window ${WINDOW}; kill -9 after ${killedAt} PUBACKs ` +
          `(${sent} sent in ${Math.round(streamMs)} ms, ${ackedAtKill} acked); stored at restart ${rows.length} (${storedUnacked} committed without PUBACK); ` +
          `resent ${unacked.length}, all acknowledged, ${storedUnacked} as duplicates`,
      );
    } finally {
      db.close();
    }

    // --- 4. graceful stop, then an in-process audit of the same data dir
    await stopProcess(second.proc, 'SIGTERM');
    expect(second.proc.exitCode).toBe(0);
    const core = new AgentCore({
      dataDir,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      maxEnvelopeBytes: 4096,
      maxFutureSkewMs: 300_000,
      quarantineMaxRows: 10_000,
      defaultMetrics: false,
    });
    try {
      expect(core.auditLog()).toMatchObject({ ok: true, size: TOTAL });
      expect(core.store.recordCount()).toBe(TOTAL);
    } finally {
      await core.close();
    }
  });
});
