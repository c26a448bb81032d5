/**
 * Consent's clock-taking views (issue #15, defect 4): hasAccessAt / canReadAt compare expiry
 * with max(caller's clock, block.timestamp), so a reader sees an expiry on an idle chain and
 * can never revive an expired grant by passing an old clock. Also: a deployment record of an
 * older build of the contracts is redeployed (embedded) or refused (external agent), never reused.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { startAgent } from '../../agent/agent.ts';
import { parseAgentConfig } from '../../agent/config.ts';
import { ChainContracts } from '../../chain/contracts.ts';
import {
  DEPLOYMENT_FILE,
  currentBuildHashes,
  ensureDeployment,
  outdatedBecause,
  readDeployment,
  type Deployment,
} from '../../chain/deployment.ts';
import { startEmbeddedChain, type EmbeddedSession } from '../../chain/embedded.ts';
import { scopeAll, scopeSensor, scopeSession } from '../../chain/scope.ts';
import { b32, removeDir, tempDir } from './helpers.ts';

const BREAK_GLASS_SECONDS = 600;
let dir: string;
let s: EmbeddedSession;
const c: Record<string, ChainContracts> = {};
const addr: Record<string, Address> = {};
const names = ['admin', 'alice', 'clin', 'ec', 'other'] as const;

async function chainNow(): Promise<number> {
  return Number((await s.admin.publicClient.getBlock()).timestamp);
}

beforeAll(async () => {
  dir = tempDir('consent-clock');
  s = await startEmbeddedChain({ dataDir: dir, startTimeoutMs: 20_000, breakGlassSeconds: BREAK_GLASS_SECONDS });
  names.forEach((n, i) => {
    const clients = i === 0 ? s.admin : s.devClients(i);
    c[n] = new ChainContracts(clients, s.deployment);
    addr[n] = clients.account.address;
  });
  await c.alice!.registerPatient(b32('id:alice'), b32('pk:alice'));
  await c.admin!.register(addr.clin!, b32('id:clin'), 'Clinician', b32('pk:clin'));
  await c.admin!.register(addr.ec!, b32('id:ec'), 'EmergencyClinician', b32('pk:ec'));
  await c.admin!.register(addr.other!, b32('id:other'), 'Clinician', b32('pk:other'));
});

afterAll(async () => {
  await s?.chain.stop();
  removeDir(dir);
});

describe('Consent views at the caller’s clock', () => {
  it('hasAccessAt: a grant ends at its last second by the caller’s clock, whatever the block time', async () => {
    const all = scopeAll();
    const now = await chainNow();
    const notAfter = now + 100;
    await c.alice!.grant(addr.clin!, all, notAfter);
    const t = await chainNow(); // the grant's block
    // at = 0 (or any past clock) is the block's time: the old view and the new one agree
    expect(await c.other!.hasAccess(addr.alice!, addr.clin!, all)).toBe(true);
    expect(await c.other!.hasAccessAt(addr.alice!, addr.clin!, all, 0)).toBe(true);
    expect(await c.other!.hasAccessAt(addr.alice!, addr.clin!, all, t)).toBe(true);
    // the last second is inclusive; one second later the grant is over, though no block was mined
    expect(await c.other!.hasAccessAt(addr.alice!, addr.clin!, all, notAfter)).toBe(true);
    expect(await c.other!.hasAccessAt(addr.alice!, addr.clin!, all, notAfter + 1)).toBe(false);
    expect(await c.other!.hasAccessAt(addr.alice!, addr.clin!, all, 2 ** 53 - 1)).toBe(false);
    // the patient itself is never limited by a clock
    expect(await c.other!.hasAccessAt(addr.alice!, addr.alice!, all, notAfter + 1_000_000)).toBe(true);
  });

  it('hasAccessAt: an old clock cannot revive a grant the chain already sees as expired', async () => {
    const scope = scopeSensor('spo2');
    const now = await chainNow();
    await c.alice!.grant(addr.other!, scope, now + 5);
    expect(await c.other!.hasAccessAt(addr.alice!, addr.other!, scope, now)).toBe(true);
    // move the chain past the expiry, then ask with a clock from before it
    await s.admin.publicClient.request({ method: 'evm_increaseTime' as never, params: [10] as never });
    await s.admin.publicClient.request({ method: 'evm_mine' as never, params: [] as never });
    expect(await c.other!.hasAccessAt(addr.alice!, addr.other!, scope, now)).toBe(false);
    expect(await c.other!.hasAccessAt(addr.alice!, addr.other!, scope, 0)).toBe(false);
    expect(await c.other!.hasAccess(addr.alice!, addr.other!, scope)).toBe(false);
  });

  it('canReadAt: sensor or session scope, each ended by the caller’s clock; canRead is its block-time wrapper', async () => {
    const kid = new Uint8Array(16).fill(7);
    const sensor = scopeSensor('nibp');
    const session = scopeSession(kid);
    const unrelated = scopeSensor('temp');
    await c.alice!.revokeGrant(addr.clin!, scopeAll());
    const now = await chainNow();
    await c.alice!.grant(addr.clin!, sensor, now + 50);
    await c.alice!.grant(addr.clin!, session, now + 200);
    expect(await c.other!.canRead(addr.alice!, addr.clin!, sensor, session)).toBe(true);
    expect(await c.other!.canReadAt(addr.alice!, addr.clin!, sensor, session, 0)).toBe(true);
    expect(await c.other!.canReadAt(addr.alice!, addr.clin!, sensor, unrelated, now + 50)).toBe(true);
    expect(await c.other!.canReadAt(addr.alice!, addr.clin!, sensor, unrelated, now + 51)).toBe(false);
    expect(await c.other!.canReadAt(addr.alice!, addr.clin!, sensor, session, now + 51)).toBe(true); // the session grant lasts longer
    expect(await c.other!.canReadAt(addr.alice!, addr.clin!, sensor, session, now + 201)).toBe(false);
  });

  it('hasAccessAt: the break-glass window closes at its end by the caller’s clock', async () => {
    const r = await c.ec!.breakGlass(addr.alice!, b32('reason'));
    expect(r.blockNumber).toBeGreaterThan(0);
    const until = await c.other!.emergencyAccessUntil(addr.alice!, addr.ec!);
    expect(until - (await chainNow())).toBe(BREAK_GLASS_SECONDS);
    expect(await c.other!.hasAccessAt(addr.alice!, addr.ec!, scopeSensor('spo2'), until)).toBe(true);
    expect(await c.other!.hasAccessAt(addr.alice!, addr.ec!, scopeSensor('spo2'), until + 1)).toBe(false);
    expect(await c.other!.canReadAt(addr.alice!, addr.ec!, scopeSensor('spo2'), scopeAll(), until + 1)).toBe(false);
  });

  it('refuses a clock that is not a non-negative integer of seconds before any call', async () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 64]) {
      await expect(c.other!.hasAccessAt(addr.alice!, addr.clin!, scopeAll(), bad)).rejects.toMatchObject({ code: 'CHAIN_BAD_ARGUMENT' });
    }
  });
});

describe('deployment record of another build', () => {
  it('is redeployed on the embedded chain, with the reason, and the new record names this build', async () => {
    const path = join(dir, DEPLOYMENT_FILE);
    const before = readDeployment(path)!;
    expect(outdatedBecause(before)).toBeUndefined();
    expect(before.buildHashes).toEqual(currentBuildHashes());
    // a record written before build hashes existed (the contracts then lacked hasAccessAt)
    const { buildHashes: _dropped, ...legacy } = before;
    writeFileSync(path, JSON.stringify(legacy));
    const again = await ensureDeployment(s.admin, path, { breakGlassSeconds: BREAK_GLASS_SECONDS });
    expect(again.deployedBecause).toMatch(/predates build hashes/);
    expect(again.deployment.consent).not.toBe(before.consent);
    expect(readDeployment(path)!.buildHashes).toEqual(currentBuildHashes());
    // the same for a record of a different build
    const other: Deployment = { ...again.deployment, buildHashes: { ...currentBuildHashes(), consent: b32('older consent build') } };
    writeFileSync(path, JSON.stringify(other));
    const third = await ensureDeployment(s.admin, path, { breakGlassSeconds: BREAK_GLASS_SECONDS });
    expect(third.deployedBecause).toMatch(/consent was deployed from another build/);
    // and a record of this build is reused
    const fourth = await ensureDeployment(s.admin, path, { breakGlassSeconds: BREAK_GLASS_SECONDS });
    expect(fourth.deployedBecause).toBeUndefined();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(third.deployment);
  });

  it('is refused by an agent on an external chain (chain.mode rpc), with a typed error', async () => {
    const legacyFile = join(dir, 'legacy-chain.json');
    const { buildHashes: _dropped, ...legacy } = readDeployment(join(dir, DEPLOYMENT_FILE))!;
    writeFileSync(legacyFile, JSON.stringify(legacy));
    const config = parseAgentConfig({
      dataDir: join(dir, 'agent-rpc'),
      mqtt: { port: 0 },
      http: { port: 0 },
      logLevel: 'silent',
      chain: { mode: 'rpc', rpcUrl: s.chain.rpcUrl, keyFile: join(dir, 'unused.key'), deploymentFile: legacyFile },
    });
    await expect(startAgent(config, { defaultMetrics: false })).rejects.toMatchObject({ code: 'CHAIN_DEPLOYMENT_OUTDATED' });
  });
});
