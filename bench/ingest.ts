/**
 * Durable ingest of the edge agent, measured end to end over MQTT on loopback.
 *
 *   node --import tsx bench/ingest.ts [--quick] [--json out.json]
 *
 * 1. Throughput (readings/s): 1 publisher and 16 publishers, each keeping a window of
 *    QoS 1 publishes in flight, against (a) the real agent (embedded aedes broker, auth, ACL,
 *    validation, SQLite WAL group commit + fdatasync, Merkle log; PUBACK after both)
 *    and (b) a plain aedes broker with QoS 1 and no store, in the same run, with the same
 *    pre-sealed payloads and the same client code. Each broker runs in its own child
 *    process (fresh data dir per run); runs are interleaved and the median is reported.
 *    Target: agent / aedes ≥ 0.6.
 * 2. PUBACK latency p50/p99 on the agent at a fixed 1,000 readings/s (10 paced publishers
 *    × 100/s), measured from publish() to its PUBACK callback.
 * 3. (full mode only) agent RSS with 10,000 connected devices publishing 1 reading/s each
 *    for 60 s, checking zero loss (stored = acknowledged = published).
 *
 * Payloads are real envelopes: per-reading HPKE (default mode) for 1 and 2; session mode for
 * 3 (600,000 envelopes; the agent handles both alike: it never decrypts). Everything is
 * bounded in count and time and stays on 127.0.0.1.
 *
 * Internal: `--serve agent|aedes [--data-dir DIR]` runs a broker child for the runs above.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, arch, platform, totalmem, tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { diskSyncLatency, type DiskSyncLatency } from './lib/machine.ts';
import { BenchWard, devName as benchDevName, secretOf } from './lib/ward.ts';
import { configFromEnv, parseAgentConfig, type AgentConfig } from '../agent/config.ts';
import { readingTopic } from '../protocol/topics.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
const REPO = resolve(dirname(THIS_FILE), '..');

// ---------------------------------------------------------------- options and results

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
  readonly commit?: CommitStats;
}

export interface ThroughputResult {
  readonly publishers: number;
  readonly window: number;
  readonly readingsPerRun: number;
  readonly agentPerSecond: number;
  readonly aedesPerSecond: number;
  readonly ratio: number;
  readonly meetsTarget: boolean;
  readonly runs: readonly ThroughputRun[];
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
    /** fdatasync of a 4 KiB append in the data dir's disk, measured before the runs (bench/lib/machine.ts). */
    readonly fdatasync: DiskSyncLatency;
  };
  readonly ratioTarget: number;
  readonly throughput: readonly ThroughputResult[];
  readonly latency: LatencyResult;
  readonly fleet: FleetResult | null;
  readonly ok: boolean;
}

export const RATIO_TARGET = 0.6;

// ---------------------------------------------------------------- ward fixtures (keys, tickets, payloads): bench/lib/ward.ts

const devName = (i: number): string => benchDevName('bench', i);

// ---------------------------------------------------------------- broker children

interface Server {
  readonly kind: 'agent' | 'aedes';
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly httpPort: number | null;
  /** SIGTERM, then SIGKILL after the bound; resolves true when it exited on its own (exit code 0). */
  stop(): Promise<boolean>;
}

const RSS_TARGET_MIB = 300;

/** Heap flags for an agent serving ~10,000 devices: a small young generation and a capped old one (README "Agent operations"). */
export const FLEET_HEAP_FLAGS = '--max-semi-space-size=1 --max-old-space-size=192';

/** This file compiled (scripts/build.mjs) when the bench itself runs from a build. */
const RUNNING_BUILT = THIS_FILE.endsWith('.js');

/** Where a run with runtime 'built' compiles the sources (inside node_modules, so the children resolve packages). */
const BENCH_BUILD_DIR = join(REPO, 'node_modules', '.cache', 'vitalseal', 'bench-build');

/** How the broker children start: this bench compiled (runtime 'built') or its source through tsx. */
interface ChildScript {
  readonly runtime: BenchRuntime;
  readonly args: readonly string[];
}

