// The agent's writer thread (started by writerThread.ts). Plain JavaScript: a worker starts as plain
// Node, and loading the TypeScript toolchain in it cost ~28 MiB of RSS.
import Database from 'better-sqlite3';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { BatchWriter } from './batchWriter.mjs';
import { WalSync } from './walSync.mjs';

/**
 * Applies every batch queued since its last transaction in one transaction, then answers them once
 * they are durable (messages: writerThread.ts ToWriter / FromWriter), in the order they were written.
 *
 * Durability 'full' pipelines the fdatasync of the WAL with the next transaction: the fdatasync runs
 * on the thread pool while this thread already commits the batches that arrived meanwhile; a group
 * is answered by the first fdatasync that *started after* its COMMIT (data written before an
 * fdatasync call is on disk when it returns), and the groups committed during a sync share the next
 * one. With 'sqlite-full' SQLite's own fsync at COMMIT makes a group durable, with 'normal' nothing
 * does: both answer right after the transaction.
 *
 * After a failed transaction it refuses batches until the event loop sends 'reset'; after a failed
 * fdatasync it refuses them for good (nothing committed since the last good sync is known to be on disk).
 */
const port = parentPort;
const { dbFile, durability, trace } = workerData;
/** With workerData.trace, every commit and fdatasync is reported (tests check the durability order with it). */
const traceEvent = trace ? (event, ids) => port.postMessage({ type: 'trace', event, ids }) : () => undefined;
const db = new Database(dbFile);
db.pragma(`synchronous = ${durability === 'sqlite-full' ? 'FULL' : 'NORMAL'}`);
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
const writer = new BatchWriter(db);
const applyAll = db.transaction((writes) => {
  for (const w of writes) writer.apply(w.batch, w.packed);
});
const wal = durability === 'full' ? new WalSync(`${dbFile}-wal`) : undefined;
let broken; // { message, code? } while refusing
let syncFailed = false;

/** Groups in write order: { ids, error?, durable } — answered from the head while durable or failed. */
const answers = [];
/** Committed groups no fdatasync has started for yet. */
let unsynced = [];
let syncing = false;
let closing = false;

function answerReady() {
  while (answers.length > 0 && (answers[0].durable || answers[0].error)) {
    const g = answers.shift();
    port.postMessage(g.error ? { type: 'done', ids: g.ids, error: g.error } : { type: 'done', ids: g.ids });
  }
  if (closing && answers.length === 0 && !syncing) finishClose();
}

function commitGroup(ids, batches) {
  if (ids.length === 0) return;
  const group = { ids, error: undefined, durable: false };
  answers.push(group);
  if (broken) group.error = broken;
  else {
    try {
      applyAll(batches);
      traceEvent('commit', ids);
      if (wal) unsynced.push(group);
      else group.durable = true;
    } catch (e) {
      broken = { message: e.message };
      group.error = broken;
    }
  }
  startSync();
}

/** One fdatasync for every group committed since the last one started (none while one runs). */
function startSync() {
  if (syncing || unsynced.length === 0) return answerReady();
  const covered = unsynced;
  unsynced = [];
  syncing = true;
  const coveredIds = covered.flatMap((g) => g.ids);
  traceEvent('sync-start', coveredIds);
  wal.sync((err) => {
    syncing = false;
    traceEvent(err ? 'sync-failed' : 'sync-done', coveredIds);
    if (err) {
      syncFailed = true;
      broken = { message: err.message, code: 'STORE_SYNC_FAILED' };
      for (const g of [...covered, ...unsynced]) g.error = broken;
      unsynced = [];
    } else for (const g of covered) g.durable = true;
    startSync();
  });
}

function finishClose() {
  wal?.close();
  db.close();
  port.close();
}

function handle(first) {
  // drain everything already queued: one transaction for all of it
  const queue = [first];
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) queue.push(m.message);
  let ids = [];
  let batches = [];
  for (const m of queue) {
    if (m.type === 'write') {
      ids.push(m.id);
      batches.push(m);
      continue;
    }
    commitGroup(ids, batches);
    ids = [];
    batches = [];
    if (m.type === 'reset' && !syncFailed) broken = undefined;
    if (m.type === 'close') {
      closing = true;
      answerReady();
      return;
    }
  }
  commitGroup(ids, batches);
}

port.on('message', handle);
port.postMessage({ type: 'ready' });
