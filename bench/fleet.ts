/**
 * How many readings per second the device-simulator fleet runner sustains, per sealing
 * backend, as a ratio to a no-crypto run made in the same run.
 *
 *   node --import tsx bench/fleet.ts [--quick] [--json out.json]
 *
 * Two links, both on this machine only:
 *  - `in-process`: the in-process agent stand-in (no network): what the runner itself costs,
 *    i.e. generating, sealing (HPKE per reading), the NVM ring and the send/ack bookkeeping;
 *  - `mqtt`: the real edge agent (embedded aedes broker + SQLite with fsync'd group commits)
 *    in a child process, reached over MQTT on 127.0.0.1.
 * Backends: `none` (structurally valid envelope, NO encryption: the baseline), `node`
 * (node:crypto), `noble` (pure JS, what a firmware port looks like). Every run is a fleet of
 * pulse oximeters in virtual time (as fast as acknowledgements come back), bounded in readings
 * and in wall time; rate = acknowledged readings / wall time of the run. Rounds interleave the
 * backends so load from other processes hits them alike; the median over rounds is reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SealBackend } from '../device-sim/crypto/sealer.ts';
import type { FleetDevice } from '../device-sim/fleet/fleetFile.ts';
import { runFleet, type FleetLink } from '../device-sim/fleet/fleetRunner.ts';
import { generateFleet, generatedIds } from '../device-sim/fleet/generatedFleet.ts';

export type FleetBenchLink = 'in-process' | 'mqtt';

export interface FleetBenchOptions {
  /** Smoke size: one round, fewer readings (≈ 30 s). */
  readonly quick?: boolean;
  readonly rounds?: number;
  readonly devices?: number;
  readonly links?: readonly FleetBenchLink[];
  readonly backends?: readonly SealBackend[];
  /** Readings per run, per backend (bounded further by `maxRunMs`). */
  readonly readings?: Partial<Record<SealBackend, number>>;
  /** Wall-time cap of one run. */
  readonly maxRunMs?: number;
  readonly onProgress?: (line: string) => void;
}

export interface FleetBenchRun {
  readonly link: FleetBenchLink;
  readonly backend: SealBackend;
  readonly round: number;
  readonly devices: number;
  readonly acknowledged: number;
  readonly wallMs: number;
  /** Acknowledged readings per wall second. */
  readonly rate: number;
}

export interface FleetBenchRow {
  readonly link: FleetBenchLink;
  readonly backend: SealBackend;
  /** Median rate over rounds, readings/s. */
  readonly rate: number;
  readonly min: number;
  readonly max: number;
  /** rate / rate of `none` on the same link. */
  readonly ratioToNoCrypto: number;
}

export interface FleetBenchResult {
  readonly bench: 'fleet';
  readonly date: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly node: string;
    readonly platform: string;
    readonly arch: string;
    readonly loadavg1: number;
  };
  readonly config: {
    readonly rounds: number;
    readonly devices: number;
    readonly readings: Record<SealBackend, number>;
    readonly maxRunMs: number;
    readonly profile: 'pulse-oximeter';
    readonly mode: 'per-reading';
    readonly time: 'virtual';
  };
  readonly rows: readonly FleetBenchRow[];
  readonly runs: readonly FleetBenchRun[];
}

