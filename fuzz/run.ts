/**
 * The long fuzz run (issue #15): `npm run fuzz -- [--inputs N] [--seed S] [--corpus dir]`.
 *
 * Per decoder (fuzz/targets.ts), seeded mutations of a corpus of valid inputs plus random
 * bytes, in chunks run by a worker thread. Passing = every input either decodes or throws a
 * VitalsealError with a code of protocol/errors.ts (and the oracles agree). Failing = any
 * other exception, an oracle mismatch, a call running longer than --hang-ms (watchdog) or a
 * dead worker; the reproducing input is saved to <corpus>/failures/.
 *
 * <corpus>/state.json holds the seed and the count done per decoder, <corpus>/corpus/<decoder>/
 * the corpus (seeds + inputs with a new outcome); both are written after every chunk, so a
 * second run (or one cut short by --max-seconds, Ctrl-C or kill) resumes where it stopped.
 * Results: <corpus>/summary.json and summary.txt (a table), also printed.
 *
 * A hang or crash ends its chunk: the inputs before it in that chunk count as done but their
 * outcomes are not tallied; after --max-broken of them a decoder is not fuzzed further.
 *
 * Exit codes: 0 no failure, 1 failures found, 2 bad command line or a corpus of another seed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Command, InvalidArgumentError } from 'commander';
import { defineErrors } from '../protocol/errors.ts';
import { SHARED, type ChunkRequest, type ChunkResult, type FailureRecord } from './protocol.ts';
import { fuzzTargets } from './targets.ts';

export const FUZZ_ERRORS = defineErrors('fuzz', {
  FUZZ_BAD_ARGUMENT: { message: 'a command-line argument is malformed', exit: 'usage' },
  FUZZ_SEED_MISMATCH: { message: 'the corpus directory was started with another seed', exit: 'usage' },
  FUZZ_STATE_INVALID: { message: 'the corpus state file is malformed', exit: 'usage' },
  FUZZ_UNKNOWN_TARGET: { message: 'no such decoder', exit: 'usage' },
});
export const FUZZ_ERROR_CODES = FUZZ_ERRORS.messages;
export type FuzzErrorCode = keyof typeof FUZZ_ERROR_CODES;

export class FuzzError extends FUZZ_ERRORS.Error {
  override readonly name = 'FuzzError';
}

export interface FuzzOptions {
  inputs: number;
  seed: string | undefined;
  corpusDir: string;
  chunk: number;
  hangMs: number;
  maxSeconds: number | undefined;
  targets: string[] | undefined;
  /** A decoder that hung or crashed this many times is not run further (it fails anyway). */
  maxBroken?: number;
  /** One progress line (stderr in the CLI). */
  progress?: (line: string) => void;
}

interface TargetState {
  done: number;
  ms: number;
  outcomes: Record<string, number>;
  failures: number;
  hangs: number;
  crashes: number;
  slowestMs: number;
  slowestIndex: number;
  seenKeys: string[];
  corpusSize: number;
}

interface FuzzState {
  version: 1;
  seed: string;
  startedAt: string;
  runs: number;
  targets: Record<string, TargetState>;
}

export interface FuzzSummaryRow {
  decoder: string;
  what: string;
  inputs: number;
  /** Inputs the decoder returned on (accepted, or reported by its return value). */
  returned: number;
  /** Every outcome label with its count (success labels and error codes). */
  outcomes: Record<string, number>;
  errorCodes: Record<string, number>;
  distinctErrorCodes: number;
  failures: number;
  corpus: number;
  seconds: number;
  inputsPerSecond: number;
  slowestMs: number;
}

export interface FuzzSummary {
  seed: string;
  corpusDir: string;
  inputsPerDecoder: number;
  complete: boolean;
  totalInputs: number;
  totalFailures: number;
  runs: number;
  thisRunSeconds: number;
  decoders: FuzzSummaryRow[];
  failureFiles: string[];
}

const STATE_FILE = 'state.json';

function atomicWrite(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function readState(dir: string): FuzzState | undefined {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as FuzzState;
    if (s.version !== 1 || typeof s.seed !== 'string' || typeof s.targets !== 'object') throw new Error('shape');
    return s;
  } catch {
    throw new FuzzError('FUZZ_STATE_INVALID', `${path} is not a fuzz state file`);
  }
}

function corpusDirOf(dir: string, target: string): string {
  return join(dir, 'corpus', target);
}

function loadCorpus(dir: string, target: string): Uint8Array[] {
  const d = corpusDirOf(dir, target);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(d, f))));
}

