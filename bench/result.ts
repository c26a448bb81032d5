/**
 * The result of one benchmark run (bench/suite.ts produces it, bench/report.ts formats it, the
 * CLI prints it): its own module so the runner and the report do not import each other.
 */
import type { CryptoBenchResult, Precheck } from './crypto.ts';
import type { McuBenchResult } from './mcu.ts';
import type { PipelineBenchResult } from './pipeline.ts';
import type { ScalingBenchResult } from './scaling.ts';
import type { TlsBenchResult } from './tls.ts';
import type { MachineInfo } from './lib/machine.ts';
import type { SuiteName } from './suiteNames.ts';

export const RESULT_SCHEMA = 'vitalseal-bench/v1';

export interface SuiteOutcome<T> {
  readonly status: 'ok' | 'error';
  readonly seconds: number;
  readonly result?: T;
  readonly error?: string;
}

export interface Target {
  readonly name: string;
  readonly value: number | null;
  readonly comparison: '>=' | '<=';
  readonly target: number;
  readonly unit: string;
  /** null when the suite that measures it did not run. */
  readonly met: boolean | null;
  /** Where the figure should get to, shown beside the target (not judged). */
  readonly goal?: number;
  /** What the value measures when a target may be judged on more than one (the TLS row: 'wall-clock' or 'agent-cpu'). */
  readonly basis?: string;
}

export interface FlaggedFigure {
  readonly suite: SuiteName;
  readonly name: string;
  readonly spread: number;
  readonly allowedSpread: number;
}

export interface BenchResult {
  readonly schema: typeof RESULT_SCHEMA;
  readonly mode: 'quick' | 'full';
  readonly suitesRequested: readonly SuiteName[];
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly seconds: number;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly suites: {
    readonly crypto?: SuiteOutcome<CryptoBenchResult>;
    readonly mcu?: SuiteOutcome<McuBenchResult>;
    readonly ingest?: SuiteOutcome<PipelineBenchResult>;
    readonly tls?: SuiteOutcome<TlsBenchResult>;
    readonly anchor?: SuiteOutcome<PipelineBenchResult>;
    readonly e2e?: SuiteOutcome<PipelineBenchResult>;
    readonly scaling?: SuiteOutcome<ScalingBenchResult>;
  };
  readonly prechecks: ReadonlyArray<Precheck & { readonly suite: SuiteName }>;
  readonly prechecksPassed: boolean;
  readonly targets: readonly Target[];
  readonly flagged: readonly FlaggedFigure[];
  readonly ok: boolean;
  readonly files: { readonly json: string | null; readonly markdown: string | null; readonly svg: string | null };
}

export interface RunBenchOptions {
  readonly quick?: boolean;
  readonly suites?: readonly SuiteName[];
  /** Where to write <timestamp>.json/.md/.svg (default bench/results); null: write nothing. */
  readonly outDir?: string | null | undefined;
  readonly command?: string;
  /** Progress: the current step and the overall fraction done (0..1). */
  readonly onProgress?: (message: string, fraction: number) => void;
}
