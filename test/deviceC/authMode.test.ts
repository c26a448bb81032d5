/**
 * HPKE Auth mode in device-c's host program (issue #20, docs/PROTOCOL.md §3.6, §5.2, §6, §7.1, §7.3,
 * §8.4), the test playing the agent on a socat pty pair, single-shot and `--session`:
 * - the device generates its identity key at first boot (NVM record `idkey`, a 0600 file), reports
 *   its public key as "idk" in the online status and never writes the secret to stdout or the line;
 * - under a v2 ticket that certifies its idk it seals in Auth mode ("m": 2): the readings open with
 *   openReading({ senderPublicKey: idk }) on both backends and fail with ENVELOPE_ORIGIN_UNVERIFIED
 *   with another sender key; session mode: one ek, hs 0, 1, …;
 * - kill -9 and restart from the same NVM directory: the same idk, the stored v2 ticket, Auth mode;
 * - a v1 ticket afterwards: base mode (no "m");
 * - `--rotate-identity` on the stopped device's NVM (§3.6 "Rotating the identity key"): a new `idkey`
 *   (0600; the old secret gone), the old public key in `idprev`; at the next start the new idk is
 *   reported, the stored v2 ticket for the old key is dropped as SIM_IDENTITY_KEY_ROTATED (a ticket for
 *   the old key from the line too; another key: MISMATCH), and a ticket for the new key means Auth mode
 *   with the new key.
 * The program runs in its AddressSanitizer + UBSan build: any report fails the test (stderr).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { SerialPort } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { decodeStrict, isCborMap } from '../../protocol/cbor/index.ts';
import { decodeEnvelope, openReading } from '../../protocol/envelope/index.ts';
import { FRAME_TYPE, FrameDecoder, encodeAck, encodeFrame, type Frame } from '../../protocol/framing/index.ts';
import { createHpke, HPKE_BACKENDS } from '../../protocol/node.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { startPtyPair, tempDir, waitFor } from '../support/services.ts';
import { takeFrame, writeDrained } from '../support/serialLine.ts';
import { WardFixture } from '../support/ward.ts';
import { skipDeviceC, skipDeviceCReason } from './build.ts';
import { deviceC } from './build.ts';
import { startCDevice, writeProvisioning, type RunningCDevice } from './cDevice.ts';

const ward = new WardFixture('device-c-auth-mode');
const nowS = (): number => Math.floor(Date.now() / 1000);
const code = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe.skipIf(skipDeviceC)(`vitalseal-device-c in HPKE Auth mode on a pty ${skipDeviceCReason}`, () => {
  const cleanup: (() => Promise<void>)[] = [];
  const work = tempDir('vitalseal-devc-auth-');

  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  describe.each([
    { mode: 'single-shot', session: false },
    { mode: 'session', session: true },
  ])('$mode', ({ mode, session }) => {
    const dev = `c-auth-${mode}`;
    const nvm = join(work, `nvm-${mode}`);
    let port: SerialPort;
    let path = '';
    const inbox: Frame[] = [];
    const readings: Frame[] = [];
    const raw: number[] = [];
    const devices: RunningCDevice[] = [];
    let idk = '';
    let skHex = '';

    const statusOf = async (): Promise<Record<string, unknown>> => {
      const m = decodeStrict((await takeFrame(inbox, FRAME_TYPE.status, 10_000)).body, { maxBytes: 512 });
      if (!isCborMap(m)) throw new Error('status is not a map');
      return Object.fromEntries(m) as Record<string, unknown>;
    };
    const start = (provision?: string): RunningCDevice => {
      const d = startCDevice({
        serial: path,
        nvm,
        ...(provision ? { provision } : {}),
        periodMs: 100,
        ackTimeoutMs: 2000,
        session,
        asan: true,
      });
      devices.push(d);
      cleanup.push(() => d.kill9());
      return d;
    };
    const v2Ticket = (idkBytes: Uint8Array): Uint8Array =>
      issueTicket(
        { dev, kid: ward.patient.kid, pk: ward.patient.publicKey, patient: 'p-auth', nbf: nowS() - 60, exp: nowS() + 3600, idk: idkBytes },
        ward.authoritySecret,
      );
    const v2TicketExp = (idkBytes: Uint8Array, validS: number): Uint8Array =>
      issueTicket(
        {
          dev,
          kid: ward.patient.kid,
          pk: ward.patient.publicKey,
          patient: 'p-auth',
          nbf: nowS() - 60,
          exp: nowS() + validS,
          idk: idkBytes,
        },
        ward.authoritySecret,
      );
    /** Readings with seq > after, once at least n have come. */
    const readingsAfter = async (after: number, n: number): Promise<Frame[]> => {
      const pick = () => readings.filter((f) => decodeEnvelope(f.body).header.seq > after);
      await waitFor(() => pick().length >= n, 15_000, `${n} readings after seq ${after}`);
      return pick();
    };
    const open = (f: Frame, backend: (typeof HPKE_BACKENDS)[number], senderPublicKey?: Uint8Array) =>
      openReading(f.body, {
        secretKey: ward.patient.secretKey,
        hpke: createHpke(backend),
        ...(senderPublicKey ? { senderPublicKey } : {}),
      });

    it('first boot: generates its identity key into NVM (0600), reports it as idk in the online status, never shows the secret', async () => {
      const pty = await startPtyPair();
      cleanup.push(() => pty.stop());
      path = pty.b;
      port = new SerialPort({ path: pty.a, baudRate: 115_200, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
      cleanup.push(() => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())));
      const decoder = new FrameDecoder();
      port.on('data', (chunk: Buffer) => {
        raw.push(...chunk);
        for (const r of decoder.push(chunk)) {
          if (!r.ok) continue;
          if (r.frame.type === FRAME_TYPE.reading) {
            // the agent's part: every reading acknowledged at once
            readings.push(r.frame);
            void writeDrained(port, encodeFrame(FRAME_TYPE.ack, encodeAck({ dev, seq: decodeEnvelope(r.frame.body).header.seq })));
          } else inbox.push(r.frame);
        }
      });
      const d = start(writeProvisioning(work, { dev, authority: ward.authorityPublic }, `prov-${mode}.txt`));
      const s = await statusOf();
      expect(s).toMatchObject({ dev, state: 'online', idk: expect.stringMatching(/^[0-9a-f]{64}$/) });
      idk = s.idk as string;
      expect(d.lines).toContain('identity key created');
      const file = join(nvm, 'idkey');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const rec = readFileSync(file);
      expect(rec.length).toBe(40);
      expect(rec.subarray(0, 4).toString('latin1')).toBe('VSIK');
      const sk = new Uint8Array(rec.subarray(4, 36));
      expect(toHex(x25519.getPublicKey(sk))).toBe(idk);
      skHex = toHex(sk);
    });

    it('a v2 ticket certifying another identity key is refused with SIM_IDENTITY_KEY_MISMATCH (once)', async () => {
      const other = v2Ticket(new Uint8Array(32).fill(0x42));
      await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, other));
      expect(await statusOf()).toEqual({ dev, code: 'SIM_IDENTITY_KEY_MISMATCH', state: 'error' });
      await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, other));
      await new Promise((r) => setTimeout(r, 400));
      expect(inbox.filter((f) => f.type === FRAME_TYPE.status)).toEqual([]);
      expect(readings).toEqual([]);
    });

    it('under a v2 ticket with its idk it seals in Auth mode ("m": 2): readings open with the idk on node and noble, not with another key', async () => {
      await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, v2Ticket(fromHex(idk))));
      expect(await statusOf()).toEqual({ dev, kid: toHex(ward.patient.kid), seq: 0, state: 'ticketed' });
      const got = await readingsAfter(-1, 4);
      const other = new Uint8Array(32).fill(9);
      for (const f of got) {
        const dec = decodeEnvelope(f.body);
        expect(dec.header.m).toBe(2);
        for (const backend of HPKE_BACKENDS) {
          const o = open(f, backend, fromHex(idk));
          expect(o.header).toMatchObject({ dev, st: 'spo2', m: 2 });
          expect(o.reading.u).toBe('%,bpm');
          expect(code(() => open(f, backend, x25519.getPublicKey(other)))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
          expect(code(() => open(f, backend))).toBe('ENVELOPE_NO_SENDER_KEY');
        }
      }
      const headers = got.map((f) => decodeEnvelope(f.body));
      if (session) {
        expect(new Set(headers.map((h) => toHex(h.enc))).size).toBe(1);
        expect(headers.map((h) => h.header.hs)).toEqual(headers.map((_, i) => i));
      } else {
        expect(new Set(headers.map((h) => toHex(h.enc))).size).toBe(headers.length);
      }
    });

    it('kill -9 and restart from NVM: the same idk, the stored v2 ticket, Auth mode again; a v1 ticket then means base mode', async () => {
      const run1 = devices.at(-1)!;
      await run1.kill9();
      const maxSeq = Math.max(...readings.map((f) => decodeEnvelope(f.body).header.seq));
      inbox.length = 0;
      const run2 = start();
      expect(await run2.waitLine(/^boot /)).toMatch(/ ticket=yes$/);
      expect(await statusOf()).toMatchObject({ dev, idk, state: 'online' });
      expect(run2.lines).not.toContain('identity key created');
      const after = await readingsAfter(maxSeq, 2);
      for (const f of after) expect(open(f, 'noble', fromHex(idk)).header.m).toBe(2);
      const last = Math.max(...readings.map((f) => decodeEnvelope(f.body).header.seq));
      await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, ward.ticketFor(dev)));
      expect(await statusOf()).toMatchObject({ dev, state: 'ticketed' });
      const baseAfter = () =>
        readings.filter((f) => decodeEnvelope(f.body).header.seq > last && decodeEnvelope(f.body).header.m === undefined);
      await waitFor(() => baseAfter().length >= 2, 15_000, 'base-mode readings under the v1 ticket');
      for (const f of baseAfter()) expect(open(f, 'node').reading.u).toBe('%,bpm');
      // the identity secret never appeared on stdout or on the line
      expect(skHex).toMatch(/^[0-9a-f]{64}$/);
      for (const d of devices) expect(d.lines.join('\n')).not.toContain(skHex);
      expect(toHex(Uint8Array.from(raw))).not.toContain(skHex);
      await run2.stop();
      expect(await run2.exited).toEqual({ code: 0, signal: null });
      expect(run2.stderr()).toBe('');
    });

    it('--rotate-identity (device stopped): new idkey, old pk kept as idprev; next start reports the new idk, drops the stored v2 ticket as ROTATED; Auth mode with the new key', async () => {
      // a v2 ticket for the current key in use and stored, then the device stops
      const run3 = start();
      expect(await statusOf()).toMatchObject({ dev, idk, state: 'online' });
      const stored = v2Ticket(fromHex(idk));
      await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, stored));
      expect(await statusOf()).toMatchObject({ dev, state: 'ticketed' });
      const before = Math.max(-1, ...readings.map((f) => decodeEnvelope(f.body).header.seq));
      await readingsAfter(before, 2);
      await run3.stop();
      expect(await run3.exited).toEqual({ code: 0, signal: null });
      inbox.length = 0;

      const bin = deviceC({ asan: true }).path('vitalseal-device-c');
      const rot = spawnSync(bin, ['--nvm', nvm, '--rotate-identity'], { encoding: 'utf8' });
      expect(rot.status, rot.stderr).toBe(0);
      expect(rot.stderr).toBe('');
      const out = Object.fromEntries(
        rot.stdout
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => l.split(' ') as [string, string]),
      );
      expect(rot.stdout.split('\n')[0]).toBe('identity key rotated');
      expect(out['previous']).toBe(idk);
      const idk2 = out['idk']!;
      expect(idk2).toMatch(/^[0-9a-f]{64}$/);
      expect(idk2).not.toBe(idk);
      const rec = readFileSync(join(nvm, 'idkey'));
      expect(statSync(join(nvm, 'idkey')).mode & 0o777).toBe(0o600);
      expect(toHex(x25519.getPublicKey(new Uint8Array(rec.subarray(4, 36))))).toBe(idk2);
      expect(toHex(rec)).not.toContain(skHex); // the old secret is gone
      const prev = readFileSync(join(nvm, 'idprev'));
      expect(prev.subarray(0, 4).toString('latin1')).toBe('VSIP');
      expect(toHex(prev.subarray(4, 36))).toBe(idk);
      expect(rot.stdout).not.toContain(toHex(rec.subarray(4, 36)));
      // without an identity key (an empty NVM directory) nothing is rotated
      const none = spawnSync(bin, ['--nvm', join(work, `empty-${mode}`), '--rotate-identity'], { encoding: 'utf8' });
      expect(none.status).toBe(1);

      // the next start: new idk reported, the stored v2 ticket (old key) dropped and reported as ROTATED
      const run4 = start();
      expect(await run4.waitLine(/^boot /)).toMatch(/ ticket=no$/);
      expect(await statusOf()).toMatchObject({ dev, idk: idk2, state: 'online' });
      expect(await statusOf()).toEqual({ dev, code: 'SIM_IDENTITY_KEY_ROTATED', state: 'error' });
      // another ticket for the old key: ROTATED; one for some other key: MISMATCH
      await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, v2TicketExp(fromHex(idk), 1800)));
      expect(await statusOf()).toEqual({ dev, code: 'SIM_IDENTITY_KEY_ROTATED', state: 'error' });
      await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, v2Ticket(new Uint8Array(32).fill(0x43))));
      expect(await statusOf()).toEqual({ dev, code: 'SIM_IDENTITY_KEY_MISMATCH', state: 'error' });
      const last = Math.max(...readings.map((f) => decodeEnvelope(f.body).header.seq));
      // the ward's ticket for the new key: Auth mode with it
      await writeDrained(port, encodeFrame(FRAME_TYPE.ticket, v2Ticket(fromHex(idk2))));
      expect(await statusOf()).toMatchObject({ dev, state: 'ticketed' });
      for (const f of await readingsAfter(last, 2)) {
        expect(open(f, 'noble', fromHex(idk2)).header.m).toBe(2);
        expect(code(() => open(f, 'noble', fromHex(idk)))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
      }
      await run4.stop();
      expect(await run4.exited).toEqual({ code: 0, signal: null });
      expect(run4.stderr()).toBe('');
    });
  });
});
