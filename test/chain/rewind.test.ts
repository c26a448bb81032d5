/**
 * The chain loses blocks: an evm_snapshot/evm_revert rewind while anchoring runs, and a
 * restart of the embedded chain from an older copy of its state file. Heads missing
 * on-chain are re-anchored and the store names the blocks that now hold them.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bytesToHex, type Hex } from 'viem';
import { AnchorService, type ReconcileInfo } from '../../chain/anchor/anchorService.ts';
import type { SqliteAnchorStore } from '../../chain/anchor/sqliteAnchorStore.ts';
import type { ChainContracts } from '../../chain/contracts.ts';
import { STATE_FILE, startEmbeddedChain, type EmbeddedSession } from '../../chain/embedded.ts';
import {
  anchorDb,
  checkChainAnchors,
  LiveLog,
  registerAgent,
  removeDir,
  revertWhileSending,
  sleep,
  startChain,
  subDir,
  tempDir,
  testClient,
} from './helpers.ts';

let dir: string;
let s: EmbeddedSession;
const later: EmbeddedSession[] = [];

beforeAll(async () => {
  dir = tempDir('rewind');
  s = await startChain(dir);
});

afterAll(async () => {
  await s?.chain.stop();
  for (const x of later) await x.chain.stop();
  removeDir(dir);
});

/** Store and chain agree: every stored head is confirmed in the block that holds it now. */
async function expectStoreMatchesChain(contracts: ChainContracts, logId: Hex, store: SqliteAnchorStore, live: LiveLog) {
  const evs = await checkChainAnchors(contracts, logId);
  const recs = store.list(logId);
  expect(recs.map((r) => r.treeSize)).toEqual(evs.map((e) => e.treeSize));
  for (const [i, r] of recs.entries()) {
    expect(r.status).toBe('confirmed');
    if (r.status !== 'confirmed') continue;
    expect(r).toMatchObject({ txHash: evs[i]!.txHash, blockNumber: evs[i]!.blockNumber, blockHash: evs[i]!.blockHash, root: evs[i]!.root });
    expect(await contracts.blockHashAt(r.blockNumber)).toBe(r.blockHash);
    expect(r.root).toBe(bytesToHex(live.log.root(r.treeSize)));
  }
  return recs;
}

function makeService(contracts: ChainContracts, logId: Hex, live: LiveLog, store: SqliteAnchorStore, reconciled: ReconcileInfo[]) {
  return new AnchorService({
    logId,
    log: live.view(),
    store,
    contracts,
    intervalMs: 200,
    maxLeaves: 1_000,
    fromBlock: s.deployment.deployBlock,
    receiptTimeoutMs: 5_000,
    backoff: { initialMs: 100, maxMs: 800, factor: 2, jitter: 0.2 },
    events: { onReconciled: (r) => reconciled.push(r) },
  });
}

it('re-anchors the heads an evm_revert rewind removed, while appends go on', { timeout: 30_000 }, async () => {
  const { contracts, logId } = await registerAgent(s, 'revert', 1);
  const live = new LiveLog('revert');
  const { db, store } = anchorDb(subDir(dir, 'revert'));
  const reconciled: ReconcileInfo[] = [];
  const svc = makeService(contracts, logId, live, store, reconciled);
  svc.start();
  live.startAppending(10, 5, (n) => svc.notify(n));
  await sleep(800);
  const snap = await testClient(s.chain.rpcUrl).snapshot();
  const sizeAtSnapshot = (await contracts.latest(logId)).treeSize;
  await sleep(1_200);
  const before = store.list(logId).filter((r) => r.treeSize > sizeAtSnapshot && r.status === 'confirmed');
  expect(before.length).toBeGreaterThanOrEqual(3);
  const oldBlocks = new Map(before.map((r) => [r.treeSize, r.status === 'confirmed' ? r.blockHash : undefined]));

  await revertWhileSending(s.chain.rpcUrl, snap); // the chain forgets those anchors
  expect((await contracts.latest(logId)).treeSize).toBeLessThan(before.at(-1)!.treeSize);
  await sleep(1_000);
  live.stopAppending();
  await svc.waitForAnchored(live.log.size, 10_000);
  await svc.anchorNow();
  await svc.stop();

  expect(svc.alarmed).toBe(false);
  const reanchored = reconciled.reduce((n, r) => n + r.reanchored, 0);
  expect(reanchored).toBeGreaterThanOrEqual(before.length - 1);
  const recs = await expectStoreMatchesChain(contracts, logId, store, live);
  for (const r of recs) {
    if (r.status === 'confirmed' && oldBlocks.has(r.treeSize)) {
      expect(r.blockHash).not.toBe(oldBlocks.get(r.treeSize)); // now names the block that holds it
      expect(r.anchorCount).toBeGreaterThanOrEqual(2);
    }
  }
  expect(recs.at(-1)?.treeSize).toBe(live.log.size);
  db.close();
});

