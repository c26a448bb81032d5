/**
 * The decoders the long fuzz run feeds: every parser of bytes that arrive from outside
 * (MQTT, serial, HTTP, files, the log). Each target has a seed corpus of valid inputs built
 * with the project's own encoders and a `run` that returns an outcome: 'ok' (or another
 * success label) or the VitalsealError code it threw. Anything else thrown is a failure;
 * so is an oracle mismatch (FuzzOracleError), e.g. the envelope fast path disagreeing with
 * the strict decoder.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesEqual } from '../protocol/bytes.ts';
import { decodeStrict, checkWellFormed, encodeCanonical, type CborKey, type CborValue } from '../protocol/cbor/index.ts';
import {
  decodeEncrypt0,
  decodeSign1,
  decodeX25519CoseKey,
  decryptDirectChaCha,
  decryptEncrypt0ChaCha,
  encodeEncrypt0,
  encodeX25519CoseKey,
  encryptDirectChaCha,
  encryptEncrypt0ChaCha,
} from '../protocol/cose/index.ts';
import {
  createSessionSealer,
  decodeEnvelope,
  decodeEnvelopeHeaderView,
  decodeEnvelopeView,
  decodeReading,
  encodeReading,
  openReading,
  sealReading,
  tryDecodeCanonicalEnvelope,
  tryDecodeCanonicalHeader,
  type Reading,
  type ReadingHeader,
} from '../protocol/envelope/index.ts';
import { ERROR_CODES, VitalsealError } from '../protocol/errors.ts';
import {
  FRAME_TYPE,
  FrameDecoder,
  cobsDecode,
  cobsEncode,
  decodeAck,
  decodeFrame,
  encodeAck,
  encodeFrame,
} from '../protocol/framing/index.ts';
import { createHpke } from '../protocol/hpke/index.ts';
import { decodeKeyFile, emergencyKeyGen, encodeKeyFile, tempKeyPairGen } from '../protocol/keys/index.ts';
import { seededRng } from '../protocol/rng.ts';
import {
  decodeTicket,
  encodeTicketPayload,
  issueTicket,
  parseTicketPayload,
  verifyTicket,
  type TicketFields,
} from '../protocol/ticket/index.ts';
import { signTreeHead, verifyTreeHead } from '../protocol/treeHead.ts';
import { decodeAccessEvent, encodeAccessEvent } from '../protocol/log/accessEvent.ts';
import { decodeMqttStatus } from '../agent/deviceStatus.ts';

/** An oracle found two decoders disagreeing (a bug even though nothing threw). */
export class FuzzOracleError extends Error {
  override readonly name = 'FuzzOracleError';
}

export interface FuzzTarget {
  readonly name: string;
  /** What it feeds, for the table. */
  readonly what: string;
  readonly maxLength: number;
  /** Valid inputs (built with the project's encoders). */
  seeds(): Uint8Array[];
  /** 'ok' (or another success label) or throws. */
  run(input: Uint8Array): string;
  /** Codes this decoder may throw (default: any code of protocol/errors.ts). */
  readonly codes?: RegExp;
  /** The decoder must never throw (it reports by its return value). */
  readonly neverThrows?: boolean;
}

/** The outcome of `fn`: its label, or the code of the VitalsealError it threw; anything else propagates. */
export function outcomeOf(target: FuzzTarget, input: Uint8Array): string {
  try {
    return target.run(input);
  } catch (e) {
    if (target.neverThrows || !(e instanceof VitalsealError) || !Object.hasOwn(ERROR_CODES, e.code)) throw e;
    if (target.codes && !target.codes.test(e.code))
      throw new FuzzOracleError(`${target.name} threw ${e.code}, outside ${String(target.codes)}`, { cause: e });
    return e.code;
  }
}

// ---------------------------------------------------------------- fixtures (deterministic)

const rng = seededRng('vitalseal-fuzz-fixtures');
const hpke = createHpke('noble');
const patient = tempKeyPairGen('fuzz-patient', rng, hpke);
const recipient = { publicKey: patient.publicKey, kid: patient.kid };
const authority = ed25519.keygen(new Uint8Array(32).fill(7));
const logKey = ed25519.keygen(new Uint8Array(32).fill(9));
const NOW = 1_750_000_000;

