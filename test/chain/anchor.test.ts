/**
 * Anchoring a live log on the real embedded chain: continuous appends, crash windows
 * (pending already mined, head on-chain but not in the store), a forked log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { bytesToHex, type Hex } from 'viem';
import { AnchorService, type AnchoredInfo } from '../../chain/anchor/anchorService.ts';
import { migrateAnchorTables, SqliteAnchorStore } from '../../chain/anchor/sqliteAnchorStore.ts';
import type { ChainContracts } from '../../chain/contracts.ts';
import type { EmbeddedSession } from '../../chain/embedded.ts';
import { anchorDb, b32, checkChainAnchors, LiveLog, registerAgent, removeDir, sleep, startChain, subDir, tempDir } from './helpers.ts';

let dir: string;
let s: EmbeddedSession;

beforeAll(async () => {
  dir = tempDir('anchor');
  s = await startChain(dir);
});

afterAll(async () => {
  await s?.chain.stop();
  removeDir(dir);
});

function service(
  contracts: ChainContracts,
  logId: Hex,
  live: LiveLog,
  store: SqliteAnchorStore,
  extra: Partial<ConstructorParameters<typeof AnchorService>[0]> = {},
) {
  return new AnchorService({
    logId,
    log: live.view(),
    store,
    contracts,
    intervalMs: 250,
    maxLeaves: 500,
    fromBlock: s.deployment.deployBlock,
    backoff: { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0.2 },
    ...extra,
  });
}

/** Every stored anchor is confirmed and its tx sits in the block the store names, with its head. */
async function checkStoreAgainstChain(contracts: ChainContracts, logId: Hex, store: SqliteAnchorStore) {
  const recs = store.list(logId);
  const evs = await checkChainAnchors(contracts, logId);
  const bySize = new Map(evs.map((e) => [e.treeSize, e]));
  for (const r of recs) {
    expect(r.status).toBe('confirmed');
    if (r.status !== 'confirmed') continue;
    const ev = bySize.get(r.treeSize);
    expect(ev, `head ${r.treeSize} on chain`).toBeDefined();
    expect(ev).toMatchObject({ txHash: r.txHash, blockNumber: r.blockNumber, blockHash: r.blockHash, root: r.root });
    const receipt = await contracts.receiptOf(r.txHash);
    expect(receipt?.blockHash).toBe(r.blockHash);
  }
  expect(evs.map((e) => e.treeSize)).toEqual(recs.map((r) => r.treeSize));
  return { recs, evs };
}

