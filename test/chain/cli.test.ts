/** `vitalseal chain up|status|deploy|register-agent` as a user runs them (child processes). */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, expect, it, vi } from 'vitest';
import { registerChainCommands } from '../../cli/commands/chain.ts';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { devPrivateKey } from '../../chain/devKeys.ts';
import { removeDir, tempDir, testClient } from './helpers.ts';

const ENTRY = join(import.meta.dirname, 'fixtures', 'chainCli.ts');
const dir = tempDir('cli');
afterAll(() => removeDir(dir));

/** Runs `vitalseal chain …` in this process (only `chain up` needs a child process). */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const program = new Command().name('vitalseal').exitOverride();
  registerChainCommands(program);
  let code = 0;
  program.hook('postAction', (_t, a) => {
    const c = (a as Command & { exitCodeValue?: number }).exitCodeValue;
    if (typeof c === 'number') code = c;
  });
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    await program.parseAsync(['node', 'vitalseal', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { code, out, err };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('chain up runs until Ctrl-C; status, deploy and register-agent work against it', { timeout: 60_000 }, async () => {
  const dataDir = join(dir, 'chain');
  const up = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'chain', 'up', '--data-dir', dataDir, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => up.once('exit', (c) => r(c)));
  let out = '';
  up.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const t0 = Date.now();
  while (!out.trim().endsWith('}') && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 50));
  try {
    const ready = JSON.parse(out) as { ok: boolean; rpcUrl: string; pid: number; ledger: string; deployedBecause: string | null };
    expect(ready).toMatchObject({ ok: true, deployedBecause: 'no deployment record' });
    expect(ready.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(alive(ready.pid)).toBe(true);

    const st = await run('chain', 'status', '--data-dir', dataDir, '--json');
    expect(st.code).toBe(0);
    expect(JSON.parse(st.out)).toMatchObject({ ok: true, contracts: 'live', chainId: 31337 });

    // the embedded chain, addressed as an external one: development keys are refused
    const devKeyFile = join(dir, 'dev.key');
    writeFileSync(devKeyFile, devPrivateKey(0), { mode: 0o600 });
    const refused = await run('chain', 'deploy', '--rpc', ready.rpcUrl, '--key-file', devKeyFile, '--data-dir', join(dir, 'ext'), '--json');
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.out)).toMatchObject({ ok: false, error: { code: 'CHAIN_DEV_KEY_REFUSED' } });
    expect(refused.out + refused.err).not.toContain(devPrivateKey(0).slice(2));

    // with its own (funded) key it deploys and records chain.json, then reuses it
    const key = generatePrivateKey();
    const keyFile = join(dir, 'ward.key');
    writeFileSync(keyFile, key, { mode: 0o600 });
    await testClient(ready.rpcUrl).setBalance({ address: privateKeyToAddress(key), value: 10n ** 18n });
    const dep = await run('chain', 'deploy', '--rpc', ready.rpcUrl, '--key-file', keyFile, '--data-dir', join(dir, 'ext'), '--json');
    expect(dep.code).toBe(0);
    expect(JSON.parse(dep.out)).toMatchObject({ ok: true, deployedBecause: 'no deployment record', admin: privateKeyToAddress(key) });
    const reg = await run(
      'chain',
      'register-agent',
      '--rpc',
      ready.rpcUrl,
      '--key-file',
      keyFile,
      '--data-dir',
      join(dir, 'ext'),
      '--agent',
      privateKeyToAddress(generatePrivateKey()),
      '--log-id',
      `0x${'ab'.repeat(32)}`,
      '--json',
    );
    expect(reg.code).toBe(0);
    expect(JSON.parse(reg.out)).toMatchObject({ ok: true, logId: `0x${'ab'.repeat(32)}` });

    up.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(alive(ready.pid)).toBe(false);
  } finally {
    if (up.exitCode === null) up.kill('SIGKILL');
  }
  const down = await run('chain', 'status', '--data-dir', dataDir, '--json');
  expect(down.code).toBe(5);
  expect(JSON.parse(down.out)).toMatchObject({ ok: false, running: false });
});
