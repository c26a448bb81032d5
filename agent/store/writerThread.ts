import { Worker } from 'node:worker_threads';
import { AgentError } from '../errors.ts';
import type { StoreWriter } from './storeWriter.ts';
import type { WriteBatch } from './writeBatch.ts';
import { packRows } from './packedRows.ts';
import type { StoreFault } from './storeFault.ts';

/** Messages between the event loop and the writer thread (agent/store/writerThread.worker.ts). */
/** `write`: the batch's nodes and records (with their leaf hashes) travel in `packed` (packedRows.ts), the rest as is. */
export type ToWriter =
  | { type: 'write'; id: number; batch: WriteBatch; packed: Uint8Array }
  | { type: 'reset' }
  | { type: 'fault'; fault: StoreFault }
  | { type: 'close' };
export type FromWriter =
  | { type: 'ready' }
  | { type: 'done'; ids: number[]; error?: { message: string; code: StoreErrorCode; cause?: string } }
  | { type: 'trace'; event: WriterTraceEvent; ids: number[] }
  | { type: 'closed' };

/** What the writer thread did to batches `ids` (ThreadWriter's `trace` option; for tests and debugging). */
export type WriterTraceEvent = 'commit' | 'sync-start' | 'sync-done' | 'sync-failed';

export interface ThreadWriterOptions {
  /**
   * Called with the thread's commits and fdatasyncs, in its order, before the answers they lead to;
   * `ids` number the batches 1, 2, 3, … in write order.
   */
  trace?: (event: WriterTraceEvent, ids: readonly number[]) => void;
}

export type WriterDurability = 'full' | 'sqlite-full' | 'normal';

/** The writer thread's workerData. */
export interface WriterData {
  dbFile: string;
  durability: WriterDurability;
  /** Report commits and fdatasyncs ('trace' messages). */
  trace: boolean;
}

/**
 * The writer thread's entry. From the build (this module is dist/agent/store/writerThread.js): the
 * compiled writerThread.worker.js, plain JavaScript on plain Node — no TypeScript loader in the
 * thread, whose RSS it would add to (why the thread was JavaScript before it was TypeScript). From
 * the sources (development: `node --import tsx`, vitest): a two-line module that loads
 * writerThread.worker.ts through tsx's `tsImport` inside the thread. On Node 20 a worker inherits
 * neither its parent's module hooks nor vitest's transform, and `--import tsx` in its execArgv does
 * not register them for it either (tried: "Unknown file extension .ts"); `tsImport` does, scoped to
 * the worker's own module graph.
 */
function writerThreadEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./writerThread.worker.js', import.meta.url);
  const worker = JSON.stringify(new URL('./writerThread.worker.ts', import.meta.url).href);
  const source = `import { tsImport } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\nawait tsImport(${worker}, ${worker});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/** Codes of a failed group commit (agent/errors.ts). */
export type StoreErrorCode = 'STORE_FULL' | 'STORE_COMMIT_FAILED' | 'STORE_SYNC_FAILED';

/**
 * Runs the group commits on a worker thread with its own SQLite connection: the transaction and
 * the WAL fdatasync happen off the event loop, which meanwhile keeps reading packets, validating
 * and building the next batch (~40 % of the agent's per-reading CPU was SQLite statement
 * execution on the event loop). Batches queued while one commits are coalesced into one
 * transaction and one fdatasync. Other writers of the same database (admin, anchoring, API) use
 * the main connection; SQLite serialises them (busy_timeout).
 */
export class ThreadWriter implements StoreWriter {
  private nextId = 1;
  private readonly pending = new Map<number, (err: Error | null) => void>();
  private exited: Error | undefined;
  private idle: Array<() => void> = [];

  private readonly worker: Worker;

  /** Starts the thread; batches written before it is up wait in its message queue. */
  constructor(
    dbFile: string,
    durability: WriterDurability,
    private readonly opts: ThreadWriterOptions = {},
  ) {
    const workerData: WriterData = { dbFile, durability, trace: opts.trace !== undefined };
    this.worker = new Worker(writerThreadEntry(), { workerData });
    this.worker.on('message', (m: FromWriter) => this.onMessage(m));
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`writer thread exited (${code})`)));
  }

  write(batch: WriteBatch, done: (err: Error | null) => void): void {
    if (this.exited) return done(this.exited);
    const id = this.nextId++;
    this.pending.set(id, done);
    const packed = packRows(batch);
    const rest: WriteBatch = { ...batch, nodes: [], records: [] };
    this.worker.postMessage({ type: 'write', id, batch: rest, packed } satisfies ToWriter, [packed.buffer]);
  }

  reset(): void {
    if (!this.exited) this.worker.postMessage({ type: 'reset' } satisfies ToWriter);
  }

  /** Fault injection for tests (storeFault.ts); applies before every batch written after this call. */
  injectFault(fault: StoreFault): void {
    if (!this.exited) this.worker.postMessage({ type: 'fault', fault } satisfies ToWriter);
  }

  /** Waits for every written batch to be answered, then stops the thread (closing its connection). */
  async close(): Promise<void> {
    if (this.pending.size > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' } satisfies ToWriter);
    await exited;
  }

  private onMessage(m: FromWriter): void {
    if (m.type === 'trace') return this.opts.trace?.(m.event, m.ids);
    if (m.type !== 'done') return;
    const err = m.error
      ? new AgentError(
          m.error.code,
          m.error.cause !== undefined && !m.error.message.startsWith(m.error.cause)
            ? `${m.error.cause}: ${m.error.message}`
            : m.error.message,
        )
      : null;
    for (const id of m.ids) {
      const done = this.pending.get(id);
      this.pending.delete(id);
      done?.(err);
    }
    if (this.pending.size === 0) for (const w of this.idle.splice(0)) w();
  }

  private failAll(e: Error): void {
    if (this.exited) return;
    // a dead writer thread cannot say what reached the disk: final, like a failed fdatasync
    this.exited = new AgentError('STORE_SYNC_FAILED', `writer thread failed: ${e.message}`, { cause: e });
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const done of pending) done(this.exited);
    for (const w of this.idle.splice(0)) w();
  }
}
