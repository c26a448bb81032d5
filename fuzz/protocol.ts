/** Messages between fuzz/run.ts and fuzz/worker.ts, and the shared-memory layout of the watchdog. */

export const SHARED = {
  /** [0] 1 while a call runs, [1] input length, [2] input index, [3] unused. */
  ctrlInts: 4,
  /** Float64: Date.now() when the running call started. */
  timeOffset: 16,
  inputOffset: 24,
  maxInput: 16_384,
} as const;

export interface ChunkRequest {
  target: string;
  seed: string;
  start: number;
  count: number;
  corpus: Uint8Array[];
  seenKeys: string[];
}

export interface FailureRecord {
  index: number;
  kind: 'untyped-error' | 'oracle' | 'hang' | 'crash';
  error: string;
  input: Uint8Array;
}

export interface ChunkResult {
  target: string;
  start: number;
  count: number;
  outcomes: Record<string, number>;
  added: Uint8Array[];
  addedKeys: string[];
  failures: FailureRecord[];
  failureCount: number;
  slowestMs: number;
  slowestIndex: number;
  ms: number;
}
