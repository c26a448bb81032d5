/** bench/ingest.ts's broker children: the agent or a plain aedes broker in a child process running the entry with `--serve`. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configFromEnv, parseAgentConfig, type AgentConfig } from '../../agent/config.ts';
import type { BenchRuntime } from './types.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
const REPO = resolve(dirname(THIS_FILE), '..', '..');
/** The bench's entry (bench/ingest.ts, or .js when built): its `main` runs `--serve`. */
const ENTRY = join(dirname(THIS_FILE), '..', THIS_FILE.endsWith('.js') ? 'ingest.js' : 'ingest.ts');

export interface Server {
  readonly kind: 'agent' | 'aedes';
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly httpPort: number | null;
  /** SIGTERM, then SIGKILL after the bound; resolves true when it exited on its own (exit code 0). */
  stop(): Promise<boolean>;
}

/** Heap flags for an agent serving ~10,000 devices: a small young generation and a capped old one (README "Agent operations"). */
export const FLEET_HEAP_FLAGS = '--max-semi-space-size=1 --max-old-space-size=192';

/** This file compiled (scripts/build.mjs) when the bench itself runs from a build. */
export const RUNNING_BUILT = THIS_FILE.endsWith('.js');

/** Where a run with runtime 'built' compiles the sources (inside node_modules, so the children resolve packages). */
const BENCH_BUILD_DIR = join(REPO, 'node_modules', '.cache', 'vitalseal', 'bench-build');

/** How the broker children start: this bench compiled (runtime 'built') or its source through tsx. */
export interface ChildScript {
  readonly runtime: BenchRuntime;
  readonly args: readonly string[];
}

export async function childScript(runtime: BenchRuntime, progress: (s: string) => void): Promise<ChildScript> {
  if (RUNNING_BUILT) {
    if (runtime === 'tsx') throw new Error("--runtime tsx needs the sources: run bench/ingest.ts with 'node --import tsx'");
    return { runtime, args: [ENTRY] };
  }
  if (runtime === 'tsx') return { runtime, args: ['--import', 'tsx', ENTRY] };
  progress('compiling the sources for the broker children (scripts/build.mjs)');
  // the build runs as its own process (`node scripts/build.mjs --out-dir …`, what `npm run build` runs): scripts/ is a tool nothing imports
  const built = spawnSync(process.execPath, [join(REPO, 'scripts', 'build.mjs'), '--out-dir', BENCH_BUILD_DIR], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (built.status !== 0) {
    process.stderr.write(built.stdout ?? '');
    throw new Error(`scripts/build.mjs failed (exit ${built.status ?? built.signal})`);
  }
  return { runtime, args: [join(BENCH_BUILD_DIR, 'bench', 'ingest.js')] };
}

/** Set by runIngestBench (`useChildScript`) before any broker starts. */
let child: ChildScript | undefined;

export function useChildScript(script: ChildScript): void {
  child = script;
}

export async function startServer(kind: 'agent' | 'aedes', dataDir?: string, stopBoundSeconds = 20, heapFlags = ''): Promise<Server> {
  // VITALSEAL_BENCH_NODE_ARGS: extra node flags for the broker children (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p")
  const nodeArgs = `${heapFlags} ${process.env.VITALSEAL_BENCH_NODE_ARGS ?? ''}`.split(' ').filter((a) => a.length > 0);
  if (!child) throw new Error('startServer before runIngestBench chose the child script');
  const args = [
    ...nodeArgs,
    ...child.args,
    '--serve',
    kind,
    ...(dataDir ? ['--data-dir', dataDir] : []),
    '--stop-bound',
    String(stopBoundSeconds),
  ];
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
export function benchIngestConfig(): AgentConfig['ingest'] {
  return parseAgentConfig({ dataDir: '.', ingest: configFromEnv(process.env).ingest ?? {} }).ingest;
}

/** The child side of startServer. */
export async function serve(kind: string, dataDir: string | undefined, stopBoundSeconds: number): Promise<void> {
  let port: number;
  let httpPort: number | null = null;
  let stop: () => Promise<void>;
  if (kind === 'agent') {
    if (!dataDir) throw new Error('--serve agent needs --data-dir');
    const { startAgent } = await import('../../agent/agent.ts');
    const agent = await startAgent(
      parseAgentConfig({
        dataDir,
        mqtt: { port: 0, maxConnections: 20_000 },
        http: { port: 0 },
        logLevel: 'silent',
        ingest: benchIngestConfig(),
      }),
      { defaultMetrics: false },
    );
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
  process.stdout.write(`${JSON.stringify({ ready: true, port, httpPort, pid: process.pid })}\n`);
  process.once('SIGTERM', () => {
    const hard = setTimeout(() => process.exit(3), stopBoundSeconds * 1000);
    hard.unref();
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
