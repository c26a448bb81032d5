/**
 * Group commit cost of the agent's store, without MQTT: what the writer thread does per group of
 * readings — one transaction of the group's rows (records with their log leaves, log nodes, device counters;
 * BatchWriter, the real schema) and then an fdatasync of the WAL (WalSync, as `ingest.synchronous:
 * full` does) — for groups of 11 readings from 1 device (one publisher × 32 in flight) and 150
 * from 16 devices (16 publishers).
 *
 *   node --import tsx bench/store.ts [--quick] [--json out.json]
 *
 * Same run, same rows, two layouts: 'agent' (the current schema: interior log nodes at every 4th
 * level only, record ids indexed once per complete 4,096-leaf bucket, no (kid, seq) index) and 'dense'
 * (what schema v3 did: every node level stored, each record id put into a (bucket, id) index as it
 * arrives, and a (kid, seq) index). Reported: CPU µs per reading (process.cpuUsage, so the
 * fdatasync's own CPU is in), fdatasync ms per group (p50, p90) and agent / dense. Files go to the
 * OS temp dir (the disk a gateway's data dir would be on is what the fdatasync figures depend on).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../agent/store/db.ts';
import { BatchWriter } from '../agent/store/batchWriter.ts';
import { RECORD_ID_BUCKET_BITS } from '../agent/store/recordIds.ts';
import { SqliteNodeStore, isStoredLevel } from '../agent/store/sqliteNodeStore.ts';
import { WalSync } from '../agent/store/walSync.ts';
import { emptyWriteBatch, type WriteBatch } from '../agent/store/writeBatch.ts';
import { nodeHashNative, recordLeafHash, sha256Native } from '../agent/ingest/hashes.ts';
import { MerkleLog } from '../protocol/merkle/index.ts';
import type { NodeStore } from '../protocol/merkle/nodeStore.ts';
import { quantileSorted, round } from './lib/stats.ts';

export type StoreLayout = 'agent' | 'dense';

export interface StoreRun {
  readonly layout: StoreLayout;
  readonly groupSize: number;
  readonly devices: number;
  readonly groups: number;
  readonly cpuUsPerReading: number;
  readonly syncP50Ms: number;
  readonly syncP90Ms: number;
  /** Rows in log_nodes at the end (the layouts differ here and in the record-id index). */
  readonly nodeRows: number;
}

export interface StoreCase {
  readonly groupSize: number;
  readonly devices: number;
  readonly agent: StoreRun;
  readonly dense: StoreRun;
  /** agent / dense (< 1: the agent's layout is cheaper). */
  readonly cpuRatio: number;
  readonly syncP50Ratio: number;
}

export interface StoreBenchResult {
  readonly bench: 'vitalseal-store';
  readonly mode: 'quick' | 'full';
  readonly readingsPerRun: number;
  readonly cases: readonly StoreCase[];
}

/** 'dense' keeps the levels the agent recomputes, as rows of the same batch. */
class DenseNodes implements NodeStore {
  constructor(
    private readonly inner: SqliteNodeStore,
    private readonly batch: () => WriteBatch,
  ) {}
  get(level: number, index: number): Uint8Array | undefined {
    return this.inner.get(level, index);
  }
  put(level: number, index: number, hash: Uint8Array): void {
    this.inner.put(level, index, hash);
    if (!isStoredLevel(level)) this.batch().nodes.push([level, index, hash]);
  }
  size(): number {
    return this.inner.size();
  }
  setSize(n: number): void {
    this.inner.setSize(n);
  }
}

