/**
 * Everything the project's own encoders produce validates against the CDDL of docs/PROTOCOL.md:
 * envelopes and plaintexts of every sensor-type profile in both sealing modes, tickets, tree heads,
 * access events, serial frames (property tests over random inputs), and the frames the real
 * device serial link and the real agent serial ingress put on a line.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { SerialPort, SerialPortMock } from 'serialport';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeStrict, encodeCanonical, type CborValue } from '../../protocol/cbor/index.ts';
import { DEVICE_ID_REGEX } from '../../protocol/deviceId.ts';
import { createSessionSealer, decodeEnvelope, encodeReading, sealReading, type Reading } from '../../protocol/envelope/index.ts';
import { decodeFrame, encodeAck, encodeFrame, FrameDecoder, frameTypeName, FRAME_TYPE, type Frame } from '../../protocol/framing/index.ts';
import { createHpke } from '../../protocol/hpke/index.ts';
import { keyIdOf, tempKeyPairGen } from '../../protocol/keys/index.ts';
import { encodeAccessEvent, type AccessEvent } from '../../protocol/log/accessEvent.ts';
import { seededRng } from '../../protocol/rng.ts';
import { issueTicket, type TicketFields } from '../../protocol/ticket/index.ts';
import { signTreeHead } from '../../protocol/treeHead.ts';
import { PROFILE_NAMES, PROFILES, ScenarioTimeline } from '../../device-sim/profiles/index.ts';
import { SerialLink } from '../../device-sim/transport/serialLink.ts';
import { SerialIngress } from '../../agent/serial/serialIngress.ts';
import type { IngestItem, IngestOutcome } from '../../agent/ingest/types.ts';
import type { Ingestor } from '../../agent/ingest/ingestor.ts';
import type { AgentMetrics } from '../../agent/metrics.ts';
import type { AgentStore } from '../../agent/store/agentStore.ts';
import { startPtyPair, waitFor } from '../support/services.ts';
import { protocolSchema } from './specDoc.ts';
import { runs } from '../support/fuzz.ts';

const schema = protocolSchema();
const hpke = createHpke('noble');
const TAGS = { allowedTags: [16, 18], maxBytes: 1 << 16, maxStringBytes: 1 << 16 };

function expectValid(bytes: Uint8Array, rule: string): void {
  const result = schema.validate(decodeStrict(bytes, TAGS), rule);
  expect(result.ok ? 'ok' : `${rule}: ${result.error}`).toBe('ok');
}

/** The CDDL rule of each frame type's body (docs/PROTOCOL.md §8.4). */
const BODY_RULE = {
  ticket: 'session-ticket',
  reading: 'reading-envelope',
  ack: 'ack-body',
  status: 'serial-status-body',
  error: 'error-body',
} as const;

function expectValidFrame(frame: Frame): void {
  expectValid(frame.body, BODY_RULE[frameTypeName(frame.type)]);
}