async function childScript(runtime: BenchRuntime, progress: (s: string) => void): Promise<ChildScript> {
  if (RUNNING_BUILT) {
    if (runtime === 'tsx') throw new Error("--runtime tsx needs the sources: run bench/ingest.ts with 'node --import tsx'");
    return { runtime, args: [THIS_FILE] };
  }
  if (runtime === 'tsx') return { runtime, args: ['--import', 'tsx', THIS_FILE] };
  progress('compiling the sources for the broker children (scripts/build.mjs)');
  // the build runs as its own process (`node scripts/build.mjs --out-dir …`, what `npm run build` runs): scripts/ is a tool nothing imports
  const built = spawnSync(process.execPath, [join(REPO, 'scripts', 'build.mjs'), '--out-dir', BENCH_BUILD_DIR], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (built.status !== 0) {
    process.stderr.write(built.stdout ?? '');
    throw new Error(`scripts/build.mjs failed (exit ${built.status ?? built.signal})`);
  }
  return { runtime, args: [join(BENCH_BUILD_DIR, 'bench', 'ingest.js')] };
}

/** Set by runIngestBench before any broker starts. */
let child: ChildScript | undefined;

async function startServer(kind: 'agent' | 'aedes', dataDir?: string, stopBoundSeconds = 20, heapFlags = ''): Promise<Server> {
  // VITALSEAL_BENCH_NODE_ARGS: extra node flags for the broker children (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p")
  const nodeArgs = `${heapFlags} ${process.env.VITALSEAL_BENCH_NODE_ARGS ?? ''}`.split(' ').filter((a) => a.length > 0);
  if (!child) throw new Error('startServer before runIngestBench chose the child script');
  const args = [...nodeArgs, ...child.args, '--serve', kind, ...(dataDir ? ['--data-dir', dataDir] : []), '--stop-bound', String(stopBoundSeconds)];
  const proc = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: proc.stdout! });
  const ready = await new Promise<{ port: number; httpPort: number | null }>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`${kind} server not ready: ${stderr}`)), 60_000);
    proc.once('exit', (code) => rej(new Error(`${kind} server exited ${code}: ${stderr}`)));
    lines.on('line', (line) => {
      const m = JSON.parse(line) as { ready?: boolean; port: number; httpPort?: number };
      if (m.ready) {
        clearTimeout(t);
        res({ port: m.port, httpPort: m.httpPort ?? null });
      }
    });
  });
  const stop = (): Promise<boolean> =>
    new Promise((res) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return res(proc.exitCode === 0);
      const t = setTimeout(() => proc.kill('SIGKILL'), (stopBoundSeconds + 5) * 1000);
      proc.once('exit', (code) => {
        clearTimeout(t);
        res(code === 0);
      });
      proc.kill('SIGTERM');
    });
  return { kind, proc, pid: proc.pid!, port: ready.port, httpPort: ready.httpPort, stop };
}

/**
 * The agent's ingest settings for the runs, from the environment as `vitalseal agent` reads it
 * (VITALSEAL_SYNCHRONOUS, VITALSEAL_WRITER; validated, CONFIG_INVALID otherwise), defaults otherwise.
 */
function benchIngestConfig(): AgentConfig['ingest'] {
  return parseAgentConfig({ dataDir: '.', ingest: configFromEnv(process.env).ingest ?? {} }).ingest;
}

