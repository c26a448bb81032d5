/**
 * Crash-safe anchoring of one agent log on the Ledger contract.
 *
 * Every `intervalMs`, or as soon as `notify(size)` reports `maxLeaves` unanchored
 * leaves, one cycle runs (cycles never overlap):
 *  1. compare the chain's `latest(logId)` with the store's last confirmed head; on any
 *     difference (or after a failure, or at start) reconcile (below);
 *  2. take the log's head (size, root); check it is consistent (RFC 6962) with the last
 *     confirmed head — if not, halt for good and raise the alarm: a forked log is never
 *     anchored;
 *  3. store the head as pending, THEN send `anchorAfter(logId, prevSize, size, root,
 *     patientRefs)`, record the tx hash, wait for the receipt, mark it confirmed with its
 *     tx hash, block number and block hash.
 * A failure leaves the pending head in the store and retries with exponential backoff;
 * ingest is not affected. When the chain returns, a pending head that never reached it
 * is replaced by the log's newest head, so a whole outage is anchored in ONE transaction.
 *
 * Reconciliation (start, after any failure, whenever the chain disagrees):
 *  - a pending head already mined (e.g. crash after sending) is found by its Anchored
 *    event and marked confirmed, never resent; one still in the node's pool is awaited;
 *  - a head on-chain that the store lacks is adopted if the log has that root;
 *  - confirmed heads the chain lost (restart from an older state file, rewind, reorg)
 *    are re-anchored in order, exactly as they were, and their records are updated so
 *    they name the block that now holds them;
 *  - a chain head whose root differs from the log's is an inconsistency: halt + alarm.
 * The compare-and-swap of `anchorAfter` (StaleHead) makes a gap impossible even if the
 * chain rewinds between the check and the transaction; strictly increasing sizes make a
 * duplicate impossible.
 */
import { bytesToHex, hexToBytes, type Hex } from 'viem';
import { verifyConsistency } from '../../protocol/merkle/index.ts';
import type { Clock } from '../../protocol/rng.ts';
import type { AnchoredEvent, ChainContracts, LatestHead, TxResult } from '../contracts.ts';
import { ChainError, isChainError, type ChainErrorCode } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
import type { AnchorStore, ConfirmedAnchor, LogView, PendingAnchor } from './types.ts';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export type AnchorServiceState =
  | { kind: 'stopped' }
  | { kind: 'idle' }
  | { kind: 'reconciling' }
  | { kind: 'anchoring'; treeSize: number }
  | { kind: 'backoff'; attempt: number; retryInMs: number; code: ChainErrorCode }
  | { kind: 'halted'; code: ChainErrorCode; reason: string };

export interface AnchoredInfo {
  treeSize: number;
  root: Hex;
  prevTreeSize: number;
  txHash: Hex;
  blockNumber: number;
  /** undefined for a head found already mined during reconciliation. */
  gasUsed: bigint | undefined;
  /** Number of patients notified (Updated events). */
  patients: number;
  /** 'new' head, 're-anchor' of a head the chain lost, or 'recovered' (was mined, found by reconcile). */
  kind: 'new' | 'reanchor' | 'recovered';
  confirmedAt: number;
}

export interface ReconcileInfo {
  chainTreeSize: number;
  recovered: number;
  adopted: number;
  dropped: number;
  reanchored: number;
  blockMoved: number;
}

/** Metric hooks (the agent wires them into prom-client). Exceptions thrown by hooks are ignored. */
export interface AnchorEvents {
  onAnchored?(info: AnchoredInfo): void;
  onFailure?(info: { code: ChainErrorCode; revertName: string | undefined; attempt: number; retryInMs: number; message: string }): void;
  /** Raised once when anchoring halts on an inconsistency; anchoring stays stopped. */
  onAlarm?(info: { code: ChainErrorCode; reason: string }): void;
  onReconciled?(info: ReconcileInfo): void;
  onState?(state: AnchorServiceState): void;
  /** Unanchored leaves after each cycle. */
  onBacklog?(leaves: number): void;
}

export interface AnchorServiceOptions {
  logId: Hex;
  log: LogView;
  store: AnchorStore;
  /** Contracts bound to the agent's own account (the registered agent of `logId`). */
  contracts: ChainContracts;
  /** T: anchor at least this often when the log grew (default 1000 ms). */
  intervalMs?: number;
  /** N: anchor as soon as this many leaves are unanchored (default 1000). */
  maxLeaves?: number;
  /** First block to search events in (the deployment block; default 0). */
  fromBlock?: number;
  /** Default 15 s. */
  receiptTimeoutMs?: number;
  backoff?: BackoffPolicy;
  clock?: Clock;
  timers?: Timers;
  /** Uniform [0, 1) for backoff jitter (default Math.random). */
  random?: () => number;
  logger?: Logger;
  events?: AnchorEvents;
}