const deviceId = fc.stringMatching(DEVICE_ID_REGEX);
const uint53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}`);
const patientRef = fc.oneof(
  address,
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/\p{Cc}/u.test(s)),
);
const seed = fc.string({ maxLength: 16 });
/** 2020-01-01 .. 2100-01-01 */
const msTime = fc.integer({ min: 1_577_836_800_000, max: 4_102_444_800_000 });

const recipient = (() => {
  const k = tempKeyPairGen('0x39358d1f67270244482a397d3004b9b68dd50412', seededRng('spec/produced/recipient'), hpke);
  return { publicKey: k.publicKey, kid: k.kid };
})();

function profileReading(profile: (typeof PROFILE_NAMES)[number], signalSeed: string, ts: number): Reading {
  return PROFILES[profile]
    .createGenerator({ rng: seededRng(`spec/produced/${signalSeed}`), scenarios: new ScenarioTimeline(), runStartMs: ts })
    .next(ts);
}

describe('what the encoders produce validates against docs/vitalseal.cddl', () => {
  it.each(PROFILE_NAMES.map((p) => [p]))(
    'profile %s: plaintexts and single-shot and session-mode envelopes (and their reading frames)',
    (profile) => {
      fc.assert(
        fc.property(deviceId, uint53, msTime, seed, fc.integer({ min: 1, max: 4 }), (dev, seq, ts, signal, count) => {
          const session = createSessionSealer({ recipient, hpke, rng: seededRng(`spec/produced/session/${signal}`) });
          for (let i = 0; i < count; i++) {
            const reading = profileReading(profile, `${signal}/${i}`, ts + i);
            const header = { dev, seq: Math.min(seq + i, Number.MAX_SAFE_INTEGER), ts: reading.ts, st: reading.st };
            expectValid(encodeReading(reading), 'reading');
            const single = sealReading({ reading, header, recipient, hpke, rng: seededRng(`spec/produced/eph/${signal}/${i}`) });
            const sessionEnvelope = session.seal({ reading, header });
            for (const envelope of [single, sessionEnvelope]) {
              expectValid(envelope, 'reading-envelope');
              expectValidFrame(decodeFrame(encodeFrame(FRAME_TYPE.reading, envelope).subarray(0, -1)));
            }
            expect(decodeEnvelope(sessionEnvelope).header.hs).toBe(i);
          }
        }),
        { numRuns: runs(25) },
      );
    },
  );

  it('session tickets with any valid fields (and their ticket frames)', () => {
    const authority = ed25519.keygen(new Uint8Array(32).fill(9));
    const fields = fc.record({
      dev: deviceId,
      pk: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      patient: patientRef,
      nbf: fc.integer({ min: 0, max: 4_000_000_000 }),
      span: fc.integer({ min: 1, max: 10_000_000 }),
      maxReadings: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fields, (f) => {
        const t: TicketFields = {
          dev: f.dev,
          kid: keyIdOf(f.pk),
          pk: f.pk,
          patient: f.patient,
          nbf: f.nbf,
          exp: f.nbf + f.span,
          ...(f.maxReadings !== undefined ? { maxReadings: f.maxReadings } : {}),
        };
        const ticket = issueTicket(t, authority.secretKey);
        expectValid(ticket, 'session-ticket');
        expectValidFrame(decodeFrame(encodeFrame(FRAME_TYPE.ticket, ticket).subarray(0, -1)));
      }),
      { numRuns: runs(100) },
    );
  });

  it('ack bodies and frames, signed tree heads, access events', () => {
    const logKey = new Uint8Array(32).fill(3);
    fc.assert(
      fc.property(deviceId, uint53, (dev, seq) => {
        expectValidFrame(decodeFrame(encodeFrame(FRAME_TYPE.ack, encodeAck({ dev, seq })).subarray(0, -1)));
      }),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        uint53,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        msTime,
        (logId, size, root, ts) => {
          expectValid(signTreeHead({ logId, size, root, ts }, logKey), 'signed-tree-head');
        },
      ),
      { numRuns: runs(50) },
    );
    const kid = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const b32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
    const event: fc.Arbitrary<AccessEvent> = fc.oneof(
      fc.record({
        t: fc.constant('query' as const),
        requester: address,
        patient: address,
        records: uint53,
        withheld: uint53,
        digest: b32,
        nonce: b32,
        ts: msTime,
      }),
      fc.record({ t: fc.constant('session' as const), patient: patientRef, device: deviceId, kid, nbf: uint53, exp: uint53, ts: msTime }),
      fc.record({ t: fc.constant('session-end' as const), patient: patientRef, device: deviceId, kid, ts: msTime }),
      fc.record({ t: fc.constant('escrow' as const), patient: address, ts: msTime }),
      fc.record({
        t: fc.constant('assign' as const),
        patient: patientRef,
        device: deviceId,
        via: fc.constantFrom('pairing' as const, 'operator' as const),
        ts: msTime,
      }),
      fc.record({
        t: fc.constant('release' as const),
        patient: patientRef,
        device: deviceId,
        reason: fc.constantFrom('reassigned' as const, 'released' as const),
        sessions: uint53,
        ts: msTime,
      }),
      fc.record({
        t: fc.constant('session-refused' as const),
        patient: patientRef,
        requester: address,
        device: deviceId,
        kid,
        reason: fc.constantFrom('key-taken' as const, 'not-assigned' as const),
        ts: msTime,
      }),
      fc.record({
        t: fc.constant('emergency-release' as const),
        clinician: address,
        patient: address,
        drill: fc.boolean(),
        until: uint53,
        ts: msTime,
      }),
    );
    fc.assert(
      fc.property(event, (e) => expectValid(encodeAccessEvent(e), 'access-event')),
      { numRuns: runs(200) },
    );
  });

  it('the CDDL refuses what the decoders refuse: a sample of broken envelopes and tickets', () => {
    const reading = profileReading('pulse-oximeter', 'broken', 1_767_225_600_000);
    const envelope = decodeStrict(
      sealReading({
        reading,
        header: { dev: 'oxi-01', seq: 1, ts: reading.ts, st: reading.st },
        recipient,
        hpke,
        rng: seededRng('spec/broken'),
      }),
      TAGS,
    );
    const body = (envelope as { value: CborValue[] }).value;
    const invalid = (v: CborValue): boolean => !schema.validate(v, 'reading-envelope').ok;
    expect(invalid([...body, new Uint8Array(0)])).toBe(true); // four items
    expect(invalid([body[0]!, new Map([[4, recipient.kid]]), body[2]!])).toBe(true); // no ek
    expect(invalid([body[0]!, body[1]!, new Uint8Array(15)])).toBe(true); // shorter than the tag
    expect(invalid([new Uint8Array(0), body[1]!, body[2]!])).toBe(true); // no alg
  });
});

describe('the frames the device serial link and the agent serial ingress put on a line validate', () => {
  let pty: Awaited<ReturnType<typeof startPtyPair>>;
  beforeAll(async () => {
    pty = await startPtyPair(); // a missing socat fails the test (never a skip)
  });
  afterAll(async () => {
    await pty?.stop();
  });

  it('device side (SerialLink): status and reading frames', async () => {
    const path = '/dev/spec-produced-mock';
    const mock = SerialPortMock.binding;
    mock.createPort(path, { record: true });
    let port: { recording: Buffer } | undefined;
    const binding = { ...mock, list: () => mock.list(), open: async (o: Parameters<typeof mock.open>[0]) => (port = await mock.open(o)) };
    const link = new SerialLink({ path, deviceId: 'oxi-01', binding }, { onDown() {}, onAck() {}, onRejected() {}, onTicket() {} });
    await link.open();
    link.sendStatus({ state: 'online', seq: 3, kid: Buffer.from(recipient.kid).toString('hex') });
    link.sendStatus({ state: 'error', code: 'TICKET_EXPIRED' });
    const reading = profileReading('ecg-patch', 'serial', 1_767_225_600_000);
    link.sendReading(
      3,
      sealReading({
        reading,
        header: { dev: 'oxi-01', seq: 3, ts: reading.ts, st: reading.st },
        recipient,
        hpke,
        rng: seededRng('spec/serial'),
      }),
    );
    await waitFor(() => framesOf(new Uint8Array(port?.recording ?? [])).length >= 3, 5000, 'the frames on the mock line');
    const frames = framesOf(new Uint8Array(port!.recording));
    expect(frames.map((f) => frameTypeName(f.type))).toEqual(['status', 'status', 'reading']);
    frames.forEach(expectValidFrame);
    await link.close('graceful');
    mock.reset();
  });

  it('agent side (SerialIngress): ticket, ack and error frames', async () => {
    const authority = ed25519.keygen(new Uint8Array(32).fill(5));
    const ticket = issueTicket(
      { dev: 'oxi-01', kid: recipient.kid, pk: recipient.publicKey, patient: 'p', nbf: 1, exp: 2 },
      authority.secretKey,
    );
    const outcomes: IngestOutcome[] = [
      { kind: 'stored', recordId: new Uint8Array(32), leafIndex: 0, device: 'oxi-01', seq: 0 },
      { kind: 'duplicate', recordId: new Uint8Array(32), device: 'oxi-01', seq: 0 },
      { kind: 'quarantined', reason: 'AGENT_UNKNOWN_KID', device: 'oxi-01', seq: 1 },
      { kind: 'quarantined', reason: 'ENVELOPE_NOT_CBOR', device: null, seq: null },
    ];
    let revoked = false;
    const ingestor = {
      submit: (item: IngestItem) => item.done(outcomes.shift()!),
      isRevoked: () => revoked,
      recordStatus: () => undefined,
    } as unknown as Ingestor;
    const ingress = new SerialIngress({
      spec: pty.a,
      baudRate: 115_200,
      ingestor,
      store: {} as AgentStore,
      metrics: { serialFrames: { inc: () => undefined } } as unknown as AgentMetrics,
      clock: { now: () => 0 },
      logger: pino({ level: 'silent' }),
      ticketOf: () => ticket,
    });
    await ingress.start();
    const device = new SerialPort({ path: pty.b, baudRate: 115_200 });
    const received: Frame[] = [];
    const decoder = new FrameDecoder();
    device.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(new Uint8Array(chunk))) if (r.ok) received.push(r.frame);
    });
    await new Promise<void>((resolve) => device.once('open', () => resolve()));
    try {
      const status = new Map<string, CborValue>([
        ['dev', 'oxi-01'],
        ['state', 'online'],
      ]);
      device.write(Buffer.from(encodeFrame(FRAME_TYPE.status, encodeCanonical(status))));
      for (let i = 0; i < 4; i++) device.write(Buffer.from(encodeFrame(FRAME_TYPE.reading, Uint8Array.of(0x80 + i))));
      await waitFor(() => received.length >= 5, 5000, 'the agent frames');
      revoked = true;
      ingress.deviceRevoked('oxi-01');
      await waitFor(() => received.length >= 6, 5000, 'the revocation frame');
      expect(received.map((f) => frameTypeName(f.type))).toEqual(['ticket', 'ack', 'ack', 'error', 'error', 'error']);
      received.forEach(expectValidFrame);
    } finally {
      await new Promise<void>((resolve) => device.close(() => resolve()));
      await ingress.close();
    }
  });
});

/** The frames of a recorded byte stream, in order. */
function framesOf(bytes: Uint8Array): Frame[] {
  const out: Frame[] = [];
  for (const r of new FrameDecoder().push(bytes)) if (r.ok) out.push(r.frame);
  return out;
}
