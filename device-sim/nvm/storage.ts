import type { DeviceNvmState } from './deviceState.ts';
import type { LogRecord } from './logRecord.ts';

/**
 * A device's non-volatile memory: its state record and its outbox log. The file-backed
 * kind survives a reboot and a kill -9 of the simulator; the memory kind survives a
 * simulated reboot only (fast, for large virtual fleets).
 */
export interface NvmStorage {
  readonly kind: 'memory' | 'file';
  loadState(): DeviceNvmState | undefined;
  /** Durable once it returns. */
  saveState(state: DeviceNvmState): void;
  /** Every intact record; a torn tail is cut off (and counted in `tornBytes`). */
  readLog(): { records: LogRecord[]; tornBytes: number };
  /** Appends records; `durable` = fsync before returning (write-ahead of a send). */
  append(records: readonly LogRecord[], durable: boolean): void;
  /** Replaces the whole log atomically (compaction). */
  rewriteLog(records: readonly LogRecord[]): void;
  close(): void;
}

export class MemoryNvm implements NvmStorage {
  readonly kind = 'memory';
  private state: DeviceNvmState | undefined;
  private log: LogRecord[] = [];

  loadState(): DeviceNvmState | undefined {
    return this.state;
  }
  saveState(state: DeviceNvmState): void {
    this.state = { ...state };
  }
  readLog(): { records: LogRecord[]; tornBytes: number } {
    return { records: [...this.log], tornBytes: 0 };
  }
  append(records: readonly LogRecord[]): void {
    this.log.push(...records);
  }
  rewriteLog(records: readonly LogRecord[]): void {
    this.log = [...records];
  }
  close(): void {}
}
