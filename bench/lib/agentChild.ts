/**
 * The real edge agent in a child process (so the clients measuring it do not share its event
 * loop), on 127.0.0.1 with ephemeral ports, optionally anchoring on the embedded chain.
 *
 *   node --import tsx bench/lib/agentChild.ts '{"dataDir": "...", "chain": {...}}'
 *
 * prints one JSON line {ready, port, httpPort, pid}; SIGTERM stops it gracefully (exit 0),
 * with a hard bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { REPO_ROOT } from './machine.ts';

export interface AgentChildOptions {
  readonly dataDir: string;
  readonly chain?: { readonly intervalMs: number; readonly maxLeaves: number };
  /** Seconds to wait for a graceful stop before SIGKILL. */
  readonly stopBoundSeconds?: number;
}

export interface AgentChild {
  readonly pid: number;
  readonly port: number;
  readonly httpPort: number;
  /** RSS and its high-water mark, MiB (from /proc). */
  rss(): { rss: number; hwm: number };
  /** Graceful stop; resolves true if the agent exited 0 within the bound. */
  stop(): Promise<boolean>;
}

const SELF = fileURLToPath(import.meta.url);

export async function startAgentChild(o: AgentChildOptions): Promise<AgentChild> {
  const bound = o.stopBoundSeconds ?? 30;
  const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SELF, JSON.stringify({ ...o, stopBoundSeconds: bound })], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const lines = createInterface({ input: proc.stdout! });
  const ready = await new Promise<{ port: number; httpPort: number }>((resolve, reject) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`bench agent not ready within 120 s: ${stderr}`));
    }, 120_000);
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`bench agent exited (${code}): ${stderr}`));
    });
    lines.on('line', (line) => {
      try {
        const m = JSON.parse(line) as { ready?: boolean; port: number; httpPort: number };
        if (m.ready) {
          clearTimeout(t);
          resolve(m);
        }
      } catch {
        /* not ours */
      }
    });
  });
  const pid = proc.pid!;
  return {
    pid,
    port: ready.port,
    httpPort: ready.httpPort,
    rss: () => procRss(pid),
    stop: () =>
      new Promise<boolean>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode === 0);
        const t = setTimeout(() => proc.kill('SIGKILL'), (bound + 5) * 1000);
        proc.once('exit', (code) => {
          clearTimeout(t);
          resolve(code === 0);
        });
        proc.kill('SIGTERM');
      }),
  };
}

export function procRss(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { rss: Math.round((kb('VmRSS') / 1024) * 10) / 10, hwm: Math.round((kb('VmHWM') / 1024) * 10) / 10 };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

async function serve(o: AgentChildOptions & { stopBoundSeconds: number }): Promise<void> {
  const { startAgent } = await import('../../agent/agent.ts');
  const { parseAgentConfig } = await import('../../agent/config.ts');
  const agent = await startAgent(
    parseAgentConfig({
      dataDir: o.dataDir,
      mqtt: { port: 0, maxConnections: 20_000 },
      http: { port: 0 },
      logLevel: 'silent',
      ...(o.chain ? { chain: { mode: 'embedded', intervalMs: o.chain.intervalMs, maxLeaves: o.chain.maxLeaves } } : {}),
    }),
    { defaultMetrics: false },
  );
  process.stdout.write(
    `${JSON.stringify({ ready: true, port: agent.mqttAddress!.port, httpPort: agent.httpAddress.port, pid: process.pid })}\n`,
  );
  const stop = (): void => {
    const hard = setTimeout(() => process.exit(3), o.stopBoundSeconds * 1000);
    hard.unref();
    agent.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serve(JSON.parse(process.argv[2] ?? '{}') as AgentChildOptions & { stopBoundSeconds: number }).catch((e: unknown) => {
    process.stderr.write(`bench agent: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