/** The child side of startServer. */
async function serve(kind: string, dataDir: string | undefined, stopBoundSeconds: number): Promise<void> {
  let port: number;
  let httpPort: number | null = null;
  let stop: () => Promise<void>;
  if (kind === 'agent') {
    if (!dataDir) throw new Error('--serve agent needs --data-dir');
    const { startAgent } = await import('../agent/agent.ts');
    const agent = await startAgent(parseAgentConfig({ dataDir, mqtt: { port: 0, maxConnections: 20_000 }, http: { port: 0 }, logLevel: 'silent', ingest: benchIngestConfig() }), { defaultMetrics: false });
    port = agent.mqttAddress!.port;
    httpPort = agent.httpAddress.port;
    stop = () => agent.stop();
  } else if (kind === 'aedes') {
    const { Aedes } = await import('aedes');
    const broker = await Aedes.createBroker();
    const server = createServer((socket) => {
      socket.setNoDelay(true); // as the agent's broker does
      broker.handle(socket);
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    port = (server.address() as { port: number }).port;
    stop = async () => {
      await new Promise<void>((res) => server.close(() => res()));
      await new Promise<void>((res) => broker.close(() => res()));
    };
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
  process.stdout.write(JSON.stringify({ ready: true, port, httpPort, pid: process.pid }) + '\n');
  process.once('SIGTERM', () => {
    const hard = setTimeout(() => process.exit(3), stopBoundSeconds * 1000);
    hard.unref();
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

// ---------------------------------------------------------------- client side (same code for both brokers)

function connect(port: number, dev: string): Promise<MqttClient> {
  return mqtt
    .connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: dev, username: dev, password: secretOf(dev), protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 30_000, keepalive: 120 })
    .then((c) => {
      (c.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
      return c;
    });
}

async function connectMany(port: number, devices: readonly string[], batch: number, onProgress?: (n: number) => void): Promise<MqttClient[]> {
  const out: MqttClient[] = [];
  for (let i = 0; i < devices.length; i += batch) {
    out.push(...(await Promise.all(devices.slice(i, i + batch).map((d) => connect(port, d)))));
    onProgress?.(out.length);
  }
  return out;
}

async function endAll(clients: readonly MqttClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 1000) await Promise.all(clients.slice(i, i + 1000).map((c) => c.endAsync(true).catch(() => undefined)));
}

/** Publishes `payloads` on `topic` keeping at most `window` QoS 1 publishes in flight. */
function publishWindowed(c: MqttClient, topic: string, payloads: readonly Buffer[], window: number): Promise<{ acked: number; failed: number }> {
  return new Promise((done) => {
    let next = 0;
    let inflight = 0;
    let acked = 0;
    let failed = 0;
    const pump = (): void => {
      while (inflight < window && next < payloads.length) {
        inflight++;
        c.publish(topic, payloads[next++]!, { qos: 1 }, (err) => {
          inflight--;
          if (err) failed++;
          else acked++;
          if (next < payloads.length) pump();
          else if (inflight === 0) done({ acked, failed });
        });
      }
    };
    if (payloads.length === 0) done({ acked, failed });
    else pump();
  });
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const median = (xs: readonly number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);
const round = (x: number, d = 0): number => Math.round(x * 10 ** d) / 10 ** d;

function rssMiB(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** CPU seconds (user + system) of a process and of its main thread, from /proc (Linux; NaN elsewhere). */
function cpuSeconds(pid: number): { process: number; main: number } {
  const ticks = (file: string): number => {
    try {
      const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, USER_HZ = 100
    } catch {
      return NaN;
    }
  };
  return { process: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`) };
}

async function commitStats(httpPort: number): Promise<CommitStats> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const v = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const commits = v('vitalseal_commit_seconds_count');
  return {
    commits,
    avgBatch: round(v('vitalseal_commit_batch_size_sum') / commits, 1),
    avgCommitMs: round((v('vitalseal_commit_seconds_sum') / commits) * 1000, 2),
  };
}

async function healthRecords(httpPort: number): Promise<number> {
  const h = (await (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).json()) as { records: number };
  return h.records;
}

// ---------------------------------------------------------------- the three measurements

async function throughputRun(kind: 'agent' | 'aedes', ward: BenchWard, lists: ReadonlyMap<string, Buffer[]>, window: number, warmupFraction: number): Promise<ThroughputRun> {
  const devices = [...lists.keys()];
  const dataDir = kind === 'agent' ? mkdtempSync(join(tmpdir(), 'vitalseal-bench-ingest-')) : undefined;
  if (dataDir) await ward.provision(dataDir, devices);
  const server = await startServer(kind, dataDir);
  let clients: MqttClient[] = [];
  try {
    clients = await connectMany(server.port, devices, 64);
    const warm = devices.map((d) => lists.get(d)!.slice(0, Math.floor(lists.get(d)!.length * warmupFraction)));
    const timed = devices.map((d) => lists.get(d)!.slice(Math.floor(lists.get(d)!.length * warmupFraction)));
    await Promise.all(clients.map((c, k) => publishWindowed(c, readingTopic(devices[k]!), warm[k]!, window)));
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const res = await Promise.all(clients.map((c, k) => publishWindowed(c, readingTopic(devices[k]!), timed[k]!, window)));
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds(server.pid);
    const failed = res.reduce((s, r) => s + r.failed, 0);
    if (failed > 0) throw new Error(`${kind}: ${failed} publishes failed`);
    const readings = res.reduce((s, r) => s + r.acked, 0);
    let commit: CommitStats | undefined;
    if (kind === 'agent') {
      const stored = await healthRecords(server.httpPort!);
      const expected = [...lists.values()].reduce((s, l) => s + l.length, 0);
      if (stored !== expected) throw new Error(`agent stored ${stored} of ${expected} acknowledged readings`);
      commit = await commitStats(server.httpPort!);
    }
    const perReading = (a: number, b: number): number => round(((b - a) * 1e6) / readings, 1);
    return {
      broker: kind,
      publishers: devices.length,
      readings,
      seconds,
      perSecond: readings / seconds,
      cpuUsPerReading: perReading(cpu0.process, cpu1.process),
      mainThreadCpuUsPerReading: perReading(cpu0.main, cpu1.main),
      ...(commit ? { commit } : {}),
    };
  } finally {
    await endAll(clients); // also on failure, or the open sockets keep this process alive
    await server.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

async function latencyRun(ward: BenchWard, lists: ReadonlyMap<string, Buffer[]>, rate: number, seconds: number, warmupSeconds: number): Promise<LatencyResult> {
  const devices = [...lists.keys()];
  const dataDir = mkdtempSync(join(tmpdir(), 'vitalseal-bench-latency-'));
  await ward.provision(dataDir, devices);
  const server = await startServer('agent', dataDir);
  try {
    const clients = await connectMany(server.port, devices, 64);
    const total = Math.round(rate * (seconds + warmupSeconds));
    const warmupCount = Math.round(rate * warmupSeconds);
    const latencies: number[] = [];
    let failed = 0;
    let answered = 0;
    const cursor = new Array<number>(devices.length).fill(0);
    const t0 = performance.now();
    let sent = 0;
    let tEnd = 0;
    await new Promise<void>((done) => {
      const tick = (): void => {
        // publish every reading whose slot (t0 + k / rate) has come, round robin over devices
        const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
        while (sent < due) {
          const k = sent++;
          const d = k % devices.length;
          const payload = lists.get(devices[d]!)![cursor[d]!++]!;
          const start = performance.now();
          clients[d]!.publish(readingTopic(devices[d]!), payload, { qos: 1 }, (err) => {
            const ms = performance.now() - start;
            if (err) failed++;
            else if (k >= warmupCount) latencies.push(ms);
            if (++answered === total) {
              tEnd = performance.now();
              done();
            }
          });
        }
        if (sent < total) setTimeout(tick, 1);
      };
      tick();
    });
    const measured = total - warmupCount;
    latencies.sort((a, b) => a - b);
    const commit = await commitStats(server.httpPort!);
    await endAll(clients);
    return {
      targetRate: rate,
      publishers: devices.length,
      seconds,
      readings: measured,
      achievedRate: total / ((tEnd - t0) / 1000),
      p50Ms: quantile(latencies, 0.5),
      p90Ms: quantile(latencies, 0.9),
      p99Ms: quantile(latencies, 0.99),
      maxMs: latencies[latencies.length - 1] ?? NaN,
      failed,
      commit,
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function fleetRun(ward: BenchWard, nDevices: number, seconds: number, heapFlags: string, progress: (s: string) => void): Promise<FleetResult> {
  const devices = Array.from({ length: nDevices }, (_, i) => devName(i));
  const dataDir = mkdtempSync(join(tmpdir(), 'vitalseal-ingest-fleet-'));
  let t = performance.now();
  progress(`fleet: issuing ${nDevices} tickets and provisioning ${nDevices} devices`);
  await ward.provision(dataDir, devices);
  progress(`fleet: provisioned in ${round((performance.now() - t) / 1000, 1)} s; pre-sealing ${nDevices * seconds} session-mode envelopes`);
  t = performance.now();
  const now = Date.now();
  const payloads: Buffer[][] = devices.map((d) => {
    const seal = ward.sessionSealer(d);
    return Array.from({ length: seconds }, (_, s) => seal(s + 1, now + s * 1000));
  });
  progress(`fleet: sealed in ${round((performance.now() - t) / 1000, 1)} s`);
  const server = await startServer('agent', dataDir, 120, heapFlags);
  let clients: MqttClient[] = [];
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssMiB(server.pid).rss;
    t = performance.now();
    clients = await connectMany(server.port, devices, 500, (n) => {
      if (n % 2000 === 0 || n === nDevices) progress(`fleet: ${n}/${nDevices} connected (${round((performance.now() - t) / 1000)} s)`);
    });
    const connectSeconds = (performance.now() - t) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const connected = rssMiB(server.pid).rss;
    progress(`fleet: ${nDevices} devices connected in ${round(connectSeconds, 1)} s; publishing 1 reading/s each for ${seconds} s`);

    // Each device publishes at its own phase within the second (a tick every 10 ms serves 1/100 of
    // the fleet). Like a device with one reading in flight, it does not send a reading that falls
    // due while its previous one is unacknowledged: that one is counted as deferred.
    const SLOTS = 100;
    const inflight = new Uint8Array(nDevices);
    let published = 0;
    let deferred = 0;
    let acked = 0;
    let failed = 0;
    const latencies: number[] = [];
    let peak = connected;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(server.pid).rss)), 500);
    const t0 = performance.now();
    const totalTicks = seconds * SLOTS;
    let tickDone = 0;
    await new Promise<void>((done) => {
      const tick = (): void => {
        const due = Math.min(totalTicks, Math.floor((performance.now() - t0) / 10) + 1);
        while (tickDone < due) {
          const tk = tickDone++;
          const slot = tk % SLOTS;
          const second = Math.floor(tk / SLOTS);
          for (let d = slot; d < nDevices; d += SLOTS) {
            if (inflight[d]) {
              deferred++;
              continue;
            }
            inflight[d] = 1;
            const start = performance.now();
            published++;
            clients[d]!.publish(readingTopic(devices[d]!), payloads[d]![second]!, { qos: 1 }, (err) => {
              inflight[d] = 0;
              if (err) failed++;
              else {
                acked++;
                if ((acked & 7) === 0) latencies.push(performance.now() - start);
              }
            });
          }
          if (tk % (SLOTS * 10) === SLOTS * 10 - 1) progress(`fleet: ${second + 1}/${seconds} s, ${acked} acked, ${deferred} deferred, agent RSS ${round(rssMiB(server.pid).rss)} MiB`);
        }
        if (tickDone < totalTicks) setTimeout(tick, 2);
        else done();
      };
      tick();
    });
    const sendSeconds = (performance.now() - t0) / 1000;
    const deadline = performance.now() + 60_000;
    while (acked + failed < published && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const drainSeconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const end = rssMiB(server.pid);
    peak = Math.max(peak, end.rss);
    const stored = await healthRecords(server.httpPort!);
    const commit = await commitStats(server.httpPort!);
    latencies.sort((a, b) => a - b);
    progress(`fleet: done: ${published} published, ${acked} acked, ${stored} stored; stopping the agent with ${nDevices} devices connected`);
    const ts = performance.now();
    const stopped = await server.stop();
    const stopSeconds = stopped ? round((performance.now() - ts) / 1000, 1) : null;
    return {
      devices: nDevices,
      seconds,
      connectSeconds,
      scheduled: nDevices * seconds,
      published,
      deferred,
      acked,
      failed,
      stored,
      lost: acked - stored,
      achievedRate: acked / Math.max(sendSeconds, drainSeconds),
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      rssMiB: { idle: round(idle, 1), connected: round(connected, 1), peak: round(peak, 1), end: round(end.rss, 1), hwm: round(end.hwm, 1) },
      commit,
      stopSeconds,
      zeroLoss: failed === 0 && acked === published && stored === acked,
      heapFlags,
      meetsRssTarget: peak <= RSS_TARGET_MIB,
    };
  } finally {
    await server.stop();
    await endAll(clients);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the bench

export async function runIngestBench(opts: IngestBenchOptions = {}): Promise<IngestBenchResult> {
  const quick = opts.quick ?? false;
  const rounds = opts.rounds ?? (quick ? 1 : 3);
  const window = opts.window ?? 32;
  const fleet = opts.fleet ?? !quick;
  const progress = opts.onProgress ?? ((): void => undefined);
  const loadavgStart = loadavg().map((x) => round(x, 2));
  benchIngestConfig(); // an invalid VITALSEAL_SYNCHRONOUS / VITALSEAL_WRITER fails here, before any work
  const runtime = opts.runtime ?? (quick && !RUNNING_BUILT ? 'tsx' : 'built');
  child = await childScript(runtime, progress);
  const ward = new BenchWard('bench-ingest');
  const fdatasync = diskSyncLatency(tmpdir(), quick ? 50 : 200);
  progress(`disk: fdatasync of a 4 KiB append p50 ${fdatasync.p50Ms} ms, p90 ${fdatasync.p90Ms} ms`);

  // payloads, sealed once before any measurement and reused by every run (each agent run has a fresh store)
  // full runs: plain aedes 1.2-3 s per run, the agent 3-7 s here (runs of 0.4-1.5 s swung ±30 % on a shared 2-core machine)
  const perSingle = quick ? 1500 : 60000;
  const perMulti = quick ? 250 : 6000;
  const latencySeconds = quick ? 3 : 10;
  const latencyWarmup = 1;
  const latencyPublishers = 10;
  const rate = 1000;
  const perLatency = Math.ceil((rate * (latencySeconds + latencyWarmup)) / latencyPublishers);
  const sealCount = perSingle + 16 * perMulti + latencyPublishers * perLatency;
  progress(`sealing ${sealCount} envelopes (per-reading HPKE, node backend)`);
  let t = performance.now();
  const single = new Map([[devName(0), Array.from({ length: perSingle }, (_, s) => ward.seal(devName(0), s + 1))]]);
  const multi = new Map(Array.from({ length: 16 }, (_, d) => [devName(d), Array.from({ length: perMulti }, (_, s) => ward.seal(devName(d), s + 1))] as const));
  const paced = new Map(Array.from({ length: latencyPublishers }, (_, d) => [devName(100 + d), Array.from({ length: perLatency }, (_, s) => ward.seal(devName(100 + d), s + 1))] as const));
  progress(`sealed in ${round((performance.now() - t) / 1000, 1)} s`);

  // throughput: interleaved agent / aedes runs
  const throughput: ThroughputResult[] = [];
  for (const [publishers, lists] of [
    [1, single],
    [16, multi],
  ] as const) {
    const runs: ThroughputRun[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 === 0 ? (['agent', 'aedes'] as const) : (['aedes', 'agent'] as const)) {
        const run = await throughputRun(kind, ward, lists, window, 0.1);
        runs.push(run);
        progress(`throughput ${publishers} publisher(s), round ${r + 1}/${rounds}, ${kind}: ${round(run.perSecond)} readings/s`);
      }
    }
    const agentPerSecond = median(runs.filter((x) => x.broker === 'agent').map((x) => x.perSecond));
    const aedesPerSecond = median(runs.filter((x) => x.broker === 'aedes').map((x) => x.perSecond));
    const ratio = agentPerSecond / aedesPerSecond;
    throughput.push({
      publishers,
      window,
      readingsPerRun: runs[0]!.readings,
      agentPerSecond: round(agentPerSecond),
      aedesPerSecond: round(aedesPerSecond),
      ratio: round(ratio, 3),
      meetsTarget: ratio >= RATIO_TARGET,
      runs: runs.map((x) => ({ ...x, seconds: round(x.seconds, 3), perSecond: round(x.perSecond) })),
    });
  }

  progress(`latency: ${rate} readings/s for ${latencySeconds} s (+${latencyWarmup} s warm-up), ${latencyPublishers} paced publishers`);
  t = performance.now();
  const lat = await latencyRun(ward, paced, rate, latencySeconds, latencyWarmup);
  const latency: LatencyResult = { ...lat, achievedRate: round(lat.achievedRate), p50Ms: round(lat.p50Ms, 2), p90Ms: round(lat.p90Ms, 2), p99Ms: round(lat.p99Ms, 2), maxMs: round(lat.maxMs, 2) };
  progress(`latency: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms`);

  let fleetResult: FleetResult | null = null;
  if (fleet) {
    const r = await fleetRun(ward, opts.fleetDevices ?? 10_000, opts.fleetSeconds ?? 60, opts.fleetHeapFlags ?? FLEET_HEAP_FLAGS, progress);
    fleetResult = { ...r, connectSeconds: round(r.connectSeconds, 1), achievedRate: round(r.achievedRate), p50Ms: round(r.p50Ms, 2), p99Ms: round(r.p99Ms, 2) };
  }

  const ok = throughput.every((x) => x.meetsTarget) && latency.failed === 0 && (fleetResult === null || (fleetResult.zeroLoss && fleetResult.meetsRssTarget));
  return {
    bench: 'vitalseal-ingest',
    mode: quick ? 'quick' : 'full',
    runtime,
    date: new Date().toISOString(),
    machine: {
      node: process.version,
      platform: platform(),
      arch: arch(),
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memGiB: round(totalmem() / 2 ** 30, 1),
      loadavgStart,
      loadavgEnd: loadavg().map((x) => round(x, 2)),
      dataDir: tmpdir(),
      fdatasync,
    },
    ratioTarget: RATIO_TARGET,
    throughput,
    latency,
    fleet: fleetResult,
    ok,
  };
}

export function formatIngestBench(r: IngestBenchResult): string {
  const m = r.machine;
  const pad = (s: string | number, n: number): string => String(s).padStart(n);
  const lines = [
    `vitalseal ingest bench (${r.mode}) — ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, node ${m.node}, load ${m.loadavgStart.join('/')} → ${m.loadavgEnd.join('/')}`,
    `data dir ${m.dataDir}: fdatasync of a 4 KiB append p50 ${m.fdatasync.p50Ms} ms, p90 ${m.fdatasync.p90Ms} ms (${m.fdatasync.samples} samples; every durable commit waits for one)`,
    `store: SQLite WAL, agent ingest.synchronous '${benchIngestConfig().synchronous}', ingest.writer '${benchIngestConfig().writer}'; brokers in child processes (${r.runtime === 'built' ? 'compiled JavaScript' : 'TypeScript via tsx'}), clients in this one; loopback`,
    '',
    `durable ingest throughput, QoS 1, window ${r.throughput[0]?.window ?? '?'} in flight per publisher (median of ${r.throughput[0]?.runs.filter((x) => x.broker === 'agent').length ?? 0} runs)`,
    `  publishers  readings/run   agent (readings/s)   aedes, no store (readings/s)   ratio   target ≥ ${r.ratioTarget}`,
  ];
  for (const x of r.throughput) {
    lines.push(`  ${pad(x.publishers, 10)}  ${pad(x.readingsPerRun, 12)}   ${pad(x.agentPerSecond, 18)}   ${pad(x.aedesPerSecond, 28)}   ${pad(x.ratio.toFixed(2), 5)}   ${x.meetsTarget ? 'met' : 'MISSED'}`);
  }
  for (const x of r.throughput) {
    const agentRuns = x.runs.filter((y) => y.broker === 'agent');
    lines.push(
      `  ${x.publishers} publisher(s): agent runs ${agentRuns.map((y) => y.perSecond).join(', ')}; aedes runs ${x.runs.filter((y) => y.broker === 'aedes').map((y) => y.perSecond).join(', ')}; ` +
        `agent group commits: avg batch ${agentRuns.map((y) => y.commit?.avgBatch).join('/')}, avg commit ${agentRuns.map((y) => y.commit?.avgCommitMs).join('/')} ms`,
    );
  }
  const l = r.latency;
  lines.push(
    '',
    `PUBACK latency on the agent at ${l.targetRate} readings/s (${l.publishers} paced publishers, ${l.seconds} s, ${l.readings} readings, achieved ${l.achievedRate}/s):`,
    `  p50 ${l.p50Ms} ms   p90 ${l.p90Ms} ms   p99 ${l.p99Ms} ms   max ${l.maxMs} ms   failed ${l.failed}   (agent: avg batch ${l.commit.avgBatch}, avg commit ${l.commit.avgCommitMs} ms)`,
  );
  const f = r.fleet;
  if (f) {
    lines.push(
      '',
      `${f.devices} connected devices × 1 reading/s × ${f.seconds} s (all connected in ${f.connectSeconds} s; agent flags: ${f.heapFlags || "Node's defaults"}):`,
      `  agent RSS MiB: idle ${f.rssMiB.idle}, ${f.devices} connected ${f.rssMiB.connected}, peak ${f.rssMiB.peak}, end ${f.rssMiB.end} (VmHWM ${f.rssMiB.hwm}); target peak ≤ ${RSS_TARGET_MIB}: ${f.meetsRssTarget ? 'met' : 'MISSED'}`,
      `  scheduled ${f.scheduled}, published ${f.published}, deferred (previous still unacked) ${f.deferred}; acked ${f.acked} = ${f.achievedRate} readings/s; PUBACK p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms`,
      `  failed ${f.failed}, stored ${f.stored}, lost ${f.lost} → ${f.zeroLoss ? 'zero loss (stored = acked = published)' : 'LOSS'}`,
      `  agent commits ${f.commit.commits}, avg batch ${f.commit.avgBatch}, avg commit ${f.commit.avgCommitMs} ms; graceful stop with all devices connected: ${f.stopSeconds === null ? 'not done within 120 s (killed)' : `${f.stopSeconds} s`}`,
    );
  } else {
    lines.push('', '10,000-device RSS run: skipped (--quick)');
  }
  lines.push('', r.ok ? 'result: all targets met' : 'result: a target was missed');
  return lines.join('\n');
}

const HELP = `Usage: node --import tsx bench/ingest.ts [--quick] [--rounds N] [--no-fleet] [--json FILE]

Durable ingest throughput of the edge agent vs a plain aedes QoS 1 broker (1 and 16
publishers), PUBACK latency at 1,000 readings/s, and (full mode) agent RSS with 10,000
connected devices publishing 1 reading/s for 60 s with a zero-loss check.

  --quick        small counts, one round, no 10,000-device run (~1 min)
  --rounds N     rounds of the throughput comparison (default 3; quick 1)
  --no-fleet     skip the 10,000-device run
  --runtime R    broker children run 'built' (compiled by scripts/build.mjs first, as a
                 gateway runs node dist/cli/bin.js; default of full runs) or 'tsx' (the
                 sources through tsx; default of --quick)
  --json FILE    also write the result (with machine info) as JSON ("-" for stdout only)
  --help         this text

Environment: VITALSEAL_SYNCHRONOUS (full | sqlite-full | normal) and VITALSEAL_WRITER (thread |
inline) configure the agent under test; VITALSEAL_BENCH_NODE_ARGS adds node flags to the broker
children (e.g. --cpu-prof).

Exit code: 0 when every target is met, 1 when one is missed, 2 on bad usage.`;

async function main(argv: readonly string[]): Promise<number> {
  let quick = false;
  let jsonPath: string | undefined;
  let serveKind: string | undefined;
  let dataDir: string | undefined;
  let stopBound = 20;
  let rounds: number | undefined;
  let fleet: boolean | undefined;
  let runtime: BenchRuntime | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(HELP);
      return 0;
    } else if (arg === '--quick') quick = true;
    else if (arg === '--json' && argv[i + 1] !== undefined) jsonPath = argv[++i];
    else if (arg === '--rounds' && argv[i + 1] !== undefined && Number.isInteger(Number(argv[i + 1])) && Number(argv[i + 1]) > 0) rounds = Number(argv[++i]);
    else if (arg === '--no-fleet') fleet = false;
    else if (arg === '--runtime' && (argv[i + 1] === 'built' || argv[i + 1] === 'tsx')) runtime = argv[++i] as BenchRuntime;
    else if (arg === '--serve' && argv[i + 1] !== undefined) serveKind = argv[++i];
    else if (arg === '--data-dir' && argv[i + 1] !== undefined) dataDir = argv[++i];
    else if (arg === '--stop-bound' && argv[i + 1] !== undefined) stopBound = Number(argv[++i]);
    else {
      console.error(`unknown argument: ${arg}\n\n${HELP}`);
      return 2;
    }
  }
  if (serveKind !== undefined) {
    await serve(serveKind, dataDir, stopBound);
    return -1; // keep running until SIGTERM
  }
  const result = await runIngestBench({ quick, ...(rounds !== undefined ? { rounds } : {}), ...(fleet !== undefined ? { fleet } : {}), ...(runtime !== undefined ? { runtime } : {}), onProgress: (line) => process.stderr.write(`  ${line}\n`) });
  if (jsonPath === '-') console.log(JSON.stringify(result, null, 2));
  else {
    console.log(formatIngestBench(result));
    console.log('\n' + JSON.stringify(result));
    if (jsonPath !== undefined) writeFileSync(jsonPath, JSON.stringify(result, null, 2) + '\n');
  }
  return result.ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exit(code);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
