import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, statSync } from 'node:fs';

/**
 * fdatasync of a WAL-mode database's `-wal` file on libuv's thread pool.
 *
 * Why: with `synchronous = FULL` every COMMIT fsyncs the WAL on the calling thread, which for the
 * agent is the event loop that also serves the broker (cost per commit: bench/README.md, during which no
 * packet is read). The agent instead runs `synchronous = NORMAL` — a COMMIT writes its WAL frames
 * but does not sync them; SQLite still syncs the WAL before every checkpoint and the database file
 * after it — and calls `sync()` after each group commit, acknowledging the batch only when the
 * fdatasync that started after its COMMIT has completed. The acknowledged frames are then on disk,
 * which is the guarantee `synchronous = FULL` gives (https://sqlite.org/pragma.html#pragma_synchronous,
 * https://sqlite.org/wal.html): a reading is PUBACKed only once it survives power loss. Meanwhile
 * the event loop keeps reading packets and committing the next batch.
 *
 * The `-wal` file keeps its inode for the connection's life (SQLite resets it in place after a
 * checkpoint and deletes it only when the last connection closes); `sync()` re-opens it if the
 * inode ever changes, so a sync never lands on a stale file.
 */
export class WalSync {
  private fd: number | undefined = undefined;
  private ino = -1;
  /** Set by a fault-injection test (storeFault.ts): every fdatasync throws it. */
  private fault: Error | undefined = undefined;

  constructor(private readonly walPath: string) {}

  /** `e`: the error every fdatasync fails with from now on (undefined: none). */
  injectFault(e: Error | undefined): void {
    this.fault = e;
  }

  /** fdatasync of the WAL on the thread pool; `done(err)` runs on the event loop when the data is on disk. */
  sync(done: (err: Error | null) => void): void {
    let fd: number;
    try {
      if (this.fault) throw this.fault;
      fd = this.currentFd();
    } catch (e) {
      queueMicrotask(() => done(e instanceof Error ? e : new Error(String(e))));
      return;
    }
    fdatasync(fd, (err) => done(err));
  }

  /** fdatasync of the WAL on the calling thread (the writer thread's way). */
  syncNow(): void {
    if (this.fault) throw this.fault;
    fdatasyncSync(this.currentFd());
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private currentFd(): number {
    const st = statSync(this.walPath); // ENOENT here would mean a commit wrote no WAL: an error
    if (this.fd === undefined || st.ino !== this.ino) {
      this.close();
      this.fd = openSync(this.walPath, 'r');
      this.ino = fstatSync(this.fd).ino;
    }
    return this.fd;
  }
}