describe('SqliteAnchorStore', () => {
  it('keeps at most one pending head, confirms it, finds the covering anchor', () => {
    const db = new Database(':memory:');
    migrateAnchorTables(db);
    migrateAnchorTables(db); // idempotent
    const store = new SqliteAnchorStore(db);
    const logId = b32('store-log');
    store.addPending({ logId, treeSize: 10, root: b32('r10'), createdAt: 1 });
    expect(() => store.addPending({ logId, treeSize: 20, root: b32('r20'), createdAt: 2 })).toThrow(/pending/);
    store.setSent(logId, 10, b32('tx10'), 3);
    expect(store.pending(logId)).toMatchObject({ status: 'pending', kind: 'new', treeSize: 10, txHash: b32('tx10'), sentAt: 3 });
    store.confirm(logId, 10, { txHash: b32('tx10'), blockNumber: 5, blockHash: b32('b5'), prevTreeSize: 0, confirmedAt: 4 });
    store.addPending({ logId, treeSize: 20, root: b32('r20'), createdAt: 5 });
    store.dropPending(logId, 20);
    expect(store.pending(logId)).toBeUndefined();
    store.adopt({
      logId,
      treeSize: 30,
      root: b32('r30'),
      txHash: b32('tx30'),
      blockNumber: 9,
      blockHash: b32('b9'),
      prevTreeSize: 10,
      createdAt: 6,
      confirmedAt: 6,
    });
    expect(store.coveringAnchor(logId, 0)?.treeSize).toBe(10);
    expect(store.coveringAnchor(logId, 10)?.treeSize).toBe(30);
    expect(store.coveringAnchor(logId, 30)).toBeUndefined();
    store.markReanchoring(logId, 30);
    expect(store.pending(logId)).toMatchObject({ kind: 'reanchor', treeSize: 30, anchorCount: 1 });
    expect(() => store.markReanchoring(logId, 20)).toThrow(); // no such confirmed head
    // the chain rewinds again below the head being re-anchored: 10 goes first, 30 waits confirmed
    store.markReanchoring(logId, 10);
    expect(store.pending(logId)).toMatchObject({ kind: 'reanchor', treeSize: 10 });
    expect(store.get(logId, 30)?.status).toBe('confirmed');
    store.confirm(logId, 10, { txHash: b32('tx10b'), blockNumber: 10, blockHash: b32('b10'), prevTreeSize: 0, confirmedAt: 7 });
    store.markReanchoring(logId, 30);
    store.confirm(logId, 30, { txHash: b32('tx30b'), blockNumber: 11, blockHash: b32('b11'), prevTreeSize: 10, confirmedAt: 7 });
    expect(store.lastConfirmed(logId)).toMatchObject({ treeSize: 30, txHash: b32('tx30b'), blockNumber: 11, anchorCount: 2 });
    expect(store.confirmedAfter(logId, 10).map((r) => r.treeSize)).toEqual([30]);
  });
});