const header = (over: Partial<ReadingHeader> = {}): ReadingHeader => ({ dev: 'oxi-01', seq: 7, ts: NOW * 1000, st: 'spo2', ...over });
const readingOf = (h: ReadingHeader, v: number[], u = '%'): Reading => ({ st: h.st, ts: h.ts, v, u });

let envelopes: Uint8Array[] | undefined;
function envelopeSeeds(): Uint8Array[] {
  if (envelopes) return envelopes;
  const seal = (h: ReadingHeader, v: number[], u?: string) => sealReading({ reading: readingOf(h, v, u), header: h, recipient, hpke, rng });
  const session = createSessionSealer({ recipient, hpke, rng });
  const tagged = seal(header(), [97, 72]);
  envelopes = [
    tagged,
    encodeEncrypt0(decodeEncrypt0(tagged), { tagged: false }),
    seal(
      header({ dev: 'ecg-7', seq: 2 ** 32, ts: Number.MAX_SAFE_INTEGER, st: 'ecg' }),
      Array.from({ length: 40 }, (_, i) => Math.sin(i)),
      'mV',
    ),
    seal(header({ dev: 'x'.repeat(64), seq: 0, ts: 0, st: 'y'.repeat(32) }), [0]),
    seal(header({ st: 'temp' }), [36.6], 'Cel'),
    session.seal({ reading: readingOf(header(), [1]), header: header() }),
    session.seal({ reading: readingOf(header({ seq: 8 }), [2]), header: header({ seq: 8 }) }),
  ];
  return envelopes;
}