const STOPPED = Symbol('stopped');

export class AnchorService {
  private readonly logId: Hex;
  private readonly log: LogView;
  private readonly store: AnchorStore;
  private readonly c: ChainContracts;
  private readonly intervalMs: number;
  private readonly maxLeaves: number;
  private readonly fromBlock: number;
  private readonly receiptTimeoutMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly events: AnchorEvents;

  private st: AnchorServiceState = { kind: 'stopped' };
  private running: Promise<void> | undefined;
  private again = false;
  private timer: unknown;
  private attempt = 0;
  private needReconcile = true;
  private anchoredSize = 0;
  private stopSignal: { promise: Promise<typeof STOPPED>; fire: () => void } = AnchorService.signal();
  private waiters: { size: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(opts: AnchorServiceOptions) {
    this.logId = opts.logId.toLowerCase() as Hex;
    this.log = opts.log;
    this.store = opts.store;
    this.c = opts.contracts;
    this.intervalMs = opts.intervalMs ?? 1_000;
    this.maxLeaves = opts.maxLeaves ?? 1_000;
    this.fromBlock = opts.fromBlock ?? 0;
    this.receiptTimeoutMs = opts.receiptTimeoutMs ?? 15_000;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.clock = opts.clock ?? { now: () => Date.now() };
    this.timers = opts.timers ?? systemTimers;
    this.random = opts.random ?? Math.random;
    this.logger = opts.logger ?? silentLogger;
    this.events = opts.events ?? {};
  }

  private static signal(): { promise: Promise<typeof STOPPED>; fire: () => void } {
    let fire!: () => void;
    const promise = new Promise<typeof STOPPED>((r) => (fire = () => r(STOPPED)));
    return { promise, fire };
  }

  get state(): AnchorServiceState {
    return this.st;
  }

  /** True once anchoring halted on an inconsistency (a forked or truncated log). */
  get alarmed(): boolean {
    return this.st.kind === 'halted';
  }

  /** Largest tree size confirmed on-chain by this service instance (0 before the first). */
  get anchoredTreeSize(): number {
    return this.anchoredSize;
  }

  /** Starts the loop: a reconciliation, then a cycle every `intervalMs`. */
  start(): void {
    if (this.st.kind !== 'stopped') return;
    this.stopSignal = AnchorService.signal();
    this.needReconcile = true;
    this.attempt = 0;
    this.setState({ kind: 'idle' });
    this.kick();
  }

  /** Stops the loop; an in-flight receipt wait is abandoned (the pending head stays stored). */
  async stop(): Promise<void> {
    if (this.st.kind === 'stopped') return;
    const halted = this.st.kind === 'halted';
    this.stopSignal.fire();
    this.clearTimer();
    this.setState({ kind: 'stopped' });
    while (this.running) await this.running;
    if (halted) this.logger.warn({ logId: this.logId }, 'anchor service stopped while halted');
  }

  /** The agent reports its committed log size; a cycle starts once `maxLeaves` are unanchored. */
  notify(size: number): void {
    if (this.st.kind === 'idle' && this.running === undefined && size - this.anchoredSize >= this.maxLeaves) this.kick();
  }

  /** Runs a cycle now (after the current one) and waits for it. */
  async anchorNow(): Promise<void> {
    if (this.st.kind === 'stopped' || this.st.kind === 'halted')
      throw new ChainError(this.st.kind === 'halted' ? 'ANCHOR_HALTED' : 'CHAIN_BAD_ARGUMENT', 'anchor service is not running');
    while (this.running) await this.running;
    this.kick();
    await this.running;
  }

  /** Resolves once a head of at least `size` leaves is confirmed (or rejects on timeout / halt). */
  waitForAnchored(size: number, timeoutMs: number): Promise<void> {
    if (this.anchoredSize >= size) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        size,
        resolve: () => {
          this.timers.clearTimeout(t);
          resolve();
        },
        reject: (e: Error) => {
          this.timers.clearTimeout(t);
          reject(e);
        },
      };
      const t = this.timers.setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new ChainError('CHAIN_TX_TIMEOUT', `head ${size} not anchored within ${timeoutMs} ms (state ${this.st.kind})`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  // ------------------------------------------------------------------ loop

  private setState(s: AnchorServiceState): void {
    this.st = s;
    this.safe(() => this.events.onState?.(s));
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.logger.warn({ err: e }, 'anchor event hook threw');
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private isActive(): boolean {
    return this.st.kind !== 'stopped' && this.st.kind !== 'halted';
  }

  private kick(): void {
    if (!this.isActive()) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.clearTimer();
    this.running = this.runCycle().finally(() => {
      this.running = undefined;
    });
  }

  private schedule(delayMs: number): void {
    if (!this.isActive()) return;
    this.clearTimer();
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, delayMs);
  }

  private async runCycle(): Promise<void> {
    this.again = false;
    let delay = this.intervalMs;
    try {
      await this.cycle();
      this.attempt = 0;
      if (this.isActive()) this.setState({ kind: 'idle' });
      if (this.again) delay = 0;
    } catch (e) {
      if (!this.isActive()) return;
      if (isChainError(e, 'ANCHOR_INCONSISTENT')) {
        this.halt(e);
        return;
      }
      const err = e instanceof ChainError ? e : new ChainError('CHAIN_UNAVAILABLE', String((e as Error)?.message ?? e), { cause: e });
      this.needReconcile = true;
      this.attempt++;
      const raced = err.revertName === 'StaleHead' || err.revertName === 'NonIncreasingSize';
      delay = raced && this.attempt === 1 ? 0 : backoffDelay(this.backoff, this.attempt, this.random);
      this.setState({ kind: 'backoff', attempt: this.attempt, retryInMs: delay, code: err.code });
      this.logger.warn(
        { code: err.code, revert: err.revertName, attempt: this.attempt, retryInMs: delay, msg: err.message },
        'anchoring failed, will retry',
      );
      this.safe(() =>
        this.events.onFailure?.({
          code: err.code,
          revertName: err.revertName,
          attempt: this.attempt,
          retryInMs: delay,
          message: err.message,
        }),
      );
    }
    this.schedule(delay);
  }

  private halt(e: ChainError): void {
    this.clearTimer();
    this.setState({ kind: 'halted', code: e.code, reason: e.message });
    this.logger.error({ logId: this.logId, code: e.code, reason: e.message }, 'ANCHORING HALTED: log inconsistent with its anchored head');
    this.safe(() => this.events.onAlarm?.({ code: e.code, reason: e.message }));
    for (const w of this.waiters.splice(0)) w.reject(new ChainError('ANCHOR_HALTED', e.message, { cause: e }));
  }

  private async cycle(): Promise<void> {
    if (this.needReconcile) {
      await this.reconcile();
      this.needReconcile = false;
    } else {
      const head = await this.c.latest(this.logId);
      const last = await this.store.lastConfirmed(this.logId);
      const pending = await this.store.pending(this.logId);
      const agrees =
        pending === undefined &&
        head.treeSize === (last?.treeSize ?? 0) &&
        (last === undefined || (head.root === last.root && head.blockNumber === last.blockNumber));
      if (!agrees) await this.reconcile(head);
    }
    if (!this.isActive()) return;
    const last = await this.store.lastConfirmed(this.logId);
    const lastSize = last?.treeSize ?? 0;
    const size = await this.log.size();
    if (size < lastSize) throw new ChainError('ANCHOR_INCONSISTENT', `log has ${size} leaves, fewer than its anchored head ${lastSize}`);
    this.safe(() => this.events.onBacklog?.(size - lastSize));
    if (size === lastSize) return;
    const root = bytesToHex(await this.log.root(size));
    if (last) await this.checkConsistency(last.treeSize, last.root, size, root);
    await this.store.addPending({ logId: this.logId, treeSize: size, root, createdAt: this.clock.now() });
    const pending = await this.store.pending(this.logId);
    if (!pending) throw new ChainError('ANCHOR_STORE_INVALID', 'pending head vanished');
    await this.send(pending, lastSize);
  }

  /** Fails with ANCHOR_INCONSISTENT unless the log's tree of size2 (root2) extends (size1, root1). */
  private async checkConsistency(size1: number, root1: Hex, size2: number, root2: Hex): Promise<void> {
    if (size1 === 0) return;
    if (size1 === size2) {
      if (root1.toLowerCase() !== root2.toLowerCase()) throw new ChainError('ANCHOR_INCONSISTENT', `two roots for tree size ${size1}`);
      return;
    }
    const logSize = await this.log.size();
    if (logSize < size2) throw new ChainError('ANCHOR_INCONSISTENT', `log has ${logSize} leaves, anchored head has ${size2}`);
    try {
      const proof = await this.log.consistencyProof(size1, size2);
      verifyConsistency(size1, size2, hexToBytes(root1), hexToBytes(root2), proof);
    } catch (cause) {
      throw new ChainError('ANCHOR_INCONSISTENT', `log head ${size2} is not consistent with anchored head ${size1}`, { cause });
    }
  }

  private async raceStop<T>(p: Promise<T>): Promise<T> {
    const r = await Promise.race([p, this.stopSignal.promise]);
    if (r === STOPPED) throw new ChainError('CHAIN_UNAVAILABLE', 'anchor service stopped while waiting');
    return r as T;
  }

  /** Sends the pending head on top of `prevSize`, records the hash, waits, confirms. */
  private async send(p: PendingAnchor, prevSize: number): Promise<void> {
    this.setState({ kind: 'anchoring', treeSize: p.treeSize });
    const refs = await this.log.patientRefsBetween(prevSize, p.treeSize);
    const sent = await this.c.sendAnchorAfter(this.logId, prevSize, p.treeSize, p.root, refs);
    await this.store.setSent(this.logId, p.treeSize, sent.txHash, this.clock.now());
    const r: TxResult = await this.raceStop(sent.wait(this.receiptTimeoutMs));
    const confirmedAt = this.clock.now();
    await this.store.confirm(this.logId, p.treeSize, {
      txHash: r.txHash,
      blockNumber: r.blockNumber,
      blockHash: r.blockHash,
      prevTreeSize: prevSize,
      confirmedAt,
    });
    this.logger.debug(
      { treeSize: p.treeSize, txHash: r.txHash, block: r.blockNumber, gas: r.gasUsed.toString(), kind: p.kind },
      'anchored',
    );
    this.anchored({
      treeSize: p.treeSize,
      root: p.root,
      prevTreeSize: prevSize,
      txHash: r.txHash,
      blockNumber: r.blockNumber,
      gasUsed: r.gasUsed,
      patients: refs.length,
      kind: p.kind,
      confirmedAt,
    });
  }

  private anchored(info: AnchoredInfo): void {
    this.safe(() => this.events.onAnchored?.(info));
    this.advance(info.treeSize);
  }

  private advance(size: number): void {
    this.anchoredSize = Math.max(this.anchoredSize, size);
    const ready = this.waiters.filter((w) => w.size <= this.anchoredSize);
    this.waiters = this.waiters.filter((w) => w.size > this.anchoredSize);
    for (const w of ready) w.resolve();
  }

  private async findAnchored(treeSize: number, atBlock?: number): Promise<AnchoredEvent | undefined> {
    const range = atBlock === undefined ? { fromBlock: this.fromBlock } : { fromBlock: atBlock, toBlock: atBlock };
    const evs = await this.c.anchoredEvents(this.logId, { treeSize, ...range });
    return evs.at(-1);
  }

  // ------------------------------------------------------------------ reconciliation

  /** Brings the store in line with the chain (see the file comment). */
  async reconcile(knownHead?: LatestHead): Promise<ReconcileInfo> {
    this.setState({ kind: 'reconciling' });
    this.c.clients.resetNonce();
    const info: ReconcileInfo = { chainTreeSize: 0, recovered: 0, adopted: 0, dropped: 0, reanchored: 0, blockMoved: 0 };
    let head = knownHead ?? (await this.c.latest(this.logId));

    // 1. The pending head: mined, in the pool, or never arrived.
    let pending = await this.store.pending(this.logId);
    if (pending && head.treeSize < pending.treeSize && pending.txHash !== null) {
      const receipt = await this.c.receiptOf(pending.txHash);
      if (receipt === undefined && (await this.c.isKnownTransaction(pending.txHash))) {
        try {
          await this.raceStop(this.c.waitFor(pending.txHash, 'anchor', this.receiptTimeoutMs));
        } catch (e) {
          if (!isChainError(e, 'CHAIN_TX_REVERTED')) throw e;
        }
        head = await this.c.latest(this.logId);
      }
    }
    if (pending) {
      if (head.treeSize >= pending.treeSize) {
        const ev = await this.findAnchored(pending.treeSize, head.treeSize === pending.treeSize ? head.blockNumber : undefined);
        if (ev) {
          if (ev.root.toLowerCase() !== pending.root.toLowerCase()) {
            throw new ChainError('ANCHOR_INCONSISTENT', `chain holds another root for tree size ${pending.treeSize}`);
          }
          const confirmedAt = this.clock.now();
          await this.store.confirm(this.logId, pending.treeSize, {
            txHash: ev.txHash,
            blockNumber: ev.blockNumber,
            blockHash: ev.blockHash,
            prevTreeSize: ev.prevTreeSize,
            confirmedAt,
          });
          info.recovered++;
          this.anchored({ ...ev, gasUsed: undefined, patients: 0, kind: 'recovered', confirmedAt });
        } else {
          // The chain went past this head without it: it can never be anchored now; the
          // later head covers its leaves.
          this.logger.warn({ treeSize: pending.treeSize, chainTreeSize: head.treeSize }, 'pending head superseded on-chain: dropped');
          await this.store.dropPending(this.logId, pending.treeSize);
          info.dropped++;
        }
        pending = undefined;
      } else if (pending.kind === 'new') {
        // Never reached the chain: the next cycle anchors the newest head instead (one tx for the backlog).
        await this.store.dropPending(this.logId, pending.treeSize);
        info.dropped++;
        pending = undefined;
      }
    }

    // 2. The chain's head must be one of ours (or adoptable from the log).
    info.chainTreeSize = head.treeSize;
    if (head.treeSize > 0) {
      const rec = await this.store.get(this.logId, head.treeSize);
      if (rec && rec.root.toLowerCase() !== head.root.toLowerCase()) {
        throw new ChainError('ANCHOR_INCONSISTENT', `chain holds another root for tree size ${head.treeSize}`);
      }
      if (rec?.status === 'confirmed') {
        if (rec.blockNumber !== head.blockNumber) {
          const ev = await this.findAnchored(head.treeSize, head.blockNumber);
          if (!ev)
            throw new ChainError('CHAIN_UNAVAILABLE', `Anchored event of head ${head.treeSize} not found in block ${head.blockNumber}`);
          await this.store.confirm(this.logId, head.treeSize, { ...ev, confirmedAt: this.clock.now() });
          info.blockMoved++;
        }
      } else if (rec === undefined) {
        const logSize = await this.log.size();
        if (logSize < head.treeSize) {
          throw new ChainError('ANCHOR_INCONSISTENT', `chain anchors ${head.treeSize} leaves, the log has ${logSize}`);
        }
        const logRoot = bytesToHex(await this.log.root(head.treeSize));
        if (logRoot.toLowerCase() !== head.root.toLowerCase()) {
          throw new ChainError('ANCHOR_INCONSISTENT', `chain head ${head.treeSize} has a root the log does not have`);
        }
        const ev = await this.findAnchored(head.treeSize, head.blockNumber);
        if (!ev)
          throw new ChainError('CHAIN_UNAVAILABLE', `Anchored event of head ${head.treeSize} not found in block ${head.blockNumber}`);
        const now = this.clock.now();
        await this.store.adopt({
          logId: this.logId,
          treeSize: head.treeSize,
          root: ev.root,
          txHash: ev.txHash,
          blockNumber: ev.blockNumber,
          blockHash: ev.blockHash,
          prevTreeSize: ev.prevTreeSize,
          createdAt: now,
          confirmedAt: now,
        });
        info.adopted++;
        this.anchored({ ...ev, gasUsed: undefined, patients: 0, kind: 'recovered', confirmedAt: now });
      }
      // rec pending with the chain at exactly its size was handled in step 1.
    }

    // 3. Heads the chain lost: re-anchor them in order, exactly as they were.
    const lost: (PendingAnchor | ConfirmedAnchor)[] = [...(await this.store.confirmedAfter(this.logId, head.treeSize))];
    if (pending) lost.push(pending);
    lost.sort((a, b) => a.treeSize - b.treeSize);
    let prevSize = head.treeSize;
    let prevRoot = head.root;
    for (const l of lost) {
      if (!this.isActive()) break;
      await this.checkConsistency(prevSize, prevRoot, l.treeSize, l.root);
      const current = await this.store.get(this.logId, l.treeSize); // the status may have changed in this loop
      if (current?.status === 'confirmed') {
        this.logger.warn(
          { treeSize: l.treeSize, oldBlock: current.blockNumber, chainTreeSize: head.treeSize },
          'chain lost an anchored head: re-anchoring it',
        );
        await this.store.markReanchoring(this.logId, l.treeSize);
      }
      const p = await this.store.pending(this.logId);
      if (!p || p.treeSize !== l.treeSize) throw new ChainError('ANCHOR_STORE_INVALID', `re-anchor of ${l.treeSize} is not pending`);
      await this.send(p, prevSize);
      info.reanchored++;
      prevSize = l.treeSize;
      prevRoot = l.root;
    }
    this.advance(head.treeSize);
    this.logger.info({ ...info }, 'anchors reconciled');
    this.safe(() => this.events.onReconciled?.(info));
    return info;
  }
}
