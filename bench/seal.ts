/**
 * Per-reading HPKE cost on both backends, next to the sum of the primitives it is made of.
 *
 *   node --import tsx bench/seal.ts [--quick] [--json out.json]
 *
 * For a 64-byte reading (info = "", aad = ""), it measures µs per single-shot base-mode
 * seal and open, and, in the same run, the backend's primitive sum:
 *   X25519 keygen (public key from a fresh secret) + X25519 DH (peer public key given as bytes)
 *   + HKDF-SHA256 (extract + one 32-byte expand) + ChaCha20-Poly1305 seal of 64 bytes.
 * The primitives are called directly on the libraries (@noble/* or node:crypto), each in
 * its fastest known form, not through vitalseal's HPKE code. Seal targets: node ≤ 1.15×,
 * noble ≤ 1.05× the primitive sum.
 *
 * Like a device sealing every reading of a session to one pkR, the seal reuses the
 * imported recipient key (cached per pkR array, as info_hash is cached per info). The
 * DH in the primitive sum still imports its peer key from bytes every time, and the
 * row "new pkR array per call" shows the seal without that reuse.
 *
 * Method: a warm-up, then `samples` rounds; in each round every operation runs for
 * `sampleMs` in total, in 5 ms slices interleaved with the other operations (so load
 * from other processes hits all of them alike). Reported: µs per operation as the median
 * and min–max over rounds; seal / primitive sum as the median (and range) of the
 * per-round ratios, the same on CPU time, and on each operation's 10th-percentile slice.
 */
import { createCipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, arch, platform } from 'node:os';
import { pathToFileURL } from 'node:url';
import { x25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { extract, expand } from '@noble/hashes/hkdf.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { HpkeBackendName } from '../protocol/hpke/index.ts';
import { createHpke } from '../protocol/node.ts';
import type { Rng } from '../protocol/rng.ts';

export interface SealBenchOptions {
  /** Few short rounds (smoke test / CI): 3 × 60 ms. */
  readonly quick?: boolean;
  readonly samples?: number;
  readonly sampleMs?: number;
  readonly warmupMs?: number;
  readonly plaintextLength?: number;
  readonly backends?: readonly HpkeBackendName[];
  /** Called after each round (progress display). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** µs per operation over the rounds. */
export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export interface OperationStats {
  readonly seal: Stat;
  /** Seal to a recipient key passed as a new array each call (its import is not reused). */
  readonly sealNewPk: Stat;
  readonly open: Stat;
  readonly keygen: Stat;
  readonly dh: Stat;
  readonly hkdf: Stat;
  readonly aeadSeal: Stat;
}

export interface BackendSealResult {
  readonly backend: HpkeBackendName;
  /** Wall-clock µs per operation. */
  readonly wall: OperationStats;
  /** Process CPU µs per operation (user + system): robust against being descheduled on a shared machine. */
  readonly cpu: OperationStats;
  /** keygen + dh + hkdf + aeadSeal, sum of the wall-clock medians (µs). */
  readonly primitiveSum: number;
  /** Median over rounds of seal / primitive sum (wall clock; both measured interleaved in the same round). */
  readonly sealRatio: number;
  /** Lowest and highest per-round ratio. */
  readonly sealRatioRange: readonly [number, number];
  /** The same ratio on CPU time. */
  readonly sealRatioCpu: number;
  /**
   * The same ratio on each operation's 10th-percentile slice (µs per call): the least
   * disturbed estimate when other processes compete for the CPU.
   */
  readonly sealRatioFastSlices: number;
  /** Median per-round ratio of sealNewPk / primitive sum. */
  readonly sealNewPkRatio: number;
  readonly openRatio: number;
  readonly sealTarget: number;
  readonly meetsTarget: boolean;
}

export interface SealBenchResult {
  readonly bench: 'seal';
  readonly date: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly node: string;
    readonly openssl: string;
    readonly platform: string;
    readonly arch: string;
    readonly loadavg1Before: number;
    readonly loadavg1After: number;
  };
  readonly config: {
    readonly samples: number;
    readonly sampleMs: number;
    readonly sliceMs: number;
    readonly warmupMs: number;
    readonly plaintextLength: number;
    readonly info: number;
    readonly aad: number;
  };
  readonly backends: readonly BackendSealResult[];
}

const SEAL_TARGETS: Record<HpkeBackendName, number> = { node: 1.15, noble: 1.05 };
const EMPTY = new Uint8Array(0);
const POOL_SIZE = 1024;
/** Length of one slice of an operation inside a round. */
const SLICE_MS = 5;
const FAST_QUANTILE = 0.1;

type Op = () => unknown;
interface OpSet {
  readonly seal: Op;
  readonly sealNewPk: Op;
  readonly open: Op;
  readonly keygen: Op;
  readonly dh: Op;
  readonly hkdf: Op;
  readonly aeadSeal: Op;
}
type OpName = keyof OpSet;
const OP_NAMES: readonly OpName[] = ['seal', 'sealNewPk', 'open', 'keygen', 'dh', 'hkdf', 'aeadSeal'];

/** Fresh-looking secrets at no cost: both HPKE and the primitive baseline draw from the same pre-filled pool. */
function poolRng(): Rng {
  const pool = Array.from({ length: POOL_SIZE }, () => new Uint8Array(randomBytes(32)));
  let i = 0;
  return (n) => {
    if (n !== 32) return new Uint8Array(randomBytes(n));
    return pool[i++ % POOL_SIZE]!;
  };
}

function nobleBaseline(rng: Rng, pkR: Uint8Array, plaintext: Uint8Array): Pick<OpSet, 'keygen' | 'dh' | 'hkdf' | 'aeadSeal'> {
  const key = new Uint8Array(randomBytes(32));
  const nonce = new Uint8Array(randomBytes(12));
  const ikm = new Uint8Array(randomBytes(32));
  return {
    keygen: () => x25519.getPublicKey(rng(32)),
    dh: () => x25519.getSharedSecret(rng(32), pkR),
    hkdf: () => expand(sha256, extract(sha256, ikm, EMPTY), EMPTY, 32),
    aeadSeal: () => chacha20poly1305(key, nonce, EMPTY).encrypt(plaintext),
  };
}

const b64url = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');

function nodeBaseline(rng: Rng, pkR: Uint8Array, plaintext: Uint8Array): Pick<OpSet, 'keygen' | 'dh' | 'hkdf' | 'aeadSeal'> {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const ikm = randomBytes(32);
  const info1 = Uint8Array.of(1);
  const placeholderX = 'A'.repeat(43);
  const importSecret = (sk: Uint8Array): KeyObject =>
    createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64url(sk), x: placeholderX }, format: 'jwk' });
  // The DH uses an already imported secret key, as the seal does after its keygen (importing it is keygen's cost).
  const secrets = Array.from({ length: 64 }, () => importSecret(rng(32)));
  let i = 0;
  return {
    keygen: () => Buffer.from(importSecret(rng(32)).export({ format: 'jwk' }).x!, 'base64url'),
    dh: () =>
      diffieHellman({
        privateKey: secrets[i++ & 63]!,
        publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(pkR) }, format: 'jwk' }),
      }),
    hkdf: () => createHmac('sha256', createHmac('sha256', EMPTY).update(ikm).digest()).update(info1).digest(),
    aeadSeal: () => {
      const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      const body = cipher.update(plaintext);
      cipher.final();
      return [body, cipher.getAuthTag()];
    },
  };
}

