/**
 * Cost and latency of anchoring, measured on the embedded chain (anvil, automine).
 *
 *   node --import tsx bench/anchor.ts [--quick] [--json out.json]
 *
 * Gas per reading:
 *  - per record: one anchor-style transaction per reading (`Ledger.anchor` with that
 *    reading's one patient), averaged over `perRecordTxs` transactions;
 *  - batched: the real AnchorService on a live log at `rate` appends/s with a head every
 *    `intervalMs` / `maxLeaves` leaves (1,000 readings per anchor at the defaults), each
 *    anchor notifying the `patients` patients of its batch; gas of all its anchors divided
 *    by the readings they cover.
 * Latency: for every reading, time from its append to the confirmation (receipt) of the
 * first anchor that covers it; p50 / p99 / max over a run of `durationMs` (≥ 10 s).
 * Targets: batched ≤ 1/500 of per-record gas per reading; p99 ≤ 2.5 s.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { bytesToHex, keccak256, toHex, type Hex } from 'viem';
import { MerkleLog } from '../protocol/merkle/index.ts';
import { AnchorService, type AnchoredInfo } from '../chain/anchor/anchorService.ts';
import { merkleLogView } from '../chain/anchor/merkleLogView.ts';
import { SqliteAnchorStore } from '../chain/anchor/sqliteAnchorStore.ts';
import { CHAIN_DIR } from '../chain/compile.ts';
import { ChainContracts } from '../chain/contracts.ts';
import { startEmbeddedChain } from '../chain/embedded.ts';

export interface AnchorBenchOptions {
  /** Short run (smoke test / CI): 4 s of appends, 40 per-record transactions. */
  readonly quick?: boolean;
  /** Appends per second (default 1,000). */
  readonly rate?: number;
  /** Length of the append run (default 12 s; quick 4 s). */
  readonly durationMs?: number;
  /** Anchor interval T (default 1,000 ms). */
  readonly intervalMs?: number;
  /** Anchor after N leaves (default 1,000). */
  readonly maxLeaves?: number;
  /** Distinct patients in the ward (default 10): each batch notifies all of them. */
  readonly patients?: number;
  /** Per-record transactions measured (default 200; quick 40). */
  readonly perRecordTxs?: number;
  /** Patients per batch for the gas sweep (default 1, 10, 20, 50). */
  readonly sweepPatients?: readonly number[];
  readonly onProgress?: (message: string) => void;
}

export interface AnchorBenchResult {
  readonly machine: { cores: number; loadavg1Before: number; loadavg1After: number; node: string };
  readonly config: { rate: number; durationMs: number; intervalMs: number; maxLeaves: number; patients: number; perRecordTxs: number };
  readonly gas: {
    readonly perRecordTx: number;
    readonly batchedAnchors: number;
    readonly batchedGasPerAnchor: number;
    readonly readingsPerAnchor: number;
    readonly batchedPerReading: number;
    /** batchedPerReading / perRecordTx (target ≤ 1/500 = 0.002). */
    readonly ratio: number;
    readonly target: number;
    readonly meetsTarget: boolean;
    /** Gas of one anchor of `readingsPerAnchor` readings notifying P patients, for several P. */
    readonly byPatients: readonly { patients: number; gasPerAnchor: number; perReading: number; ratio: number }[];
  };
  readonly latency: {
    readonly readings: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
    readonly targetP99Ms: number;
    readonly meetsTarget: boolean;
    readonly achievedRate: number;
  };
  /** chain/gas-report.json from the contract tests, if present. */
  readonly contractGas: unknown;
}

