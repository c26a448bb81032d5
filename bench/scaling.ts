/**
 * Scaling curves.
 *
 * Devices: 100 → 1,000 → 10,000 simulated devices (quick: 100 → 1,000), each an MQTT client
 * of the real agent (child process, durable ingest on SQLite), each keeping one QoS 1 reading
 * in flight (a device waits for its PUBACK before it sends the next) for a fixed time.
 * Reported: acknowledged readings/s, PUBACK p50/p99, agent RSS idle / connected / peak.
 *
 * Log: the RFC 6962 log grown from 10^3 to 10^6 leaves (quick: 10^5 in memory, 10^4 on SQLite), in memory (protocol/merkle
 * MerkleLog) and on the agent's SqliteNodeStore (appends in transactions of 1,000 leaves, as the
 * ingest group commit does). At each decade: µs per append, inclusion proof size (hashes) and time
 * to produce and to verify one (each the fastest of 5 timed batches: the least disturbed by GC
 * and other processes), consistency proof size, process memory. "Logarithmic" is checked:
 * proof size ≤ ⌈log2 n⌉ at every n, and append / proof times at the largest n stay within
 * `4 × log2(n_max) / log2(n_min)` of the smallest (a linear cost would grow 1,000×).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { MerkleLog, verifyInclusion, verifyConsistency, leafHash, type NodeStore } from '../protocol/merkle/index.ts';
import { readingTopic } from '../protocol/topics.ts';
import { openDatabase } from '../agent/store/db.ts';
import { SqliteNodeStore } from '../agent/store/sqliteNodeStore.ts';
import { BatchWriter } from '../agent/store/batchWriter.ts';
import { emptyWriteBatch } from '../agent/store/writeBatch.ts';
import { startAgentChild } from './lib/agentChild.ts';
import { connectDevices, endDevices } from './lib/mqttClients.ts';
import { quantileSorted, round, sortedCopy } from './lib/stats.ts';
import { BenchWard, devName } from './lib/ward.ts';
import type { Precheck } from './crypto.ts';

export interface ScalingBenchOptions {
  readonly quick?: boolean;
  readonly deviceCounts?: readonly number[];
  readonly deviceSeconds?: number;
  readonly logMaxExp?: number;
  readonly sqliteMaxExp?: number;
  readonly parts?: ReadonlyArray<'devices' | 'log'>;
  readonly onProgress?: (message: string) => void;
}

export interface DevicePoint {
  readonly devices: number;
  readonly seconds: number;
  readonly acked: number;
  readonly failed: number;
  readonly perSecond: number;
  readonly pubackP50Ms: number;
  readonly pubackP99Ms: number;
  readonly connectSeconds: number;
  readonly agentRssMiB: { readonly idle: number; readonly connected: number; readonly peak: number };
  /** Agent RSS above idle per connected device, KiB. */
  readonly kibPerDevice: number;
  readonly stored: number;
}

export interface LogPoint {
  readonly leaves: number;
  readonly appendUs: number;
  readonly proofHashes: number;
  readonly log2Ceil: number;
  readonly proofUs: number;
  readonly verifyUs: number;
  readonly consistencyHashes: number;
  readonly heapMiB: number;
  readonly rssMiB: number;
}

export interface LogCurve {
  readonly store: 'memory' | 'sqlite';
  readonly points: readonly LogPoint[];
  readonly logarithmic: boolean;
  readonly criterion: string;
  readonly growth: { readonly append: number; readonly proof: number; readonly allowed: number };
}

export interface ScalingBenchResult {
  readonly devices: readonly DevicePoint[];
  readonly log: readonly LogCurve[];
  readonly prechecks: readonly Precheck[];
}

// ---------------------------------------------------------------- devices

