import type { Db } from './db.ts';
import { BatchWriter } from './batchWriter.mjs';
import type { WriteBatch } from './writeBatch.ts';
import type { WalSync } from './walSync.mjs';
import { AgentError } from '../errors.ts';

/**
 * Where the ingestor's group commits go. `write` answers `done(null)` only once the batch is
 * committed *and durable* as configured; batches are applied in the order written. After a
 * failed batch the writer refuses every later one until `reset()` (the ingestor then reloads
 * its cached state from the database). An error with code STORE_SYNC_FAILED is final: what was
 * committed may not be on disk, and nothing more may be acknowledged. `done` is never called from
 * within `write` (always later): the ingestor writes the next group before it answers the last,
 * and a re-entrant answer would overtake that one's (acknowledgements must keep their order).
 */
export interface StoreWriter {
  write(batch: WriteBatch, done: (err: Error | null) => void): void;
  reset(): void;
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
  private broken = false;
  private idle: Array<() => void> = [];

  constructor(
    db: Db,
    private readonly walSync?: WalSync,
  ) {
    this.writer = new BatchWriter(db);
    this.applyInTransaction = db.transaction((b: WriteBatch) => this.writer.apply(b));
  }

  write(batch: WriteBatch, done: (err: Error | null) => void): void {
    if (this.broken) return answerLater(done, new Error('an earlier batch failed; waiting for reset'));
    try {
      this.applyInTransaction(batch);
    } catch (e) {
      this.broken = true;
      return answerLater(done, e instanceof Error ? e : new Error(String(e)));
    }
    if (this.walSync === undefined) return answerLater(done, null);
    this.unsynced.push(done);
    this.syncCommitted();
  }

  reset(): void {
    this.broken = false;
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
        this.broken = true;
        const fatal = new AgentError('STORE_SYNC_FAILED', err.message, { cause: err });
        for (const d of failed) d(fatal);
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
