/**
 * Cross-check of bench/seal.ts's GC accounting (GC_ACCOUNTING there): each operation alone in a
 * process of its own, so every scavenge in it is the operation's own garbage and nobody else's.
 *
 *   node --import tsx bench/sealIsolated.ts [--rounds 3] [--ms 1000] [--backend node|noble] [--json out.json]
 *
 * For the 64-byte reading, each of sealReading, HPKE seal, openReading, HPKE open, the five
 * primitives and the two chains (the primitives back to back in one call) runs in its own child process (the operations of bench/seal.ts's `opsFor`, the same
 * closures): a 300 ms warm-up, then `--ms` of calls, wall-clock and CPU µs per call with whatever
 * garbage collection V8 did on its own. Rounds alternate the operations (round 1: all of them, then
 * round 2, …), so a change of machine load touches all alike; ratios are the median of the per-round
 * ratios. The point is the comparison: if bench/seal.ts's interleaved slices with 'own' GC accounting
 * agree with these processes, the accounting charges each operation what it costs when run alone.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HpkeBackendName } from '../protocol/hpke/index.ts';
import { benchPayloads } from './lib/readings.ts';
import { median } from './lib/stats.ts';
import { callFor, OP_NAMES, type OpName, opsFor } from './seal.ts';

/** Every operation of bench/seal.ts but the new-pkR seal and libsodium (not in any ratio here). */
const ISOLATED_OPS = OP_NAMES.filter(
  (op): op is Exclude<OpName, 'sealNewPk' | 'libsodiumSeal'> => op !== 'sealNewPk' && op !== 'libsodiumSeal',
);
type IsolatedOp = (typeof ISOLATED_OPS)[number];
const WARMUP_MS = 300;

/** [numerator terms, denominator terms] of the ratios compared with bench/seal.ts. */
const RATIOS = {
  'sealReading / seal sum': [['sealReading'], ['keygen', 'dh', 'hkdf', 'aeadSeal']],
  'openReading / open sum': [['openReading'], ['dh', 'hkdf', 'aeadOpen']],
  'sealReading / HPKE seal': [['sealReading'], ['seal']],
  'openReading / HPKE open': [['openReading'], ['open']],
  'HPKE seal / seal sum': [['seal'], ['keygen', 'dh', 'hkdf', 'aeadSeal']],
  'HPKE open / open sum': [['open'], ['dh', 'hkdf', 'aeadOpen']],
  'sealReading / seal chain': [['sealReading'], ['sealChain']],
  'openReading / open chain': [['openReading'], ['openChain']],
  'seal chain / seal sum': [['sealChain'], ['keygen', 'dh', 'hkdf', 'aeadSeal']],
  'open chain / open sum': [['openChain'], ['dh', 'hkdf', 'aeadOpen']],
} as const satisfies Record<string, readonly [readonly IsolatedOp[], readonly IsolatedOp[]]>;

interface ChildResult {
  readonly wallUs: number;
  readonly cpuUs: number;
  readonly calls: number;
}

export interface IsolatedResult {
  readonly bench: 'sealIsolated';
  readonly backend: HpkeBackendName;
  readonly rounds: number;
  readonly ms: number;
  readonly loadavg1Before: number;
  readonly loadavg1After: number;
  /** Wall-clock µs per call, per operation, one value per round. */
  readonly wallUs: Readonly<Record<IsolatedOp, readonly number[]>>;
  /** Median of the per-round ratios, wall clock and CPU time. */
  readonly ratios: Readonly<Record<keyof typeof RATIOS, { readonly wall: number; readonly cpu: number }>>;
}

/** The child: one operation for `ms` after a warm-up; prints its µs per call as JSON. */
function runChild(backend: HpkeBackendName, op: IsolatedOp, ms: number): ChildResult {
  const payload = benchPayloads().find((p) => p.name === '64 B')!;
  const fn = opsFor(backend, payload, undefined).ops[op]!;
  callFor(fn, WARMUP_MS);
  const cpuStart = process.cpuUsage();
  const { calls, elapsed } = callFor(fn, ms);
  const cpu = process.cpuUsage(cpuStart);
  return { wallUs: (elapsed * 1000) / calls, cpuUs: (cpu.user + cpu.system) / calls, calls };
}

