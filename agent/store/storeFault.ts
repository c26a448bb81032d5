import type { Database } from 'better-sqlite3';

/**
 * Faults a test injects into the store's commit path to play a full or failing disk (issue #15
 * defect 7). Only `AgentCore.injectStoreFault` sets them; nothing in configuration or over the
 * network can. Messages carry no payload bytes.
 */
export type StoreFault = { kind: 'disk-full' } | { kind: 'sync-fails'; code: 'EIO' | 'ENOSPC' } | { kind: 'none' };

/** What a writer keeps between `applyStoreFault` calls (start with `{}`). */
export interface StoreFaultState {
  /** max_page_count before a 'disk-full' fault lowered it. */
  savedMaxPageCount?: number | undefined;
}

/** The stable code of a failed group commit, and the cause's code when it has one (e.g. SQLITE_FULL, EIO). */
export interface CommitError {
  message: string;
  code: 'STORE_FULL' | 'STORE_COMMIT_FAILED' | 'STORE_SYNC_FAILED';
  cause?: string;
}

/** The error an injected fdatasync fault throws: shaped as Node's fs errors (`code` is the errno name). */
export class InjectedSyncError extends Error {
  /** @param code an errno name, e.g. 'EIO' or 'ENOSPC' */
  constructor(readonly code: string) {
    super(`${code}: fdatasync failed (injected fault)`);
    this.name = 'InjectedSyncError';
  }
}

/**
 * Applies `fault` to a writer's SQLite connection and WAL sync; returns the state to pass next time.
 * 'disk-full': PRAGMA max_page_count = the database's current page count, so the next commit that
 * needs a new page fails with a real SQLITE_FULL; 'sync-fails': every fdatasync of the WAL throws;
 * 'none': both undone (max_page_count back to what it was).
 */
export function applyStoreFault(
  db: Database,
  wal: { injectFault(e: Error | undefined): void } | undefined,
  fault: StoreFault,
  state: StoreFaultState,
): void {
  if (fault.kind === 'disk-full') {
    state.savedMaxPageCount ??= Number(db.pragma('max_page_count', { simple: true }));
    const pages = db.pragma('page_count', { simple: true });
    db.pragma(`max_page_count = ${Number(pages)}`);
  } else if (fault.kind === 'sync-fails') {
    wal?.injectFault(new InjectedSyncError(fault.code));
  } else {
    if (state.savedMaxPageCount !== undefined) db.pragma(`max_page_count = ${Number(state.savedMaxPageCount)}`);
    state.savedMaxPageCount = undefined;
    wal?.injectFault(undefined);
  }
}

/**
 * The stable code of a failed group commit (agent/errors.ts): SQLITE_FULL (also SQLite's answer to
 * ENOSPC on write) is STORE_FULL, any other failed transaction STORE_COMMIT_FAILED.
 */
export function commitErrorOf(e: unknown): CommitError & { code: 'STORE_FULL' | 'STORE_COMMIT_FAILED' } {
  const cause = errnoCodeOf(e);
  const message = e instanceof Error ? e.message : String(e);
  return { message, code: cause === 'SQLITE_FULL' ? 'STORE_FULL' : 'STORE_COMMIT_FAILED', ...(cause !== undefined ? { cause } : {}) };
}

/**
 * After a failed fdatasync, what was committed since the last good one may not be on disk. Before
 * anything is acknowledged again: a TRUNCATE checkpoint copies every committed page into the
 * database file and fsyncs it (synchronous NORMAL syncs the database after a checkpoint), then the
 * WAL's truncation is made durable with an fdatasync on a fresh descriptor — so no WAL frame that
 * may have been lost can be replayed over the checkpointed pages after a crash. Throws while the
 * disk still fails (or a reader keeps the checkpoint from completing).
 */
export function recoverAfterSyncFailure(db: Database, wal: { close(): void; syncNow(): void }): void {
  wal.close(); // the descriptor that saw the error reports nothing more: sync through a new one
  const [r] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
  if (r?.busy !== 0) throw new Error('checkpoint after a failed fdatasync could not complete (busy)');
  wal.syncNow();
}

/** A failed fdatasync (or its recovery) as the STORE_SYNC_FAILED answer of a group commit. */
export function syncErrorOf(e: unknown): CommitError {
  const cause = errnoCodeOf(e);
  return { message: e instanceof Error ? e.message : String(e), code: 'STORE_SYNC_FAILED', ...(cause !== undefined ? { cause } : {}) };
}

/** `e.code` when it is a string (Node's fs errors, better-sqlite3's SqliteError, InjectedSyncError). */
function errnoCodeOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
