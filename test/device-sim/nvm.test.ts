import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeLog, encodeLogRecord, type LogRecord } from '../../device-sim/nvm/logRecord.ts';
import { FileNvm } from '../../device-sim/nvm/fileNvm.ts';
import { Outbox } from '../../device-sim/nvm/outbox.ts';
import { MemoryNvm } from '../../device-sim/nvm/storage.ts';
import { lockNvmDir } from '../../device-sim/fleet/nvmLock.ts';
import { tempDir } from '../support/services.ts';

const env = (n: number): Uint8Array => new Uint8Array(40).fill(n & 0xff);

describe('NVM', () => {
  it('log records round-trip; a torn or damaged tail is cut at the last intact record', () => {
    const records: LogRecord[] = [
      { t: 'checkpoint', maxSeq: 2 ** 40, dropped: 3 },
      { t: 'sealed', seq: 7, ts: 1_767_225_600_123, envelope: env(1) },
      { t: 'acked', seq: 7 },
      { t: 'dropped', seq: 8 },
      { t: 'rejected', seq: 9 },
    ];
    const bytes = Buffer.concat(records.map(encodeLogRecord));
    expect(decodeLog(bytes)).toEqual({ records, validBytes: bytes.length });
    const torn = bytes.subarray(0, bytes.length - 3);
    expect(decodeLog(torn).records).toEqual(records.slice(0, 4));
    const flipped = Uint8Array.from(bytes);
    flipped[bytes.length - 20] = flipped[bytes.length - 20]! ^ 1;
    expect(decodeLog(flipped).records.length).toBeLessThan(records.length);
  });

  it('file NVM: state is replaced atomically; a torn log tail is truncated on boot', () => {
    const dir = tempDir();
    const nvm = new FileNvm(dir);
    expect(nvm.loadState()).toBeUndefined();
    nvm.saveState({ v: 1, dev: 'd1', secret: 's', bootCount: 1 });
    expect(nvm.loadState()).toEqual({ v: 1, dev: 'd1', secret: 's', bootCount: 1 });
    expect(statSync(join(dir, 'state.json')).mode & 0o777).toBe(0o600);
    nvm.append([{ t: 'sealed', seq: 0, ts: 1, envelope: env(0) }], true);
    nvm.close();
    appendFileSync(join(dir, 'outbox.log'), Buffer.from([1, 0, 0])); // power loss mid-append
    const again = new FileNvm(dir);
    const { records, tornBytes } = again.readLog();
    expect(records).toHaveLength(1);
    expect(tornBytes).toBe(3);
    expect(again.readLog().tornBytes).toBe(0);
    writeFileSync(join(dir, 'state.json'), '{"v":1');
    expect(() => again.loadState()).toThrow(expect.objectContaining({ code: 'SIM_NVM_CORRUPT' }));
  });

  it('outbox: seq grows, unacknowledged readings survive a restart in order, acked ones do not', () => {
    const dir = tempDir();
    const a = new Outbox(new FileNvm(dir), 8, 'drop-oldest');
    expect(a.restore().maxSeq).toBe(-1);
    for (let s = 0; s < 5; s++) a.add(s, 1000 + s, env(s));
    a.ack(1);
    a.ack(3);
    expect(a.ack(3)).toBeUndefined();
    expect(() => a.add(4, 0, env(4))).toThrow(RangeError);
    // "kill -9": a new outbox on the same files
    const b = new Outbox(new FileNvm(dir), 8, 'drop-oldest');
    const r = b.restore();
    expect(r).toMatchObject({ maxSeq: 4, pending: 3 });
    expect(b.pendingSeqs()).toEqual([0, 2, 4]);
    expect(b.get(2)!.envelope).toEqual(env(2));
  });

  it('drop-oldest counts every dropped reading (never in flight); stop-measuring refuses instead', () => {
    const mem = new MemoryNvm();
    const o = new Outbox(mem, 3, 'drop-oldest');
    o.restore();
    for (let s = 0; s < 3; s++) o.add(s, s, env(s));
    o.nextToSend()!.inflight = true; // seq 0 in flight
    o.get(0)!.attempts = 1;
    expect(o.hasRoom()).toBe(true);
    expect(o.add(3, 3, env(3))).toEqual({ seq: 1, wasSent: false });
    expect(o.add(4, 4, env(4))).toEqual({ seq: 2, wasSent: false });
    expect(o.pendingSeqs()).toEqual([0, 3, 4]);
    expect(o.droppedTotal).toBe(2);
    const restored = new Outbox(mem, 3, 'drop-oldest');
    expect(restored.restore()).toMatchObject({ droppedTotal: 2, pending: 3, maxSeq: 4 });

    const stop = new Outbox(new MemoryNvm(), 2, 'stop-measuring');
    stop.restore();
    stop.add(0, 0, env(0));
    stop.add(1, 1, env(1));
    expect(stop.hasRoom()).toBe(false);
    expect(() => stop.add(2, 2, env(2))).toThrow(RangeError);
  });

  it('compaction keeps maxSeq and the drop count, so seq never repeats after it', () => {
    const dir = tempDir();
    const o = new Outbox(new FileNvm(dir), 4, 'drop-oldest');
    o.restore();
    for (let s = 0; s < 200; s++) {
      o.add(s, s, env(s));
      if (s % 3 !== 0) o.ack(s);
    }
    const size = statSync(join(dir, 'outbox.log')).size;
    expect(size).toBeLessThan(200 * 60); // compacted
    const again = new Outbox(new FileNvm(dir), 4, 'drop-oldest');
    const r = again.restore();
    expect(r.maxSeq).toBe(199);
    expect(r.droppedTotal).toBe(o.droppedTotal);
    expect(again.pendingSeqs()).toEqual(o.pendingSeqs());
    expect(readFileSync(join(dir, 'outbox.log'))[0]).toBe(5); // starts with a checkpoint
  });

  it('one simulator per NVM directory; a dead owner’s lock is taken over', () => {
    const dir = tempDir();
    const unlock = lockNvmDir(dir);
    expect(() => lockNvmDir(dir)).not.toThrow(); // same pid: re-entrant takeover of its own lock
    unlock();
    writeFileSync(join(dir, 'LOCK'), '1'); // pid 1 is alive (init)
    expect(() => lockNvmDir(dir)).toThrow(expect.objectContaining({ code: 'SIM_NVM_LOCKED' }));
    writeFileSync(join(dir, 'LOCK'), '999999999');
    expect(() => lockNvmDir(dir)()).not.toThrow();
  });
});
