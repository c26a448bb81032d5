/**
 * A chain outage of more than 10 s under continuous appends: anvil is stopped, the log
 * keeps growing, anvil restarts from its state file; nothing is lost or duplicated and
 * the backlog goes on-chain in one transaction.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bytesToHex } from 'viem';
import { AnchorService, type AnchoredInfo } from '../../chain/anchor/anchorService.ts';
import { startEmbeddedChain, type EmbeddedSession } from '../../chain/embedded.ts';
import { anchorDb, checkChainAnchors, LiveLog, registerAgent, removeDir, sleep, startChain, tempDir } from './helpers.ts';

let dir: string;
let s: EmbeddedSession;
let s2: EmbeddedSession | undefined;

beforeAll(async () => {
  dir = tempDir('outage');
  s = await startChain(dir);
});

afterAll(async () => {
  await s?.chain.stop();
  await s2?.chain.stop();
  removeDir(dir);
});

it('survives a 10 s chain outage under continuous appends: zero anchors lost or duplicated', { timeout: 60_000 }, async () => {
  const { contracts, logId } = await registerAgent(s, 'outage');
  const live = new LiveLog('outage', 9);
  const { db, store } = anchorDb(dir);
  const anchored: AnchoredInfo[] = [];
  const failures: string[] = [];
  const svc = new AnchorService({
    logId,
    log: live.view(),
    store,
    contracts,
    intervalMs: 500,
    maxLeaves: 1_000,
    fromBlock: s.deployment.deployBlock,
    receiptTimeoutMs: 5_000,
    backoff: { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0.2 },
    events: { onAnchored: (a) => anchored.push(a), onFailure: (f) => failures.push(f.code) },
  });
  svc.start();
  live.startAppending(10, 10, (size) => svc.notify(size)); // ~1,000 leaves/s
  await sleep(1_500);

  const port = s.chain.port;
  await s.chain.stop(); // the chain goes away (state dumped on SIGTERM)
  const downAt = Date.now();
  const sizeAtOutage = live.log.size;
  await sleep(10_500);
  expect(['backoff', 'reconciling']).toContain(svc.state.kind); // retrying, not halted
  expect(anchored.every((a) => a.confirmedAt <= downAt + 100)).toBe(true);

  // taken before the restart: anvil answers (and the service may anchor) before startEmbeddedChain resolves
  const sizeAtRestart = live.log.size;
  const restartAt = Date.now();
  s2 = await startEmbeddedChain({ dataDir: dir, port }); // same URL, state from the file
  expect(s2.deployedBecause).toBeUndefined();
  expect(s2.chain.stateRecovery.kind).toBe('loaded');
  const sizeAtReturn = live.log.size;
  await sleep(1_500);
  live.stopAppending();
  const final = live.log.size;
  await svc.waitForAnchored(final, 15_000);
  await svc.stop();

  expect(failures.length).toBeGreaterThan(0);
  expect(failures.every((f) => f === 'CHAIN_UNAVAILABLE' || f === 'CHAIN_TX_TIMEOUT')).toBe(true);
  expect(sizeAtReturn - sizeAtOutage).toBeGreaterThan(5_000); // ingest went on

  // on-chain: strictly increasing, each anchor chained to the previous one, ends at the log head
  const evs = await checkChainAnchors(contracts, logId);
  expect(evs.at(-1)?.treeSize).toBe(final);
  expect(evs.at(-1)?.root).toBe(bytesToHex(live.log.root(final)));
  // store = chain, each stored tx in the block it names
  const recs = store.list(logId);
  expect(recs.map((r) => r.treeSize)).toEqual(evs.map((e) => e.treeSize));
  for (const [i, r] of recs.entries()) {
    expect(r.status).toBe('confirmed');
    if (r.status === 'confirmed') {
      expect(r).toMatchObject({ txHash: evs[i]!.txHash, blockNumber: evs[i]!.blockNumber, blockHash: evs[i]!.blockHash });
      expect((await contracts.receiptOf(r.txHash))?.blockHash).toBe(r.blockHash);
    }
  }
  // the whole backlog went on-chain in ONE transaction once the chain was back
  const lastBefore = evs.filter((e) => e.treeSize <= sizeAtOutage).at(-1)!;
  const firstAfter = evs.find((e) => e.treeSize > lastBefore.treeSize)!;
  expect(firstAfter.prevTreeSize).toBe(lastBefore.treeSize);
  expect(firstAfter.treeSize).toBeGreaterThanOrEqual(sizeAtRestart);
  const firstAfterInfo = anchored.find((a) => a.treeSize === firstAfter.treeSize)!;
  expect(firstAfterInfo.confirmedAt).toBeGreaterThanOrEqual(restartAt);
  db.close();
});