function opsFor(backend: HpkeBackendName, plaintextLength: number): OpSet {
  const hpke = createHpke(backend);
  const rng = poolRng();
  const recipient = hpke.generateKeyPair(rng);
  const pkR = recipient.publicKey;
  const skR = recipient.secretKey;
  const plaintext = new Uint8Array(randomBytes(plaintextLength));
  const eph = { rng };
  const sealed = Array.from({ length: 64 }, () => hpke.seal(pkR, EMPTY, EMPTY, plaintext, eph));
  let j = 0;
  const baseline = backend === 'noble' ? nobleBaseline(rng, pkR, plaintext) : nodeBaseline(rng, pkR, plaintext);
  return {
    seal: () => hpke.seal(pkR, EMPTY, EMPTY, plaintext, eph),
    // A new array each call defeats the per-array cache of imported recipient keys.
    sealNewPk: () => hpke.seal(new Uint8Array(pkR), EMPTY, EMPTY, plaintext, eph),
    open: () => {
      const m = sealed[j++ & 63]!;
      return hpke.open(m.enc, skR, EMPTY, EMPTY, m.ciphertext);
    },
    ...baseline,
  };
}

let sink: unknown;

interface Accumulator {
  wallMs: number;
  cpuUs: number;
  calls: number;
  /** µs per call of every slice. */
  readonly slices: number[];
}

/** Runs `op` for at least `ms` milliseconds of wall-clock time (in batches of 4 calls). */
function runSlice(op: Op, ms: number, into: Accumulator): void {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let calls = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 4; i++) sink = op();
    calls += 4;
    elapsed = performance.now() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  into.wallMs += elapsed;
  into.cpuUs += cpu.user + cpu.system;
  into.calls += calls;
  into.slices.push((elapsed * 1000) / calls);
}

