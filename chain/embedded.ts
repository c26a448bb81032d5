/**
 * The embedded chain: anvil (npm `@foundry-rs/anvil`) as a child process on a free 127.0.0.1 port,
 * the contracts deployed once (`<dataDir>/chain.json`). One chain per state file, guaranteed:
 *
 * - `<dataDir>/chain.lock` (stateLock.ts) names the one live process that runs the chain of this
 *   data dir; another start fails with CHAIN_STATE_LOCKED while it runs.
 * - A chain left behind by a dead owner (an anvil whose executable is anvil and whose arguments name
 *   this state file, read from /proc: a reused pid cannot match) is stopped before a new one starts;
 *   the one recorded in embedded.json is asked for its state first (anvil_dumpState), as wallets may
 *   have sent it transactions after its owner died.
 * - The chain dies with its owner: on Linux anvil runs under `setpriv --pdeathsig KILL` (util-linux),
 *   i.e. with PR_SET_PDEATHSIG, so the kernel kills it when the thread that spawned it (node's main
 *   thread) dies — also on kill -9, with no watchdog process. Node cannot call prctl itself without a
 *   native addon, and setpriv execs anvil, so the pid we hold IS anvil's. Where that is unavailable
 *   the next start still finds and stops the orphan (above). anvil runs in its own session
 *   (`detached`), so a terminal's Ctrl-C reaches only its owner, which stops it in order.
 * - The state file `<dataDir>/anvil-state.json` is written only by the owner: every
 *   `stateIntervalSeconds` (default 1) it fetches anvil_dumpState and, if the state changed, writes it
 *   to a temp file (0600), fsyncs and renames it over the old one. A crash leaves the last complete
 *   dump, at most one interval older than the last transaction. anvil itself gets `--dump-state` only
 *   for the on-exit dump of a SIGTERM from outside (never sent by us) and no `--state-interval`.
 * - A state file that still does not parse (written by an older version, in place) is moved aside and
 *   the last good copy (`anvil-state.json.prev`, taken at every start) is used; the chain then lost
 *   blocks and the anchor service re-anchors what is missing.
 *
 * Every file and directory here is private (0600 / 0700).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { Hex } from 'viem';
import { createChainClients, type ChainClients } from './client.ts';
import { ChainContracts } from './contracts.ts';
import { DEPLOYMENT_FILE, ensureDeployment, type DeployOptions, type Deployment } from './deployment.ts';
import { DEV_ACCOUNT, devPrivateKey } from './devKeys.ts';
import { ChainError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { ensurePrivateDir, restrictTree, writePrivateFileAtomic, writePrivateFileAtomicSync } from '../platform/privateFiles.ts';
import {
  findChainProcesses,
  HAS_PROC,
  isRunning,
  processArgv,
  processIdentity,
  type ChainProcess,
  type ProcessIdentity,
} from './processes.ts';
import { StateLock } from './stateLock.ts';

const gunzipAsync = promisify(gunzip);

export const EMBEDDED_CHAIN_ID = 31337;
export const STATE_FILE = 'anvil-state.json';
export const EMBEDDED_INFO_FILE = 'embedded.json';
const PORT_FILE = 'rpc-port';

function lastPort(dataDir: string): number {
  try {
    const n = Number(readFileSync(join(dataDir, PORT_FILE), 'utf8').trim());
    return Number.isInteger(n) && n > 1024 && n < 65536 ? n : 0;
  } catch {
    return 0;
  }
}

export interface EmbeddedChainOptions {
  dataDir: string;
  /** Fixed port; default: a free loopback port (retried if taken meanwhile). */
  port?: number;
  chainId?: number;
  /** Seconds between state dumps (≥ 1; default 1): the most a crash can lose. */
  stateIntervalSeconds?: number;
  /** Default 15 s. */
  startTimeoutMs?: number;
  /** Bound of the final state dump, and of the wait for a stopped (or stale) anvil to exit (default 5 s). */
  stopTimeoutMs?: number;
  /** anvil binary; default: the one shipped in @foundry-rs/anvil-<platform>, or $VITALSEAL_ANVIL. */
  anvilPath?: string;
  /** Kill anvil when this process dies (Linux, setpriv --pdeathsig); default true. */
  dieWithParent?: boolean;
  logger?: Logger;
}