function spawnChild(backend: HpkeBackendName, op: IsolatedOp, ms: number): ChildResult {
  const run = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', backend, op, String(ms)], {
    encoding: 'utf8',
    timeout: 60_000 + 2 * ms,
  });
  if (run.status !== 0) throw new Error(`child ${backend} ${op} failed (${run.status ?? run.signal}): ${run.stderr.slice(-500)}`);
  return JSON.parse(run.stdout) as ChildResult;
}

export function runIsolated(backend: HpkeBackendName, rounds: number, ms: number, onRound?: (done: number) => void): IsolatedResult {
  const loadBefore = loadavg()[0] ?? 0;
  const wall = Object.fromEntries(ISOLATED_OPS.map((op) => [op, [] as number[]])) as Record<IsolatedOp, number[]>;
  const cpu = Object.fromEntries(ISOLATED_OPS.map((op) => [op, [] as number[]])) as Record<IsolatedOp, number[]>;
  for (let round = 0; round < rounds; round++) {
    for (const op of ISOLATED_OPS) {
      const r = spawnChild(backend, op, ms);
      wall[op].push(r.wallUs);
      cpu[op].push(r.cpuUs);
    }
    onRound?.(round + 1);
  }
  const sum = (series: Record<IsolatedOp, number[]>, terms: readonly IsolatedOp[], r: number): number =>
    terms.reduce((acc, op) => acc + series[op][r]!, 0);
  const perRound = (series: Record<IsolatedOp, number[]>, [num, den]: readonly [readonly IsolatedOp[], readonly IsolatedOp[]]): number =>
    median(Array.from({ length: rounds }, (_, r) => sum(series, num, r) / sum(series, den, r)));
  const ratios = Object.fromEntries(
    Object.entries(RATIOS).map(([name, terms]) => [name, { wall: perRound(wall, terms), cpu: perRound(cpu, terms) }]),
  ) as IsolatedResult['ratios'];
  return { bench: 'sealIsolated', backend, rounds, ms, loadavg1Before: loadBefore, loadavg1After: loadavg()[0] ?? 0, wallUs: wall, ratios };
}

export function formatIsolated(result: IsolatedResult): string {
  const lines = [
    `${result.backend}, 64 B: each operation alone in its own process, ${result.rounds} rounds × ${result.ms} ms; load average ${result.loadavg1Before.toFixed(2)} → ${result.loadavg1After.toFixed(2)}`,
    'wall-clock µs per call: median (min–max over rounds)',
  ];
  for (const op of ISOLATED_OPS) {
    const values = result.wallUs[op];
    lines.push(
      `  ${op.padEnd(12)} ${median(values).toFixed(1).padStart(8)} (${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)})`,
    );
  }
  lines.push('ratios (median of per-round ratios): wall / CPU');
  for (const [name, r] of Object.entries(result.ratios)) lines.push(`  ${name.padEnd(24)} ${r.wall.toFixed(3)} / ${r.cpu.toFixed(3)}`);
  return lines.join('\n');
}

const HELP = `usage: node --import tsx bench/sealIsolated.ts [--rounds N] [--ms MS] [--backend node|noble] [--json out.json]

Each seal/open operation and primitive of bench/seal.ts (64-byte reading) alone in its own process:
the cross-check of that benchmark's GC accounting. Defaults: 3 rounds, 1000 ms, node.`;

function main(argv: readonly string[]): number {
  if (argv[0] === '--child') {
    const [backend, op, ms] = argv.slice(1) as [HpkeBackendName, IsolatedOp, string];
    console.log(JSON.stringify(runChild(backend, op, Number(ms))));
    return 0;
  }
  let rounds = 3;
  let ms = 1000;
  let backend: HpkeBackendName = 'node';
  let jsonPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [arg, value] = [argv[i], argv[i + 1]];
    if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      return 0;
    }
    if (value === undefined) return usage(`missing value for ${arg}`);
    if (arg === '--rounds' && /^[1-9]\d?$/.test(value)) rounds = Number(value);
    else if (arg === '--ms' && /^[1-9]\d{1,4}$/.test(value)) ms = Number(value);
    else if (arg === '--backend' && (value === 'node' || value === 'noble')) backend = value;
    else if (arg === '--json') jsonPath = value;
    else return usage(`bad argument: ${arg} ${value}`);
    i++;
  }
  const result = runIsolated(backend, rounds, ms, (done) => process.stderr.write(`  round ${done}/${rounds}\n`));
  console.log(formatIsolated(result));
  if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

function usage(message: string): number {
  console.error(`${message}\n\n${HELP}`);
  return 2;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
