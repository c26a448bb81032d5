// The agent's writer thread, started by writerThread.ts: from the build (dist/, plain JavaScript, no
// TypeScript loader in the thread) in production, from this source through tsx in development.
import Database from 'better-sqlite3';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { BatchWriter } from './batchWriter.ts';
import { WalSync } from './walSync.ts';
import {
  applyStoreFault,
  commitErrorOf,
  recoverAfterSyncFailure,
  syncErrorOf,
  type CommitError,
  type StoreFaultState,
} from './storeFault.ts';
import type { FromWriter, ToWriter, WriterData, WriterTraceEvent } from './writerThread.ts';

/**
 * Applies every batch queued since its last transaction in one transaction, makes it durable, then
 * answers them (messages: writerThread.ts ToWriter / FromWriter), in the order they were written.
 * Durability 'full': an fdatasync of the WAL right after the COMMIT, on this thread (batches that
 * arrive meanwhile share the next transaction and sync); 'sqlite-full': SQLite's own fsync inside
 * the COMMIT; 'normal': none. (Running the fdatasync on the thread pool while the next transaction
 * commits was tried: no throughput gain and worse PUBACK tails — figures in bench/README.md,
 * "Measurements behind design choices".)
 *
 * After a failed transaction (STORE_FULL, STORE_COMMIT_FAILED) it refuses batches until the event
 * loop sends 'reset'. After a failed fdatasync (STORE_SYNC_FAILED) nothing committed since the last
 * good sync is known to be on disk: after the reset, each group first retries the recovery
 * (storeFault.ts recoverAfterSyncFailure: checkpoint everything into the synced database file) and
 * is refused with STORE_SYNC_FAILED until it succeeds — so the disk's recovery is found by the next
 * reading a device resends, and nothing is acknowledged before what came earlier is durable.
 */
type WriteMessage = Extract<ToWriter, { type: 'write' }>;

const port = parentPort as MessagePort;
const post = (m: FromWriter): void => port.postMessage(m);
const { dbFile, durability, trace } = workerData as WriterData;
/** With workerData.trace, every commit and fdatasync is reported (tests check the durability order with it). */
const traceEvent = trace ? (event: WriterTraceEvent, ids: number[]): void => post({ type: 'trace', event, ids }) : (): void => undefined;
const db = new Database(dbFile);
db.pragma(`synchronous = ${durability === 'sqlite-full' ? 'FULL' : 'NORMAL'}`);
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
const writer = new BatchWriter(db);
const applyAll = db.transaction((writes: WriteMessage[]) => {
  for (const w of writes) writer.apply(w.batch, w.packed);
});
const wal = durability === 'full' ? new WalSync(`${dbFile}-wal`) : undefined;
let broken: CommitError | undefined; // while refusing (until 'reset')
let syncFailed = false;
const faultState: StoreFaultState = {};

/** `writes`: the 'write' messages of one group. */
function commitGroup(writes: WriteMessage[]): void {
  if (writes.length === 0) return;
  const ids = writes.map((w) => w.id);
  if (broken) return post({ type: 'done', ids, error: broken });
  if (syncFailed) {
    try {
      recoverAfterSyncFailure(db, wal!); // syncFailed is only set with a WalSync
      syncFailed = false;
    } catch (e) {
      broken = syncErrorOf(e);
      return post({ type: 'done', ids, error: broken });
    }
  }
  try {
    applyAll(writes);
    traceEvent('commit', ids);
  } catch (e) {
    broken = commitErrorOf(e);
    return post({ type: 'done', ids, error: broken });
  }
  if (wal) {
    traceEvent('sync-start', ids);
    try {
      wal.syncNow();
    } catch (e) {
      traceEvent('sync-failed', ids);
      syncFailed = true;
      broken = syncErrorOf(e);
      return post({ type: 'done', ids, error: broken });
    }
    traceEvent('sync-done', ids);
  }
  post({ type: 'done', ids });
}

function handle(first: ToWriter): void {
  // drain everything already queued: one transaction for all of it
  const queue = [first];
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) queue.push(m.message as ToWriter);
  let writes: WriteMessage[] = [];
  for (const m of queue) {
    if (m.type === 'write') {
      writes.push(m);
      continue;
    }
    commitGroup(writes);
    writes = [];
    if (m.type === 'reset') broken = undefined; // after a failed fdatasync the next group first recovers
    if (m.type === 'fault') applyStoreFault(db, wal, m.fault, faultState);
    if (m.type === 'close') {
      wal?.close();
      db.close();
      port.close();
      return;
    }
  }
  commitGroup(writes);
}

port.on('message', handle);
post({ type: 'ready' });