interface RoundResult {
  readonly wall: Record<OpName, number>;
  readonly cpu: Record<OpName, number>;
  readonly slices: Record<OpName, readonly number[]>;
}

/**
 * One round: `passes` passes over all operations, `sliceMs` each, so a burst of load
 * from other processes hits every operation alike. Returns µs per call (wall and CPU).
 */
function measureRound(ops: OpSet, passes: number, sliceMs: number): RoundResult {
  const acc = Object.fromEntries(
    OP_NAMES.map((name): [OpName, Accumulator] => [name, { wallMs: 0, cpuUs: 0, calls: 0, slices: [] }]),
  ) as Record<OpName, Accumulator>;
  for (let pass = 0; pass < passes; pass++) for (const name of OP_NAMES) runSlice(ops[name], sliceMs, acc[name]);
  const wall = {} as Record<OpName, number>;
  const cpu = {} as Record<OpName, number>;
  const slices = {} as Record<OpName, readonly number[]>;
  for (const name of OP_NAMES) {
    wall[name] = (acc[name].wallMs * 1000) / acc[name].calls;
    cpu[name] = acc[name].cpuUs / acc[name].calls;
    slices[name] = acc[name].slices;
  }
  return { wall, cpu, slices };
}

/** The value below which a fraction `q` of the samples lie (nearest rank). */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function stat(samples: number[]): Stat {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, samples };
}

const median = (values: number[]): number => stat(values).median;

type Series = Record<OpName, number[]>;
const emptySeries = (): Series => ({ seal: [], sealNewPk: [], open: [], keygen: [], dh: [], hkdf: [], aeadSeal: [] });
const statsOf = (s: Series): OperationStats => ({
  seal: stat(s.seal),
  sealNewPk: stat(s.sealNewPk),
  open: stat(s.open),
  keygen: stat(s.keygen),
  dh: stat(s.dh),
  hkdf: stat(s.hkdf),
  aeadSeal: stat(s.aeadSeal),
});
const primitiveSumAt = (s: Series, round: number): number => s.keygen[round]! + s.dh[round]! + s.hkdf[round]! + s.aeadSeal[round]!;
const ratiosToPrimitiveSum = (s: Series, op: OpName): number[] => s[op].map((t, round) => t / primitiveSumAt(s, round));

export function runSealBench(opts: SealBenchOptions = {}): SealBenchResult {
  const quick = opts.quick ?? false;
  const samples = opts.samples ?? (quick ? 3 : 7);
  const sampleMs = opts.sampleMs ?? (quick ? 60 : 250);
  const warmupMs = opts.warmupMs ?? (quick ? 150 : 600);
  const plaintextLength = opts.plaintextLength ?? 64;
  const backends = opts.backends ?? (['node', 'noble'] as const);
  const passes = Math.max(1, Math.round(sampleMs / SLICE_MS));
  const loadBefore = loadavg()[0] ?? 0;

  const results: BackendSealResult[] = [];
  const total = backends.length * samples;
  let done = 0;
  for (const backend of backends) {
    const ops = opsFor(backend, plaintextLength);
    measureRound(ops, 1, warmupMs / OP_NAMES.length);
    const wall = emptySeries();
    const cpu = emptySeries();
    const slices = emptySeries();
    for (let round = 0; round < samples; round++) {
      const r = measureRound(ops, passes, sampleMs / passes);
      for (const name of OP_NAMES) {
        wall[name].push(r.wall[name]);
        cpu[name].push(r.cpu[name]);
        slices[name].push(...r.slices[name]);
      }
      opts.onProgress?.(++done, total);
    }
    const ratios = ratiosToPrimitiveSum(wall, 'seal');
    const primitiveSum = median(wall.keygen) + median(wall.dh) + median(wall.hkdf) + median(wall.aeadSeal);
    const sealRatio = median(ratios);
    results.push({
      backend,
      wall: statsOf(wall),
      cpu: statsOf(cpu),
      primitiveSum,
      sealRatio,
      sealRatioRange: [Math.min(...ratios), Math.max(...ratios)],
      sealRatioCpu: median(ratiosToPrimitiveSum(cpu, 'seal')),
      sealNewPkRatio: median(ratiosToPrimitiveSum(wall, 'sealNewPk')),
      sealRatioFastSlices:
        quantile(slices.seal, FAST_QUANTILE) /
        (quantile(slices.keygen, FAST_QUANTILE) +
          quantile(slices.dh, FAST_QUANTILE) +
          quantile(slices.hkdf, FAST_QUANTILE) +
          quantile(slices.aeadSeal, FAST_QUANTILE)),
      openRatio: median(ratiosToPrimitiveSum(wall, 'open')),
      sealTarget: SEAL_TARGETS[backend],
      meetsTarget: sealRatio <= SEAL_TARGETS[backend],
    });
  }
  void sink;
  const cpuList = cpus();
  return {
    bench: 'seal',
    date: new Date().toISOString(),
    machine: {
      cpu: cpuList[0]?.model.trim() ?? 'unknown',
      cores: cpuList.length,
      node: process.version,
      openssl: process.versions.openssl ?? 'unknown',
      platform: platform(),
      arch: arch(),
      loadavg1Before: loadBefore,
      loadavg1After: loadavg()[0] ?? 0,
    },
    config: { samples, sampleMs, sliceMs: sampleMs / passes, warmupMs, plaintextLength, info: 0, aad: 0 },
    backends: results,
  };
}