const SEED = 'bench-fleet';
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Runs the benchmark and returns its results (used by the CLI below and the benchmark suite). */
export async function runFleetBench(o: FleetBenchOptions = {}): Promise<FleetBenchResult> {
  const quick = o.quick ?? false;
  const rounds = o.rounds ?? (quick ? 1 : 3);
  const devices = o.devices ?? (quick ? 20 : 50);
  const links = o.links ?? ['in-process', 'mqtt'];
  const backends = o.backends ?? ['none', 'node', 'noble'];
  const readings: Record<SealBackend, number> = {
    none: quick ? 2000 : 6000,
    node: quick ? 2000 : 6000,
    noble: quick ? 400 : 1200,
    ...o.readings,
  };
  const maxRunMs = o.maxRunMs ?? (quick ? 8000 : 20_000);
  const say = o.onProgress ?? (() => undefined);
  const runs: FleetBenchRun[] = [];

  // every run gets fresh device ids (seq restarts at 0 with an in-memory NVM)
  const idsOf = (link: FleetBenchLink, backend: SealBackend, round: number): string[] =>
    generatedIds(devices, `b-${link === 'mqtt' ? 'm' : 'p'}${round}${backend}`);
  let agent: BenchAgent | undefined;
  try {
    if (links.includes('mqtt')) {
      const all = backends.flatMap((b) => Array.from({ length: rounds + 1 }, (_, r) => idsOf('mqtt', b, r - 1))).flat();
      say(`starting the agent (child process) and provisioning ${all.length} devices…`);
      agent = await startBenchAgent(all);
    }
    // warm-up (JIT, connections, SQLite pages): one small uncounted run per link and backend
    for (const link of links) for (const backend of backends) await one(link, backend, -1);
    for (let round = 0; round < rounds; round++) {
      for (const link of links) for (const backend of backends) await one(link, backend, round);
    }
  } finally {
    await agent?.stop();
  }

  async function one(link: FleetBenchLink, backend: SealBackend, round: number): Promise<void> {
    const warmup = round < 0;
    const ids = idsOf(link, backend, round);
    const durationMs = Math.ceil((warmup ? readings[backend] / 5 : readings[backend]) / devices) * 1000;
    const startMs = Date.now() - durationMs - 60_000;
    const fleet = generateFleet({
      ids,
      profiles: ['pulse-oximeter'],
      seed: SEED,
      nbf: Math.floor(startMs / 1000) - 60,
      exp: Math.floor(Date.now() / 1000) + 3600,
      preloadTickets: link === 'in-process',
      ...(agent ? { secrets: agent.secrets } : {}),
    });
    const fleetLink: FleetLink = link === 'mqtt' ? { kind: 'mqtt', url: agent!.url } : { kind: 'loopback' };
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), maxRunMs);
    const { report } = await runFleet({
      devices: fleet.devices as FleetDevice[],
      link: fleetLink,
      durationMs,
      time: 'virtual',
      startMs,
      seed: SEED,
      backend,
      virtualStepMs: 2000,
      ackTimeoutMs: 10_000,
      drainTimeoutMs: 10_000,
      energyCore: null,
      signal: stop.signal,
    });
    clearTimeout(timer);
    const run: FleetBenchRun = {
      link,
      backend,
      round,
      devices,
      acknowledged: report.totals.acknowledged,
      wallMs: report.wallMs,
      rate: Math.round((report.totals.acknowledged * 1000) / Math.max(1, report.wallMs)),
    };
    if (!warmup) runs.push(run);
    if (run.acknowledged === 0) {
      const states = new Map<string, number>();
      for (const d of report.devices)
        states.set(`${d.state}/${d.lastLinkError ?? '-'}`, (states.get(`${d.state}/${d.lastLinkError ?? '-'}`) ?? 0) + 1);
      say(`  no reading acknowledged: device states ${JSON.stringify(Object.fromEntries(states))}, simulated ${report.simulatedMs} ms`);
    }
    say(
      `${warmup ? 'warm-up   ' : `round ${round + 1}/${rounds}`} ${link.padEnd(10)} ${backend.padEnd(5)} ${String(run.acknowledged).padStart(6)} readings in ${(run.wallMs / 1000).toFixed(2)} s → ${run.rate} /s`,
    );
  }

  const rows: FleetBenchRow[] = [];
  for (const link of links) {
    const rateOf = (b: SealBackend): number => median(runs.filter((r) => r.link === link && r.backend === b).map((r) => r.rate));
    const base = rateOf('none');
    for (const backend of backends) {
      const rates = runs.filter((r) => r.link === link && r.backend === backend).map((r) => r.rate);
      const rate = rateOf(backend);
      rows.push({
        link,
        backend,
        rate,
        min: Math.min(...rates),
        max: Math.max(...rates),
        ratioToNoCrypto: base > 0 ? Math.round((rate / base) * 1000) / 1000 : NaN,
      });
    }
  }
  return {
    bench: 'fleet',
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      node: process.version,
      platform: platform(),
      arch: arch(),
      loadavg1: loadavg()[0] ?? 0,
    },
    config: { rounds, devices, readings, maxRunMs, profile: 'pulse-oximeter', mode: 'per-reading', time: 'virtual' },
    rows,
    runs,
  };
}