const TICKET: TicketFields = {
  dev: 'oxi-01',
  kid: patient.kid,
  pk: patient.publicKey,
  patient: '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
  nbf: NOW - 60,
  exp: NOW + 3600,
  maxReadings: 720,
};
const ticketSeeds = (): Uint8Array[] => [
  issueTicket(TICKET, authority.secretKey),
  issueTicket({ ...TICKET, dev: 'd', patient: 'p', maxReadings: 1 }, authority.secretKey),
  issueTicket(
    { dev: 'x'.repeat(64), kid: patient.kid, pk: patient.publicKey, patient: 'patient-ref-1', nbf: 0, exp: 2 ** 40 },
    authority.secretKey,
  ),
];
const treeHeadSeeds = (): Uint8Array[] => [
  signTreeHead({ logId: new Uint8Array(32).fill(1), size: 0, root: new Uint8Array(32), ts: NOW * 1000 }, logKey.secretKey),
  signTreeHead({ logId: new Uint8Array(32).fill(2), size: 2 ** 40, root: new Uint8Array(32).fill(0xee), ts: 1 }, logKey.secretKey),
];
const frameSeeds = (): Uint8Array[] => {
  const env = envelopeSeeds()[0]!;
  const strip = (w: Uint8Array) => w.subarray(0, w.length - 1); // decodeFrame takes a frame without its delimiter
  return [
    strip(encodeFrame(FRAME_TYPE.reading, env)),
    strip(encodeFrame(FRAME_TYPE.ack, encodeAck({ dev: 'oxi-01', seq: 2 ** 40 }))),
    strip(encodeFrame(FRAME_TYPE.reading, new Uint8Array(300))),
    ...Object.values(FRAME_TYPE).map((t) => strip(encodeFrame(t, Uint8Array.of(1, 0, 2, 0, 0, 3)))),
  ];
};
const accessEventSeeds = (): Uint8Array[] => [
  encodeAccessEvent({
    t: 'query',
    requester: '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
    patient: TICKET.patient,
    records: 24,
    withheld: 0,
    digest: new Uint8Array(32).fill(3),
    nonce: new Uint8Array(32).fill(4),
    ts: NOW * 1000,
  }),
  encodeAccessEvent({ t: 'session', patient: TICKET.patient, device: 'oxi-01', kid: patient.kid, nbf: NOW, exp: NOW + 60, ts: NOW * 1000 }),
  encodeAccessEvent({
    t: 'emergency-release',
    clinician: '0x15d34aaf54267db7d7c367839aaf71a00a2c6a65',
    patient: TICKET.patient,
    drill: true,
    until: NOW + 14_400,
    ts: NOW * 1000,
  }),
];
const chachaKey = new Uint8Array(32).fill(5);
const encrypt0Seeds = (): Uint8Array[] => [
  encryptEncrypt0ChaCha({
    key: chachaKey,
    iv: new Uint8Array(12).fill(1),
    plaintext: new TextEncoder().encode('{"bloodType":"A+"}'),
    externalAad: new TextEncoder().encode('0xabc'),
  }),
  encryptEncrypt0ChaCha({
    key: chachaKey,
    iv: new Uint8Array(12).fill(2),
    plaintext: new Uint8Array(0),
    unprotected: new Map([[4, new Uint8Array(16).fill(9)]]),
  }),
];
const directSeeds = (): Uint8Array[] => [
  encryptDirectChaCha({
    key: chachaKey,
    iv: new Uint8Array(12).fill(3),
    plaintext: new TextEncoder().encode('share'),
    kid: new TextEncoder().encode('clinician'),
  }),
];
const readingSeeds = (): Uint8Array[] => [
  encodeReading(readingOf(header(), [97, 72])),
  encodeReading(
    readingOf(
      header({ st: 'ecg' }),
      Array.from({ length: 20 }, (_, i) => i / 7 - 1),
      'mV',
    ),
  ),
  encodeReading({ st: 'nibp', ts: 0, v: [120, 80, 93], u: 'mm[Hg]' }),
];
const keyFileSeeds = (): Uint8Array[] => [
  new TextEncoder().encode(encodeKeyFile(patient)),
  new TextEncoder().encode(encodeKeyFile(emergencyKeyGen('0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc', rng))),
];
const cborSeeds = (): Uint8Array[] => [
  ...envelopeSeeds().slice(0, 3),
  ...ticketSeeds().slice(0, 1),
  ...treeHeadSeeds().slice(0, 1),
  ...accessEventSeeds(),
  ...readingSeeds().slice(0, 1),
  encodeX25519CoseKey(patient.publicKey),
  encodeCanonical(
    new Map<CborKey, CborValue>([
      [1, [1, -1, 2 ** 53 - 1, -(2 ** 53)]],
      ['s', 'ü€𝄞'],
      [-7, new Uint8Array(20)],
      ['f', 1.5],
      ['n', null],
      ['b', true],
    ]),
  ),
];

// ---------------------------------------------------------------- oracles

const sameBytes = (a: Uint8Array, b: Uint8Array) => bytesEqual(a, b);

