/**
 * One chain per state file (issue #15 defect 3), at the chain layer: the lock, the stale-chain check
 * that never touches an unrelated process, an orphan's state saved before it is stopped, and the state
 * file after a kill -9 of its owner (a `vitalseal chain up` child process): whole, private, and holding
 * every transaction acknowledged more than one state interval (+ a generous dump bound) before the kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createPublicClient, createWalletClient, http, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { anvilBinaryPath, EmbeddedChain, EMBEDDED_INFO_FILE, STATE_FILE } from '../../chain/embedded.ts';
import { devPrivateKey, DEV_ADDRESSES } from '../../chain/devKeys.ts';
import { LOCK_FILE } from '../../chain/stateLock.ts';
import { findChainProcesses, isRunning, processIdentity } from '../../chain/processes.ts';
import { removeDir, subDir, tempDir } from './helpers.ts';
import { freePort } from '../support/services.ts';

const ENTRY = join(import.meta.dirname, 'fixtures', 'chainCli.ts');
const dir = tempDir('single-chain');
const procs = new Set<ChildProcess>();
afterAll(() => {
  for (const p of procs) p.kill('SIGKILL');
  for (const p of findChainProcesses(join(dir, 'x'))) process.kill(p.pid, 'SIGKILL');
  removeDir(dir);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function track(p: ChildProcess): ChildProcess {
  procs.add(p);
  p.once('exit', () => procs.delete(p));
  return p;
}

/** A process that is certainly not anvil (an unrelated pid the chain must never signal). */
function bystander(): ChildProcess {
  return track(spawn('sleep', ['120'], { stdio: 'ignore' }));
}

