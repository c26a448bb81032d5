/**
 * Issue #15, defect 3 (attacker: whoever can crash the agent — OOM killer, a hostile local user with
 * its uid, a power-management script — plus a patient revoking consent through the wallet).
 *
 * An agent with the embedded chain is killed with SIGKILL. Before the fix its anvil survived as an
 * orphan and kept rewriting the state file; the restarted agent started a second anvil on the same
 * file, and a consent revocation sent to the new chain was lost on the next restart (the orphan's
 * dumps won). Here, from the outside (child processes, signals, /proc, JSON-RPC):
 *  - the chain dies with its agent;
 *  - kill -9, restart, revoke, restart again: the revocation holds, exactly one anvil names the data dir;
 *  - a second agent on the same data dir is refused while the first holds the chain (CHAIN_STATE_LOCKED).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { keccak256, toHex, type Address } from 'viem';
import { createChainClients } from '../../chain/client.ts';
import { ChainContracts } from '../../chain/contracts.ts';
import { readDeployment } from '../../chain/deployment.ts';
import { DEV_ACCOUNT, devPrivateKey, DEV_ADDRESSES } from '../../chain/devKeys.ts';
import { SCOPE_ALL } from '../../chain/scope.ts';
import { stopProcess, tempDir, waitFor } from '../support/services.ts';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const CHILD = join(REPO, 'test/adversarial/chainAgentChild.ts');
const PATIENT = 5;
const GRANTEE = 6;

const dirs: string[] = [];
const children = new Set<ChildProcess>();

afterAll(async () => {
  for (const c of children) await stopProcess(c);
  // never leave an anvil behind, whatever the outcome (only those naming our temp dirs)
  for (const d of dirs) {
    for (const pid of anvilsNaming(d)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(d, { recursive: true, force: true });
  }
});

/** Pids of the anvil processes whose command line names a path under `dataDir` (read from /proc, as `ps` would). */
function anvilsNaming(dataDir: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (/(^|\/)anvil$/.test(argv[0] ?? '') && argv.some((a) => a.startsWith(dataDir))) pids.push(Number(e));
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface AgentChild {
  proc: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** `node chainAgentChild.ts <dataDir>`: a whole agent (embedded broker + embedded chain) in its own process. */
function spawnAgent(dataDir: string): AgentChild & { ready: Promise<void> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, '0'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((r) =>
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      r({ code, signal, stderr });
    }),
  );
  const ready = new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`agent not ready in 60 s: ${stderr}`)), 60_000);
    void exited.then((x) => rej(new Error(`agent exited (${x.code ?? x.signal}) before ready: ${x.stderr}`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      if ((JSON.parse(line) as { ready?: boolean }).ready) {
        clearTimeout(t);
        res();
      }
    });
  });
  return { proc, exited, ready };
}