const b32 = (label: string): Hex => keccak256(toHex(label));

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export async function runAnchorBench(opts: AnchorBenchOptions = {}): Promise<AnchorBenchResult> {
  const quick = opts.quick === true;
  const config = {
    rate: opts.rate ?? 1_000,
    durationMs: opts.durationMs ?? (quick ? 4_000 : 12_000),
    intervalMs: opts.intervalMs ?? 1_000,
    maxLeaves: opts.maxLeaves ?? 1_000,
    patients: opts.patients ?? 10,
    perRecordTxs: opts.perRecordTxs ?? (quick ? 40 : 200),
  };
  const progress = opts.onProgress ?? (() => {});
  const loadavg1Before = loadavg()[0] ?? 0;
  const dir = mkdtempSync(join(tmpdir(), 'vitalseal-bench-anchor-'));
  const s = await startEmbeddedChain({ dataDir: join(dir, 'chain') });
  try {
    // two agents: one anchoring per record, one batched
    const perRecordClients = s.devClients(2);
    const batchedClients = s.devClients(1);
    const perRecordLog = b32('bench:per-record');
    const batchedLog = b32('bench:batched');
    await s.adminContracts.registerAgent(perRecordClients.account.address, b32('bench:agent:pr'), perRecordLog, b32('k1'));
    await s.adminContracts.registerAgent(batchedClients.account.address, b32('bench:agent:b'), batchedLog, b32('k2'));

    // --- per record: one anchor transaction per reading
    progress(`per-record: ${config.perRecordTxs} anchor transactions`);
    const pr = new ChainContracts(perRecordClients, s.deployment);
    const prLog = new MerkleLog();
    let prGas = 0;
    for (let i = 0; i < config.perRecordTxs + 1; i++) {
      prLog.append(toBytes(`pr:${i}`));
      const r = await pr.anchor(perRecordLog, prLog.size, bytesToHex(prLog.root()), [b32(`patient:${i % config.patients}`)]);
      if (i > 0) prGas += Number(r.gasUsed); // the first anchor of a log initialises its storage
    }
    const perRecordTx = prGas / config.perRecordTxs;

    // --- gas of one batched anchor as a function of the patients it notifies
    const sweepClients = s.devClients(3);
    const sweepLog = b32('bench:sweep');
    await s.adminContracts.registerAgent(sweepClients.account.address, b32('bench:agent:s'), sweepLog, b32('k3'));
    const sw = new ChainContracts(sweepClients, s.deployment);
    await sw.anchor(sweepLog, config.maxLeaves, b32('sweep:root:0'), []);
    const byPatients: { patients: number; gasPerAnchor: number; perReading: number; ratio: number }[] = [];
    let sweepSize = config.maxLeaves;
    for (const p of opts.sweepPatients ?? [1, 10, 20, 50]) {
      const refs = Array.from({ length: p }, (_, i) => b32(`patient:${i}`));
      const r = await sw.anchorAfter(sweepLog, sweepSize, sweepSize + config.maxLeaves, b32(`sweep:root:${p}`), refs);
      sweepSize += config.maxLeaves;
      const perReading = Number(r.gasUsed) / config.maxLeaves;
      byPatients.push({ patients: p, gasPerAnchor: Number(r.gasUsed), perReading, ratio: perReading / perRecordTx });
    }

    // --- batched: the anchor service on a live log
    progress(
      `batched: ${config.rate} appends/s for ${config.durationMs / 1000} s, head every ${config.intervalMs} ms or ${config.maxLeaves} leaves`,
    );
    const log = new MerkleLog();
    const appendedAt: number[] = [];
    const db = new Database(join(dir, 'agent.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const anchors: AnchoredInfo[] = [];
    const svc = new AnchorService({
      logId: batchedLog,
      log: merkleLogView(log, (i) => b32(`patient:${i % config.patients}`)),
      store: new SqliteAnchorStore(db),
      contracts: new ChainContracts(batchedClients, s.deployment),
      intervalMs: config.intervalMs,
      maxLeaves: config.maxLeaves,
      fromBlock: s.deployment.deployBlock,
      events: { onAnchored: (a) => anchors.push(a) },
    });
    svc.start();
    const start = Date.now();
    let appended = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = Date.now();
        const target = Math.min(Math.floor(((now - start) * config.rate) / 1000), Math.floor((config.durationMs * config.rate) / 1000));
        for (; appended < target; appended++) {
          log.append(toBytes(`reading:${appended}`));
          appendedAt.push(now);
        }
        svc.notify(log.size);
        if (now - start >= config.durationMs) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    const elapsed = Date.now() - start;
    await svc.waitForAnchored(log.size, 30_000);
    await svc.stop();
    db.close();

    // latency of every reading: append → confirmation of the first anchor covering it
    const latencies: number[] = [];
    let leaf = 0;
    for (const a of [...anchors].sort((x, y) => x.treeSize - y.treeSize)) {
      for (; leaf < a.treeSize; leaf++) latencies.push(a.confirmedAt - appendedAt[leaf]!);
    }
    latencies.sort((x, y) => x - y);
    const counted = anchors.filter((a) => a.gasUsed !== undefined && a.prevTreeSize > 0);
    const batchedGas = counted.reduce((n, a) => n + Number(a.gasUsed), 0);
    const batchedReadings = counted.reduce((n, a) => n + (a.treeSize - a.prevTreeSize), 0);
    const batchedPerReading = batchedGas / batchedReadings;
    const ratio = batchedPerReading / perRecordTx;
    const gasReportPath = join(CHAIN_DIR, 'gas-report.json');
    return {
      machine: { cores: cpus().length, loadavg1Before, loadavg1After: loadavg()[0] ?? 0, node: process.version },
      config,
      gas: {
        perRecordTx: Math.round(perRecordTx),
        batchedAnchors: counted.length,
        batchedGasPerAnchor: Math.round(batchedGas / counted.length),
        readingsPerAnchor: Math.round(batchedReadings / counted.length),
        batchedPerReading: Math.round(batchedPerReading * 10) / 10,
        ratio,
        target: 1 / 500,
        meetsTarget: ratio <= 1 / 500,
        byPatients,
      },
      latency: {
        readings: latencies.length,
        p50Ms: quantile(latencies, 0.5),
        p99Ms: quantile(latencies, 0.99),
        maxMs: latencies.at(-1) ?? NaN,
        targetP99Ms: 2_500,
        meetsTarget: quantile(latencies, 0.99) <= 2_500,
        achievedRate: Math.round((appended * 1000) / elapsed),
      },
      contractGas: existsSync(gasReportPath) ? (JSON.parse(readFileSync(gasReportPath, 'utf8')) as { functions: unknown }).functions : null,
    };
  } finally {
    await s.chain.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function toBytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function formatAnchorBench(r: AnchorBenchResult): string {
  const g = r.gas;
  const l = r.latency;
  const rows: [string, string][] = [
    ['gas per reading, one anchor tx per record', `${g.perRecordTx}`],
    [`gas per anchor, batched (${g.batchedAnchors} anchors, ${r.config.patients} patients notified each)`, `${g.batchedGasPerAnchor}`],
    ['readings per anchor', `${g.readingsPerAnchor}`],
    ['gas per reading, batched', `${g.batchedPerReading}`],
    ['batched / per record', `1/${Math.round(1 / g.ratio)}  (target ≤ 1/500: ${g.meetsTarget ? 'met' : 'MISSED'})`],
    [`append → anchored, p50 (${l.readings} readings at ${l.achievedRate}/s)`, `${l.p50Ms} ms`],
    ['append → anchored, p99', `${l.p99Ms} ms  (target ≤ ${l.targetP99Ms} ms: ${l.meetsTarget ? 'met' : 'MISSED'})`],
    ['append → anchored, max', `${l.maxMs} ms`],
    ...g.byPatients.map((b): [string, string] => [
      `  one anchor of ${r.config.maxLeaves} readings notifying ${b.patients} patient${b.patients === 1 ? '' : 's'}`,
      `${b.gasPerAnchor} gas = ${b.perReading.toFixed(1)}/reading = 1/${Math.round(1 / b.ratio)} of per record`,
    ]),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = [
    `anchoring on the embedded chain: ${r.config.rate} readings/s for ${r.config.durationMs / 1000} s, head every ${r.config.intervalMs} ms or ${r.config.maxLeaves} leaves`,
    '',
    ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`),
  ];
  if (r.contractGas && typeof r.contractGas === 'object') {
    lines.push('', 'contract functions (chain/gas-report.json, from test/chain/contracts.test.ts):');
    for (const [name, row] of Object.entries(r.contractGas as Record<string, { avg: number }>))
      lines.push(`  ${name.padEnd(44)} ${String(row.avg).padStart(7)}`);
  }
  if (r.machine.loadavg1Before > r.machine.cores || r.machine.loadavg1After > r.machine.cores) {
    lines.push('', `note: load average above ${r.machine.cores} (other processes): latency figures are pessimistic`);
  }
  return lines.join('\n');
}

const HELP = `usage: node --import tsx bench/anchor.ts [--quick] [--json out.json]

Gas per reading with batched anchoring vs one anchor transaction per record, and the
time from append to anchored (p50/p99) at 1,000 appends/s, on the embedded chain.

  --quick        4 s of appends and 40 per-record transactions instead of 12 s and 200
  --json FILE    also write the result as JSON ("-" for stdout only)
  --help         this text

Exit code: 0 when both targets are met, 1 when one is missed, 2 on bad usage.`;

async function main(argv: readonly string[]): Promise<number> {
  let quick = false;
  let jsonPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      return 0;
    } else if (arg === '--quick') quick = true;
    else if (arg === '--json' && argv[i + 1] !== undefined) jsonPath = argv[++i];
    else {
      console.error(`unknown argument: ${arg}\n\n${HELP}`);
      return 2;
    }
  }
  const result = await runAnchorBench({ quick, onProgress: (m) => process.stderr.write(`  ${m}\n`) });
  if (jsonPath === '-') console.log(JSON.stringify(result, null, 2));
  else {
    console.log(formatAnchorBench(result));
    if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result.gas.meetsTarget && result.latency.meetsTarget ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
