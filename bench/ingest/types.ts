/** bench/ingest.ts's options, results and targets. */
import type { DiskSyncLatency } from '../lib/machine.ts';

export interface IngestBenchOptions {
  /** Smaller counts, one round, no 10,000-device run (smoke test / CI). */
  readonly quick?: boolean;
  /** Rounds of the throughput comparison (median reported); default 3 (quick: 1). */
  readonly rounds?: number;
  /** QoS 1 publishes in flight per publisher; default 32. */
  readonly window?: number;
  /** Run the 10,000-device RSS test (default: !quick). */
  readonly fleet?: boolean;
  readonly fleetDevices?: number;
  readonly fleetSeconds?: number;
  /**
   * V8 heap flags of the agent in the 10,000-device run: default FLEET_HEAP_FLAGS (what README
   * "Agent operations" recommends for a gateway); '' runs it with Node's defaults.
   */
  readonly fleetHeapFlags?: string;
  /**
   * How the broker children run: 'built' = compiled JavaScript (scripts/build.mjs, as a gateway runs
   * `node dist/cli/bin.js agent`), 'tsx' = the TypeScript sources through tsx's loader (+~40 MiB RSS
   * for its loader thread). Default: 'built' for full runs (and when this bench runs compiled), 'tsx' for --quick.
   */
  readonly runtime?: BenchRuntime;
  /** Progress lines (stderr by default in the CLI). */
  readonly onProgress?: (line: string) => void;
}

export type BenchRuntime = 'built' | 'tsx';

/** The agent's own group-commit metrics over a run (from its /metrics). */
export interface CommitStats {
  readonly commits: number;
  readonly avgBatch: number;
  readonly avgCommitMs: number;
}

export interface ThroughputRun {
  readonly broker: 'agent' | 'aedes';
  readonly publishers: number;
  readonly readings: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** CPU time of the broker process per reading over the timed part (all threads; from /proc, 10 ms ticks). */
  readonly cpuUsPerReading: number;
  /** The same for its main (event-loop) thread only. */
  readonly mainThreadCpuUsPerReading: number;
  /**
   * CPU time of the publishing clients (this process, all of them on one event loop) per reading over
   * the same part: on a 2-core machine clients and broker share the cores, so a broker that needs more
   * CPU per reading is bounded by cores / (client + broker CPU per reading).
   */
  readonly clientCpuUsPerReading: number;
  readonly commit?: CommitStats;
}

export interface ThroughputResult {
  readonly publishers: number;
  readonly window: number;
  readonly readingsPerRun: number;
  readonly agentPerSecond: number;
  readonly aedesPerSecond: number;
  readonly ratio: number;
  /** Judged only at JUDGED_PUBLISHERS (the ward gateway's case); null for the other rows (reported, not judged). */
  readonly meetsTarget: boolean | null;
  readonly runs: readonly ThroughputRun[];
}

/**
 * One publisher keeping `window` QoS 1 publishes in flight is bounded by the disk, not by the broker:
 * by Little's law its rate is window / (mean PUBACK latency), and every PUBACK waits for at least one
 * fdatasync of a group commit. Reported beside its bound, not judged against plain aedes (which syncs nothing).
 */
export interface OnePublisherBound {
  readonly window: number;
  readonly agentPerSecond: number;
  /** window / fdatasync p50 of the same run: the rate if each PUBACK waited for one fdatasync and nothing else. */
  readonly boundPerSecond: number;
  /** agentPerSecond / boundPerSecond. */
  readonly shareOfBound: number;
  /** window / agentPerSecond: the mean PUBACK latency the measured rate implies (Little's law). */
  readonly impliedLatencyMs: number;
  /** The agent's mean group commit (its /metrics: hand-over, transaction, fdatasync, answer), median over the agent runs. */
  readonly avgCommitMs: number;
  readonly fdatasyncP50Ms: number;
  readonly fdatasyncP99Ms: number;
}

export interface LatencyResult {
  readonly targetRate: number;
  readonly publishers: number;
  readonly seconds: number;
  readonly readings: number;
  readonly achievedRate: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly failed: number;
  readonly commit: CommitStats;
}

export interface FleetResult {
  readonly devices: number;
  readonly seconds: number;
  readonly connectSeconds: number;
  /** Readings due on the schedule (devices × seconds). */
  readonly scheduled: number;
  readonly published: number;
  /** Due while the device's previous reading was still unacknowledged: not sent (device-side backpressure). */
  readonly deferred: number;
  readonly acked: number;
  readonly failed: number;
  readonly stored: number;
  readonly lost: number;
  readonly achievedRate: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rssMiB: { readonly idle: number; readonly connected: number; readonly peak: number; readonly end: number; readonly hwm: number };
  readonly commit: CommitStats;
  /** Graceful stop of the agent with every device still connected (null: not finished within the bound). */
  readonly stopSeconds: number | null;
  readonly zeroLoss: boolean;
  /** Node/V8 flags the agent ran with ('' = Node's defaults). */
  readonly heapFlags: string;
  /** RSS target of the issue: ≤ 300 MB (MiB here) at the peak of the run. */
  readonly meetsRssTarget: boolean;
}

export interface IngestBenchResult {
  readonly bench: 'vitalseal-ingest';
  readonly mode: 'quick' | 'full';
  /** How the broker children ran (IngestBenchOptions.runtime). */
  readonly runtime: BenchRuntime;
  readonly date: string;
  readonly machine: {
    readonly node: string;
    readonly platform: string;
    readonly arch: string;
    readonly cpu: string;
    readonly cores: number;
    readonly memGiB: number;
    readonly loadavgStart: readonly number[];
    readonly loadavgEnd: readonly number[];
    readonly dataDir: string;
    /** fdatasync of a 4 KiB append on the data dirs' filesystem, measured in this run before the throughput runs (bench/lib/machine.ts). */
    readonly fdatasync: DiskSyncLatency;
  };
  readonly ratioTarget: number;
  /** Shown beside the target: where the ratio at JUDGED_PUBLISHERS should get to. */
  readonly ratioGoal: number;
  /** The publishers whose ratio is judged. */
  readonly judgedPublishers: number;
  readonly throughput: readonly ThroughputResult[];
  /** The one-publisher row beside its Little's-law bound (null when no one-publisher row ran). */
  readonly onePublisher: OnePublisherBound | null;
  readonly latency: LatencyResult;
  readonly fleet: FleetResult | null;
  readonly ok: boolean;
}

/** durable ingest / plain aedes at JUDGED_PUBLISHERS publishers: target, and the goal shown beside it. */
export const RATIO_TARGET = 0.6;
export const RATIO_GOAL = 0.75;
/** 16 devices publishing at once: the ward gateway's case, where the ratio is judged. */
export const JUDGED_PUBLISHERS = 16;

/** Peak agent RSS of the 10,000-device run. */
export const RSS_TARGET_MIB = 300;