function saveCorpusEntry(dir: string, target: string, index: number, input: Uint8Array): void {
  const d = corpusDirOf(dir, target);
  mkdirSync(d, { recursive: true });
  atomicWrite(join(d, `${String(index).padStart(6, '0')}.bin`), input);
}

const MAX_CORPUS = 256;

/** A worker with its watchdog memory; replaced after a hang or crash. */
class ChunkRunner {
  private worker: Worker | undefined;
  private readonly sab = new SharedArrayBuffer(SHARED.inputOffset + SHARED.maxInput);
  private readonly ctrl = new Int32Array(this.sab, 0, SHARED.ctrlInts);
  private readonly started = new Float64Array(this.sab, SHARED.timeOffset, 1);
  private readonly inputBuf = new Uint8Array(this.sab, SHARED.inputOffset, SHARED.maxInput);

  constructor(private readonly hangMs: number) {}

  private spawn(): Worker {
    this.worker ??= new Worker(new URL('./workerEntry.mjs', import.meta.url), { workerData: { sab: this.sab } });
    return this.worker;
  }

  private currentInput(): { index: number; input: Uint8Array } {
    const len = Atomics.load(this.ctrl, 1);
    return { index: Atomics.load(this.ctrl, 2), input: this.inputBuf.slice(0, len) };
  }