/** The patient's view of the chain the agent announces in <dataDir>/chain (what the wallet CLI reads). */
function patientContracts(dataDir: string, account: number): ChainContracts {
  const chainDir = join(dataDir, 'chain');
  const info = JSON.parse(readFileSync(join(chainDir, 'embedded.json'), 'utf8')) as { rpcUrl: string; chainId: number };
  const deployment = readDeployment(join(chainDir, 'chain.json'))!;
  return new ChainContracts(
    createChainClients({ rpcUrl: info.rpcUrl, chainId: info.chainId, privateKey: devPrivateKey(account), target: 'embedded' }),
    deployment,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const patient = DEV_ADDRESSES[PATIENT]! as Address;
const grantee = DEV_ADDRESSES[GRANTEE]! as Address;

describe('kill -9 of an agent running the embedded chain', () => {
  it('the chain dies with its agent: no anvil naming the data dir survives a SIGKILL of the agent', { timeout: 90_000 }, async () => {
    const dataDir = tempDir('vitalseal-orphan-a-');
    dirs.push(dataDir);
    const a = spawnAgent(dataDir);
    await a.ready;
    expect(anvilsNaming(dataDir)).toHaveLength(1);
    a.proc.kill('SIGKILL');
    await a.exited;
    // before the fix the orphan ran forever; now it is gone within a few seconds
    await waitFor(() => anvilsNaming(dataDir).length === 0, 10_000, 'the orphaned anvil to exit').catch(() => undefined);
    expect(anvilsNaming(dataDir)).toEqual([]);
  });

  it('kill -9, restart, revoke consent, restart again: the revocation holds and exactly one chain runs', { timeout: 180_000 }, async () => {
    const dataDir = tempDir('vitalseal-orphan-b-');
    dirs.push(dataDir);
    const a = spawnAgent(dataDir);
    await a.ready;
    // the ward registers a clinician, the patient registers and grants it access (wallets talk to the chain the agent announces)
    await patientContracts(dataDir, DEV_ACCOUNT.admin).register(
      grantee,
      keccak256(toHex('id:clinician')),
      'Clinician',
      keccak256(toHex('pk:clinician')),
    );
    await patientContracts(dataDir, PATIENT).registerPatient(keccak256(toHex('id:patient')), keccak256(toHex('pk:patient')));
    const notAfter = Math.floor(Date.now() / 1000) + 3600;
    await patientContracts(dataDir, PATIENT).grant(grantee, SCOPE_ALL, notAfter);
    expect(await patientContracts(dataDir, PATIENT).hasAccess(patient, grantee, SCOPE_ALL)).toBe(true);
    await sleep(2_500); // more than the documented state interval (1 s): the grant is on disk
    a.proc.kill('SIGKILL');
    await a.exited;

    const b = spawnAgent(dataDir);
    await b.ready;
    const c1 = patientContracts(dataDir, PATIENT);
    expect(await c1.hasAccess(patient, grantee, SCOPE_ALL)).toBe(true); // the grant survived the crash
    await c1.revokeGrant(grantee, SCOPE_ALL);
    expect(await c1.hasAccess(patient, grantee, SCOPE_ALL)).toBe(false);
    await sleep(2_500); // let any other writer of the state file (an orphan) take its turn
    b.proc.kill('SIGTERM');
    expect((await b.exited).code).toBe(0);
    await sleep(2_500);

    const c = spawnAgent(dataDir);
    await c.ready;
    expect(await patientContracts(dataDir, PATIENT).hasAccess(patient, grantee, SCOPE_ALL)).toBe(false);
    const anvils = anvilsNaming(dataDir);
    expect(anvils).toHaveLength(1);
    const info = JSON.parse(readFileSync(join(dataDir, 'chain', 'embedded.json'), 'utf8')) as { pid: number };
    expect(anvils).toEqual([info.pid]);
    c.proc.kill('SIGTERM');
    expect((await c.exited).code).toBe(0);
    await waitFor(() => anvilsNaming(dataDir).length === 0, 10_000, 'the chain to stop with its agent');
  });

  it('a second agent on the same data dir is refused while the first holds the chain state', { timeout: 120_000 }, async () => {
    const dataDir = tempDir('vitalseal-orphan-c-');
    dirs.push(dataDir);
    const a = spawnAgent(dataDir);
    await a.ready;
    const info = JSON.parse(readFileSync(join(dataDir, 'chain', 'embedded.json'), 'utf8')) as { pid: number };
    const second = spawnAgent(dataDir);
    second.ready.catch(() => undefined);
    const r = await Promise.race([
      second.exited,
      second.ready.then(
        () => 'started' as const,
        () => 'failed' as const,
      ),
    ]).then(async (x) => (x === 'failed' ? await second.exited : x));
    if (r === 'started') second.proc.kill('SIGKILL');
    expect(r).not.toBe('started');
    if (r !== 'started') {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/CHAIN_STATE_LOCKED/);
    }
    // the first agent's chain was left alone
    expect(alive(info.pid)).toBe(true);
    expect(anvilsNaming(dataDir)).toEqual([info.pid]);
    a.proc.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
  });
});
