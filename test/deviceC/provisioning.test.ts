/**
 * vitalseal-device-c's provisioning (device-c/README.md "Provisioning file"): bad files refused with
 * the line, a first start without one refused, a later start with another one refused; a device
 * WITHOUT a pinned authority key (§7.3): the ticket loaded at provisioning is used (structure,
 * device and time checked), a ticket from the line is refused with SIM_NO_AUTHORITY_KEY, and an
 * expired provisioned ticket is reported with TICKET_EXPIRED once the line is up.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { decodeStrict, isCborMap } from '../../protocol/cbor/index.ts';
import { openReading } from '../../protocol/envelope/index.ts';
import { FRAME_TYPE, FrameDecoder, encodeFrame, type Frame } from '../../protocol/framing/index.ts';
import { startPtyPair, tempDir } from '../support/services.ts';
import { takeFrame, writeDrained } from '../support/serialLine.ts';
import { WardFixture } from '../support/ward.ts';
import { deviceC, skipDeviceC, skipDeviceCReason } from './build.ts';
import { startCDevice, writeProvisioning, type RunningCDevice } from './cDevice.ts';

const ward = new WardFixture('device-c-provisioning');
const nowS = (): number => Math.floor(Date.now() / 1000);

describe.skipIf(skipDeviceC)(`vitalseal-device-c provisioning ${skipDeviceCReason}`, () => {
  const work = tempDir('vitalseal-devc-prov-');
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  const run = (args: string[]) => spawnSync(deviceC().path('vitalseal-device-c'), args, { encoding: 'utf8', timeout: 10_000 });

  it('refuses a bad provisioning file with its line, a first start without one, and another one later', () => {
    const cases: [string, string, number][] = [
      ['v=2\ndev=oxi-01\n', 'line 1', 1],
      ['v=1\ndev=a:b\n', 'line 2', 1],
      ['# comment\nv=1\ndev=oxi-01\nauthority=abcd\n', 'line 4', 1],
      ['v=1\ndev=oxi-01\ncolour=blue\n', 'line 3', 1],
      ['dev=oxi-01\n', 'line 0', 1], // no version
    ];
    for (const [i, [text, where, code]] of cases.entries()) {
      const file = join(work, `bad-${i}.txt`);
      writeFileSync(file, text);
      const r = run(['--serial', '/dev/null', '--nvm', join(work, `nvm-bad-${i}`), '--provision', file]);
      expect(r.status, text).toBe(code);
      expect(r.stderr, text).toContain(`provisioning is invalid (${where})`);
      expect(existsSync(join(work, `nvm-bad-${i}`, 'identity')), text).toBe(false);
    }
    const none = run(['--serial', '/dev/null', '--nvm', join(work, 'nvm-none')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('--provision <file> is needed at first start');
    expect(run(['--nvm', join(work, 'nvm-none')]).status).toBe(2); // no --serial
  });

  async function line(): Promise<{ port: SerialPort; inbox: Frame[]; path: string }> {
    const pty = await startPtyPair();
    cleanup.push(() => pty.stop());
    const port = new SerialPort({ path: pty.a, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    cleanup.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
    const inbox: Frame[] = [];
    const decoder = new FrameDecoder();
    port.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) if (r.ok) inbox.push(r.frame);
    });
    return { port, inbox, path: pty.b };
  }
  const statusOf = async (inbox: Frame[]): Promise<Record<string, unknown>> => {
    const m = decodeStrict((await takeFrame(inbox, FRAME_TYPE.status, 10_000)).body, { maxBytes: 512 });
    if (!isCborMap(m)) throw new Error('status is not a map');
    return Object.fromEntries(m) as Record<string, unknown>;
  };
  const start = (o: Parameters<typeof startCDevice>[0]): RunningCDevice => {
    const d = startCDevice(o);
    cleanup.push(() => d.kill9());
    return d;
  };

  it('without a pinned key: uses the provisioned ticket, refuses one from the line with SIM_NO_AUTHORITY_KEY', async () => {
    const { port, inbox, path } = await line();
    const dev = 'c-prov-1';
    const provision = writeProvisioning(work, { dev, ticket: ward.ticketFor(dev) }, 'prov-1.txt');
    const nvm = join(work, 'nvm-1');
    const d = start({ serial: path, nvm, provision, periodMs: 100 });
    expect(await d.waitLine(/^boot /)).toMatch(/ ticket=yes$/);
    expect(await statusOf(inbox)).toMatchObject({ dev, kid: toHex(ward.patient.kid), seq: 0, state: 'online' });
    const reading = await takeFrame(inbox, FRAME_TYPE.reading, 10_000);
    expect(openReading(reading.body, { secretKey: ward.patient.secretKey, hpke: ward.hpke }).header).toMatchObject({ dev, seq: 0 });
    await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, ward.ticketFor(dev, { patient: 'another' })));
    expect(await statusOf(inbox)).toEqual({ dev, code: 'SIM_NO_AUTHORITY_KEY', state: 'error' });
    await d.stop();
    expect(await d.exited).toEqual({ code: 0, signal: null });
    // a later start with another provisioning file is refused; with the same one (or none) it runs
    const other = writeProvisioning(work, { dev: 'c-prov-other' }, 'prov-other.txt');
    const refused = run(['--serial', path, '--nvm', nvm, '--provision', other]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('provisioned differently');
  });

  it('reports an expired provisioned ticket with TICKET_EXPIRED once the line is up, and measures nothing', async () => {
    const { inbox, path } = await line();
    const dev = 'c-prov-2';
    const provision = writeProvisioning(
      work,
      { dev, ticket: ward.ticketFor(dev, { nbf: nowS() - 7200, exp: nowS() - 3600 }) },
      'prov-2.txt',
    );
    const d = start({ serial: path, nvm: join(work, 'nvm-2'), provision, periodMs: 100 });
    expect(await d.waitLine(/^boot /)).toMatch(/ ticket=no$/);
    expect(await statusOf(inbox)).toEqual({
      dev,
      fw: expect.any(String),
      idk: expect.stringMatching(/^[0-9a-f]{64}$/),
      seq: 0,
      state: 'online',
    });
    expect(await statusOf(inbox)).toEqual({ dev, code: 'TICKET_EXPIRED', state: 'error' });
    await new Promise((r) => setTimeout(r, 400));
    expect(inbox.filter((f) => f.type === FRAME_TYPE.reading)).toEqual([]);
  });
});