  /** The chunk's result, or the hang / crash it ended in (the worker is then replaced). */
  run(req: ChunkRequest): Promise<ChunkResult | { broken: FailureRecord }> {
    const w = this.spawn();
    Atomics.store(this.ctrl, 0, 0);
    return new Promise((resolveRun) => {
      let settled = false;
      const finish = (v: ChunkResult | { broken: FailureRecord }) => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        resolveRun(v);
      };
      const broken = (kind: 'hang' | 'crash', error: string) => {
        const { index, input } = this.currentInput();
        this.worker = undefined;
        void w.terminate();
        finish({ broken: { index, kind, error, input } });
      };
      const onMessage = (m: ChunkResult) => finish(m);
      const onError = (e: Error) => broken('crash', `worker died: ${e.name}: ${e.message}`.slice(0, 500));
      const onExit = (code: number) => broken('crash', `worker exited with code ${code}`);
      const watchdog = setInterval(
        () => {
          if (Atomics.load(this.ctrl, 0) === 1 && Date.now() - this.started[0]! > this.hangMs)
            broken('hang', `one call ran longer than ${this.hangMs} ms`);
        },
        Math.min(500, this.hangMs),
      );
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage(req);
    });
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

function emptyTargetState(): TargetState {
  return { done: 0, ms: 0, outcomes: {}, failures: 0, hangs: 0, crashes: 0, slowestMs: 0, slowestIndex: 0, seenKeys: [], corpusSize: 0 };
}

function saveFailure(dir: string, target: string, f: FailureRecord): string {
  const d = join(dir, 'failures');
  mkdirSync(d, { recursive: true });
  const base = join(d, `${target}-${f.index}`);
  atomicWrite(`${base}.bin`, f.input);
  atomicWrite(
    `${base}.json`,
    `${JSON.stringify({ decoder: target, index: f.index, kind: f.kind, error: f.error, inputHex: Buffer.from(f.input).toString('hex'), reproduce: `${target.startsWith('canary.') ? 'VITALSEAL_FUZZ_CANARY=1 ' : ''}node --import tsx fuzz/repro.ts ${target} ${base}.bin` }, null, 2)}\n`,
  );
  return `${base}.bin`;
}

export function summarize(
  state: FuzzState,
  o: { corpusDir: string; inputs: number; thisRunSeconds: number; only?: string[] | undefined },
): FuzzSummary {
  const decoders: FuzzSummaryRow[] = [];
  for (const t of fuzzTargets()) {
    if (o.only && !o.only.includes(t.name)) continue;
    const s = state.targets[t.name] ?? emptyTargetState();
    const errorCodes = Object.fromEntries(
      Object.entries(s.outcomes)
        .filter(([k]) => /^[A-Z][A-Z0-9_]+$/.test(k))
        .sort(),
    );
    const okCount = Object.entries(s.outcomes)
      .filter(([k]) => !/^[A-Z][A-Z0-9_]+$/.test(k) && !k.startsWith('FAIL:'))
      .reduce((n, [, v]) => n + v, 0);
    decoders.push({
      decoder: t.name,
      what: t.what,
      inputs: s.done,
      returned: okCount,
      outcomes: Object.fromEntries(Object.entries(s.outcomes).sort()),
      errorCodes,
      distinctErrorCodes: Object.keys(errorCodes).length,
      failures: s.failures + s.hangs + s.crashes,
      corpus: s.corpusSize,
      seconds: Math.round(s.ms / 100) / 10,
      inputsPerSecond: s.ms > 0 ? Math.round((s.done / s.ms) * 1000) : 0,
      slowestMs: Math.round(s.slowestMs * 10) / 10,
    });
  }
  const failureDir = join(o.corpusDir, 'failures');
  return {
    seed: state.seed,
    corpusDir: o.corpusDir,
    inputsPerDecoder: o.inputs,
    complete: decoders.every((d) => d.inputs >= o.inputs),
    totalInputs: decoders.reduce((n, d) => n + d.inputs, 0),
    totalFailures: decoders.reduce((n, d) => n + d.failures, 0),
    runs: state.runs,
    thisRunSeconds: Math.round(o.thisRunSeconds * 10) / 10,
    decoders,
    failureFiles: existsSync(failureDir)
      ? readdirSync(failureDir)
          .filter((f) => f.endsWith('.bin'))
          .sort()
          .map((f) => join(failureDir, f))
      : [],
  };
}

export function formatSummary(s: FuzzSummary): string {
  const head = ['decoder', 'inputs', 'returned', 'codes', 'failures', 'corpus', 'seconds', 'inputs/s', 'slowest ms'];
  const rows = s.decoders.map((d) => [
    d.decoder,
    String(d.inputs),
    String(d.returned),
    String(d.distinctErrorCodes),
    String(d.failures),
    String(d.corpus),
    d.seconds.toFixed(1),
    String(d.inputsPerSecond),
    d.slowestMs.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    `fuzz seed ${JSON.stringify(s.seed)}, ${s.inputsPerDecoder.toLocaleString('en')} inputs per decoder${s.complete ? '' : ' (INCOMPLETE: run again to resume)'}, corpus ${s.corpusDir}, run ${s.runs}`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    `total ${s.totalInputs.toLocaleString('en')} inputs, ${s.totalFailures} failures${s.totalFailures > 0 ? ` (reproducers in ${join(s.corpusDir, 'failures')})` : ''}, this run ${s.thisRunSeconds} s`,
    '',
    'outcomes per decoder (returned labels, then the error codes thrown):',
    ...s.decoders.map(
      (d) =>
        `  ${d.decoder}: ${
          Object.entries(d.outcomes)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || '(none)'
        }`,
    ),
  ];
  return out.join('\n');
}

/** Runs (or resumes) the fuzz campaign; resolves with its summary (also written to the corpus dir). */
export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const t0 = performance.now();
  const dir = resolve(o.corpusDir);
  mkdirSync(dir, { recursive: true });
  const all = fuzzTargets();
  const selected = o.targets ?? all.filter((t) => !t.name.startsWith('canary.')).map((t) => t.name);
  for (const name of selected)
    if (!all.some((t) => t.name === name))
      throw new FuzzError('FUZZ_UNKNOWN_TARGET', `no decoder ${name} (known: ${all.map((t) => t.name).join(', ')})`);
  let state = readState(dir);
  if (state && o.seed !== undefined && o.seed !== state.seed) {
    throw new FuzzError(
      'FUZZ_SEED_MISMATCH',
      `${dir} holds a run with seed ${JSON.stringify(state.seed)}; use that seed, or another --corpus`,
    );
  }
  state ??= { version: 1, seed: o.seed ?? 'vitalseal-fuzz', startedAt: new Date().toISOString(), runs: 0, targets: {} };
  state.runs += 1;
  const saveState = () => atomicWrite(join(dir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  const deadline = o.maxSeconds === undefined ? Infinity : t0 + o.maxSeconds * 1000;
  const runner = new ChunkRunner(o.hangMs);
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const target of all) {
      if (!selected.includes(target.name)) continue;
      const ts = (state.targets[target.name] ??= emptyTargetState());
      let corpus = loadCorpus(dir, target.name);
      if (corpus.length === 0) {
        corpus = target.seeds();
        for (const [i, c] of corpus.entries()) saveCorpusEntry(dir, target.name, i, c);
      }
      ts.corpusSize = corpus.length;
      while (ts.done < o.inputs && !interrupted && performance.now() < deadline && ts.hangs + ts.crashes < (o.maxBroken ?? 5)) {
        const count = Math.min(o.chunk, o.inputs - ts.done);
        const res = await runner.run({ target: target.name, seed: state.seed, start: ts.done, count, corpus, seenKeys: ts.seenKeys });
        if ('broken' in res) {
          // a hang or crash: save the input, count the chunk as done up to it, go on with the next input
          saveFailure(dir, target.name, res.broken);
          if (res.broken.kind === 'hang') ts.hangs++;
          else ts.crashes++;
          const reached = Math.max(ts.done + 1, res.broken.index + 1);
          ts.outcomes[`FAIL:${res.broken.kind}`] = (ts.outcomes[`FAIL:${res.broken.kind}`] ?? 0) + 1;
          ts.done = Math.min(reached, ts.done + count);
          o.progress?.(`${target.name}: ${res.broken.kind} at input ${res.broken.index} (${res.broken.error}); saved`);
          saveState();
          continue;
        }
        for (const f of res.failures) saveFailure(dir, target.name, f);
        ts.failures += res.failureCount;
        for (const [k, v] of Object.entries(res.outcomes)) ts.outcomes[k] = (ts.outcomes[k] ?? 0) + v;
        res.added.forEach((input, i) => {
          if (corpus.length >= MAX_CORPUS) return;
          saveCorpusEntry(dir, target.name, corpus.length, input);
          corpus.push(input);
          ts.seenKeys.push(res.addedKeys[i]!);
        });
        ts.corpusSize = corpus.length;
        ts.done += res.count;
        ts.ms += res.ms;
        if (res.slowestMs > ts.slowestMs) {
          ts.slowestMs = res.slowestMs;
          ts.slowestIndex = res.slowestIndex;
        }
        saveState();
        o.progress?.(
          `${target.name}: ${ts.done.toLocaleString('en')}/${o.inputs.toLocaleString('en')} inputs, ${Math.round((res.count / res.ms) * 1000)}/s, corpus ${corpus.length}, failures ${ts.failures + ts.hangs + ts.crashes}`,
        );
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runner.stop();
    saveState();
  }
  const summary = summarize(state, { corpusDir: dir, inputs: o.inputs, thisRunSeconds: (performance.now() - t0) / 1000, only: selected });
  atomicWrite(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  atomicWrite(join(dir, 'summary.txt'), `${formatSummary(summary)}\n`);
  return summary;
}

function positiveInt(v: string): number {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('npm run fuzz --')
    .description('Long seeded fuzz run of every decoder (resumable; see fuzz/run.ts)')
    .option('--inputs <n>', 'inputs per decoder', positiveInt, 1_000_000)
    .option('--seed <s>', 'seed (a new corpus dir only; default "vitalseal-fuzz")')
    .option('--corpus <dir>', 'corpus + progress directory (resumed if present)', '.vitalseal/fuzz')
    .option('--chunk <n>', 'inputs per chunk (progress is saved after each)', positiveInt, 10_000)
    .option('--hang-ms <n>', 'a single call running longer than this is a hang', positiveInt, 10_000)
    .option('--max-broken <n>', 'stop fuzzing a decoder after this many hangs or crashes', positiveInt, 5)
    .option('--max-seconds <n>', 'stop after the chunk that crosses this time (resume later)', positiveInt)
    .option('--targets <names>', 'comma-separated decoders (default: all)')
    .option('--list', 'list the decoders and exit')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nExit codes:\n  0  no failure\n  1  failures found (reproducing inputs in <corpus>/failures)\n  2  bad command line, or the corpus dir holds another seed',
    )
    .exitOverride();
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const opts = program.opts<{
    inputs: number;
    seed?: string;
    corpus: string;
    chunk: number;
    hangMs: number;
    maxSeconds?: number;
    maxBroken: number;
    targets?: string;
    list?: boolean;
    json?: boolean;
  }>();
  if (opts.list) {
    for (const t of fuzzTargets()) console.log(`${t.name.padEnd(28)} ${t.what}`);
    return 0;
  }
  try {
    const summary = await runFuzz({
      inputs: opts.inputs,
      seed: opts.seed,
      corpusDir: opts.corpus,
      chunk: opts.chunk,
      hangMs: opts.hangMs,
      maxSeconds: opts.maxSeconds,
      maxBroken: opts.maxBroken,
      targets: opts.targets
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      progress: (l) => process.stderr.write(`${l}\n`),
    });
    console.log(opts.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    return summary.totalFailures > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof FuzzError) {
      console.error(`error [${e.code}]: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
