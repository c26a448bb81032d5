/** Shared fixtures of the chain tests: a real embedded chain (anvil), no mocks. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestClient, http, keccak256, toHex, type Hex } from 'viem';
import { MerkleLog } from '../../protocol/merkle/index.ts';
import { ChainContracts } from '../../chain/contracts.ts';
import { startEmbeddedChain, type EmbeddedSession } from '../../chain/embedded.ts';
import { merkleLogView } from '../../chain/anchor/merkleLogView.ts';
import { SqliteAnchorStore } from '../../chain/anchor/sqliteAnchorStore.ts';
import type { LogView } from '../../chain/anchor/types.ts';
import { DEV_ACCOUNT } from '../../chain/devKeys.ts';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vitalseal-${prefix}-`));
}

/** A fresh sub-directory of `dir` (removed with it). */
export function subDir(dir: string, name: string): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  return path;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A deterministic bytes32 from a label. */
export const b32 = (label: string): Hex => keccak256(toHex(label));

export async function startChain(dataDir: string): Promise<EmbeddedSession> {
  return startEmbeddedChain({ dataDir, startTimeoutMs: 20_000 });
}

export function testClient(rpcUrl: string) {
  return createTestClient({ mode: 'anvil', transport: http(rpcUrl, { retryCount: 0 }) });
}

/**
 * evm_revert while transactions keep arriving. anvil's revert is not atomic with its
 * automining: a transaction mined while the revert runs can leave a block whose logs
 * survive while its state change is rolled back (reproduced: the chain's Ledger said
 * head 0 while an Anchored event of head 25 chained to 20 remained). A real reorg cannot
 * do that, so the rewind is made atomic: automine off, revert, automine on, then one
 * block mines whatever arrived meanwhile (it is judged against the reverted state).
 */
export async function revertWhileSending(rpcUrl: string, id: Hex): Promise<void> {
  const t = testClient(rpcUrl);
  await t.setAutomine(false);
  try {
    await t.revert({ id });
  } finally {
    await t.setAutomine(true);
  }
  await t.mine({ blocks: 1 });
}

/** Registers dev account `index` as the agent of a fresh log; returns its contracts and logId. */
export async function registerAgent(session: EmbeddedSession, label: string, index: number = DEV_ACCOUNT.agent) {
  const clients = session.devClients(index);
  const logId = b32(`log:${label}`);
  await session.adminContracts.registerAgent(clients.account.address, b32(`agent:${label}`), logId, b32(`agent-key:${label}`));
  return { contracts: new ChainContracts(clients, session.deployment), logId };
}

/** An in-memory RFC 6962 log standing in for the agent's ingest; leaf i belongs to patient i % patients. */
export class LiveLog {
  readonly log = new MerkleLog();
  readonly appendedAt: number[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private n = 0;
  constructor(
    readonly label: string,
    readonly patients = 5,
  ) {}

  view(): LogView {
    return merkleLogView(this.log, (i) => b32(`patient:${i % this.patients}`));
  }

  append(count = 1): number {
    for (let i = 0; i < count; i++) {
      this.log.append(new TextEncoder().encode(`${this.label}:${this.n++}`));
      this.appendedAt.push(Date.now());
    }
    return this.log.size;
  }

  /** Appends `perTick` leaves every `everyMs` until stopped; `onAppend` sees the new size. */
  startAppending(everyMs: number, perTick: number, onAppend?: (size: number) => void): void {
    this.timer = setInterval(() => {
      const size = this.append(perTick);
      onAppend?.(size);
    }, everyMs);
  }

  stopAppending(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export function anchorDb(dir: string): { db: Database.Database; store: SqliteAnchorStore } {
  const db = new Database(join(dir, 'agent.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  return { db, store: new SqliteAnchorStore(db) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** On-chain invariants: Anchored events strictly increasing, each chained to the previous. */
export async function checkChainAnchors(contracts: ChainContracts, logId: Hex) {
  const evs = await contracts.anchoredEvents(logId);
  let prev = 0;
  for (const e of evs) {
    if (e.treeSize <= prev) throw new Error(`non-increasing anchor ${e.treeSize} after ${prev}`);
    if (e.prevTreeSize !== prev) throw new Error(`anchor ${e.treeSize} chained to ${e.prevTreeSize}, expected ${prev}`);
    prev = e.treeSize;
  }
  return evs;
}