const fmt = (us: number): string => (us >= 100 ? us.toFixed(0) : us.toFixed(1));
const fmtStat = (s: Stat): string => `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;

export function formatSealBench(result: SealBenchResult): string {
  const m = result.machine;
  const c = result.config;
  const lines = [
    `HPKE seal/open of a ${c.plaintextLength}-byte reading (info = aad = "") — ${m.cpu}, ${m.cores} cores, Node ${m.node}, OpenSSL ${m.openssl}`,
    `${c.samples} rounds × ${c.sampleMs} ms per operation in ${c.sliceMs.toFixed(0)} ms interleaved slices; load average ${m.loadavg1Before.toFixed(2)} → ${m.loadavg1After.toFixed(2)}`,
    'wall-clock µs per operation: median (min–max over rounds)',
    '',
  ];
  const rows: string[][] = [['', ...result.backends.map((b) => b.backend)]];
  const row = (label: string, f: (b: BackendSealResult) => string): void => {
    rows.push([label, ...result.backends.map(f)]);
  };
  row('X25519 keygen', (b) => fmtStat(b.wall.keygen));
  row('X25519 DH', (b) => fmtStat(b.wall.dh));
  row('HKDF extract+expand', (b) => fmtStat(b.wall.hkdf));
  row('ChaCha20-Poly1305 seal', (b) => fmtStat(b.wall.aeadSeal));
  row('= primitive sum', (b) => fmt(b.primitiveSum));
  row('HPKE seal (single-shot)', (b) => fmtStat(b.wall.seal));
  row('  … new pkR array per call', (b) => fmtStat(b.wall.sealNewPk));
  row('HPKE open (single-shot)', (b) => fmtStat(b.wall.open));
  row('seal / primitive sum', (b) => `${b.sealRatio.toFixed(3)} (${b.sealRatioRange[0].toFixed(3)}–${b.sealRatioRange[1].toFixed(3)})`);
  row('  same on CPU time', (b) => b.sealRatioCpu.toFixed(3));
  row('  on the fastest 10% of slices', (b) => b.sealRatioFastSlices.toFixed(3));
  row('  target', (b) => `≤ ${b.sealTarget.toFixed(2)} ${b.meetsTarget ? 'met' : 'MISSED'}`);
  row('seal (new pkR array) / sum', (b) => b.sealNewPkRatio.toFixed(3));
  row('open / primitive sum', (b) => b.openRatio.toFixed(3));
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  for (const r of rows)
    lines.push(r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]! + 2))).join(''));
  if (m.loadavg1Before > m.cores || m.loadavg1After > m.cores)
    lines.push('', `note: load average above ${m.cores} (other processes): expect noisy numbers`);
  return lines.join('\n');
}

const HELP = `usage: node --import tsx bench/seal.ts [--quick] [--json out.json]

Per-reading HPKE seal/open cost on the noble and node backends, with each backend's
primitive sum (X25519 keygen + DH + HKDF + ChaCha20-Poly1305) measured in the same run.

  --quick        3 short rounds instead of 7 × 250 ms
  --json FILE    also write the result (with machine info) as JSON ("-" for stdout)
  --help         this text

Exit code: 0 when every backend meets its seal target, 1 when one misses it, 2 on bad usage.`;

function main(argv: readonly string[]): number {
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
  const tty = process.stderr.isTTY === true;
  const result = runSealBench({
    quick,
    onProgress: (done, total) => {
      if (tty) process.stderr.write(`\r  round ${done}/${total}${done === total ? '\n' : ''}`);
    },
  });
  if (jsonPath === '-') console.log(JSON.stringify(result, null, 2));
  else {
    console.log(formatSealBench(result));
    if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  }
  return result.backends.every((b) => b.meetsTarget) ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