async function devicePoint(
  ward: BenchWard,
  n: number,
  seconds: number,
  prechecks: Precheck[],
  progress: (m: string) => void,
): Promise<DevicePoint> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vitalseal-bench-scale-'));
  const devices = Array.from({ length: n }, (_, i) => devName(`sc${n}`, i));
  try {
    progress(`devices ${n}: provisioning (tickets, credentials)`);
    await ward.provision(dataDir, devices);
    const agent = await startAgentChild({ dataDir, stopBoundSeconds: 60 });
    let clients: MqttClient[] = [];
    try {
      await new Promise((r) => setTimeout(r, 300));
      const idle = agent.rss().rss;
      const tc = performance.now();
      clients = await connectDevices(agent.port, devices, 250, (k) => {
        if (k % 2000 === 0 && k < n) progress(`devices ${n}: ${k} connected`);
      });
      const connectSeconds = (performance.now() - tc) / 1000;
      await new Promise((r) => setTimeout(r, 300));
      const connected = agent.rss().rss;
      progress(`devices ${n}: ${n} connected in ${round(connectSeconds, 1)} s; each keeps one reading in flight for ${seconds} s`);
      let peak = connected;
      const sampler = setInterval(() => (peak = Math.max(peak, agent.rss().rss)), 250);
      const sealers = devices.map((d) => ward.sessionSealer(d));
      const seq = new Uint32Array(n);
      const lat: number[] = [];
      let acked = 0;
      let failed = 0;
      let inflight = 0;
      let stopping = false;
      let drained: () => void = () => undefined;
      const t0 = performance.now();
      const send = (d: number): void => {
        const s = ++seq[d]!;
        const payload = sealers[d]!(s, Date.now());
        const start = performance.now();
        inflight++;
        clients[d]!.publish(readingTopic(devices[d]!), payload, { qos: 1 }, (err) => {
          inflight--;
          if (err) failed++;
          else {
            acked++;
            if ((acked & 3) === 0) lat.push(performance.now() - start);
          }
          if (!stopping && !err) send(d);
          else if (inflight === 0) drained();
        });
      };
      for (let d = 0; d < n; d++) send(d);
      await new Promise((r) => setTimeout(r, seconds * 1000));
      stopping = true;
      const elapsed = (performance.now() - t0) / 1000;
      const ackedInWindow = acked;
      await Promise.race([new Promise<void>((r) => (inflight === 0 ? r() : (drained = r))), new Promise((r) => setTimeout(r, 30_000))]);
      clearInterval(sampler);
      peak = Math.max(peak, agent.rss().rss);
      const health = (await (await fetch(`http://127.0.0.1:${agent.httpPort}/healthz`)).json()) as { records: number };
      prechecks.push({
        name: `devices ${n}: every acknowledged reading is stored (no loss)`,
        payload: 'session-mode spo2 envelopes',
        ok: failed === 0 && health.records === acked,
        ...(failed || health.records !== acked ? { detail: `acked ${acked}, stored ${health.records}, failed ${failed}` } : {}),
      });
      const l = sortedCopy(lat);
      return {
        devices: n,
        seconds,
        acked,
        failed,
        perSecond: round(ackedInWindow / elapsed),
        pubackP50Ms: round(quantileSorted(l, 0.5), 2),
        pubackP99Ms: round(quantileSorted(l, 0.99), 2),
        connectSeconds: round(connectSeconds, 1),
        agentRssMiB: { idle, connected, peak },
        kibPerDevice: round(((connected - idle) * 1024) / n, 1),
        stored: health.records,
      };
    } finally {
      await endDevices(clients);
      await agent.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- log growth

const EMPTY_BODY = new Uint8Array(0);

function logCurve(store: 'memory' | 'sqlite', maxExp: number, prechecks: Precheck[], progress: (m: string) => void): LogCurve {
  let dir: string | undefined;
  let nodes: NodeStore | undefined;
  let db: ReturnType<typeof openDatabase> | undefined;
  let sqliteNodes: SqliteNodeStore | undefined;
  let writer: BatchWriter | undefined;
  if (store === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'vitalseal-bench-log-'));
    db = openDatabase(join(dir, 'log.sqlite'));
    sqliteNodes = new SqliteNodeStore(db);
    nodes = sqliteNodes;
    writer = new BatchWriter(db);
  }
  const log = new MerkleLog(nodes);
  const leafPool = Array.from({ length: 4096 }, () => new Uint8Array(randomBytes(32)));
  const leaf = (i: number): Uint8Array => {
    const b = leafPool[i & 4095]!.slice();
    b[0] = i & 0xff;
    b[1] = (i >>> 8) & 0xff;
    b[2] = (i >>> 16) & 0xff;
    return b;
  };
  const BATCH = 1000;
  const appendTo = (target: number): void => {
    while (log.size < target) {
      const end = Math.min(target, log.size + BATCH);
      if (db && sqliteNodes && writer) {
        // as the agent does: the appends fill a WriteBatch, which one transaction then applies
        const batch = emptyWriteBatch(0);
        sqliteNodes.writeInto(batch);
        // each leaf's row: an access event's (the smallest row holding a leaf hash, schema v7)
        for (let i = log.size; i < end; i++) {
          const lh = leafHash(leaf(i));
          batch.accessEvents.push([log.appendLeafHash(lh).index, 0, EMPTY_BODY, lh]);
        }
        batch.logSize = log.size;
        db.transaction(() => writer.apply(batch))();
      } else {
        for (let i = log.size; i < end; i++) log.appendLeafHash(leafHash(leaf(i)));
      }
    }
  };
  const points: LogPoint[] = [];
  let proofsOk = true;
  try {
    for (let e = 3; e <= maxExp; e++) {
      const n = 10 ** e;
      // append cost: 5 timed batches (of 400 appends, fewer for small n) ending at n; the fastest batch is the least disturbed (GC, other processes)
      const batch = Math.min(400, Math.floor(n / 5));
      appendTo(n - 5 * batch);
      const appendBatches: number[] = [];
      for (let b = 0; b < 5; b++) {
        const ta = performance.now();
        appendTo(n - 5 * batch + (b + 1) * batch);
        appendBatches.push(((performance.now() - ta) * 1000) / batch);
      }
      const appendUs = Math.min(...appendBatches);
      const root = log.root();
      // inclusion proofs: 5 batches of 60 random leaves, produced and verified; fastest batch
      const proofBatches: number[] = [];
      const verifyBatches: number[] = [];
      let maxHashes = 0;
      for (let b = 0; b < 5; b++) {
        const idx = Array.from({ length: 60 }, () => Math.floor(Math.random() * n));
        const tp = performance.now();
        const proofs = idx.map((i) => log.inclusionProof(i));
        proofBatches.push(((performance.now() - tp) * 1000) / idx.length);
        const hashes = idx.map((i) => leafHash(leaf(i)));
        const tv = performance.now();
        for (let k = 0; k < idx.length; k++) {
          try {
            verifyInclusion(idx[k]!, n, hashes[k]!, proofs[k]!, root);
          } catch {
            proofsOk = false;
          }
        }
        verifyBatches.push(((performance.now() - tv) * 1000) / idx.length);
        maxHashes = Math.max(maxHashes, ...proofs.map((p) => p.length));
      }
      const proofUs = Math.min(...proofBatches);
      const verifyUs = Math.min(...verifyBatches);
      const half = Math.floor(n / 2) + 7;
      const cons = log.consistencyProof(half, n);
      try {
        verifyConsistency(half, n, log.root(half), root, cons);
      } catch {
        proofsOk = false;
      }
      const mem = process.memoryUsage();
      points.push({
        leaves: n,
        appendUs: round(appendUs, 2),
        proofHashes: maxHashes,
        log2Ceil: Math.ceil(Math.log2(n)),
        proofUs: round(proofUs, 2),
        verifyUs: round(verifyUs, 2),
        consistencyHashes: cons.length,
        heapMiB: round(mem.heapUsed / 2 ** 20, 1),
        rssMiB: round(mem.rss / 2 ** 20, 1),
      });
      progress(
        `log (${store}) ${n.toLocaleString('en-US')} leaves: append ${round(appendUs, 2)} µs, proof ${maxHashes} hashes in ${round(proofUs, 1)} µs`,
      );
    }
  } finally {
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  prechecks.push({
    name: `log (${store}): every inclusion and consistency proof verifies at every size`,
    payload: `10^3..10^${maxExp} leaves`,
    ok: proofsOk,
  });
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const allowed = round((4 * Math.log2(last.leaves)) / Math.log2(first.leaves), 2);
  const growth = { append: round(last.appendUs / first.appendUs, 2), proof: round(last.proofUs / first.proofUs, 2), allowed };
  const sizesOk = points.every((p) => p.proofHashes <= p.log2Ceil);
  return {
    store,
    points,
    logarithmic: sizesOk && growth.append <= allowed && growth.proof <= allowed,
    criterion: `proof hashes ≤ ⌈log2 n⌉ at every n; append and proof time at n = ${last.leaves} within ${allowed}× (= 4·log2(n_max)/log2(n_min)) of n = ${first.leaves}`,
    growth,
  };
}

export async function runScalingBench(o: ScalingBenchOptions = {}): Promise<ScalingBenchResult> {
  const quick = o.quick ?? false;
  const parts = new Set(o.parts ?? ['devices', 'log']);
  const progress = o.onProgress ?? (() => undefined);
  const prechecks: Precheck[] = [];
  const log: LogCurve[] = [];
  if (parts.has('log')) {
    log.push(logCurve('memory', o.logMaxExp ?? (quick ? 5 : 6), prechecks, progress));
    log.push(logCurve('sqlite', o.sqliteMaxExp ?? (quick ? 4 : 6), prechecks, progress));
  }
  const devices: DevicePoint[] = [];
  if (parts.has('devices')) {
    const ward = new BenchWard('bench-scaling');
    for (const n of o.deviceCounts ?? (quick ? [100, 1000] : [100, 1000, 10_000])) {
      const p = await devicePoint(ward, n, o.deviceSeconds ?? (quick ? 2 : 8), prechecks, progress);
      devices.push(p);
      progress(
        `devices ${n}: ${p.perSecond} readings/s, PUBACK p99 ${p.pubackP99Ms} ms, agent RSS ${p.agentRssMiB.connected} MiB connected, ${p.agentRssMiB.peak} MiB peak`,
      );
    }
  }
  return { devices, log, prechecks };
}