/** The envelope fast paths against the strict decoder: same acceptance, same fields, same error code. */
function envelopeDifferential(b: Uint8Array): string {
  let strict: ReturnType<typeof decodeEnvelope> | undefined;
  let strictCode: string | undefined;
  try {
    strict = decodeEnvelope(b);
  } catch (e) {
    if (!(e instanceof VitalsealError)) throw e;
    strictCode = e.code;
  }
  const fast = tryDecodeCanonicalEnvelope(b);
  const fastHeader = tryDecodeCanonicalHeader(b);
  if ((fast === null) !== (fastHeader === null))
    throw new FuzzOracleError('tryDecodeCanonicalEnvelope and tryDecodeCanonicalHeader disagree on acceptance');
  const codeOf = (f: () => unknown): string | undefined => {
    try {
      f();
      return undefined;
    } catch (e) {
      if (!(e instanceof VitalsealError)) throw e;
      return e.code;
    }
  };
  let view: ReturnType<typeof decodeEnvelopeView> | undefined;
  let headerView: ReturnType<typeof decodeEnvelopeHeaderView> | undefined;
  const viewCode = codeOf(() => (view = decodeEnvelopeView(b)));
  const headerCode = codeOf(() => (headerView = decodeEnvelopeHeaderView(b)));
  if (strict === undefined) {
    if (fast !== null) throw new FuzzOracleError(`fast path accepted what decodeEnvelope refuses (${strictCode})`);
    if (viewCode !== strictCode || headerCode !== strictCode)
      throw new FuzzOracleError(`error codes differ: strict ${strictCode}, view ${viewCode}, header view ${headerCode}`);
    throw new VitalsealError(strictCode as keyof typeof ERROR_CODES);
  }
  if (viewCode !== undefined || headerCode !== undefined || !view || !headerView)
    throw new FuzzOracleError(`strict decoder accepted, view ${viewCode} / header view ${headerCode} refused`);
  const h = JSON.stringify(strict.header);
  if (JSON.stringify(view.header) !== h || JSON.stringify(headerView.header) !== h)
    throw new FuzzOracleError('headers differ between decoders');
  if (
    !sameBytes(view.kid, strict.kid) ||
    !sameBytes(headerView.kid, strict.kid) ||
    !sameBytes(view.recordId, strict.recordId) ||
    !sameBytes(headerView.recordId, strict.recordId)
  ) {
    throw new FuzzOracleError('kid or record id differs between decoders');
  }
  if (
    !sameBytes(view.ciphertext, strict.ciphertext) ||
    !sameBytes(view.enc, strict.enc) ||
    !sameBytes(view.protectedBytes, strict.protectedBytes)
  )
    throw new FuzzOracleError('view fields differ from strict');
  if (fast === null) return 'fallback-ok';
  if (
    JSON.stringify(fast.header) !== h ||
    !sameBytes(fast.kid, strict.kid) ||
    !sameBytes(fast.enc, strict.enc) ||
    !sameBytes(fast.ciphertext, strict.ciphertext) ||
    !sameBytes(fast.protectedBytes, strict.protectedBytes)
  ) {
    throw new FuzzOracleError('fast path fields differ from strict');
  }
  if (JSON.stringify(fastHeader!.header) !== h || !sameBytes(fastHeader!.kid, strict.kid))
    throw new FuzzOracleError('fast header fields differ from strict');
  return 'fast';
}

/** Splits a byte stream into chunks at positions taken from its own bytes (reproducible from the input alone). */
function streamChunks(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  let k = 0;
  while (i < b.length) {
    const n = 1 + ((b[k % b.length]! ^ (k * 37)) % 97);
    out.push(b.subarray(i, i + n));
    i += n;
    k++;
  }
  return out;
}

const stream = (): Uint8Array[] => {
  const frames = frameSeeds().map((f) => Uint8Array.from([...f, 0]));
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    all.set(f, o);
    o += f.length;
  }
  return [all, frames[0]!, Uint8Array.of(0, 0, 0, ...frames[1]!)];
};

/** Device statuses as devices publish them on `…/status` (docs/PROTOCOL.md §9.6): JSON objects. */
const statusSeeds = (): Uint8Array[] =>
  [
    { state: 'online', fw: 'sim-1.0', boot: 3, seq: 42, kid: '00112233445566778899aabbccddeeff', idk: 'ab'.repeat(32) },
    { state: 'error', code: 'SIM_IDENTITY_KEY_MISMATCH' },
    { state: 'ticketed', kid: 'ffeeddccbbaa99887766554433221100', seq: 0 },
    { state: 'offline' },
  ].map((o) => new TextEncoder().encode(JSON.stringify(o)));

// ---------------------------------------------------------------- targets (cheap first: a time-bounded run completes most)

const ENVELOPE_CODES = /^ENVELOPE_/;
const text = new TextDecoder('utf-8', { fatal: false });