export type StateRecovery =
  | { kind: 'fresh' }
  | { kind: 'loaded' }
  | { kind: 'from-backup'; corruptFile: string }
  | { kind: 'lost'; corruptFile: string };

/** How anvil is tied to its owner's life: the kernel's parent-death signal, or nothing (next start cleans up). */
export type DeathWatch = 'pdeathsig' | 'none';

export interface EmbeddedInfo {
  /** anvil's pid. */
  pid: number;
  /** anvil's start time (/proc, clock ticks since boot) and boot id: tells it from a reused pid. */
  startTime?: number;
  bootId?: string;
  /** The owner (the process that started anvil and writes its state). */
  ownerPid?: number;
  statePath?: string;
  rpcUrl: string;
  chainId: number;
  startedAt: string;
}

/** Path of the anvil binary shipped in the npm platform package. */
export function anvilBinaryPath(): string {
  const env = process.env['VITALSEAL_ANVIL'];
  if (env) return env;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  try {
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  } catch (cause) {
    throw new ChainError('CHAIN_START_FAILED', `anvil binary package ${pkg} is not installed`, { cause });
  }
}

/** A free 127.0.0.1 port: `preferred` if it is free, else one the OS picks. */
export async function freeLoopbackPort(preferred = 0): Promise<number> {
  if (preferred !== 0) {
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(preferred, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (ok) return preferred;
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rpc(rpcUrl: string, method: string, timeoutMs: number): Promise<unknown> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new ChainError('CHAIN_UNAVAILABLE', `${method}: HTTP ${res.status}`);
  const body = (await res.json()) as { result?: unknown; error?: { message?: string } };
  if (body.error) throw new ChainError('CHAIN_UNAVAILABLE', `${method}: ${body.error.message ?? 'error'}`);
  return body.result;
}

async function answers(rpcUrl: string): Promise<boolean> {
  try {
    return typeof (await rpc(rpcUrl, 'eth_chainId', 1_000)) === 'string';
  } catch {
    return false;
  }
}

/** anvil_dumpState of the chain at `rpcUrl`: gzip'd JSON as hex; returns the hex (to compare) and the JSON bytes. */
async function dumpState(rpcUrl: string, timeoutMs: number): Promise<{ hex: string; json: () => Promise<Buffer> }> {
  const hex = await rpc(rpcUrl, 'anvil_dumpState', timeoutMs);
  if (typeof hex !== 'string' || !/^0x(?:[0-9a-f]{2})+$/i.test(hex))
    throw new ChainError('CHAIN_UNAVAILABLE', 'anvil_dumpState returned no state');
  return { hex, json: () => gunzipAsync(Buffer.from(hex.slice(2), 'hex')) };
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv', '/sbin/setpriv'];

/** The command that runs anvil, tied to this process's life where the platform allows. */
function anvilCommand(anvil: string, args: string[], dieWithParent: boolean): { cmd: string; args: string[]; deathWatch: DeathWatch } {
  const setpriv = dieWithParent && process.platform === 'linux' ? SETPRIV.find((p) => existsSync(p)) : undefined;
  // setpriv sets PR_SET_PDEATHSIG (SIGKILL) then execs anvil: same pid, killed by the kernel when we die
  if (setpriv) return { cmd: setpriv, args: ['--pdeathsig', 'KILL', '--', anvil, ...args], deathWatch: 'pdeathsig' };
  return { cmd: anvil, args, deathWatch: 'none' };
}

/** embedded.json as written, whether or not its process still runs. */
function readInfoFile(dataDir: string): EmbeddedInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, EMBEDDED_INFO_FILE), 'utf8')) as EmbeddedInfo;
    return Number.isSafeInteger(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

function infoIdentity(info: EmbeddedInfo): ProcessIdentity {
  return {
    pid: info.pid,
    ...(info.startTime !== undefined ? { startTime: info.startTime } : {}),
    ...(info.bootId !== undefined ? { bootId: info.bootId } : {}),
  };
}

/** Sends `signal` to a stale chain only if it still is that process (same start time, still names the state file). */
function signalIfSame(p: ChainProcess, statePath: string, signal: NodeJS.Signals): void {
  if (!isRunning(p) || !(processArgv(p.pid) ?? []).includes(statePath)) return;
  try {
    process.kill(p.pid, signal);
  } catch {
    // exited meanwhile
  }
}

async function waitGone(ps: readonly ChainProcess[], timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (ps.some((p) => isRunning(p))) {
    if (Date.now() > end)
      throw new ChainError(
        'CHAIN_START_FAILED',
        `a stale anvil (pid ${ps
          .filter((p) => isRunning(p))
          .map((p) => p.pid)
          .join(', ')}) does not exit`,
      );
    await sleep(20);
  }
}

/**
 * Stops every anvil still running on this data dir's state file (its owner died: kill -9, a crash
 * before the parent-death signal was armed, a platform without it). The one recorded in embedded.json
 * (the chain wallets were told about) is asked for its state first, which replaces the state file;
 * the others are killed first so that no older one can dump after it.
 */
async function stopStaleChains(dataDir: string, statePath: string, timeoutMs: number, logger: Logger): Promise<void> {
  const recorded = readInfoFile(dataDir);
  if (!HAS_PROC) {
    // cannot check that a pid is an anvil on this file: refuse rather than guess
    if (recorded && isRunning(infoIdentity(recorded))) {
      throw new ChainError(
        'CHAIN_STATE_LOCKED',
        `${join(dataDir, EMBEDDED_INFO_FILE)} names a running process (${recorded.pid}): stop it if it is this data dir's anvil`,
      );
    }
    return;
  }
  const stale = findChainProcesses(statePath);
  if (stale.length === 0) return;
  const main = stale.find((p) => p.pid === recorded?.pid && (recorded.startTime === undefined || recorded.startTime === p.startTime));
  const others = stale.filter((p) => p !== main);
  logger.warn({ pids: stale.map((p) => p.pid) }, 'an embedded chain of a dead owner still runs on this state file: stopping it');
  for (const p of others) signalIfSame(p, statePath, 'SIGKILL');
  await waitGone(others, timeoutMs);
  if (main) {
    if (main.port !== undefined) {
      try {
        const d = await dumpState(`http://127.0.0.1:${main.port}`, timeoutMs);
        await writePrivateFileAtomic(statePath, await d.json());
        logger.info({ pid: main.pid }, 'state of the stale embedded chain saved');
      } catch (e) {
        logger.warn({ pid: main.pid, err: (e as Error).message }, 'stale embedded chain gave no state: keeping the last dump');
      }
    }
    signalIfSame(main, statePath, 'SIGKILL');
    await waitGone([main], timeoutMs);
  }
}

function prepareStateFile(dataDir: string, now: number): StateRecovery {
  const statePath = join(dataDir, STATE_FILE);
  const backup = `${statePath}.prev`;
  const copy = (from: string, to: string) => writePrivateFileAtomicSync(to, readFileSync(from));
  // temp files of dumps a crash interrupted (never renamed: the state file itself is whole)
  for (const f of readdirSync(dataDir)) if (f.startsWith(`${STATE_FILE}.tmp-`)) rmSync(join(dataDir, f), { force: true });
  if (!existsSync(statePath)) {
    if (!existsSync(backup)) return { kind: 'fresh' };
    copy(backup, statePath);
    return { kind: 'from-backup', corruptFile: '(state file missing)' };
  }
  try {
    JSON.parse(readFileSync(statePath, 'utf8'));
    copy(statePath, backup);
    return { kind: 'loaded' };
  } catch {
    const corruptFile = `${statePath}.corrupt-${now}`;
    renameSync(statePath, corruptFile);
    if (existsSync(backup)) {
      copy(backup, statePath);
      return { kind: 'from-backup', corruptFile };
    }
    return { kind: 'lost', corruptFile };
  }
}

export class EmbeddedChain {
  private exitCode: number | null | undefined = undefined;
  private readonly exitPromise: Promise<void>;
  private dumpTimer: NodeJS.Timeout | undefined;
  private dumping: Promise<void> | undefined;
  private dumpsStopped = false;
  private lastDumpHex: string | undefined;
  private lastDumpAtMs: number | undefined;
  /** anvil's start time (/proc), for embedded.json. */
  private identity: ProcessIdentity | undefined;
  readonly onProcessExit = (): void => {
    // a process.exit() without stop(): the last atomic dump (≤ one interval old) stands. Not SIGTERM:
    // anvil would rewrite the file in place and the parent-death SIGKILL could cut that write short.
    if (this.running) this.child.kill('SIGKILL');
    this.lock.release();
  };

  private constructor(
    private readonly child: ChildProcess,
    readonly rpcUrl: string,
    readonly port: number,
    readonly chainId: number,
    readonly dataDir: string,
    readonly stateRecovery: StateRecovery,
    readonly deathWatch: DeathWatch,
    private readonly lock: StateLock,
    private readonly intervalMs: number,
    private readonly stopTimeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.exitPromise = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.exitCode = child.exitCode;
        resolve();
        return;
      }
      child.once('exit', (code) => {
        this.exitCode = code;
        process.off('exit', this.onProcessExit);
        resolve();
      });
    });
    process.on('exit', this.onProcessExit);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  get statePath(): string {
    return join(this.dataDir, STATE_FILE);
  }

  /** Resolves when the anvil process has exited. */
  get exited(): Promise<void> {
    return this.exitPromise;
  }

  /** When the state file last received a new dump (ms since the epoch), if it did. */
  get lastStateDumpAt(): number | undefined {
    return this.lastDumpAtMs;
  }

  static async start(opts: EmbeddedChainOptions): Promise<EmbeddedChain> {
    const logger = opts.logger ?? silentLogger;
    const chainId = opts.chainId ?? EMBEDDED_CHAIN_ID;
    const interval = Math.max(1, Math.round(opts.stateIntervalSeconds ?? 1));
    const stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
    const anvil = opts.anvilPath ?? anvilBinaryPath();
    const dataDir = resolve(opts.dataDir);
    const statePath = join(dataDir, STATE_FILE);
    ensurePrivateDir(dataDir);
    restrictTree(dataDir);
    const lock = StateLock.acquire(dataDir);
    let handedOver = false;
    try {
      await stopStaleChains(dataDir, statePath, stopTimeoutMs, logger);
      const recovery = prepareStateFile(dataDir, Date.now());
      if (recovery.kind === 'from-backup' || recovery.kind === 'lost') {
        logger.warn({ recovery }, 'embedded chain state file was unreadable: using the last good copy, recent blocks are lost');
      }
      const attempts = opts.port === undefined ? 3 : 1;
      let lastError: ChainError | undefined;
      for (let attempt = 0; attempt < attempts; attempt++) {
        // Same port as last time if free, so clients keep their RPC URL across restarts.
        const port = opts.port ?? (await freeLoopbackPort(attempt === 0 ? lastPort(dataDir) : 0));
        if (opts.port !== undefined && (await freeLoopbackPort(opts.port)) !== opts.port) {
          // Another process answers there: never mistake it for our chain.
          throw new ChainError('CHAIN_START_FAILED', `port ${opts.port} on 127.0.0.1 is already in use`);
        }
        const rpcUrl = `http://127.0.0.1:${port}`;
        const anvilArgs = [
          '--host',
          '127.0.0.1',
          '--port',
          String(port),
          '--chain-id',
          String(chainId),
          ...(existsSync(statePath) ? ['--load-state', statePath] : []),
          // names the state file (how a stale chain is recognised); anvil writes it only on a SIGTERM from outside
          '--dump-state',
          statePath,
          '--silent',
        ];
        const cmd = anvilCommand(anvil, anvilArgs, opts.dieWithParent ?? true);
        // detached: its own session, so a terminal's SIGINT reaches only us (we stop it in order)
        const child = spawn(cmd.cmd, cmd.args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
        let stderr = '';
        child.stderr?.on('data', (b: Buffer) => {
          stderr = (stderr + b.toString('utf8')).slice(-4000);
        });
        const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
        const chain = new EmbeddedChain(
          child,
          rpcUrl,
          port,
          chainId,
          dataDir,
          recovery,
          cmd.deathWatch,
          lock,
          interval * 1000,
          stopTimeoutMs,
          logger,
        );
        const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
        let failure: string | undefined;
        let errored: Error | undefined;
        void spawnError.then((e) => (errored = e));
        for (;;) {
          if (errored) {
            failure = `cannot run ${anvil}: ${errored.message}`;
            process.off('exit', chain.onProcessExit);
            break;
          }
          if (!chain.running) {
            failure = `anvil exited (code ${chain.exitCode}): ${stderr.trim().slice(-500)}`;
            break;
          }
          if ((await answers(rpcUrl)) && (await sleep(30).then(() => chain.running))) {
            chain.identity = processIdentity(chain.pid);
            chain.writeInfo();
            await chain.dumpNow();
            chain.scheduleDump();
            handedOver = true;
            logger.info({ rpcUrl, pid: chain.pid, stateRecovery: recovery.kind, deathWatch: cmd.deathWatch }, 'embedded chain up');
            if (cmd.deathWatch === 'none')
              logger.warn({ deathWatch: cmd.deathWatch }, 'anvil will not stop if this process is killed: the next start stops it');
            return chain;
          }
          if (Date.now() > deadline) {
            failure = `anvil did not answer within ${opts.startTimeoutMs ?? 15_000} ms`;
            await chain.kill(false);
            break;
          }
          await sleep(25);
        }
        lastError = new ChainError('CHAIN_START_FAILED', failure);
        if (!/address already in use/i.test(failure)) break;
      }
      throw lastError ?? new ChainError('CHAIN_START_FAILED');
    } finally {
      if (!handedOver) lock.release();
    }
  }

  private writeInfo(): void {
    writePrivateFileAtomicSync(join(this.dataDir, PORT_FILE), `${this.port}\n`);
    const info: EmbeddedInfo = {
      pid: this.pid,
      ...(this.identity?.startTime !== undefined ? { startTime: this.identity.startTime } : {}),
      ...(this.identity?.bootId !== undefined ? { bootId: this.identity.bootId } : {}),
      ownerPid: process.pid,
      statePath: this.statePath,
      rpcUrl: this.rpcUrl,
      chainId: this.chainId,
      startedAt: new Date().toISOString(),
    };
    writePrivateFileAtomicSync(join(this.dataDir, EMBEDDED_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  }

  private removeInfo(): void {
    const path = join(this.dataDir, EMBEDDED_INFO_FILE);
    if (readInfoFile(this.dataDir)?.pid === this.pid) rmSync(path, { force: true });
  }

  /** One state dump: anvil_dumpState, written (temp file, fsync, rename) only if the state changed. */
  private async dumpNow(): Promise<void> {
    const d = await dumpState(this.rpcUrl, Math.max(this.stopTimeoutMs, 1_000));
    if (d.hex === this.lastDumpHex) return;
    await writePrivateFileAtomic(this.statePath, await d.json());
    this.lastDumpHex = d.hex;
    this.lastDumpAtMs = Date.now();
  }

  private scheduleDump(): void {
    if (this.dumpsStopped || !this.running) return;
    this.dumpTimer = setTimeout(() => {
      this.dumping = this.dumpNow()
        .catch((e: unknown) => {
          if (this.running && !this.dumpsStopped)
            this.logger.warn({ err: (e as Error).message }, 'embedded chain state dump failed (retried next interval)');
        })
        .finally(() => {
          this.dumping = undefined;
          this.scheduleDump();
        });
    }, this.intervalMs);
    this.dumpTimer.unref();
  }

  private async stopDumps(): Promise<void> {
    this.dumpsStopped = true;
    clearTimeout(this.dumpTimer);
    await this.dumping;
  }

  /** Clean stop: a last state dump, then anvil is killed (it has nothing else to save). */
  async stop(): Promise<void> {
    await this.stopDumps();
    if (this.running) {
      let saved = true;
      try {
        await this.dumpNow();
      } catch (e) {
        saved = false;
        this.logger.warn({ err: (e as Error).message }, 'last state dump failed: asking anvil to write its state itself');
      }
      this.child.kill(saved ? 'SIGKILL' : 'SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.stopTimeoutMs).unref());
      if ((await Promise.race([this.exitPromise.then(() => 'exited' as const), timer])) === 'timeout') {
        this.logger.warn({ pid: this.pid }, 'anvil ignored SIGTERM: killing it (its last state interval is lost)');
        this.child.kill('SIGKILL');
        await this.exitPromise;
      }
    }
    this.removeInfo();
    this.lock.release();
  }

  /** kill -9 (crash simulation): the state of the last dump survives. */
  async kill(release = true): Promise<void> {
    await this.stopDumps();
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
    this.removeInfo();
    if (release) this.lock.release();
  }
}

/** The running embedded chain recorded in `dataDir`, if its process is alive (and is still the same process). */
export function readEmbeddedInfo(dataDir: string): EmbeddedInfo | undefined {
  const info = readInfoFile(dataDir);
  return info && isRunning(infoIdentity(info)) ? info : undefined;
}

export interface EmbeddedSession {
  chain: EmbeddedChain;
  deployment: Deployment;
  /** undefined when chain.json was reused; else why the contracts were (re)deployed. */
  deployedBecause: string | undefined;
  /** Clients of the admin (ward authority) account 0 of the development mnemonic. */
  admin: ChainClients;
  adminContracts: ChainContracts;
  /** Clients of development account `index` (embedded chain only; one instance per index). */
  devClients(index: number): ChainClients;
}

/** Starts anvil and makes sure the contracts are deployed (reusing chain.json if live). */
export async function startEmbeddedChain(opts: EmbeddedChainOptions & DeployOptions): Promise<EmbeddedSession> {
  const chain = await EmbeddedChain.start(opts);
  try {
    // One ChainClients (one nonce manager) per account, shared by every caller in this process.
    const cache = new Map<number, ChainClients>();
    const devClients = (index: number): ChainClients => {
      let c = cache.get(index);
      if (!c) {
        c = createChainClients({
          rpcUrl: chain.rpcUrl,
          chainId: chain.chainId,
          privateKey: devPrivateKey(index) as Hex,
          target: 'embedded',
        });
        cache.set(index, c);
      }
      return c;
    };
    const admin = devClients(DEV_ACCOUNT.admin);
    const { deployment, deployedBecause } = await ensureDeployment(admin, join(opts.dataDir, DEPLOYMENT_FILE), opts);
    if (deployedBecause !== undefined) {
      (opts.logger ?? silentLogger).warn({ reason: deployedBecause, ...pickAddresses(deployment) }, 'contracts deployed');
    }
    return { chain, deployment, deployedBecause, admin, adminContracts: new ChainContracts(admin, deployment), devClients };
  } catch (e) {
    await chain.stop();
    throw e;
  }
}

function pickAddresses(d: Deployment) {
  return { registrar: d.registrar, consent: d.consent, ledger: d.ledger, deployBlock: d.deployBlock };
}