export function formatFleetBench(r: FleetBenchResult): string {
  const lines = [
    `fleet runner, ${r.config.devices} pulse oximeters, virtual time, per-reading HPKE; median of ${r.config.rounds} round(s); ${r.machine.cpu} ×${r.machine.cores}, load ${r.machine.loadavg1.toFixed(1)}`,
    `${'link'.padEnd(10)}  ${'backend'.padEnd(7)}  ${'readings/s'.padStart(10)}  ${'min–max'.padStart(13)}  ${'vs no-crypto'.padStart(12)}`,
  ];
  for (const row of r.rows) {
    lines.push(
      `${row.link.padEnd(10)}  ${row.backend.padEnd(7)}  ${String(row.rate).padStart(10)}  ${`${row.min}–${row.max}`.padStart(13)}  ${(Number.isNaN(row.ratioToNoCrypto) ? '-' : row.ratioToNoCrypto.toFixed(3)).padStart(12)}`,
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- the agent, in a child process

export interface BenchAgent {
  readonly url: string;
  readonly secrets: ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

/** The real agent in a child process, with `ids` provisioned and their tickets pushed. */
export async function startBenchAgent(ids: string[]): Promise<BenchAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'vitalseal-bench-fleet-'));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve-agent', dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const hello = await new Promise<{ port: number; secrets: Record<string, string> }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { port: number; secrets: Record<string, string> });
    });
    child.once('exit', (code) => reject(new Error(`bench agent exited (${code})`)));
    child.stdin!.write(`${JSON.stringify({ ids, seed: SEED })}\n`);
  });
  return {
    url: `mqtt://127.0.0.1:${hello.port}`,
    secrets: new Map(Object.entries(hello.secrets)),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Child side: start the agent, provision the devices, push their tickets, print {port, secrets}. */
async function serveAgent(dir: string): Promise<void> {
  const { startAgent } = await import('../agent/agent.ts');
  const { parseAgentConfig } = await import('../agent/config.ts');
  const request = await new Promise<{ ids: string[]; seed: string }>((resolve) => {
    let buf = '';
    process.stdin.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)) as { ids: string[]; seed: string });
    });
  });
  const agent = await startAgent(
    parseAgentConfig({ dataDir: dir, mqtt: { port: 0, maxPacketBytes: 16_384 }, http: { port: 0 }, logLevel: 'silent' }),
    { defaultMetrics: false },
  );
  const secrets: Record<string, string> = {};
  const now = Math.floor(Date.now() / 1000);
  const g = generateFleet({
    ids: request.ids,
    profiles: ['pulse-oximeter'],
    seed: request.seed,
    nbf: now - 7 * 86_400,
    exp: now + 3600,
    preloadTickets: false,
  });
  for (const id of request.ids) secrets[id] = agent.core.provisionDevice(id).secret;
  for (const t of g.tickets.values()) await agent.core.pushTicket(t);
  process.stdout.write(`${JSON.stringify({ port: agent.mqttAddress!.port, secrets })}\n`);
  const stop = (): void => void agent.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
}

async function main(argv: string[]): Promise<void> {
  const serve = argv.indexOf('--serve-agent');
  if (serve >= 0) return serveAgent(argv[serve + 1]!);
  const jsonAt = argv.indexOf('--json');
  const result = await runFleetBench({ quick: argv.includes('--quick'), onProgress: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(`${formatFleetBench(result)}\n`);
  if (jsonAt >= 0 && argv[jsonAt + 1]) writeFileSync(argv[jsonAt + 1]!, `${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`bench/fleet: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