function sender(rpcUrl: string, index: number) {
  const account = privateKeyToAccount(devPrivateKey(index));
  const transport = http(rpcUrl, { retryCount: 0 });
  const chain = {
    id: 31337,
    name: 'embedded',
    nativeCurrency: { name: 'ETH', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  } as const;
  const wallet = createWalletClient({ account, chain, transport });
  const pub = createPublicClient({ chain, transport });
  return {
    /** One transfer; resolves with its block number once mined (anvil automines). */
    async send(): Promise<number> {
      const hash: Hex = await wallet.sendTransaction({ to: DEV_ADDRESSES[9]!, value: 1n });
      // bounded: when the chain dies mid-wait (the test kills it), viem would otherwise poll for 180 s
      const r = await pub.waitForTransactionReceipt({ hash, pollingInterval: 20, timeout: 3_000 });
      return Number(r.blockNumber);
    },
  };
}

describe('one chain per state file', () => {
  it('refuses a second chain on the same data dir while the first runs, in this process too', async () => {
    const d = subDir(dir, 'lock');
    const a = await EmbeddedChain.start({ dataDir: d });
    try {
      await expect(EmbeddedChain.start({ dataDir: d })).rejects.toMatchObject({ code: 'CHAIN_STATE_LOCKED' });
      expect(a.running).toBe(true);
      expect(findChainProcesses(join(d, STATE_FILE)).map((p) => p.pid)).toEqual([a.pid]);
    } finally {
      await a.stop();
    }
    // released on stop
    const b = await EmbeddedChain.start({ dataDir: d });
    await b.stop();
  });

  it('a lock held by a live process refuses the start; a lock of a dead or reused pid is taken over', async () => {
    const d = subDir(dir, 'stale-lock');
    const live = bystander();
    await sleep(50);
    writeFileSync(join(d, LOCK_FILE), JSON.stringify(processIdentity(live.pid!)));
    await expect(EmbeddedChain.start({ dataDir: d })).rejects.toMatchObject({ code: 'CHAIN_STATE_LOCKED' });
    // same pid, another start time: the pid was reused, the owner is gone
    writeFileSync(join(d, LOCK_FILE), JSON.stringify({ ...processIdentity(live.pid!), startTime: 1 }));
    const c = await EmbeddedChain.start({ dataDir: d });
    await c.stop();
    expect(isRunning(processIdentity(live.pid!))).toBe(true); // never signalled
  });

  it('never kills an unrelated process whose pid embedded.json records', async () => {
    const d = subDir(dir, 'reused-pid');
    const other = bystander();
    await sleep(50);
    writeFileSync(
      join(d, EMBEDDED_INFO_FILE),
      JSON.stringify({ pid: other.pid, rpcUrl: 'http://127.0.0.1:1', chainId: 31337, startedAt: new Date().toISOString() }),
    );
    const c = await EmbeddedChain.start({ dataDir: d });
    await c.stop();
    expect(other.exitCode).toBeNull();
    expect(other.signalCode).toBeNull();
    expect(isRunning(processIdentity(other.pid!))).toBe(true);
  });

  it('stops an orphaned anvil still running on the state file, keeping the transactions it received', { timeout: 60_000 }, async () => {
    const d = subDir(dir, 'orphan');
    const statePath = join(d, STATE_FILE);
    // an anvil as the code before the fix left it: its own --state rewrites, owner gone
    const port = await freePort();
    const orphan = track(
      spawn(
        anvilBinaryPath(),
        ['--host', '127.0.0.1', '--port', String(port), '--state', statePath, '--state-interval', '60', '--silent'],
        { stdio: 'ignore' },
      ),
    );
    const rpcUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(d, EMBEDDED_INFO_FILE),
      JSON.stringify({ pid: orphan.pid, rpcUrl, chainId: 31337, startedAt: new Date().toISOString() }),
    );
    // anvil may take a while to listen on a loaded machine: up to 30 s, and not at all if it exited
    let block = 0;
    for (let i = 0; i < 300 && block === 0 && orphan.exitCode === null; i++)
      block = await sender(rpcUrl, 3)
        .send()
        .catch(async () => (await sleep(100), 0));
    expect(orphan.exitCode).toBeNull();
    expect(block).toBeGreaterThan(0);
    const c = await EmbeddedChain.start({ dataDir: d });
    try {
      expect(orphan.exitCode !== null || orphan.signalCode !== null).toBe(true);
      expect(findChainProcesses(statePath).map((p) => p.pid)).toEqual([c.pid]);
      // the orphan's transaction (never dumped by it: interval 60 s) survived into the new chain
      const n = await fetch(c.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
      });
      expect(Number(((await n.json()) as { result: string }).result)).toBeGreaterThanOrEqual(block);
    } finally {
      await c.stop();
    }
  });

  it('after kill -9 of its owner, anvil is gone and the state file is whole, 0600, and at most one interval behind', {
    timeout: 90_000,
  }, async () => {
    const d = join(dir, 'x', 'crash');
    const up = track(
      spawn(process.execPath, ['--import', 'tsx', ENTRY, 'chain', 'up', '--data-dir', d, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    const exited = new Promise<void>((r) => up.once('exit', () => r()));
    let out = '';
    up.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    const t0 = Date.now();
    while (!out.trim().endsWith('}') && Date.now() - t0 < 30_000) await sleep(50);
    const ready = JSON.parse(out) as { rpcUrl: string; pid: number };
    const anvil = processIdentity(ready.pid);
    // transactions without pause; each acknowledgement (receipt) noted with its time
    const s = sender(ready.rpcUrl, 4);
    const acks: Array<{ at: number; block: number }> = [];
    let sending = true;
    const loop = (async () => {
      while (sending) acks.push({ block: await s.send(), at: Date.now() });
    })().catch(() => undefined);
    await sleep(3_200);
    const killedAt = Date.now();
    up.kill('SIGKILL');
    sending = false;
    await exited;
    await loop;
    // the chain died with its owner (parent-death signal): no orphan left
    for (let i = 0; i < 100 && isRunning(anvil); i++) await sleep(50);
    expect(isRunning(anvil)).toBe(false);
    expect(findChainProcesses(join(d, STATE_FILE))).toEqual([]);

    const path = join(d, STATE_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const state = JSON.parse(readFileSync(path, 'utf8')) as { best_block_number: string | number };
    const onDisk = Number(state.best_block_number);
    const intervalMs = 1_000; // the documented default state interval
    const boundMs = intervalMs + 1_000; // + a generous bound for one dump (RPC, gunzip, write, fsync)
    const mustHave = acks.filter((a) => a.at <= killedAt - boundMs).at(-1);
    expect(acks.length).toBeGreaterThan(5);
    expect(mustHave).toBeDefined();
    expect(onDisk).toBeGreaterThanOrEqual(mustHave!.block);
  });
});
