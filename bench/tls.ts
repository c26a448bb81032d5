/**
 * Durable ingest over TLS vs plain TCP (issue #20), in the same run and against the same agent build:
 * one agent child per run with TLS on (both listeners open), a fresh data dir each time, the same
 * pre-sealed readings; runs interleave plain / TLS (password over TLS) / mutual TLS (client
 * certificates of the ward CA).
 * - throughput: 16 publishers, 32 QoS 1 publishes in flight each, readings/s (median of the rounds);
 *   every PUBACKed reading must be in the store (checked after each run);
 * - PUBACK latency: 1,000 readings/s paced over 10 publishers, p50/p90/p99.
 * Target: TLS throughput ≥ 0.8 × plain TCP at 16 publishers.
 *
 *   node --import tsx bench/tls.ts [--quick] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { WardCa } from '../agent/tls/wardCa.ts';
import { readingTopic } from '../protocol/topics.ts';
import { machineInfo, REPO_ROOT } from './lib/machine.ts';
import { median, quantile, round } from './lib/stats.ts';
import { BenchWard, devName, secretOf } from './lib/ward.ts';

export const TLS_RATIO_TARGET = 0.8;
/**
 * Wall-clock throughput judges the target only when it can: at least two rounds per transport, each
 * transport's rounds within this spread (max / min), and the machine no busier than its cores at the
 * start. Otherwise the target is judged on the agent's CPU time per reading (plain / TLS: readings per
 * agent CPU second over TLS relative to plain), which a shared machine disturbs far less.
 */
export const TLS_WALL_MAX_SPREAD = 1.25;

/** How the TLS / plain target was judged, and why (written into the JSON). */
export interface TlsJudgement {
  readonly basis: 'wall-clock' | 'agent-cpu';
  /** The judged ratio: throughput TLS / plain (wall-clock), or agent CPU per reading plain / TLS (agent-cpu). */
  readonly value: number;
  readonly met: boolean;
  readonly reason: string;
}

export function judgeTls(r: {
  rounds: number;
  loadavgStart: readonly number[];
  cores: number;
  runs: Record<'plain' | 'tls', readonly number[]>;
  ratioTlsToPlain: number;
  cpuPlain: number;
  cpuTls: number;
}): TlsJudgement {
  const spread = (xs: readonly number[]): number => (xs.length === 0 ? Infinity : Math.max(...xs) / Math.max(1e-9, Math.min(...xs)));
  const worst = Math.max(spread(r.runs.plain), spread(r.runs.tls));
  const load = r.loadavgStart[0] ?? 0;
  const cpuValue = round(r.cpuPlain / r.cpuTls, 3);
  const cpu = (why: string): TlsJudgement => ({ basis: 'agent-cpu', value: cpuValue, met: cpuValue >= TLS_RATIO_TARGET, reason: why });
  if (r.rounds < 2) return cpu(`one round per transport: the wall-clock spread is unknown`);
  if (load > r.cores) return cpu(`load ${load} on ${r.cores} cores at the start`);
  if (worst > TLS_WALL_MAX_SPREAD) return cpu(`wall-clock rounds spread ${round(worst, 2)}× > ${TLS_WALL_MAX_SPREAD}×`);
  return {
    basis: 'wall-clock',
    value: r.ratioTlsToPlain,
    met: r.ratioTlsToPlain >= TLS_RATIO_TARGET,
    reason: `rounds within ${round(worst, 2)}× (≤ ${TLS_WALL_MAX_SPREAD}×), load ${load} on ${r.cores} cores`,
  };
}
type Transport = 'plain' | 'tls' | 'mtls';
const SELF = fileURLToPath(import.meta.url);

interface Child {
  pid: number;
  port: number;
  tlsPort: number;
  httpPort: number;
  stop(): Promise<void>;
}