function storeRun(layout: StoreLayout, groupSize: number, devices: number, readings: number): StoreRun {
  const dir = mkdtempSync(join(tmpdir(), 'vitalseal-bench-store-'));
  try {
    const file = join(dir, 'agent.sqlite');
    const db = openDatabase(file, [], 'normal');
    if (layout === 'dense') {
      db.exec(`CREATE INDEX dense_record_ids ON records((leaf_idx >> ${RECORD_ID_BUCKET_BITS}), record_id)`);
      db.exec('CREATE INDEX dense_records_kid ON records(kid, seq)');
    }
    const writer = new BatchWriter(db);
    const wal = new WalSync(`${file}-wal`);
    const nodes = new SqliteNodeStore(db, nodeHashNative);
    let batch = emptyWriteBatch(0);
    const log = new MerkleLog(layout === 'dense' ? new DenseNodes(nodes, () => batch) : nodes, nodeHashNative);
    const devs = Array.from({ length: devices }, (_, d) => `bench-store-${d}`);
    const seqs = new Array<number>(devices).fill(0);
    const kid = new Uint8Array(randomBytes(16));
    const commit = db.transaction((b: WriteBatch) => writer.apply(b));
    const group = (first: boolean): WriteBatch => {
      batch = emptyWriteBatch(0);
      nodes.writeInto(batch);
      if (first) for (const d of devs) batch.newDevices.push([d, 1]);
      const touched = new Set<number>();
      for (let i = 0; i < groupSize; i++) {
        const d = log.size % devices;
        touched.add(d);
        const envelope = new Uint8Array(randomBytes(200));
        const leafHash = recordLeafHash(envelope);
        const leafIndex = log.appendLeafHash(leafHash).index;
        batch.records.push({
          recordId: sha256Native(envelope),
          leafIndex,
          leafHash,
          device: devs[d]!,
          seq: ++seqs[d]!,
          ts: 1,
          st: 'spo2',
          kid,
          envelope,
          receivedAt: 1,
          source: 'mqtt',
        });
      }
      for (const d of touched)
        batch.counters.push({
          id: devs[d]!,
          maxSeq: seqs[d]!,
          received: seqs[d]!,
          duplicates: 0,
          gaps: 0,
          reorders: 0,
          quarantined: 0,
          lastSeen: 1,
        });
      batch.logSize = log.size;
      return batch;
    };
    const groups = Math.ceil(readings / groupSize);
    // warm-up: the same number of groups, so the timed ones append to a log and tables of that size
    const warm = Array.from({ length: groups }, (_, g) => group(g === 0));
    for (const b of warm) commit(b);
    wal.syncNow();
    const timed = Array.from({ length: groups }, () => group(false));
    const syncMs: number[] = [];
    const cpu0 = process.cpuUsage();
    for (const b of timed) {
      commit(b);
      const t = performance.now();
      wal.syncNow();
      syncMs.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpu0);
    const nodeRows = db.prepare<[], number>('SELECT COUNT(*) FROM log_nodes').pluck().get()!;
    wal.close();
    db.close();
    syncMs.sort((a, b) => a - b);
    return {
      layout,
      groupSize,
      devices,
      groups,
      cpuUsPerReading: round((cpu.user + cpu.system) / (groups * groupSize), 1),
      syncP50Ms: round(quantileSorted(syncMs, 0.5), 3),
      syncP90Ms: round(quantileSorted(syncMs, 0.9), 3),
      nodeRows,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median (by CPU) of `rounds` runs per layout, the layouts interleaved. */
export function runStoreBench(opts: { quick?: boolean; rounds?: number } = {}): StoreBenchResult {
  const readings = opts.quick ? 8_192 : 30_000;
  const rounds = opts.rounds ?? (opts.quick ? 1 : 3);
  const cases: StoreCase[] = [];
  for (const [groupSize, devices] of [
    [11, 1],
    [150, 16],
  ] as const) {
    const runs: Record<StoreLayout, StoreRun[]> = { agent: [], dense: [] };
    for (let r = 0; r < rounds; r++)
      for (const layout of ['agent', 'dense'] as const) runs[layout].push(storeRun(layout, groupSize, devices, readings));
    const mid = (xs: StoreRun[]): StoreRun => [...xs].sort((a, b) => a.cpuUsPerReading - b.cpuUsPerReading)[Math.floor(xs.length / 2)]!;
    const agent = mid(runs.agent);
    const dense = mid(runs.dense);
    cases.push({
      groupSize,
      devices,
      agent,
      dense,
      cpuRatio: round(agent.cpuUsPerReading / dense.cpuUsPerReading, 2),
      syncP50Ratio: round(agent.syncP50Ms / dense.syncP50Ms, 2),
    });
  }
  return { bench: 'vitalseal-store', mode: opts.quick ? 'quick' : 'full', readingsPerRun: readings, cases };
}

export function storeTable(r: StoreBenchResult): string {
  const lines = [
    `store group commit (transaction + WAL fdatasync), ${r.readingsPerRun} readings per run, median of interleaved runs`,
    '  group  devices   layout   CPU µs/reading   fdatasync p50 / p90 ms',
  ];
  for (const c of r.cases) {
    for (const run of [c.agent, c.dense]) {
      lines.push(
        `  ${String(c.groupSize).padStart(5)}  ${String(c.devices).padStart(7)}   ${run.layout.padEnd(6)}   ${String(run.cpuUsPerReading).padStart(14)}   ${run.syncP50Ms} / ${run.syncP90Ms}`,
      );
    }
    lines.push(
      `  ${String(c.groupSize).padStart(5)}  ${String(c.devices).padStart(7)}   agent/dense CPU ${c.cpuRatio}, fdatasync p50 ${c.syncP50Ratio}`,
    );
  }
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const i = argv.indexOf('--json');
  const jsonPath = i >= 0 ? argv[i + 1] : undefined;
  const r = runStoreBench({ quick });
  process.stdout.write(`${storeTable(r)}\n`);
  if (jsonPath) writeFileSync(jsonPath, JSON.stringify(r, null, 2));
  else process.stdout.write(`${JSON.stringify(r)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