it('re-anchors after the embedded chain restarts from an older state file', { timeout: 30_000 }, async () => {
  const { contracts, logId } = await registerAgent(s, 'oldstate', 2);
  const live = new LiveLog('oldstate');
  const { db, store } = anchorDb(subDir(dir, 'oldstate'));
  const reconciled: ReconcileInfo[] = [];
  const svc = makeService(contracts, logId, live, store, reconciled);
  svc.start();
  live.startAppending(10, 5, (n) => svc.notify(n));
  await sleep(1_500);
  // wait for a state dump (every second), then keep an old copy of it
  await sleep(1_100);
  const oldCopy = join(dir, 'old-state.json');
  copyFileSync(join(dir, STATE_FILE), oldCopy);
  const sizeInCopy = live.log.size;
  await sleep(1_500);
  const port = s.chain.port;
  await s.chain.stop();
  const lostCandidates = store.list(logId).filter((r) => r.treeSize > sizeInCopy);
  expect(lostCandidates.length).toBeGreaterThanOrEqual(3);

  copyFileSync(oldCopy, join(dir, STATE_FILE));
  rmSync(join(dir, `${STATE_FILE}.prev`), { force: true });
  const s2 = await startEmbeddedChain({ dataDir: dir, port });
  later.push(s2);
  expect(s2.deployedBecause).toBeUndefined();
  await sleep(1_000);
  live.stopAppending();
  await svc.waitForAnchored(live.log.size, 10_000);
  await svc.anchorNow();
  await svc.stop();

  expect(svc.alarmed).toBe(false);
  expect(reconciled.reduce((n, r) => n + r.reanchored, 0)).toBeGreaterThanOrEqual(lostCandidates.length);
  const recs = await expectStoreMatchesChain(contracts, logId, store, live);
  expect(recs.at(-1)?.treeSize).toBe(live.log.size);
  db.close();
});

it('recovers when the chain rewinds again while lost heads are being re-anchored', { timeout: 30_000 }, async () => {
  const { contracts, logId } = await registerAgent(s, 'double', 3);
  const live = new LiveLog('double');
  const { db, store } = anchorDb(subDir(dir, 'double'));
  const reconciled: ReconcileInfo[] = [];
  const svc = makeService(contracts, logId, live, store, reconciled);
  const t = testClient(s.chain.rpcUrl);
  svc.start();
  live.append(10);
  await svc.anchorNow();
  const s1 = await t.snapshot();
  live.append(10);
  await svc.anchorNow();
  live.append(10);
  await svc.anchorNow();
  await svc.stop();
  expect(store.list(logId).map((r) => r.treeSize)).toEqual([10, 20, 30]);

  // rewind 1: heads 20 and 30 lost; the agent re-anchors 20, then dies while 30 is pending
  await t.revert({ id: s1 });
  const s2 = await t.snapshot();
  store.markReanchoring(logId, 20);
  contracts.clients.resetNonce(); // the rewind took the account's nonce back (the service does this in reconcile)
  const r20 = await contracts.anchorAfter(logId, 10, 20, bytesToHex(live.log.root(20)), []);
  store.confirm(logId, 20, {
    txHash: r20.txHash,
    blockNumber: r20.blockNumber,
    blockHash: r20.blockHash,
    prevTreeSize: 10,
    confirmedAt: Date.now(),
  });
  store.markReanchoring(logId, 30);
  // rewind 2: the re-anchored 20 is lost again
  await t.revert({ id: s2 });
  expect((await contracts.latest(logId)).treeSize).toBe(10);

  const seen = reconciled.length;
  svc.start();
  await svc.waitForAnchored(30, 10_000);
  await svc.anchorNow();
  await svc.stop();
  expect(svc.alarmed).toBe(false);
  expect(reconciled[seen]).toMatchObject({ chainTreeSize: 10, reanchored: 2 });
  const recs = await expectStoreMatchesChain(contracts, logId, store, live);
  expect(recs.map((r) => [r.treeSize, r.anchorCount])).toEqual([
    [10, 1],
    [20, 3],
    [30, 2],
  ]);
  db.close();
});
