import type { Db } from './db.ts';
import { BatchWriter } from './batchWriter.ts';
import type { WriteBatch } from './writeBatch.ts';
import type { WalSync } from './walSync.ts';
import { AgentError } from '../errors.ts';
import { applyStoreFault, commitErrorOf, recoverAfterSyncFailure, type StoreFault } from './storeFault.ts';

/**
 * Where the ingestor's group commits go. `write` answers `done(null)` only once the batch is
 * committed *and durable* as configured; batches are applied in the order written. After a
 * failed batch the writer refuses every later one until `reset()` (the ingestor then reloads
 * its cached state from the database). Errors are AgentErrors: STORE_FULL (SQLITE_FULL: the disk
 * or the database is full), STORE_COMMIT_FAILED (another failed transaction, rolled back) or
 * STORE_SYNC_FAILED (the commit happened but its fdatasync failed: it may not be on disk; after the
 * reset every batch first makes everything committed durable again — storeFault.ts
 * recoverAfterSyncFailure — and is refused while that fails). `done` is never called from
 * within `write` (always later): the ingestor writes the next group before it answers the last,
 * and a re-entrant answer would overtake that one's (acknowledgements must keep their order).
 */
export interface StoreWriter {
  write(batch: WriteBatch, done: (err: Error | null) => void): void;
  reset(): void;
  /** Fault injection for tests (a full disk, a failing fdatasync): see storeFault.ts. */
  injectFault(fault: StoreFault): void;
  close(): Promise<void>;
}

/**
 * Applies batches on the calling thread (the event loop), one transaction each; with a WalSync,
 * answers after the fdatasync that started after the COMMIT (group commit of the fsync: one sync
 * in flight covers every batch committed before it began).
 */
export class InlineWriter implements StoreWriter {
  private readonly writer: BatchWriter;
  private readonly applyInTransaction: (b: WriteBatch) => void;
  private unsynced: Array<(err: Error | null) => void> = [];
  private syncing: Array<(err: Error | null) => void> | undefined;
  /** Set by a failure: every batch is refused with it until `reset()`. */
  private refusing: AgentError | undefined;
  /** An fdatasync failed: the next batch after the reset first recovers (recoverAfterSyncFailure). */
  private syncFailed = false;
  private readonly faultState: { savedMaxPageCount?: number } = {};
  private idle: Array<() => void> = [];

  constructor(
    private readonly db: Db,
    private readonly walSync?: WalSync,
  ) {
    this.writer = new BatchWriter(db);
    this.applyInTransaction = db.transaction((b: WriteBatch) => this.writer.apply(b));
  }

  write(batch: WriteBatch, done: (err: Error | null) => void): void {
    if (this.refusing) return answerLater(done, this.refusing);
    if (this.syncFailed) {
      try {
        recoverAfterSyncFailure(this.db, this.walSync!);
        this.syncFailed = false;
      } catch (e) {
        this.refusing = new AgentError('STORE_SYNC_FAILED', `recovery after a failed fdatasync: ${(e as Error).message}`, { cause: e });
        return answerLater(done, this.refusing);
      }
    }
    try {
      this.applyInTransaction(batch);
    } catch (e) {
      const c = commitErrorOf(e);
      this.refusing = new AgentError(c.code, c.cause !== undefined ? `${c.cause}: ${c.message}` : c.message, { cause: e });
      return answerLater(done, this.refusing);
    }
    if (this.walSync === undefined) return answerLater(done, null);
    this.unsynced.push(done);
    this.syncCommitted();
  }

  reset(): void {
    this.refusing = undefined;
  }

  injectFault(fault: StoreFault): void {
    applyStoreFault(this.db, this.walSync, fault, this.faultState);
  }

  async close(): Promise<void> {
    if (this.syncing === undefined && this.unsynced.length === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private syncCommitted(): void {
    if (this.syncing !== undefined || this.unsynced.length === 0) return;
    const covered = this.unsynced;
    this.unsynced = [];
    this.syncing = covered;
    this.walSync!.sync((err) => {
      this.syncing = undefined;
      if (err) {
        // everything committed so far may not be on disk: fail it all (the ingestor stops acknowledging)
        const failed = [...covered, ...this.unsynced];
        this.unsynced = [];
        this.syncFailed = true;
        this.refusing = new AgentError('STORE_SYNC_FAILED', err.message, { cause: err });
        for (const d of failed) d(this.refusing);
      } else {
        for (const d of covered) d(null);
        this.syncCommitted();
      }
      if (this.syncing === undefined && this.unsynced.length === 0) for (const w of this.idle.splice(0)) w();
    });
  }
}

/** Calls `done(err)` after the current call stack (a microtask), never from inside `write`. */
function answerLater(done: (err: Error | null) => void, err: Error | null): void {
  queueMicrotask(() => done(err));
}
