/**
 * RSS of the agent's writer thread: the process RSS after the same group-commit workload (2,000
 * batches of 10 readings, durability full) with the ThreadWriter (worker thread, own SQLite
 * connection) and with the InlineWriter (event loop); the difference is the thread's share. Each
 * run is a fresh process, modes interleaved, medians reported.
 *
 *   npm run build && node dist/bench/writerRss.js [--rounds N]   (production: the compiled worker)
 *   node --import tsx bench/writerRss.ts [--rounds N]            (sources: the worker through tsx)
 *
 * Figures: bench/README.md, "Measurements behind design choices".
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openDatabase } from '../agent/store/db.ts';
import { InlineWriter, type StoreWriter } from '../agent/store/storeWriter.ts';
import { WalSync } from '../agent/store/walSync.ts';
import { emptyWriteBatch, type WriteBatch } from '../agent/store/writeBatch.ts';
import { ThreadWriter } from '../agent/store/writerThread.ts';

type Mode = 'thread' | 'inline';

function rssMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage.rss() / 2 ** 20;
}

/** One measurement in this process: RSS in MiB before the writer starts and after the workload. */
async function measure(mode: Mode): Promise<{ before: number; after: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'writer-rss-'));
  const file = join(dir, 'agent.db');
  const db = openDatabase(file);
  const sha = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest());
  const before = rssMiB();
  const wal = mode === 'inline' ? new WalSync(`${file}-wal`) : undefined;
  const w: StoreWriter = mode === 'thread' ? new ThreadWriter(file, 'full') : new InlineWriter(db, wal);
  const write = (b: WriteBatch): Promise<void> => new Promise((resolve, reject) => w.write(b, (e) => (e ? reject(e) : resolve())));
  const envelope = new Uint8Array(180);
  let leaf = 0;
  try {
    for (let g = 0; g < 250; g++) {
      const group: Array<Promise<void>> = [];
      for (let k = 0; k < 8; k++) {
        const b = emptyWriteBatch(1000);
        if (leaf === 0) b.newDevices.push(['dev-1', 1]);
        for (let r = 0; r < 10; r++, leaf++) {
          b.records.push({
            recordId: sha(`r${leaf}`),
            leafIndex: leaf,
            leafHash: sha(`l${leaf}`),
            device: 'dev-1',
            seq: leaf + 1,
            ts: leaf,
            st: 'spo2',
            kid: new Uint8Array(16),
            envelope,
            receivedAt: leaf,
            source: 'mqtt',
          });
        }
        b.logSize = leaf;
        group.push(write(b));
      }
      await Promise.all(group);
    }
    await new Promise((r) => setTimeout(r, 200));
    return { before, after: rssMiB() };
  } finally {
    await w.close();
    wal?.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(argv: readonly string[]): Promise<void> {
  const one = argv.indexOf('--measure');
  if (one >= 0) {
    console.log(JSON.stringify(await measure(argv[one + 1] === 'inline' ? 'inline' : 'thread')));
    return;
  }
  const r = argv.indexOf('--rounds');
  const rounds = r >= 0 && Number(argv[r + 1]) > 0 ? Number(argv[r + 1]) : 3;
  const after: Record<Mode, number[]> = { thread: [], inline: [] };
  for (let i = 0; i < rounds; i++) {
    for (const mode of ['thread', 'inline'] as const) {
      const run = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), '--measure', mode], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (run.status !== 0) throw new Error(`${mode} run failed: ${run.stderr}`);
      after[mode].push((JSON.parse(run.stdout) as { after: number }).after);
    }
  }
  const thread = median(after.thread);
  const inline = median(after.inline);
  console.log(
    `writer RSS (${import.meta.url.endsWith('.ts') ? 'sources through tsx' : 'build'}, ${rounds} rounds, 20,000 readings): thread ${thread.toFixed(1)} MiB, inline ${inline.toFixed(1)} MiB → the thread's share ${(thread - inline).toFixed(1)} MiB`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