async function startChild(dataDir: string): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve', dataDir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const ready = await new Promise<{ port: number; tlsPort: number; httpPort: number }>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`bench agent exited (${code}): ${err}`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as { ready?: boolean; port: number; tlsPort: number; httpPort: number };
        if (m.ready) resolve(m);
      } catch {
        /* not ours */
      }
    });
  });
  return {
    pid: proc.pid!,
    ...ready,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
        proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

async function serve(dataDir: string): Promise<void> {
  const { startAgent } = await import('../agent/agent.ts');
  const { parseAgentConfig } = await import('../agent/config.ts');
  const agent = await startAgent(
    parseAgentConfig({ dataDir, mqtt: { port: 0 }, http: { port: 0 }, tls: { enabled: true, port: 0 }, logLevel: 'silent' }),
    { defaultMetrics: false },
  );
  process.stdout.write(
    `${JSON.stringify({ ready: true, port: agent.mqttAddress!.port, tlsPort: agent.mqttTlsAddress!.port, httpPort: agent.httpAddress.port })}\n`,
  );
  process.once('SIGTERM', () => {
    agent.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

function httpsText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let t = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        t += d;
      });
      res.on('end', () => resolve(t));
    })
      .on('error', reject)
      .end();
  });
}

interface RunSetup {
  child: Child;
  ca: WardCa;
  clients: MqttClient[];
  dataDir: string;
}

/** A fresh data dir (ward CA, device certificates, credentials, tickets), the agent child, the devices connected over `transport`. */
async function setup(ward: BenchWard, devices: readonly string[], transport: Transport): Promise<RunSetup> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vitalseal-bench-tls-'));
  const ca = await WardCa.init(dataDir);
  const certs = new Map<string, { certPem: string; keyPem: string }>();
  if (transport === 'mtls') for (const d of devices) certs.set(d, await ca.issueDeviceWithKey(d));
  await ward.provision(dataDir, devices);
  const child = await startChild(dataDir);
  const clients = await Promise.all(
    devices.map((dev) => {
      const base: IClientOptions = {
        clientId: dev,
        username: dev,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
        keepalive: 120,
      };
      const opts: IClientOptions =
        transport === 'plain'
          ? { ...base, password: secretOf(dev) }
          : transport === 'tls'
            ? { ...base, password: secretOf(dev), ca: ca.certPem }
            : { ...base, ca: ca.certPem, cert: certs.get(dev)!.certPem, key: certs.get(dev)!.keyPem };
      const url = transport === 'plain' ? `mqtt://127.0.0.1:${child.port}` : `mqtts://127.0.0.1:${child.tlsPort}`;
      return mqtt.connectAsync(url, opts).then((c) => {
        (c.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
        return c;
      });
    }),
  );
  return { child, ca, clients, dataDir };
}

