/**
 * device-c's host program `vitalseal-device-c` on a socat pty pair, the test playing the agent's
 * side of the line (docs/PROTOCOL.md §8.5-§8.7, §7.3): the lone 0x00 and the online status at line
 * up; ticket refusals reported with their codes, each once; a ticket identical to the one in use
 * ignored; acceptance with {ticketed, kid, seq}; readings that open with the patient key; acks
 * (also one naming another device), error frames naming a seq, resends byte for byte after the ack
 * timeout, at most 8 in flight; garbage on the line counted and survived; SIGTERM exits 0. The
 * program runs in its AddressSanitizer + UBSan build here: any report fails the last test (stderr).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../protocol/bytes.ts';
import { decodeStrict, encodeCanonical, isCborMap } from '../../protocol/cbor/index.ts';
import { decodeEnvelope, openReading } from '../../protocol/envelope/index.ts';
import { FRAME_TYPE, FrameDecoder, encodeAck, encodeFrame, type Frame } from '../../protocol/framing/index.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { startPtyPair, tempDir } from '../support/services.ts';
import { takeFrame, writeDrained } from '../support/serialLine.ts';
import { WardFixture } from '../support/ward.ts';
import { skipDeviceC, skipDeviceCReason } from './build.ts';
import { startCDevice, writeProvisioning, type RunningCDevice } from './cDevice.ts';

const DEV = 'c-line-1';
const ward = new WardFixture('device-c-line');
const nowS = (): number => Math.floor(Date.now() / 1000);

describe.skipIf(skipDeviceC)(`vitalseal-device-c on a pty, the test as the agent ${skipDeviceCReason}`, () => {
  let pty: Awaited<ReturnType<typeof startPtyPair>>;
  let port: SerialPort;
  let device: RunningCDevice;
  const decoder = new FrameDecoder();
  const inbox: Frame[] = [];
  const raw: number[] = [];
  const work = tempDir('vitalseal-devc-line-');

  const next = (type: number, timeoutMs = 5000): Promise<Frame> => takeFrame(inbox, type, timeoutMs);
  const write = (bytes: Uint8Array): Promise<void> => writeDrained(port, bytes);
  const mapOf = (body: Uint8Array): Map<unknown, unknown> => {
    const m = decodeStrict(body, { maxBytes: 512 });
    if (!isCborMap(m)) throw new Error('not a map');
    return m;
  };
  const statusOf = async (timeoutMs?: number): Promise<Record<string, unknown>> =>
    Object.fromEntries(mapOf((await next(FRAME_TYPE.status, timeoutMs)).body)) as Record<string, unknown>;
  const quiet = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    pty = await startPtyPair();
    port = new SerialPort({ path: pty.a, baudRate: 115_200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => {
      raw.push(...chunk);
      for (const r of decoder.push(chunk)) {
        if (!r.ok) throw new Error(`the device sent a bad frame: ${r.code}`);
        inbox.push(r.frame);
      }
    });
    const provision = writeProvisioning(work, { dev: DEV, authority: ward.authorityPublic });
    device = startCDevice({ serial: pty.b, nvm: `${work}/nvm`, provision, periodMs: 100, ackTimeoutMs: 1500, asan: true });
  });

  afterAll(async () => {
    await device?.kill9();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    await pty?.stop();
  });

  it('sends a lone 0x00 and then {dev, fw, idk, seq: 0, state: online} when the line comes up (idk: its identity key, §3.6, §8.4)', async () => {
    const s = await statusOf(10_000);
    expect(raw[0]).toBe(0x00);
    expect(s).toEqual({
      dev: DEV,
      fw: expect.stringMatching(/^vitalseal-device-c\/\d+\.\d+\.\d+$/),
      idk: expect.stringMatching(/^[0-9a-f]{64}$/),
      seq: 0,
      state: 'online',
    });
    expect(device.lines).toContain('identity key created');
  });

  it('refuses tickets with the §7.3 codes, each once, and measures nothing without a ticket', async () => {
    const other = ed25519.keygen(new Uint8Array(32).fill(99));
    const cases: [string, Uint8Array][] = [
      ['TICKET_WRONG_DEVICE', ward.ticketFor('someone-else')],
      ['TICKET_EXPIRED', ward.ticketFor(DEV, { nbf: nowS() - 7200, exp: nowS() - 3600 })],
      ['TICKET_NOT_YET_VALID', ward.ticketFor(DEV, { nbf: nowS() + 3600, exp: nowS() + 7200 })],
      [
        'TICKET_BAD_SIGNATURE',
        issueTicket(
          { dev: DEV, kid: ward.patient.kid, pk: ward.patient.publicKey, patient: 'p', nbf: nowS() - 60, exp: nowS() + 60 },
          other.secretKey,
        ),
      ],
      ['TICKET_MALFORMED', encodeCanonical('not a ticket')],
      // a v2 ticket certifying another identity key (§3.6, §7.3)
      [
        'SIM_IDENTITY_KEY_MISMATCH',
        issueTicket(
          {
            dev: DEV,
            kid: ward.patient.kid,
            pk: ward.patient.publicKey,
            patient: 'p',
            nbf: nowS() - 60,
            exp: nowS() + 600,
            idk: new Uint8Array(32).fill(0x42),
          },
          ward.authoritySecret,
        ),
      ],
    ];
    for (const [code, ticket] of cases) {
      await write(encodeFrame(FRAME_TYPE.ticket, ticket));
      expect(await statusOf()).toEqual({ dev: DEV, code, state: 'error' });
    }
    await write(encodeFrame(FRAME_TYPE.ticket, cases[0]![1])); // the same refused ticket again: not reported again
    await write(encodeFrame(FRAME_TYPE.ticket, cases.at(-1)![1]));
    await quiet(600);
    expect(inbox.filter((f) => f.type === FRAME_TYPE.status)).toEqual([]);
    expect(inbox.filter((f) => f.type === FRAME_TYPE.reading)).toEqual([]);
  });

  it('accepts a valid ticket ({ticketed, kid, seq}), ignores it when sent again, and sends readings the patient key opens', async () => {
    const ticket = ward.ticketFor(DEV);
    await write(encodeFrame(FRAME_TYPE.ticket, ticket));
    expect(await statusOf()).toEqual({ dev: DEV, kid: toHex(ward.patient.kid), seq: 0, state: 'ticketed' });
    await write(encodeFrame(FRAME_TYPE.ticket, ticket));
    const first = await next(FRAME_TYPE.reading);
    const opened = openReading(first.body, { secretKey: ward.patient.secretKey, hpke: ward.hpke });
    expect(opened.header).toMatchObject({ dev: DEV, seq: 0, st: 'spo2' });
    expect(opened.reading.u).toBe('%,bpm');
    expect(opened.reading.v).toHaveLength(2);
    const [spo2, pulse] = opened.reading.v as number[];
    expect(Number.isInteger(spo2) && spo2! >= 70 && spo2! <= 100).toBe(true);
    expect(Number.isInteger(pulse) && pulse! >= 30 && pulse! <= 220).toBe(true);
    expect(Math.abs(opened.header.ts - Date.now())).toBeLessThan(10_000);
    expect(toHex(first.body).startsWith('d083')).toBe(true); // tagged COSE_Encrypt0 (§5.9)
    expect(inbox.filter((f) => f.type === FRAME_TYPE.status)).toEqual([]); // the identical ticket was ignored
    inbox.unshift(first);
  });

  it('keeps at most 8 in flight, resends an unacknowledged reading byte for byte, settles acks and error frames', async () => {
    // nothing acknowledged yet: within the 1.5 s ack timeout only 8 distinct readings go out (10 sealed/s)
    await quiet(1300);
    const early = inbox.filter((f) => f.type === FRAME_TYPE.reading).map((f) => decodeEnvelope(f.body).header.seq);
    expect(new Set(early).size).toBeLessThanOrEqual(8);
    expect(new Set(early).size).toBeGreaterThanOrEqual(5);
    const bodies = new Map<number, string>();
    for (const f of inbox.filter((x) => x.type === FRAME_TYPE.reading)) bodies.set(decodeEnvelope(f.body).header.seq, toHex(f.body));
    // ack 0; an ack of another device for 1 (ignored); an error frame for 2 (quarantined: not resent)
    const lineFrom = device.lines.length;
    await write(encodeFrame(FRAME_TYPE.ack, encodeAck({ dev: DEV, seq: 0 })));
    await write(encodeFrame(FRAME_TYPE.ack, encodeAck({ dev: 'not-me', seq: 1 })));
    await write(
      encodeFrame(
        FRAME_TYPE.error,
        encodeCanonical(
          new Map<string, unknown>([
            ['code', 'AGENT_UNKNOWN_KID'],
            ['seq', 2],
          ]) as never,
        ),
      ),
    );
    await write(Uint8Array.of(0x13, 0x37, 0x00, 0x05, 0x01, 0x02, 0x00)); // garbage between frames: counted, dropped
    await device.waitLine(/^ack seq=0$/, 5000, lineFrom);
    await device.waitLine(/^rejected seq=2 code=AGENT_UNKNOWN_KID$/, 5000, lineFrom);
    inbox.length = 0;
    // after the timeout the unacknowledged ones come again, byte for byte; 0 and 2 never again
    await device.waitLine(/^resend seq=1 /, 5000, lineFrom);
    await quiet(500);
    const resent = inbox.filter((f) => f.type === FRAME_TYPE.reading);
    const again = resent.filter((f) => bodies.has(decodeEnvelope(f.body).header.seq));
    expect(again.length).toBeGreaterThan(0);
    for (const f of again) expect(toHex(f.body)).toBe(bodies.get(decodeEnvelope(f.body).header.seq));
    const seqs = resent.map((f) => decodeEnvelope(f.body).header.seq);
    // the resends (readings sent before the acks) go oldest first, in seq order; a new reading's first
    // transmission (the acks freed two window slots) may come before or between them
    const resentSeqs = again.map((f) => decodeEnvelope(f.body).header.seq);
    expect(resentSeqs).toEqual([...resentSeqs].sort((a, b) => a - b));
    expect(seqs).toContain(1);
    expect(seqs).not.toContain(0);
    expect(seqs).not.toContain(2);
    expect(device.lines.some((l) => /^ack seq=1$/.test(l))).toBe(false);
  });

  it('exits 0 on SIGTERM with its counters', async () => {
    // acknowledge everything sealed so far, then stop
    for (const seq of device.sealedSeqs()) await write(encodeFrame(FRAME_TYPE.ack, encodeAck({ dev: DEV, seq })));
    await quiet(300);
    await device.stop();
    expect(await device.exited).toEqual({ code: 0, signal: null });
    const exit = await device.waitLine(/^exit /, 1000);
    expect(exit).toMatch(/ rejected=1 /);
    expect(Number(/badFrames=(\d+)/.exec(exit)![1])).toBeGreaterThanOrEqual(1);
    expect(device.stderr()).toBe('');
  });
});
