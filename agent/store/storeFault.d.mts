import type { Database } from 'better-sqlite3';

/** Faults a test injects into the store's commit path (see storeFault.mjs). */
export type StoreFault = { kind: 'disk-full' } | { kind: 'sync-fails'; code: 'EIO' | 'ENOSPC' } | { kind: 'none' };

export declare class InjectedSyncError extends Error {
  readonly code: string;
  constructor(code: string);
}

export declare function applyStoreFault(
  db: Database,
  wal: { injectFault(e: Error | undefined): void } | undefined,
  fault: StoreFault,
  state: { savedMaxPageCount?: number },
): void;

export declare function commitErrorOf(e: unknown): { message: string; code: 'STORE_FULL' | 'STORE_COMMIT_FAILED'; cause?: string };

export declare function recoverAfterSyncFailure(db: Database, wal: { close(): void; syncNow(): void }): void;
