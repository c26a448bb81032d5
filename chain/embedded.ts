/**
 * The embedded chain: anvil (npm `@foundry-rs/anvil`) as a child process on a free
 * 127.0.0.1 port, its state in `<dataDir>/anvil-state.json` dumped every second and on
 * a clean stop (SIGTERM), plus the contracts deployed once (`<dataDir>/chain.json`).
 * anvil rewrites its state file in place, so a kill -9 during a write can truncate it:
 * a state file that does not parse is moved aside and the last good copy
 * (`anvil-state.json.prev`, taken at every start) is used; the chain then lost blocks
 * and the anchor service re-anchors what is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Hex } from 'viem';
import { createChainClients, type ChainClients } from './client.ts';
import { ChainContracts } from './contracts.ts';
import { DEPLOYMENT_FILE, ensureDeployment, type DeployOptions, type Deployment } from './deployment.ts';
import { DEV_ACCOUNT, devPrivateKey } from './devKeys.ts';
import { ChainError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';

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
  /** Seconds between state dumps (≥ 1; default 1). */
  stateIntervalSeconds?: number;
  /** Default 15 s. */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL on stop (default 5 s). */
  stopTimeoutMs?: number;
  /** anvil binary; default: the one shipped in @foundry-rs/anvil-<platform>, or $VITALSEAL_ANVIL. */
  anvilPath?: string;
  logger?: Logger;
}

export type StateRecovery =
  | { kind: 'fresh' }
  | { kind: 'loaded' }
  | { kind: 'from-backup'; corruptFile: string }
  | { kind: 'lost'; corruptFile: string };

export interface EmbeddedInfo {
  pid: number;
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

async function answers(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    return res.ok && typeof ((await res.json()) as { result?: unknown }).result === 'string';
  } catch {
    return false;
  }
}

function prepareStateFile(dataDir: string, now: number): StateRecovery {
  const statePath = join(dataDir, STATE_FILE);
  const backup = `${statePath}.prev`;
  if (!existsSync(statePath)) {
    if (!existsSync(backup)) return { kind: 'fresh' };
    copyFileSync(backup, statePath);
    return { kind: 'from-backup', corruptFile: '(state file missing)' };
  }
  try {
    JSON.parse(readFileSync(statePath, 'utf8'));
    copyFileSync(statePath, backup);
    return { kind: 'loaded' };
  } catch {
    const corruptFile = `${statePath}.corrupt-${now}`;
    renameSync(statePath, corruptFile);
    if (existsSync(backup)) {
      copyFileSync(backup, statePath);
      return { kind: 'from-backup', corruptFile };
    }
    return { kind: 'lost', corruptFile };
  }
}

export class EmbeddedChain {
  private exitCode: number | null | undefined = undefined;
  private readonly exitPromise: Promise<void>;
  readonly onProcessExit = (): void => {
    if (this.running) this.child.kill('SIGTERM');
  };

  private constructor(
    private readonly child: ChildProcess,
    readonly rpcUrl: string,
    readonly port: number,
    readonly chainId: number,
    readonly dataDir: string,
    readonly stateRecovery: StateRecovery,
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

  static async start(opts: EmbeddedChainOptions): Promise<EmbeddedChain> {
    const logger = opts.logger ?? silentLogger;
    const chainId = opts.chainId ?? EMBEDDED_CHAIN_ID;
    const interval = Math.max(1, Math.round(opts.stateIntervalSeconds ?? 1));
    const anvil = opts.anvilPath ?? anvilBinaryPath();
    mkdirSync(opts.dataDir, { recursive: true });
    const recovery = prepareStateFile(opts.dataDir, Date.now());
    if (recovery.kind === 'from-backup' || recovery.kind === 'lost') {
      logger.warn({ recovery }, 'embedded chain state file was unreadable: using the last good copy, recent blocks are lost');
    }
    const attempts = opts.port === undefined ? 3 : 1;
    let lastError: ChainError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      // Same port as last time if free, so clients keep their RPC URL across restarts.
      const port = opts.port ?? (await freeLoopbackPort(attempt === 0 ? lastPort(opts.dataDir) : 0));
      if (opts.port !== undefined && (await freeLoopbackPort(opts.port)) !== opts.port) {
        // Another process answers there: never mistake it for our chain.
        throw new ChainError('CHAIN_START_FAILED', `port ${opts.port} on 127.0.0.1 is already in use`);
      }
      const rpcUrl = `http://127.0.0.1:${port}`;
      const args = [
        '--host', '127.0.0.1',
        '--port', String(port),
        '--chain-id', String(chainId),
        '--state', join(opts.dataDir, STATE_FILE),
        '--state-interval', String(interval),
        '--silent',
      ];
      const child = spawn(anvil, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (b: Buffer) => {
        stderr = (stderr + b.toString('utf8')).slice(-4000);
      });
      const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
      const chain = new EmbeddedChain(child, rpcUrl, port, chainId, opts.dataDir, recovery, opts.stopTimeoutMs ?? 5_000, logger);
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
        if ((await answers(rpcUrl)) && (await sleep(30), chain.running)) {
          chain.writeInfo();
          logger.info({ rpcUrl, pid: chain.pid, stateRecovery: recovery.kind }, 'embedded chain up');
          return chain;
        }
        if (Date.now() > deadline) {
          failure = `anvil did not answer within ${opts.startTimeoutMs ?? 15_000} ms`;
          await chain.kill();
          break;
        }
        await sleep(25);
      }
      lastError = new ChainError('CHAIN_START_FAILED', failure);
      if (!/address already in use/i.test(failure)) break;
    }
    throw lastError ?? new ChainError('CHAIN_START_FAILED');
  }

  private writeInfo(): void {
    writeFileSync(join(this.dataDir, PORT_FILE), `${this.port}\n`);
    const info: EmbeddedInfo = { pid: this.pid, rpcUrl: this.rpcUrl, chainId: this.chainId, startedAt: new Date().toISOString() };
    writeFileSync(join(this.dataDir, EMBEDDED_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
  }

  private removeInfo(): void {
    const path = join(this.dataDir, EMBEDDED_INFO_FILE);
    try {
      const info = JSON.parse(readFileSync(path, 'utf8')) as Partial<EmbeddedInfo>;
      if (info.pid === this.pid) rmSync(path, { force: true });
    } catch {
      // absent or unreadable: nothing to remove
    }
  }

  /** Clean stop: SIGTERM (anvil dumps its state), SIGKILL after the stop timeout. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), this.stopTimeoutMs).unref());
      if ((await Promise.race([this.exitPromise.then(() => 'exited' as const), timer])) === 'timeout') {
        this.logger.warn({ pid: this.pid }, 'anvil ignored SIGTERM: killing it (its last state interval is lost)');
        this.child.kill('SIGKILL');
        await this.exitPromise;
      }
    }
    this.removeInfo();
  }

  /** kill -9 (crash simulation): the state written by the last interval survives. */
  async kill(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
    }
    this.removeInfo();
  }
}

/** The running embedded chain recorded in `dataDir`, if its process is alive. */
export function readEmbeddedInfo(dataDir: string): EmbeddedInfo | undefined {
  const path = join(dataDir, EMBEDDED_INFO_FILE);
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as EmbeddedInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
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
        c = createChainClients({ rpcUrl: chain.rpcUrl, chainId: chain.chainId, privateKey: devPrivateKey(index) as Hex, target: 'embedded' });
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
