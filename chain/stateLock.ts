/**
 * One owner per chain data dir: `<dataDir>/chain.lock` holds the owner's pid, start time and boot id
 * (ProcessIdentity). It is created atomically WITH its content — written to a private temp file, then
 * link(2)ed to the lock name, which fails with EEXIST if a lock exists (the O_EXCL guarantee without
 * an empty-file window) — and removed by its owner on stop. A lock whose owner no longer runs (same
 * pid but another start time = a reused pid; another boot) is stale and taken over; a live one makes
 * the start fail with CHAIN_STATE_LOCKED.
 */
import { linkSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ChainError } from './errors.ts';
import { writePrivateFileAtomicSync } from '../platform/privateFiles.ts';
import { isRunning, processIdentity, type ProcessIdentity } from './processes.ts';

export const LOCK_FILE = 'chain.lock';

function parseLock(text: string): ProcessIdentity | undefined {
  try {
    const x = JSON.parse(text) as Partial<ProcessIdentity> | null;
    if (!x || !Number.isSafeInteger(x.pid)) return undefined;
    return {
      pid: x.pid!,
      ...(typeof x.startTime === 'number' ? { startTime: x.startTime } : {}),
      ...(typeof x.bootId === 'string' ? { bootId: x.bootId } : {}),
    };
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export class StateLock {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly content: string,
  ) {}

  /** Takes the lock of `dataDir` for this process; CHAIN_STATE_LOCKED if a live process holds it. */
  static acquire(dataDir: string, now: () => number = Date.now): StateLock {
    const path = join(dataDir, LOCK_FILE);
    const content = `${JSON.stringify({ ...processIdentity(), lockedAt: new Date(now()).toISOString() })}\n`;
    const tmp = `${path}.new-${process.pid}`;
    writePrivateFileAtomicSync(tmp, content);
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(tmp, path);
          return new StateLock(path, content);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
            throw new ChainError('CHAIN_START_FAILED', `cannot create ${path}`, { cause: e });
        }
        const heldText = readText(path);
        if (heldText === undefined) continue; // released meanwhile
        const held = parseLock(heldText);
        if (held && isRunning(held)) {
          throw new ChainError('CHAIN_STATE_LOCKED', `the chain state in ${dataDir} is in use by process ${held.pid}`);
        }
        // stale (its owner is gone): move it aside, and make sure what we moved is what we judged
        const aside = `${path}.stale-${process.pid}`;
        try {
          renameSync(path, aside);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw e;
        }
        const moved = readText(aside);
        if (moved !== heldText) {
          // another starter replaced the stale lock between our read and our rename: give it back
          try {
            linkSync(aside, path);
          } catch {
            // a third one took the name: it holds the lock now
          }
          rmSync(aside, { force: true });
          throw new ChainError('CHAIN_STATE_LOCKED', `the chain state in ${dataDir} was just taken by another process`);
        }
        rmSync(aside, { force: true });
      }
      throw new ChainError('CHAIN_STATE_LOCKED', `cannot take the lock of ${dataDir}`);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Removes the lock if it is still ours (idempotent; safe in a process 'exit' handler). */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (readFileSync(this.path, 'utf8') === this.content) rmSync(this.path, { force: true });
    } catch {
      // already gone
    }
  }
}
