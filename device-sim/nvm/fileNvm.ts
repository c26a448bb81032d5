import { closeSync, existsSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { simFail } from '../errors.ts';
import { writePrivateFileAtomicSync as writeFileAtomic } from '../../platform/privateFiles.ts';
import { parseDeviceState, type DeviceNvmState } from './deviceState.ts';
import { decodeLog, encodeLogRecord, type LogRecord } from './logRecord.ts';
import type { NvmStorage } from './storage.ts';

/**
 * File-backed NVM of one device: `<dir>/state.json` (replaced atomically: temp + fsync +
 * rename) and `<dir>/outbox.log` (append-only, fdatasync on durable appends, compacted by
 * an atomic rewrite).
 */
export class FileNvm implements NvmStorage {
  readonly kind = 'file';
  private readonly statePath: string;
  private readonly logPath: string;
  private fd: number | undefined;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.statePath = join(dir, 'state.json');
    this.logPath = join(dir, 'outbox.log');
  }

  loadState(): DeviceNvmState | undefined {
    if (!existsSync(this.statePath)) return undefined;
    return parseDeviceState(this.io(() => readFileSync(this.statePath, 'utf8')));
  }

  saveState(state: DeviceNvmState): void {
    this.io(() => writeFileAtomic(this.statePath, `${JSON.stringify(state)}\n`));
  }

  readLog(): { records: LogRecord[]; tornBytes: number } {
    if (!existsSync(this.logPath)) return { records: [], tornBytes: 0 };
    const bytes = new Uint8Array(this.io(() => readFileSync(this.logPath)));
    const { records, validBytes } = decodeLog(bytes);
    if (validBytes < bytes.length) {
      this.closeFd();
      this.io(() => {
        const fd = openSync(this.logPath, 'r+');
        try {
          ftruncateSync(fd, validBytes);
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
      });
    }
    return { records, tornBytes: bytes.length - validBytes };
  }

  append(records: readonly LogRecord[], durable: boolean): void {
    if (records.length === 0) return;
    const parts = records.map(encodeLogRecord);
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.io(() => {
      const fd = (this.fd ??= openSync(this.logPath, 'a', 0o600));
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      if (durable) fdatasyncSync(fd);
    });
  }

  rewriteLog(records: readonly LogRecord[]): void {
    this.closeFd();
    this.io(() => writeFileAtomic(this.logPath, Buffer.concat(records.map(encodeLogRecord))));
  }

  close(): void {
    this.closeFd();
  }

  private closeFd(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private io<T>(op: () => T): T {
    try {
      return op();
    } catch (e) {
      return simFail('SIM_NVM_IO', `NVM I/O failed (${(e as { code?: string }).code ?? 'error'})`, e);
    }
  }
}
