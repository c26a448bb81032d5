/**
 * vitalseal-device-c when its serial line goes away and comes back (docs/PROTOCOL.md §8.7): the
 * device starts before the line exists and keeps retrying with backoff; when socat (the pty pair)
 * dies it notices, and when a new pair appears on the same path it reopens the line, says
 * "online" again and resends every unacknowledged reading, in seq order, byte for byte; an
 * acknowledged one never comes back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { decodeStrict, isCborMap } from '../../protocol/cbor/index.ts';
import { decodeEnvelope } from '../../protocol/envelope/index.ts';
import { FRAME_TYPE, FrameDecoder, encodeAck, encodeFrame, type Frame } from '../../protocol/framing/index.ts';
import { requireBinary, stopProcess, tempDir, waitFor } from '../support/services.ts';
import { takeFrame, writeDrained } from '../support/serialLine.ts';
import { WardFixture } from '../support/ward.ts';
import { skipDeviceC, skipDeviceCReason } from './build.ts';
import { startCDevice, writeProvisioning, type RunningCDevice } from './cDevice.ts';

const DEV = 'c-link-1';
const ward = new WardFixture('device-c-link');

/** A socat pty pair whose ends are the symlinks `agent` and `dev` in `dir`. */
async function ptyPairAt(dir: string): Promise<ChildProcess> {
  const proc = spawn(
    requireBinary('socat'),
    ['-d', '-d', `pty,raw,echo=0,link=${join(dir, 'agent')}`, `pty,raw,echo=0,link=${join(dir, 'dev')}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`socat did not open ptys: ${err}`)), 5000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if ((err.match(/PTY is /g) ?? []).length >= 2) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return proc;
}

describe.skipIf(skipDeviceC)(`vitalseal-device-c: line loss and return ${skipDeviceCReason}`, () => {
  const work = tempDir('vitalseal-devc-link-');
  let socat: ChildProcess | undefined;
  let port: SerialPort | undefined;
  let device: RunningCDevice | undefined;
  const inbox: Frame[] = [];

  async function openAgentEnd(): Promise<SerialPort> {
    const decoder = new FrameDecoder();
    const p = new SerialPort({ path: join(work, 'agent'), baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())));
    p.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) if (r.ok) inbox.push(r.frame);
    });
    return p;
  }
  const status = async (): Promise<Record<string, unknown>> => {
    const m = decodeStrict((await takeFrame(inbox, FRAME_TYPE.status, 40_000)).body, { maxBytes: 512 });
    if (!isCborMap(m)) throw new Error('status is not a map');
    return Object.fromEntries(m) as Record<string, unknown>;
  };

  afterAll(async () => {
    await device?.kill9();
    if (port?.isOpen) await new Promise<void>((resolve) => port!.close(() => resolve()));
    await stopProcess(socat);
    rmSync(work, { recursive: true, force: true });
  });

  it('waits for the line, reconnects after it is lost and resends the unacknowledged readings in seq order', async () => {
    const provision = writeProvisioning(work, { dev: DEV, authority: ward.authorityPublic });
    device = startCDevice({ serial: join(work, 'dev'), nvm: join(work, 'nvm'), provision, periodMs: 100, ackTimeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 400));
    expect(device.lines.filter((l) => l === 'line up')).toEqual([]); // no line yet: it keeps trying
    socat = await ptyPairAt(work);
    port = await openAgentEnd();
    expect(await status()).toMatchObject({ dev: DEV, seq: 0, state: 'online' });
    await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, ward.ticketFor(DEV)));
    expect(await status()).toMatchObject({ state: 'ticketed', seq: 0 });
    // six readings; the first two acknowledged
    const first: Frame[] = [];
    for (let i = 0; i < 6; i++) first.push(await takeFrame(inbox, FRAME_TYPE.reading, 10_000));
    const seqOf = (f: Frame): number => decodeEnvelope(f.body).header.seq;
    expect(first.map(seqOf)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const seq of [0, 1]) await writeDrained(port, encodeFrame(FRAME_TYPE.ack, encodeAck({ dev: DEV, seq })));
    await device.waitLine(/^ack seq=1$/, 5000);

    // the line goes away (socat dies); the device notices
    await new Promise<void>((resolve) => port!.close(() => resolve()));
    await stopProcess(socat);
    const downAt = device.lines.length;
    await device.waitLine(/^line down$/, 10_000);
    const sealedBeforeReturn = device.sealedSeqs().length;
    inbox.length = 0;

    // a new pair on the same path: the device comes back within the backoff bound (§8.7: at most 30 s)
    socat = await ptyPairAt(work);
    port = await openAgentEnd();
    const online = await status();
    expect(online).toMatchObject({ dev: DEV, state: 'online', kid: toHex(ward.patient.kid) });
    expect(device.lines.slice(downAt).filter((l) => l === 'line up')).toHaveLength(1);
    // every unacknowledged reading again, in seq order, byte for byte; 0 and 1 never
    const unacked = device.sealedSeqs().filter((s) => s >= 2);
    expect(unacked.length).toBeGreaterThanOrEqual(Math.min(sealedBeforeReturn - 2, 6));
    const again: Frame[] = [];
    for (let i = 0; i < Math.min(unacked.length, 8); i++) again.push(await takeFrame(inbox, FRAME_TYPE.reading, 10_000));
    const seqs = again.map(seqOf);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs[0]).toBe(2);
    expect(seqs).not.toContain(0);
    expect(seqs).not.toContain(1);
    for (const f of again.filter((x) => seqOf(x) <= 5)) expect(toHex(f.body)).toBe(toHex(first[seqOf(f)]!.body));
    await device.stop();
    expect(await device.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it('retries a missing line with exponential backoff and full jitter within the §8.7 bound', async () => {
    const d = startCDevice({ serial: join(work, 'never'), nvm: join(work, 'nvm') });
    await waitFor(() => d.lines.filter((l) => l.startsWith('line retry ')).length >= 4, 15_000, 'four retries');
    await d.stop();
    expect(await d.exited).toEqual({ code: 0, signal: null });
    const retries = d.lines.flatMap((l) => {
      const m = /^line retry attempt=(\d+) in=(\d+)$/.exec(l);
      return m ? [{ attempt: Number(m[1]), delay: Number(m[2]) }] : [];
    });
    expect(retries.map((r) => r.attempt)).toEqual(retries.map((_, i) => i));
    for (const r of retries) expect(r.delay).toBeLessThan(Math.min(30_000, 500 * 2 ** r.attempt)); // uniform in [0, min(30 s, 0.5 s · 2^n))
    expect(d.lines.some((l) => l === 'line up')).toBe(false);
  });
});