export const TARGETS: readonly FuzzTarget[] = [
  {
    name: 'cbor.decodeStrict',
    what: 'strict CBOR decoder (tags 16, 18, 96)',
    maxLength: 4096,
    seeds: cborSeeds,
    codes: /^CBOR_/,
    run: (b) => (decodeStrict(b, { allowedTags: [16, 18, 96] }), 'ok'),
  },
  {
    name: 'cbor.checkWellFormed',
    what: 'CBOR well-formedness check',
    maxLength: 4096,
    seeds: cborSeeds,
    codes: /^CBOR_/,
    run: (b) => (checkWellFormed(b), 'ok'),
  },
  {
    name: 'envelope.decodeEnvelope',
    what: 'reading envelope (COSE_Encrypt0), strict',
    maxLength: 4200,
    seeds: envelopeSeeds,
    codes: ENVELOPE_CODES,
    run: (b) => (decodeEnvelope(b), 'ok'),
  },
  {
    name: 'envelope.fastPath',
    what: 'tryDecodeCanonical{Envelope,Header}, decodeEnvelopeView, decodeEnvelopeHeaderView vs strict',
    maxLength: 4200,
    seeds: envelopeSeeds,
    codes: ENVELOPE_CODES,
    run: envelopeDifferential,
  },
  {
    name: 'envelope.decodeReading',
    what: 'decrypted reading plaintext (CBOR map)',
    maxLength: 2048,
    seeds: readingSeeds,
    run: (b) => (decodeReading(b), 'ok'),
  },
  {
    name: 'ticket.decodeTicket',
    what: 'session ticket (COSE_Sign1), parse only',
    maxLength: 1024,
    seeds: ticketSeeds,
    run: (b) => (decodeTicket(b), 'ok'),
  },
  {
    name: 'ticket.parseTicketPayload',
    what: 'ticket payload (CBOR map)',
    maxLength: 1024,
    seeds: () => [
      encodeTicketPayload(TICKET),
      encodeTicketPayload({ dev: 'd', kid: patient.kid, pk: patient.publicKey, patient: 'p', nbf: 0, exp: 1 }),
    ],
    run: (b) => (parseTicketPayload(b), 'ok'),
  },
  {
    name: 'framing.decodeFrame',
    what: 'serial frame (COBS + CRC-32)',
    maxLength: 4200,
    seeds: frameSeeds,
    codes: /^FRAME_/,
    run: (b) => (decodeFrame(b), 'ok'),
  },
  {
    name: 'framing.FrameDecoder',
    what: 'serial byte stream, pushed in chunks (never throws)',
    maxLength: 9000,
    seeds: stream,
    neverThrows: true,
    run: (b) => {
      const d = new FrameDecoder();
      let ok = 0;
      let dropped = 0;
      for (const c of streamChunks(b)) for (const r of d.push(c)) r.ok ? ok++ : dropped++;
      return ok > 0 ? (dropped > 0 ? 'frames+drops' : 'frames') : dropped > 0 ? 'drops' : 'nothing';
    },
  },
  {
    name: 'framing.decodeAck',
    what: 'ACK frame body',
    maxLength: 256,
    seeds: () => [encodeAck({ dev: 'oxi-01', seq: 7 }), encodeAck({ dev: 'x'.repeat(64), seq: 2 ** 53 - 1 })],
    codes: /^FRAME_/,
    run: (b) => (decodeAck(b), 'ok'),
  },
  {
    name: 'framing.cobsDecode',
    what: 'COBS decoder',
    maxLength: 4200,
    seeds: () => [
      cobsEncode(new Uint8Array(300)),
      cobsEncode(Uint8Array.from({ length: 600 }, (_, i) => i & 0xff)),
      cobsEncode(envelopeSeeds()[0]!),
    ],
    codes: /^FRAME_/,
    run: (b) => (cobsDecode(b), 'ok'),
  },
  {
    name: 'cose.decodeSign1',
    what: 'COSE_Sign1 (tickets, tree heads)',
    maxLength: 2048,
    seeds: () => [...ticketSeeds(), ...treeHeadSeeds()],
    run: (b) => (decodeSign1(b), 'ok'),
  },
  {
    name: 'cose.decodeX25519CoseKey',
    what: 'COSE_Key (X25519 OKP)',
    maxLength: 512,
    seeds: () => [encodeX25519CoseKey(patient.publicKey)],
    run: (b) => (decodeX25519CoseKey(b), 'ok'),
  },
  {
    name: 'cose.encrypt0ChaCha',
    what: 'COSE_Encrypt0 ChaCha20/Poly1305 decode + decrypt (emergency profile)',
    maxLength: 2048,
    seeds: encrypt0Seeds,
    run: (b) => (decodeEncrypt0(b), decryptEncrypt0ChaCha(b, chachaKey, new TextEncoder().encode('0xabc')), 'ok'),
  },
  {
    name: 'cose.encryptDirectChaCha',
    what: 'COSE_Encrypt (direct) decode + decrypt (key share)',
    maxLength: 2048,
    seeds: directSeeds,
    run: (b) => (decryptDirectChaCha(b, chachaKey), 'ok'),
  },
  {
    name: 'keys.decodeKeyFile',
    what: 'key file (JSON text)',
    maxLength: 2048,
    seeds: keyFileSeeds,
    run: (b) => (decodeKeyFile(text.decode(b), hpke), 'ok'),
  },
  {
    name: 'agent.decodeAccessEvent',
    what: 'access-event leaf body (kind 2, never throws)',
    maxLength: 8192,
    seeds: accessEventSeeds,
    neverThrows: true,
    run: (b) => (decodeAccessEvent(b) === undefined ? 'not-an-event' : 'ok'),
  },
  {
    name: 'agent.decodeMqttStatus',
    what: 'device status on MQTT (UTF-8 JSON, bounded; never throws)',
    maxLength: 2048,
    seeds: statusSeeds,
    neverThrows: true,
    run: (b) => (decodeMqttStatus(b) === undefined ? 'not-a-status' : 'ok'),
  },
  {
    name: 'envelope.openReading',
    what: 'envelope decode + HPKE open + reading check (right key)',
    maxLength: 4200,
    seeds: envelopeSeeds,
    codes: /^(ENVELOPE_|READING_INVALID$)/,
    run: (b) => (openReading(b, { secretKey: patient.secretKey, hpke }), 'ok'),
  },
  {
    name: 'ticket.verifyTicket',
    what: 'session ticket parse + Ed25519 verify + field checks',
    maxLength: 1024,
    seeds: ticketSeeds,
    codes: /^TICKET_/,
    run: (b) => (verifyTicket(b, { authorityPublicKey: authority.publicKey, deviceId: 'oxi-01', clock: { now: () => NOW * 1000 } }), 'ok'),
  },
  {
    name: 'treeHead.verifyTreeHead',
    what: 'signed tree head parse + Ed25519 verify',
    maxLength: 1024,
    seeds: treeHeadSeeds,
    run: (b) => (verifyTreeHead(b, logKey.publicKey), 'ok'),
  },
];