async function teardown(s: RunSetup): Promise<void> {
  await Promise.all(s.clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await s.child.stop();
  rmSync(s.dataDir, { recursive: true, force: true });
}

function publishWindowed(c: MqttClient, topic: string, payloads: readonly Buffer[], window: number): Promise<number> {
  return new Promise((done, fail) => {
    let next = 0;
    let inflight = 0;
    let acked = 0;
    const pump = (): void => {
      while (inflight < window && next < payloads.length) {
        inflight++;
        c.publish(topic, payloads[next++]!, { qos: 1 }, (err) => {
          inflight--;
          if (err) return fail(err);
          acked++;
          if (next < payloads.length) pump();
          else if (inflight === 0) done(acked);
        });
      }
    };
    if (payloads.length === 0) done(0);
    else pump();
  });
}

async function storedRecords(s: RunSetup): Promise<number> {
  const h = JSON.parse(await httpsText(`https://127.0.0.1:${s.child.httpPort}/healthz`, s.ca.certPem)) as { records: number };
  return h.records;
}

/** CPU seconds (user + system) of a process from /proc (Linux; NaN elsewhere): steadier than readings/s on a shared machine. */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function throughputRun(
  ward: BenchWard,
  lists: ReadonlyMap<string, Buffer[]>,
  transport: Transport,
  window: number,
): Promise<{ perSecond: number; agentCpuUsPerReading: number }> {
  const devices = [...lists.keys()];
  const s = await setup(ward, devices, transport);
  try {
    const warm = Math.floor(lists.get(devices[0]!)!.length * 0.1);
    await Promise.all(
      s.clients.map((c, k) => publishWindowed(c, readingTopic(devices[k]!), lists.get(devices[k]!)!.slice(0, warm), window)),
    );
    const cpu0 = cpuSeconds(s.child.pid);
    const t0 = performance.now();
    const acked = await Promise.all(
      s.clients.map((c, k) => publishWindowed(c, readingTopic(devices[k]!), lists.get(devices[k]!)!.slice(warm), window)),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(s.child.pid) - cpu0;
    const expected = [...lists.values()].reduce((n, l) => n + l.length, 0);
    const stored = await storedRecords(s);
    if (stored !== expected) throw new Error(`${transport}: the agent stored ${stored} of ${expected} acknowledged readings`);
    const n = acked.reduce((a, b) => a + b, 0);
    return { perSecond: n / seconds, agentCpuUsPerReading: round((cpu * 1e6) / n, 1) };
  } finally {
    await teardown(s);
  }
}

async function latencyRun(
  ward: BenchWard,
  lists: ReadonlyMap<string, Buffer[]>,
  transport: Transport,
  rate: number,
  seconds: number,
): Promise<{ p50Ms: number; p90Ms: number; p99Ms: number; achievedRate: number }> {
  const devices = [...lists.keys()];
  const s = await setup(ward, devices, transport);
  try {
    const total = Math.round(rate * (seconds + 1));
    const warmup = rate;
    const lat: number[] = [];
    const cursor = new Array<number>(devices.length).fill(0);
    const t0 = performance.now();
    let sent = 0;
    let answered = 0;
    let tEnd = 0;
    await new Promise<void>((done, fail) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
        while (sent < due) {
          const k = sent++;
          const d = k % devices.length;
          const start = performance.now();
          s.clients[d]!.publish(readingTopic(devices[d]!), lists.get(devices[d]!)![cursor[d]!++]!, { qos: 1 }, (err) => {
            if (err) return fail(err);
            if (k >= warmup) lat.push(performance.now() - start);
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
    lat.sort((a, b) => a - b);
    return {
      p50Ms: round(quantile(lat, 0.5), 2),
      p90Ms: round(quantile(lat, 0.9), 2),
      p99Ms: round(quantile(lat, 0.99), 2),
      achievedRate: round(total / ((tEnd - t0) / 1000)),
    };
  } finally {
    await teardown(s);
  }
}

export interface TlsBenchResult {
  machine: ReturnType<typeof machineInfo>;
  loadavgStart: number[];
  publishers: number;
  window: number;
  readingsPerRun: number;
  rounds: number;
  throughput: Record<Transport, { perSecond: number; runs: number[]; agentCpuUsPerReading: number; cpuRuns: number[] }>;
  /** Agent CPU per reading, TLS / plain (median): the cost of TLS on the agent, steadier than throughput under load. */
  cpuRatioTlsToPlain: number;
  ratioTlsToPlain: number;
  ratioMtlsToPlain: number;
  /** Whether the throughput ratio met the target (wall-clock, whatever the basis). */
  meetsTarget: boolean;
  /** The target's verdict and its basis (wall-clock throughput, or agent CPU per reading when wall-clock is too noisy). */
  judgement: TlsJudgement;
  latency: Record<Transport, { p50Ms: number; p90Ms: number; p99Ms: number; achievedRate: number }>;
  latencyRate: number;
  latencySeconds: number;
}

export async function runTlsBench(o: { quick?: boolean; onProgress?: (s: string) => void } = {}): Promise<TlsBenchResult> {
  const say = o.onProgress ?? ((): void => undefined);
  const quick = o.quick ?? false;
  const rounds = quick ? 1 : 3;
  const perPublisher = quick ? 400 : 3000;
  const window = 32;
  const rate = 1000;
  const latencySeconds = quick ? 3 : 10;
  const latencyPublishers = 10;
  const loadavgStart = loadavg().map((x) => round(x, 2));
  const ward = new BenchWard('bench-tls');
  say(`sealing ${16 * perPublisher + latencyPublishers * Math.ceil((rate * (latencySeconds + 1)) / latencyPublishers)} envelopes`);
  const multi = new Map(
    Array.from(
      { length: 16 },
      (_, d) => [devName('tls', d), Array.from({ length: perPublisher }, (_, s) => ward.seal(devName('tls', d), s + 1))] as const,
    ),
  );
  const perLatency = Math.ceil((rate * (latencySeconds + 1)) / latencyPublishers);
  const paced = new Map(
    Array.from(
      { length: latencyPublishers },
      (_, d) => [devName('tlslat', d), Array.from({ length: perLatency }, (_, s) => ward.seal(devName('tlslat', d), s + 1))] as const,
    ),
  );
  const order: Transport[][] = [
    ['plain', 'tls', 'mtls'],
    ['tls', 'mtls', 'plain'],
    ['mtls', 'plain', 'tls'],
  ];
  const runs: Record<Transport, number[]> = { plain: [], tls: [], mtls: [] };
  const cpuRuns: Record<Transport, number[]> = { plain: [], tls: [], mtls: [] };
  for (let r = 0; r < rounds; r++)
    for (const t of order[r % 3]!) {
      const v = await throughputRun(ward, multi, t, window);
      runs[t].push(round(v.perSecond));
      cpuRuns[t].push(v.agentCpuUsPerReading);
      say(
        `throughput 16 publishers, round ${r + 1}/${rounds}, ${t}: ${round(v.perSecond)} readings/s, agent CPU ${v.agentCpuUsPerReading} µs/reading`,
      );
    }
  const med = (t: Transport): number => round(median(runs[t]));
  const latency = {} as TlsBenchResult['latency'];
  for (const t of ['plain', 'tls', 'mtls'] as const) {
    latency[t] = await latencyRun(ward, paced, t, rate, latencySeconds);
    say(`latency ${rate}/s ${t}: p50 ${latency[t].p50Ms} ms, p99 ${latency[t].p99Ms} ms`);
  }
  const ratioTlsToPlain = round(med('tls') / med('plain'), 3);
  const machine = machineInfo();
  return {
    machine,
    loadavgStart,
    publishers: 16,
    window,
    readingsPerRun: 16 * perPublisher,
    rounds,
    throughput: {
      plain: { perSecond: med('plain'), runs: runs.plain, agentCpuUsPerReading: median(cpuRuns.plain), cpuRuns: cpuRuns.plain },
      tls: { perSecond: med('tls'), runs: runs.tls, agentCpuUsPerReading: median(cpuRuns.tls), cpuRuns: cpuRuns.tls },
      mtls: { perSecond: med('mtls'), runs: runs.mtls, agentCpuUsPerReading: median(cpuRuns.mtls), cpuRuns: cpuRuns.mtls },
    },
    cpuRatioTlsToPlain: round(median(cpuRuns.tls) / median(cpuRuns.plain), 3),
    ratioTlsToPlain,
    ratioMtlsToPlain: round(med('mtls') / med('plain'), 3),
    meetsTarget: ratioTlsToPlain >= TLS_RATIO_TARGET,
    judgement: judgeTls({
      rounds,
      loadavgStart,
      cores: machine.cores,
      runs,
      ratioTlsToPlain,
      cpuPlain: median(cpuRuns.plain),
      cpuTls: median(cpuRuns.tls),
    }),
    latency,
    latencyRate: rate,
    latencySeconds,
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args[0] === '--serve') {
    serve(args[1]!).catch((e: unknown) => {
      process.stderr.write(`bench agent: ${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    });
  } else {
    const json = args.includes('--json');
    runTlsBench({ quick: args.includes('--quick'), onProgress: (s) => process.stderr.write(`${s}\n`) }).then(
      (r) => {
        if (json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          const row = (t: Transport): string =>
            `${t.padEnd(6)} ${String(r.throughput[t].perSecond).padStart(8)} readings/s  agent CPU ${r.throughput[t].agentCpuUsPerReading} µs/reading  PUBACK p50 ${r.latency[t].p50Ms} ms, p99 ${r.latency[t].p99Ms} ms`;
          process.stdout.write(
            `durable ingest, 16 publishers × ${r.window} in flight, ${r.readingsPerRun} readings/run, median of ${r.rounds}; latency at ${r.latencyRate}/s\n${row('plain')}\n${row('tls')}\n${row('mtls')}\nTLS / plain = ${r.ratioTlsToPlain} (target ≥ ${TLS_RATIO_TARGET}: ${r.meetsTarget ? 'met' : 'MISSED'}); mTLS / plain = ${r.ratioMtlsToPlain}; agent CPU per reading TLS / plain = ${r.cpuRatioTlsToPlain}\njudged on ${r.judgement.basis} (${r.judgement.reason}): ${r.judgement.value} → ${r.judgement.met ? 'met' : 'MISSED'}\n`,
          );
        }
        process.exit(r.judgement.met ? 0 : 1);
      },
      (e: unknown) => {
        process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
        process.exit(2);
      },
    );
  }
}
