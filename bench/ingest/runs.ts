/** bench/ingest.ts's measurements: throughput, PUBACK latency and the 10,000-device run, with the client side they share. */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connectDevice } from '../lib/mqttClients.ts';
import { type BenchWard, devName as benchDevName } from '../lib/ward.ts';
import { readingTopic } from '../../protocol/topics.ts';
import { startServer } from './brokers.ts';
import { RSS_TARGET_MIB, type CommitStats, type FleetResult, type LatencyResult, type ThroughputRun } from './types.ts';

// ---------------------------------------------------------------- ward fixtures (keys, tickets, payloads): bench/lib/ward.ts

export const devName = (i: number): string => benchDevName('bench', i);

// ---------------------------------------------------------------- client side (same code for both brokers)

function connect(port: number, dev: string): Promise<MqttClient> {
  return connectDevice(port, dev, { connectTimeout: 30_000, keepalive: 120 });
}

async function connectMany(
  port: number,
  devices: readonly string[],
  batch: number,
  onProgress?: (n: number) => void,
): Promise<MqttClient[]> {
  const out: MqttClient[] = [];
  for (let i = 0; i < devices.length; i += batch) {
    out.push(...(await Promise.all(devices.slice(i, i + batch).map((d) => connect(port, d)))));
    onProgress?.(out.length);
  }
  return out;
}

async function endAll(clients: readonly MqttClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 1000)
    await Promise.all(clients.slice(i, i + 1000).map((c) => c.endAsync(true).catch(() => undefined)));
}

/** Publishes `payloads` on `topic` keeping at most `window` QoS 1 publishes in flight. */
function publishWindowed(
  c: MqttClient,
  topic: string,
  payloads: readonly Buffer[],
  window: number,
): Promise<{ acked: number; failed: number }> {
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

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export const median = (xs: readonly number[]): number =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
export const round = (x: number, d = 0): number => Math.round(x * 10 ** d) / 10 ** d;

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

export async function throughputRun(
  kind: 'agent' | 'aedes',
  ward: BenchWard,
  lists: ReadonlyMap<string, Buffer[]>,
  window: number,
  warmupFraction: number,
): Promise<ThroughputRun> {
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
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const res = await Promise.all(clients.map((c, k) => publishWindowed(c, readingTopic(devices[k]!), timed[k]!, window)));
    const seconds = (performance.now() - t0) / 1000;
    const client = process.cpuUsage(client0);
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
      clientCpuUsPerReading: round((client.user + client.system) / readings, 1),
      ...(commit ? { commit } : {}),
    };
  } finally {
    await endAll(clients); // also on failure, or the open sockets keep this process alive
    await server.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function latencyRun(
  ward: BenchWard,
  lists: ReadonlyMap<string, Buffer[]>,
  rate: number,
  seconds: number,
  warmupSeconds: number,
): Promise<LatencyResult> {
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

export async function fleetRun(
  ward: BenchWard,
  nDevices: number,
  seconds: number,
  heapFlags: string,
  progress: (s: string) => void,
): Promise<FleetResult> {
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
          if (tk % (SLOTS * 10) === SLOTS * 10 - 1)
            progress(
              `fleet: ${second + 1}/${seconds} s, ${acked} acked, ${deferred} deferred, agent RSS ${round(rssMiB(server.pid).rss)} MiB`,
            );
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
    progress(
      `fleet: done: ${published} published, ${acked} acked, ${stored} stored; stopping the agent with ${nDevices} devices connected`,
    );
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
      rssMiB: {
        idle: round(idle, 1),
        connected: round(connected, 1),
        peak: round(peak, 1),
        end: round(end.rss, 1),
        hwm: round(end.hwm, 1),
      },
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
