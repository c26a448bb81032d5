/**
 * The embedded chain restarts from its state file: contracts and anchors survive a clean
 * stop, a kill -9 loses at most the last state interval (re-anchored), a corrupt state
 * file falls back to the last good copy, a lost state means a redeployment that is reported.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { AnchorService } from '../../chain/anchor/anchorService.ts';
import type { SqliteAnchorStore } from '../../chain/anchor/sqliteAnchorStore.ts';
import { ChainContracts } from '../../chain/contracts.ts';
import { EmbeddedChain, readEmbeddedInfo, STATE_FILE, type EmbeddedSession } from '../../chain/embedded.ts';
import { DEV_ACCOUNT, devPrivateKey } from '../../chain/devKeys.ts';
import { createChainClients } from '../../chain/client.ts';
import { DEPLOYMENT_FILE, ensureDeployment, readDeployment } from '../../chain/deployment.ts';
import { anchorDb, checkChainAnchors, LiveLog, registerAgent, removeDir, startChain, tempDir } from './helpers.ts';

let dir: string;
let s: EmbeddedSession;
const sessions: EmbeddedSession[] = [];

beforeAll(async () => {
  dir = tempDir('restart');
  s = await startChain(dir);
  sessions.push(s);
});

afterAll(async () => {
  for (const x of sessions) await x.chain.stop();
  removeDir(dir);
});

function anchorer(session: EmbeddedSession, logId: Hex, live: LiveLog, store: SqliteAnchorStore) {
  const contracts = new ChainContracts(session.devClients(DEV_ACCOUNT.agent), session.deployment);
  const svc = new AnchorService({ logId, log: live.view(), store, contracts, intervalMs: 100, fromBlock: session.deployment.deployBlock });
  return { contracts, svc };
}

async function anchorUpTo(svc: AnchorService, live: LiveLog, leaves: number) {
  live.append(leaves);
  await svc.anchorNow();
  expect(svc.anchoredTreeSize).toBe(live.log.size);
}

describe('embedded chain restart', () => {
  const live = new LiveLog('restart');
  let logId: Hex;
  let store: SqliteAnchorStore;

  it('reuses the deployment and keeps anchors across a clean stop', async () => {
    expect(readEmbeddedInfo(dir)?.pid).toBe(s.chain.pid);
    ({ logId } = await registerAgent(s, 'restart'));
    ({ store } = anchorDb(dir));
    const a = anchorer(s, logId, live, store);
    a.svc.start();
    await anchorUpTo(a.svc, live, 10);
    await anchorUpTo(a.svc, live, 20);
    await a.svc.stop();
    const head = await a.contracts.latest(logId);
    const block = await s.admin.publicClient.getBlockNumber();

    await s.chain.stop();
    expect(s.chain.running).toBe(false);
    expect(readEmbeddedInfo(dir)).toBeUndefined();
    const s2 = await startChain(dir);
    sessions.push(s2);
    expect(s2.chain.stateRecovery.kind).toBe('loaded');
    expect(s2.deployedBecause).toBeUndefined();
    expect(s2.deployment).toEqual(s.deployment);
    expect(await s2.admin.publicClient.getBlockNumber()).toBe(block); // nothing lost on a clean stop
    const b = anchorer(s2, logId, live, store);
    expect(await b.contracts.latest(logId)).toEqual(head);
    for (const r of store.list(logId)) {
      if (r.status === 'confirmed') expect((await b.contracts.receiptOf(r.txHash))?.blockHash).toBe(r.blockHash);
    }
    b.svc.start();
    await anchorUpTo(b.svc, live, 5);
    await b.svc.stop();
    s = s2;
  });

  it('after kill -9, reconciles what the last state interval lost', async () => {
    const a = anchorer(s, logId, live, store);
    a.svc.start();
    await anchorUpTo(a.svc, live, 7); // most likely not yet in the state file
    await a.svc.stop();
    await s.chain.kill();
    const s2 = await startChain(dir);
    sessions.push(s2);
    expect(s2.deployedBecause).toBeUndefined();
    const b = anchorer(s2, logId, live, store);
    b.svc.start();
    await anchorUpTo(b.svc, live, 3);
    await b.svc.stop();
    const evs = await checkChainAnchors(b.contracts, logId);
    const recs = store.list(logId);
    expect(recs.map((r) => r.treeSize)).toEqual(evs.map((e) => e.treeSize));
    for (const [i, r] of recs.entries()) expect(r).toMatchObject({ status: 'confirmed', blockHash: evs[i]!.blockHash });
    s = s2;
  });

  it('falls back to the last good state copy when the state file is corrupt', async () => {
    await s.chain.stop();
    writeFileSync(join(dir, STATE_FILE), '{"block": {"number": "0x'); // torn write
    const s2 = await startChain(dir);
    sessions.push(s2);
    expect(s2.chain.stateRecovery.kind).toBe('from-backup');
    expect(s2.deployedBecause).toBeUndefined();
    s = s2;
  });

  it('redeploys, and says why, when the chain state is gone', async () => {
    await s.chain.stop();
    rmSync(join(dir, STATE_FILE));
    rmSync(join(dir, `${STATE_FILE}.prev`));
    const s2 = await startChain(dir);
    sessions.push(s2);
    expect(s2.chain.stateRecovery.kind).toBe('fresh');
    expect(s2.deployedBecause).toMatch(/no registrar code/);
    expect(s2.deployment.deployBlock).toBeLessThan(5);
    s = s2;
  });

  it('refuses to reuse or overwrite a deployment record of another chain', async () => {
    const other = await EmbeddedChain.start({ dataDir: join(dir, 'other'), chainId: 4242 });
    try {
      const clients = createChainClients({ rpcUrl: other.rpcUrl, chainId: 4242, privateKey: devPrivateKey(0), target: 'embedded' });
      await expect(ensureDeployment(clients, join(dir, DEPLOYMENT_FILE))).rejects.toMatchObject({ code: 'CHAIN_WRONG_CHAIN_ID' });
      expect(readDeployment(join(dir, DEPLOYMENT_FILE))?.chainId).toBe(31337);
    } finally {
      await other.stop();
    }
  });

  it('fails (does not skip) when anvil cannot start', async () => {
    await expect(
      EmbeddedChain.start({ dataDir: join(dir, 'nostart'), anvilPath: '/nonexistent/anvil', startTimeoutMs: 2_000 }),
    ).rejects.toMatchObject({
      code: 'CHAIN_START_FAILED',
    });
    // a port that is taken by our own running chain
    await expect(EmbeddedChain.start({ dataDir: join(dir, 'busy'), port: s.chain.port, startTimeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'CHAIN_START_FAILED',
    });
  });
});
