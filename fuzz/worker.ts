/**
 * Runs chunks of fuzz inputs for the main thread (fuzz/run.ts). Before each call it copies
 * the input and its start time into shared memory, so the main thread can save the exact
 * input when a call hangs (the watchdog) or the worker dies.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Sfc32, nextInput } from './mutate.ts';
import { FuzzOracleError, outcomeOf, targetByName } from './targets.ts';
import { SHARED, type ChunkRequest, type ChunkResult, type FailureRecord } from './protocol.ts';

const shared = workerData as { sab: SharedArrayBuffer };
const ctrl = new Int32Array(shared.sab, 0, SHARED.ctrlInts);
const started = new Float64Array(shared.sab, SHARED.timeOffset, 1);
const inputBuf = new Uint8Array(shared.sab, SHARED.inputOffset, SHARED.maxInput);

/** Corpus growth: at most this many new entries per chunk. */
const MAX_ADDED_PER_CHUNK = 8;
const MAX_FAILURES_PER_CHUNK = 20;

function lengthBucket(n: number): number {
  return n === 0 ? 0 : 32 - Math.clz32(n);
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${e.message}`.slice(0, 500);
  }
  return `non-Error thrown: ${String(e)}`.slice(0, 500);
}

function runChunk(req: ChunkRequest): ChunkResult {
  const target = targetByName(req.target);
  if (!target) throw new Error(`unknown target ${req.target}`);
  const r = new Sfc32(`${req.seed}/${req.target}/${req.start}`);
  const corpus = req.corpus;
  const seen = new Set(req.seenKeys);
  const outcomes: Record<string, number> = {};
  const added: Uint8Array[] = [];
  const addedKeys: string[] = [];
  const failures: FailureRecord[] = [];
  let failureCount = 0;
  let slowestMs = 0;
  let slowestIndex = req.start;
  const t0 = performance.now();
  for (let i = 0; i < req.count; i++) {
    const input = nextInput(r, corpus, Math.min(target.maxLength, SHARED.maxInput));
    inputBuf.set(input);
    Atomics.store(ctrl, 1, input.length);
    Atomics.store(ctrl, 2, req.start + i);
    started[0] = Date.now();
    Atomics.store(ctrl, 0, 1);
    const c0 = performance.now();
    let label: string;
    try {
      label = outcomeOf(target, input);
    } catch (e) {
      label = e instanceof FuzzOracleError ? 'FAIL:oracle' : 'FAIL:untyped';
      failureCount++;
      if (failures.length < MAX_FAILURES_PER_CHUNK)
        failures.push({ index: req.start + i, kind: e instanceof FuzzOracleError ? 'oracle' : 'untyped-error', error: describe(e), input });
    }
    const ms = performance.now() - c0;
    Atomics.store(ctrl, 0, 0);
    if (ms > slowestMs) {
      slowestMs = ms;
      slowestIndex = req.start + i;
    }
    outcomes[label] = (outcomes[label] ?? 0) + 1;
    const key = `${label}:${lengthBucket(input.length)}`;
    if (!seen.has(key)) {
      seen.add(key);
      if (added.length < MAX_ADDED_PER_CHUNK && !label.startsWith('FAIL:')) {
        added.push(input);
        addedKeys.push(key);
      }
    }
  }
  return {
    target: req.target,
    start: req.start,
    count: req.count,
    outcomes,
    added,
    addedKeys,
    failures,
    failureCount,
    slowestMs,
    slowestIndex,
    ms: performance.now() - t0,
  };
}

parentPort!.on('message', (req: ChunkRequest) => {
  parentPort!.postMessage(runChunk(req));
});