/**
 * Planted bugs that prove the harness catches what it must (test/protocol/fuzzRun.test.ts):
 * an untyped exception and a hang. Present only with VITALSEAL_FUZZ_CANARY=1.
 */
export const CANARY_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'canary.untyped',
    what: 'planted bug: a TypeError on inputs starting 0x42',
    maxLength: 64,
    seeds: () => [Uint8Array.of(0x41, 0x00, 0x01)],
    run: (b) => {
      if (b[0] === 0x42) throw new TypeError('planted untyped error');
      return 'ok';
    },
  },
  {
    name: 'canary.hang',
    what: 'planted bug: an endless loop on inputs starting 0x43 0x00',
    maxLength: 64,
    seeds: () => [Uint8Array.of(0x41, 0x00, 0x01)],
    run: (b) => {
      if (b[0] === 0x43 && b[1] === 0x00) for (;;);
      return 'ok';
    },
  },
];

function activeTargets(): readonly FuzzTarget[] {
  return process.env['VITALSEAL_FUZZ_CANARY'] === '1' ? [...TARGETS, ...CANARY_TARGETS] : TARGETS;
}

/** The decoders of this run (the canaries too when VITALSEAL_FUZZ_CANARY=1). */
export function fuzzTargets(): readonly FuzzTarget[] {
  return activeTargets();
}

export function targetByName(name: string): FuzzTarget | undefined {
  return activeTargets().find((t) => t.name === name);
}
