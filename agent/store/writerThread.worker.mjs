// The agent's writer thread (started by writerThread.ts). Plain JavaScript: a worker starts as plain
// Node, and loading the TypeScript toolchain in it cost ~28 MiB of RSS.
import Database from 'better-sqlite3';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { BatchWriter } from './batchWriter.mjs';
import { WalSync } from './walSync.mjs';

/**
 * Applies every batch queued since its last commit in one transaction, makes it durable (fdatasync
 * of the WAL for 'full'; SQLite's own fsync for 'sqlite-full'), then answers all of them
 * (messages: writerThread.ts ToWriter / FromWriter). After a failed transaction it refuses batches
 * until the event loop sends 'reset'; after a failed fdatasync it refuses them for good.
 */
const port = parentPort;
const { dbFile, durability } = workerData;
const db = new Database(dbFile);
db.pragma(`synchronous = ${durability === 'sqlite-full' ? 'FULL' : 'NORMAL'}`);
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
const writer = new BatchWriter(db);
const applyAll = db.transaction((batches) => {
  for (const b of batches) writer.apply(b);
});
const wal = durability === 'full' ? new WalSync(`${dbFile}-wal`) : undefined;
let broken; // { message, code? } while refusing
let syncFailed = false;

function commitGroup(ids, batches) {
  if (ids.length === 0) return;
  if (broken) return port.postMessage({ type: 'done', ids, error: broken });
  try {
    applyAll(batches);
  } catch (e) {
    broken = { message: e.message };
    return port.postMessage({ type: 'done', ids, error: broken });
  }
  try {
    wal?.syncNow();
  } catch (e) {
    syncFailed = true;
    broken = { message: e.message, code: 'STORE_SYNC_FAILED' };
    return port.postMessage({ type: 'done', ids, error: broken });
  }
  port.postMessage({ type: 'done', ids });
}

function handle(first) {
  // drain everything already queued: one transaction + one fdatasync for all of it
  const queue = [first];
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) queue.push(m.message);
  let ids = [];
  let batches = [];
  for (const m of queue) {
    if (m.type === 'write') {
      ids.push(m.id);
      batches.push(m.batch);
      continue;
    }
    commitGroup(ids, batches);
    ids = [];
    batches = [];
    if (m.type === 'reset' && !syncFailed) broken = undefined;
    if (m.type === 'close') {
      wal?.close();
      db.close();
      port.close();
      return;
    }
  }
  commitGroup(ids, batches);
}

port.on('message', handle);
port.postMessage({ type: 'ready' });
