/** fdatasync of a WAL-mode database's `-wal` file (see walSync.mjs for why and when). */
export declare class WalSync {
  constructor(walPath: string);
  /** fdatasync on libuv's thread pool; `done(err)` runs on the event loop when the data is on disk. */
  sync(done: (err: Error | null) => void): void;
  /** fdatasync on the calling thread. */
  syncNow(): void;
  /** Fault injection (storeFault.mjs): every fdatasync fails with `e` until called with undefined. */
  injectFault(e: Error | undefined): void;
  close(): void;
}
