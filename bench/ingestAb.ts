/**
 * A/B(/C…) of the agent's durable ingest across builds: the agent of this checkout ("A") and of other
 * builds ("B", "C", …: their compiled bench/ingest.js, from `node scripts/build.mjs --out-dir DIR` in
 * another checkout) against plain aedes, interleaved in one process with the same sealed payloads and
 * client code (bench/ingest/runs.ts throughputRun), the order rotated per round, an fdatasync probe per
 * round. On a shared machine this is what tells a change from the noise: each round compares the
 * builds under the same load.
 *
 *   node --import tsx bench/ingestAb.ts <rounds> <publishers,…> <B: DIR/bench/ingest.js> [<C: …> …]
 *
 * Run it from the checkout with the OLDEST schema: it provisions each agent's data dir with its own
 * store code, and a newer agent migrates that on start (an older one refuses a newer schema).
 * Prints one JSON line per round and publisher count (readings/s, CPU µs per reading of each broker,
 * its main thread and the clients, mean group commit, ratios to aedes), then the medians.
 */
import { loadavg, tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { childScript, type ChildScript, useChildScript } from './ingest/brokers.ts';
import { devName, median, throughputRun } from './ingest/runs.ts';
import { diskSyncLatency } from './lib/machine.ts';
import { BenchWard } from './lib/ward.ts';

export async function runIngestAb(rounds: number, publishers: readonly number[], entries: readonly string[]): Promise<void> {
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const builds = new Map<string, ChildScript>([['A', await childScript('built', log)]]);
  for (const [i, e] of entries.entries()) builds.set(String.fromCharCode(66 + i), { runtime: 'built', args: [e] });
  const ward = new BenchWard('bench-ingest');
  const lists = new Map<number, Map<string, Buffer[]>>();
  for (const p of publishers) {
    const per = p === 1 ? 60_000 : 6_000;
    lists.set(
      p,
      new Map(
        Array.from({ length: p }, (_, d) => [devName(d), Array.from({ length: per }, (_, s) => ward.seal(devName(d), s + 1))] as const),
      ),
    );
  }
  const names = [...builds.keys(), 'aedes'];
  const out: Array<Record<string, number>> = [];
  for (let r = 0; r < rounds; r++) {
    for (const p of publishers) {
      const order = [...names.slice(r % names.length), ...names.slice(0, r % names.length)];
      const sync = diskSyncLatency(tmpdir(), 200);
      const row: Record<string, number> = { round: r + 1, publishers: p, load: loadavg()[0]!, fsyncP50: sync.p50Ms, fsyncP99: sync.p99Ms };
      for (const n of order) {
        const build = builds.get(n);
        if (build) useChildScript(build);
        const run = await throughputRun(build ? 'agent' : 'aedes', ward, lists.get(p)!, 32, 0.1);
        row[n] = Math.round(run.perSecond);
        row[`${n}Cpu`] = run.cpuUsPerReading;
        row[`${n}Main`] = run.mainThreadCpuUsPerReading;
        row[`${n}Client`] = run.clientCpuUsPerReading;
        if (run.commit) row[`${n}CommitMs`] = run.commit.avgCommitMs;
      }
      for (const n of builds.keys()) row[`ratio${n}`] = Math.round((row[n]! / row.aedes!) * 1000) / 1000;
      out.push(row);
      console.log(JSON.stringify(row));
    }
  }
  for (const p of publishers) {
    const rows = out.filter((x) => x.publishers === p);
    const m = (k: string): number => median(rows.map((x) => x[k]!));
    const paired = (k: string): number => median(rows.map((x) => x[k]! / x.A!));
    console.log(
      `publishers ${p}: ${[...builds.keys()]
        .map(
          (n) =>
            `${n} ${m(n)}/s ratio ${m(`ratio${n}`)} (${n}/A per round ${paired(n).toFixed(3)}) CPU ${m(`${n}Cpu`)} main ${m(`${n}Main`)} clients ${m(`${n}Client`)}`,
        )
        .join('; ')}; aedes ${m('aedes')}/s CPU ${m('aedesCpu')} clients ${m('aedesClient')}`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [rounds, publishers, ...entries] = process.argv.slice(2);
  if (!rounds || !publishers || entries.length === 0) {
    console.error('usage: node --import tsx bench/ingestAb.ts <rounds> <publishers,…> <B: DIR/bench/ingest.js> [<C: …> …]');
    process.exit(2);
  }
  runIngestAb(Number(rounds), publishers.split(',').map(Number), entries).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
