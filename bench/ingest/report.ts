/** bench/ingest.ts's text report. */
import { benchIngestConfig } from './brokers.ts';
import { RSS_TARGET_MIB, type IngestBenchResult } from './types.ts';

const round2 = (x: number): number => Math.round(x * 100) / 100;

export function formatIngestBench(r: IngestBenchResult): string {
  const m = r.machine;
  const pad = (s: string | number, n: number): string => String(s).padStart(n);
  const lines = [
    `vitalseal ingest bench (${r.mode}) — ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, node ${m.node}, load ${m.loadavgStart.join('/')} → ${m.loadavgEnd.join('/')}`,
    `data dir ${m.dataDir}: fdatasync of a 4 KiB append p50 ${m.fdatasync.p50Ms} ms, p90 ${m.fdatasync.p90Ms} ms, p99 ${m.fdatasync.p99Ms} ms (${m.fdatasync.samples} samples; every durable commit waits for one)`,
    `store: SQLite WAL, agent ingest.synchronous '${benchIngestConfig().synchronous}', ingest.writer '${benchIngestConfig().writer}'; brokers in child processes (${r.runtime === 'built' ? 'compiled JavaScript' : 'TypeScript via tsx'}), clients in this one; loopback`,
    '',
    `durable ingest throughput, QoS 1, window ${r.throughput[0]?.window ?? '?'} in flight per publisher (median of ${r.throughput[0]?.runs.filter((x) => x.broker === 'agent').length ?? 0} runs)`,
    `  publishers  readings/run   agent (readings/s)   aedes, no store (readings/s)   ratio   target ≥ ${r.ratioTarget} at ${r.judgedPublishers} (goal ${r.ratioGoal})`,
  ];
  const verdict = (x: IngestBenchResult['throughput'][number]): string => {
    if (x.meetsTarget === null) return 'not judged';
    if (!x.meetsTarget) return 'MISSED';
    return x.ratio >= r.ratioGoal ? 'met, goal reached' : 'met';
  };
  for (const x of r.throughput) {
    lines.push(
      `  ${pad(x.publishers, 10)}  ${pad(x.readingsPerRun, 12)}   ${pad(x.agentPerSecond, 18)}   ${pad(x.aedesPerSecond, 28)}   ${pad(x.ratio.toFixed(2), 5)}   ${verdict(x)}`,
    );
  }
  const med = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  for (const x of r.throughput) {
    const of = (broker: string, f: (y: (typeof x.runs)[number]) => number): number => med(x.runs.filter((y) => y.broker === broker).map(f));
    lines.push(
      `  ${x.publishers} publisher(s), CPU µs per reading (medians): agent ${of('agent', (y) => y.cpuUsPerReading)} (main thread ${of('agent', (y) => y.mainThreadCpuUsPerReading)}), its clients ${of('agent', (y) => y.clientCpuUsPerReading)}; aedes ${of('aedes', (y) => y.cpuUsPerReading)}, its clients ${of('aedes', (y) => y.clientCpuUsPerReading)}`,
    );
  }
  for (const x of r.throughput) {
    const agentRuns = x.runs.filter((y) => y.broker === 'agent');
    lines.push(
      `  ${x.publishers} publisher(s): agent runs ${agentRuns.map((y) => y.perSecond).join(', ')}; aedes runs ${x.runs
        .filter((y) => y.broker === 'aedes')
        .map((y) => y.perSecond)
        .join(', ')}; ` +
        `agent group commits: avg batch ${agentRuns.map((y) => y.commit?.avgBatch).join('/')}, avg commit ${agentRuns.map((y) => y.commit?.avgCommitMs).join('/')} ms`,
    );
  }
  const o = r.onePublisher;
  if (o)
    lines.push(
      `  1 publisher × ${o.window} in flight: ${o.agentPerSecond} readings/s against its Little's-law bound ${o.window} / fdatasync p50 ${o.fdatasyncP50Ms} ms = ${o.boundPerSecond}/s (${round2(o.shareOfBound * 100)} % of it; fdatasync p99 ${o.fdatasyncP99Ms} ms)`,
      `    implied mean PUBACK latency ${o.window} / rate = ${o.impliedLatencyMs} ms; the agent's mean group commit ${o.avgCommitMs} ms (not judged: each window waits for an fdatasync that plain aedes never does)`,
    );
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