describe('AnchorService', () => {
  it('anchors a live log every T ms or N leaves, without gaps or duplicates', async () => {
    const { contracts, logId } = await registerAgent(s, 'live', 1);
    const live = new LiveLog('live', 7);
    const { db, store } = anchorDb(dir);
    const anchored: AnchoredInfo[] = [];
    const trace: string[] = [];
    const t0 = Date.now();
    const svc = service(contracts, logId, live, store, {
      events: {
        onAnchored: (a) => anchored.push(a),
        onState: (st) => trace.push(`${Date.now() - t0} ${JSON.stringify(st)}`),
        onFailure: (f) => trace.push(`${Date.now() - t0} failure ${f.code} ${f.message}`),
      },
    });
    svc.start();
    live.startAppending(10, 10, (size) => svc.notify(size)); // ~1,000 leaves/s
    await sleep(3_000);
    live.stopAppending();
    const final = live.log.size;
    try {
      await svc.waitForAnchored(final, 10_000);
    } catch (e) {
      console.log(trace.join('\n'));
      throw e;
    }
    await svc.stop();

    expect(svc.alarmed).toBe(false);
    const { recs, evs } = await checkStoreAgainstChain(contracts, logId, store);
    expect(recs.at(-1)?.treeSize).toBe(final);
    expect(recs.at(-1)?.root).toBe(bytesToHex(live.log.root(final)));
    expect(evs.length).toBeGreaterThanOrEqual(4);
    // N-leaf trigger: no anchor covers much more than N leaves plus one tick of appends
    for (const e of evs) expect(e.treeSize - e.prevTreeSize).toBeLessThanOrEqual(700);
    expect(anchored.every((a) => a.kind === 'new' && a.gasUsed !== undefined && a.patients === 7)).toBe(true);
    // the Summary notification: patient 3 is told of every head
    const upd = await contracts.updatedEvents({ patientRef: b32('patient:3'), logId });
    expect(upd.map((u) => u.treeSize)).toEqual(evs.map((e) => e.treeSize));
    db.close();
  });

  it('marks a pending head that was already mined as confirmed instead of resending it', async () => {
    const { contracts, logId } = await registerAgent(s, 'crash', 2);
    const live = new LiveLog('crash');
    const { db, store } = anchorDb(subDir(dir, 'crash'));
    live.append(100);
    const root = bytesToHex(live.log.root(100));
    // crash window 1: pending written, tx sent and mined, process died before recording the hash
    store.addPending({ logId, treeSize: 100, root, createdAt: Date.now() });
    const r1 = await contracts.anchorAfter(logId, 0, 100, root, []);
    live.append(50);
    const svc = service(contracts, logId, live, store);
    svc.start();
    await svc.waitForAnchored(150, 10_000);
    await svc.stop();
    expect(store.get(logId, 100)).toMatchObject({ status: 'confirmed', txHash: r1.txHash, blockNumber: r1.blockNumber });

    // crash window 2: hash recorded, receipt never awaited
    live.append(25);
    const root175 = bytesToHex(live.log.root(175));
    store.addPending({ logId, treeSize: 175, root: root175, createdAt: Date.now() });
    const sent = await contracts.sendAnchorAfter(logId, 150, 175, root175, []);
    store.setSent(logId, 175, sent.txHash, Date.now());
    // crash window 3: on-chain head unknown to the store (its row was never written)
    const r3 = await contracts.anchorAfter(logId, 175, 180, bytesToHex((live.append(5), live.log.root(180))), []);
    const rec: unknown[] = [];
    const svc3 = service(contracts, logId, live, store, { events: { onReconciled: (i) => rec.push(i) } });
    svc3.start();
    await svc3.waitForAnchored(180, 10_000);
    await svc3.anchorNow();
    await svc3.stop();
    expect(rec[0]).toMatchObject({ recovered: 1, adopted: 1, reanchored: 0, dropped: 0 });
    expect(store.get(logId, 175)).toMatchObject({ status: 'confirmed', txHash: sent.txHash });
    expect(store.get(logId, 180)).toMatchObject({ status: 'confirmed', txHash: r3.txHash });
    const { evs } = await checkStoreAgainstChain(contracts, logId, store);
    expect(evs.map((e) => e.treeSize)).toEqual([100, 150, 175, 180]); // nothing sent twice
    db.close();
  });

  it('halts with an alarm on a forked log and never anchors it', async () => {
    const { contracts, logId } = await registerAgent(s, 'fork', 3);
    const honest = new LiveLog('honest');
    const { db, store } = anchorDb(subDir(dir, 'fork'));
    honest.append(64);
    const svc = service(contracts, logId, honest, store);
    svc.start();
    await svc.waitForAnchored(64, 10_000);
    await svc.stop();

    // the agent restarts with a log whose history differs (restored from a bad backup)
    const forked = new LiveLog('forked');
    forked.append(80);
    const alarms: string[] = [];
    const states: string[] = [];
    const svc2 = service(contracts, logId, forked, store, {
      events: { onAlarm: (a) => alarms.push(a.code), onState: (st) => states.push(st.kind) },
    });
    svc2.start();
    await expect(svc2.waitForAnchored(80, 5_000)).rejects.toMatchObject({ code: 'ANCHOR_HALTED' });
    expect(svc2.alarmed).toBe(true);
    expect(alarms).toEqual(['ANCHOR_INCONSISTENT']);
    forked.append(10);
    await sleep(400);
    expect(states.at(-1)).toBe('halted');
    await svc2.stop();
    expect((await contracts.latest(logId)).treeSize).toBe(64);
    expect(store.pending(logId)).toBeUndefined();

    // a log shorter than its anchored head is refused too
    const short = new LiveLog('honest');
    short.append(10);
    const svc3 = service(contracts, logId, short, store, { events: { onAlarm: (a) => alarms.push(a.code) } });
    svc3.start();
    await expect(svc3.waitForAnchored(65, 5_000)).rejects.toMatchObject({ code: 'ANCHOR_HALTED' });
    await svc3.stop();
    expect(alarms).toEqual(['ANCHOR_INCONSISTENT', 'ANCHOR_INCONSISTENT']);
    db.close();
  });
});
