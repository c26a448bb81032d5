/**
 * Generates the published known-answer vectors test/vectors/vitalseal/*.json from fixed inputs:
 * seeded randomness (protocol/rng.ts seededRng), fixed ephemeral keys (injected with fixedRng) and
 * fixed clocks. One JSON file per wire format, each with a header (format version, generator, the
 * inputs), positive vectors with every intermediate a porter needs, and negative vectors carrying
 * the exact error code the decoder named in the vector must return.
 *
 *   npm run vectors            writes the files
 *   npm run vectors -- --check compares them with what would be written (exit 1 on any difference)
 *
 * Both HPKE backends produce byte-identical files; test/protocol/vectors.test.ts checks that, checks
 * every vector with the project's decoders, and test/protocol/vectorsHpkeCore.test.ts opens every
 * envelope with @hpke/core.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, i2osp, toHex, utf8 } from '../protocol/bytes.ts';
import { encodeCanonical, Tag, type CborMap, type CborValue } from '../protocol/cbor/index.ts';
import { ALG, decodeEncrypt0, decodeSign1, encodeEncrypt0, HEADER, sigStructure1, signSign1 } from '../protocol/cose/index.ts';
import {
  createSessionSealer,
  decodeEnvelope,
  encodeReading,
  envelopeAad,
  ENVELOPE_HPKE_INFO,
  ENVELOPE_MAX_BYTES,
  sealReading,
  type Reading,
  type ReadingHeader,
} from '../protocol/envelope/index.ts';
import {
  cobsEncode,
  crc32,
  DEFAULT_MAX_BODY,
  encodeAck,
  encodeFrame,
  FRAME_TYPE,
  frameTypeName,
  type FrameType,
} from '../protocol/framing/index.ts';
import { hkdfExpand, KEM_SUITE_ID, labeledIkmMessage, labeledInfo } from '../protocol/hpke/labeled.ts';
import type { Hpke } from '../protocol/hpke/types.ts';
import { ESCROW_INFO, escrowAad, RELEASE_INFO, releaseAad } from '../protocol/escrow.ts';
import { EMERGENCY_KEY_SALT, emergencyKeyGen, tempKeyPairGen } from '../protocol/keys/index.ts';
import { consistencyProof, emptyRoot, inclusionProof, leafHash, merkleRoot } from '../protocol/merkle/index.ts';
import { decodeAccessEvent, encodeAccessEvent } from '../protocol/log/accessEvent.ts';
import { LEAF_KIND, type LeafKind } from '../protocol/log/leafKinds.ts';
import { fixedRng, seededRng } from '../protocol/rng.ts';
import { encodeTicketPayload, issueTicket, type TicketFields } from '../protocol/ticket/index.ts';
import { encodeTreeHeadPayload, signTreeHead } from '../protocol/treeHead.ts';

export const VECTORS_DIR = fileURLToPath(new URL('../test/vectors/vitalseal/', import.meta.url));
export const VECTORS_FORMAT_VERSION = 1;
const GENERATOR = 'scripts/generateVectors.ts (npm run vectors)';

/** Every seed is this prefix + "/<file>/<vector>/<role>", so each input can be re-derived on its own. */
const SEED = 'vitalseal/vectors/v1';
const rand32 = (seed: string): Uint8Array => seededRng(`${SEED}/${seed}`)(32);

/** Fixed clock of every vector: 2023-11-14T22:13:20Z. */
const T0_MS = 1_700_000_000_000;
const T0_S = T0_MS / 1000;

const hex = toHex;

function flip(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const out = bytes.slice();
  out[index] = out[index]! ^ mask;
  return out;
}

function fileHeader(file: string, description: string, inputs: Record<string, unknown>) {
  return {
    file,
    format: 'vitalseal-vectors',
    version: VECTORS_FORMAT_VERSION,
    protocol: 'vitalseal v1 (docs/PROTOCOL.md)',
    generator: GENERATOR,
    description,
    inputs,
  };
}

// ---------------------------------------------------------------- KEM intermediates (RFC 9180 §4.1, §7.1.3)

const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array => hmac(sha256, key, data);
const labeledExtractKem = (label: string, ikm: Uint8Array): Uint8Array =>
  hmacSha256(new Uint8Array(0), labeledIkmMessage(KEM_SUITE_ID, label, ikm));

/** DeriveKeyPair's dkp_prk = LabeledExtract("", "dkp_prk", ikm) (suite_id "KEM" ‖ 0x0020). */
const dkpPrk = (ikm: Uint8Array): string => hex(labeledExtractKem('dkp_prk', ikm));

/** Decap's intermediates: dh = X25519(skR, enc), shared_secret = LabeledExpand(LabeledExtract("", "eae_prk", dh), "shared_secret", enc ‖ pkR, 32). */
function kemOf(skR: Uint8Array, enc: Uint8Array): { dh: string; sharedSecret: string } {
  const dh = x25519.getSharedSecret(skR, enc);
  const kemContext = concatBytes(enc, x25519.getPublicKey(skR));
  const sharedSecret = hkdfExpand(
    hmacSha256,
    labeledExtractKem('eae_prk', dh),
    labeledInfo(KEM_SUITE_ID, 'shared_secret', kemContext, 32),
    32,
  );
  return { dh: hex(dh), sharedSecret: hex(sharedSecret) };
}

// ---------------------------------------------------------------- keys.json

interface Recipient {
  readonly patientId: string;
  readonly rand: Uint8Array;
  readonly ikm: Uint8Array;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly kid: Uint8Array;
}

function recipientOf(hpke: Hpke, name: string, patientId: string): Recipient {
  const rand = rand32(`keys/${name}/rand`);
  const pair = tempKeyPairGen(patientId, fixedRng(rand), hpke);
  return { patientId, rand, ikm: concatBytes(utf8(patientId), rand), secretKey: pair.secretKey, publicKey: pair.publicKey, kid: pair.kid };
}

const recipientJson = (r: Recipient) => ({
  patientId: r.patientId,
  rand: hex(r.rand),
  ikm: hex(r.ikm),
  dkpPrk: dkpPrk(r.ikm),
  secretKey: hex(r.secretKey),
  publicKey: hex(r.publicKey),
  kid: hex(r.kid),
});

const KEY_CASES = [
  { name: 'temp-ascii', patientId: 'patient:0001' },
  { name: 'temp-session', patientId: 'patient:0002' },
  { name: 'temp-unicode', patientId: 'Zoë Ångström / ward 3 / 病床 12' },
  { name: 'temp-256-bytes', patientId: 'p'.repeat(256) },
] as const;

function buildKeys(hpke: Hpke) {
  const temp = KEY_CASES.map((c) => ({ name: c.name, kind: 'temp', ...recipientJson(recipientOf(hpke, c.name, c.patientId)) }));
  const emergency = ['patient:0001', 'Zoë Ångström / ward 3 / 病床 12'].map((patientId, i) => {
    const name = `emergency-${i === 0 ? 'ascii' : 'unicode'}`;
    const rand = rand32(`keys/${name}/rand`);
    const k = emergencyKeyGen(patientId, fixedRng(rand));
    return {
      name,
      kind: 'emergency',
      patientId,
      rand: hex(rand),
      ikm: hex(concatBytes(utf8(patientId), rand)),
      salt: hex(EMERGENCY_KEY_SALT),
      key: hex(k.key),
      kid: hex(k.kid),
    };
  });
  const rand = rand32('keys/negative/rand');
  const negative = [
    { name: 'empty-patient-id', kind: 'temp', patientId: '', rand: hex(rand), error: 'KEY_BAD_PATIENT_ID' },
    { name: 'patient-id-257-bytes', kind: 'temp', patientId: 'p'.repeat(257), rand: hex(rand), error: 'KEY_BAD_PATIENT_ID' },
    { name: 'patient-id-multibyte-over-256-bytes', kind: 'temp', patientId: 'é'.repeat(129), rand: hex(rand), error: 'KEY_BAD_PATIENT_ID' },
    { name: 'patient-id-lone-surrogate', kind: 'temp', patientId: 'patient\ud800', rand: hex(rand), error: 'KEY_BAD_PATIENT_ID' },
    { name: 'rand-31-bytes', kind: 'temp', patientId: 'patient:0001', rand: hex(rand.subarray(0, 31)), error: 'INPUT_BAD_LENGTH' },
    { name: 'emergency-empty-patient-id', kind: 'emergency', patientId: '', rand: hex(rand), error: 'KEY_BAD_PATIENT_ID' },
  ];
  return {
    ...fileHeader(
      'keys.json',
      'TempKeyPairGen: ikm = utf8(PatientID) ‖ rand(32); (skR, pkR) = DeriveKeyPair(ikm) (RFC 9180 §7.1.3, DHKEM(X25519, HKDF-SHA256)); kid = SHA-256(pkR)[0:16]. ' +
        'EmergencyKeyGen: K = HKDF-SHA256(salt = utf8("vitalseal/v1/emergency"), ikm, info = "", L = 32); kid = SHA-256(K)[0:16]. ' +
        'Decoders: tempKeyPairGen / emergencyKeyGen (protocol/keys) with an rng returning `rand`.',
      { randSeed: `${SEED}/keys/<name>/rand`, kem: 'DHKEM(X25519, HKDF-SHA256) 0x0020' },
    ),
    positive: [...temp, ...emergency],
    negative,
  };
}

// ---------------------------------------------------------------- envelopes.json

interface EnvelopeCase {
  readonly name: string;
  readonly header: ReadingHeader;
  readonly reading: Reading;
}

const reading = (dev: string, seq: number, ts: number, st: string, v: number[], u: string): EnvelopeCase => ({
  name: '',
  header: { dev, seq, ts, st },
  reading: { st, ts, v, u },
});

/** 250 ECG samples in µV (integers, as the ECG patch sends them). */
const ECG_BLOCK = Array.from({ length: 250 }, (_, i) => Math.round(1100 * Math.sin(i / 7)) - ((i * 37) % 90));

const ENVELOPE_CASES: readonly EnvelopeCase[] = [
  { ...reading('oxi-01', 42, T0_MS, 'spo2', [97, 72], '%,bpm'), name: 'spo2' },
  { ...reading('ecg-01', 0, T0_MS + 1_000, 'ecg', ECG_BLOCK, 'uV'), name: 'ecg-250-samples' },
  { ...reading('nibp-01', 7, T0_MS + 2_000, 'nibp', [120, 80, 93, 72], 'mmHg,bpm'), name: 'nibp' },
  { ...reading('cgm-01', 65_536, T0_MS + 3_000, 'cgm', [104.5], 'mg/dL'), name: 'cgm-non-integer-value' },
  { ...reading('temp-01', 4_294_967_296, T0_MS + 4_000, 'temp', [36.85], '°C'), name: 'temp-non-integer-value-seq-2^32' },
  {
    ...reading('Ward3.bed_12-oxi', 1, T0_MS + 5_000, 'spo2', [-0.5, 1e-7, 65504, 3.4028234663852886e38], '%,bpm'),
    name: 'spo2-id-charset-extreme-values',
  },
];

function sealCase(hpke: Hpke, recipient: Recipient, c: EnvelopeCase) {
  const skE = rand32(`envelopes/${c.name}/skE`);
  const envelope = sealReading({ ...c, recipient, hpke, rng: fixedRng(skE) });
  const d = decodeEnvelope(envelope);
  const ks = hpke.keyScheduleR(d.enc, recipient.secretKey, ENVELOPE_HPKE_INFO);
  return {
    name: c.name,
    header: c.header,
    reading: c.reading,
    plaintext: hex(encodeReading(c.reading)),
    protected: hex(d.protectedBytes),
    aad: hex(envelopeAad(d.protectedBytes)),
    info: hex(ENVELOPE_HPKE_INFO),
    ephemeral: { secretKey: hex(skE), publicKey: hex(hpke.publicKeyOf(skE)) },
    enc: hex(d.enc),
    kem: kemOf(recipient.secretKey, d.enc),
    keySchedule: { key: hex(ks.key), baseNonce: hex(ks.baseNonce), exporterSecret: hex(ks.exporterSecret) },
    ciphertext: hex(d.ciphertext),
    envelope: hex(envelope),
    recordId: hex(d.recordId),
  };
}

/** A COSE_Encrypt0 sealed over an arbitrary protected map / plaintext: reaches checks a correct sealer never triggers. */
function sealRaw(
  hpke: Hpke,
  recipient: { publicKey: Uint8Array; kid: Uint8Array },
  protectedMap: CborMap,
  plaintext: Uint8Array,
  seed: string,
  kid = recipient.kid,
): Uint8Array {
  const protectedBytes = encodeCanonical(protectedMap);
  const { enc, ciphertext } = hpke.seal(recipient.publicKey, ENVELOPE_HPKE_INFO, envelopeAad(protectedBytes), plaintext, {
    rng: fixedRng(rand32(seed)),
  });
  return encodeEncrypt0({
    protectedBytes,
    unprotected: new Map<number, CborValue>([
      [HEADER.kid, kid],
      [HEADER.ek, enc],
    ]),
    ciphertext,
  });
}

function protectedOf(
  h: { dev: string; seq: number; ts: number; st: string },
  alg: number = ALG.HPKE4,
  extra: Array<[string, CborValue]> = [],
): CborMap {
  return new Map<number | string, CborValue>([[HEADER.alg, alg], ['dev', h.dev], ['seq', h.seq], ['ts', h.ts], ['st', h.st], ...extra]);
}

/** Re-encodes the COSE array of `envelope` after `edit` (tag 16 unless the edit returns something else). */
function reencode(envelope: Uint8Array, edit: (items: CborValue[]) => CborValue): Uint8Array {
  const m = decodeEncrypt0(envelope);
  return encodeCanonical(edit([m.protectedBytes, m.unprotected, m.ciphertext]));
}

function buildEnvelopes(hpke: Hpke, recipient: Recipient, other: Recipient) {
  const positive = ENVELOPE_CASES.map((c) => sealCase(hpke, recipient, c));
  const spo2 = ENVELOPE_CASES[0]!;
  const base = fromHex(positive[0]!.envelope);
  const tag16 = (items: CborValue[]) => new Tag(items, 16);
  const raw = (name: string, map: CborMap, pt: Uint8Array = encodeReading(spo2.reading), kid?: Uint8Array) =>
    hex(sealRaw(hpke, recipient, map, pt, `envelopes/negative/${name}/skE`, kid));
  const sealedToOther = sealReading({ ...spo2, recipient: other, hpke, rng: fixedRng(rand32('envelopes/negative/other-recipient/skE')) });
  const d = decodeEncrypt0(base);
  const negative = [
    {
      name: 'too-large-4097-bytes',
      description: 'longer than ENVELOPE_MAX_BYTES (4096): refused before parsing',
      envelope: hex(new Uint8Array(ENVELOPE_MAX_BYTES + 1)),
      error: 'ENVELOPE_TOO_LARGE',
    },
    {
      name: 'truncated',
      description: 'the spo2 envelope without its last byte',
      envelope: hex(base.subarray(0, base.length - 1)),
      error: 'ENVELOPE_NOT_CBOR',
    },
    {
      name: 'trailing-byte',
      description: 'the spo2 envelope followed by 0x00',
      envelope: hex(concatBytes(base, Uint8Array.of(0))),
      error: 'ENVELOPE_NOT_CBOR',
    },
    { name: 'empty', description: 'zero bytes', envelope: '', error: 'ENVELOPE_NOT_CBOR' },
    {
      name: 'tag-18-sign1',
      description: 'the COSE array under tag 18 (COSE_Sign1) instead of 16',
      envelope: hex(reencode(base, (items) => new Tag(items, 18))),
      error: 'ENVELOPE_BAD_TAG',
    },
    {
      name: 'four-element-array',
      description: 'a fourth array element after the ciphertext',
      envelope: hex(reencode(base, (items) => tag16([...items, new Uint8Array(0)]))),
      error: 'ENVELOPE_BAD_STRUCTURE',
    },
    {
      name: 'ciphertext-shorter-than-tag',
      description: 'a 15-byte ciphertext (the Poly1305 tag alone is 16)',
      envelope: hex(reencode(base, (items) => tag16([items[0]!, items[1]!, d.ciphertext.subarray(0, 15)]))),
      error: 'ENVELOPE_BAD_STRUCTURE',
    },
    {
      name: 'alg-a128gcm',
      description: 'protected alg 1 (A128GCM) instead of 42 (HPKE-4), sealed correctly otherwise',
      envelope: raw('alg-a128gcm', protectedOf(spo2.header, 1)),
      error: 'ENVELOPE_UNKNOWN_ALG',
    },
    {
      name: 'device-id-colon',
      description: 'dev "a:b" (":" is outside the device-id alphabet), sealed correctly otherwise',
      envelope: raw('device-id-colon', protectedOf({ ...spo2.header, dev: 'a:b' })),
      error: 'ENVELOPE_BAD_HEADER',
    },
    {
      name: 'device-id-leading-dash',
      description: 'dev "-x" (must start with a letter or digit), sealed correctly otherwise',
      envelope: raw('device-id-leading-dash', protectedOf({ ...spo2.header, dev: '-x' })),
      error: 'ENVELOPE_BAD_HEADER',
    },
    {
      name: 'device-id-65-chars',
      description: 'dev of 65 characters (at most 64)',
      envelope: raw('device-id-65-chars', protectedOf({ ...spo2.header, dev: 'd'.repeat(65) })),
      error: 'ENVELOPE_BAD_HEADER',
    },
    {
      name: 'unknown-protected-label',
      description: 'an extra protected label "foo"',
      envelope: raw('unknown-protected-label', protectedOf(spo2.header, ALG.HPKE4, [['foo', 1]])),
      error: 'ENVELOPE_BAD_HEADER',
    },
    {
      name: 'negative-seq',
      description: 'seq -1 (must be a uint)',
      envelope: raw('negative-seq', protectedOf({ ...spo2.header, seq: -1 })),
      error: 'ENVELOPE_BAD_HEADER',
    },
    {
      name: 'kid-15-bytes',
      description: 'a 15-byte kid in the unprotected header (16 required)',
      envelope: raw('kid-15-bytes', protectedOf(spo2.header), encodeReading(spo2.reading), recipient.kid.subarray(0, 15)),
      error: 'ENVELOPE_BAD_HEADER',
    },
    {
      name: 'seq-changed-after-sealing',
      description: 'protected seq rewritten 42 → 43 after sealing: the AAD no longer matches',
      envelope: hex(reencode(base, (items) => tag16([encodeCanonical(protectedOf({ ...spo2.header, seq: 43 })), items[1]!, items[2]!]))),
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'ciphertext-bit-flipped',
      description: 'the first ciphertext byte XOR 0x01',
      envelope: hex(reencode(base, (items) => tag16([items[0]!, items[1]!, flip(d.ciphertext, 0)]))),
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'tag-bit-flipped',
      description: 'the last byte of the Poly1305 tag XOR 0x80',
      envelope: hex(reencode(base, (items) => tag16([items[0]!, items[1]!, flip(d.ciphertext, d.ciphertext.length - 1, 0x80)]))),
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'sealed-to-another-recipient',
      description: "a valid envelope sealed to the temp-session key, opened with this file's recipient key",
      envelope: hex(sealedToOther),
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'reading-st-differs-from-header',
      description: 'plaintext st "ecg" under a protected st "spo2"',
      envelope: raw('reading-st-differs-from-header', protectedOf(spo2.header), encodeReading({ ...spo2.reading, st: 'ecg' })),
      error: 'READING_INVALID',
    },
    {
      name: 'reading-ts-differs-from-header',
      description: 'plaintext ts one millisecond later than the protected ts',
      envelope: raw(
        'reading-ts-differs-from-header',
        protectedOf(spo2.header),
        encodeReading({ ...spo2.reading, ts: spo2.reading.ts + 1 }),
      ),
      error: 'READING_INVALID',
    },
    {
      name: 'reading-not-a-map',
      description: 'plaintext is the CBOR array [97, 72]',
      envelope: raw('reading-not-a-map', protectedOf(spo2.header), encodeCanonical([97, 72])),
      error: 'READING_INVALID',
    },
    {
      name: 'reading-no-values',
      description: 'plaintext v is the empty array',
      envelope: raw(
        'reading-no-values',
        protectedOf(spo2.header),
        encodeCanonical(
          new Map<string, CborValue>([
            ['st', 'spo2'],
            ['ts', spo2.header.ts],
            ['v', []],
            ['u', '%'],
          ]),
        ),
      ),
      error: 'READING_INVALID',
    },
  ];
  return {
    ...fileHeader(
      'envelopes.json',
      'Reading envelope v1, single-shot: tagged COSE_Encrypt0 (tag 16) with HPKE-4 integrated encryption (alg 42; RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305), ' +
        'protected {1: 42, "dev", "seq", "ts", "st"}, unprotected {4: kid, -4: enc}, aad = Enc_structure["Encrypt0", protected, h\'\'], info = "", one fresh ephemeral key per reading (skE = ephemeral.secretKey). ' +
        'recordId = SHA-256(envelope). Decoder of every vector: openReading(envelope, inputs.recipient.secretKey) (protocol/envelope).',
      {
        recipient: recipientJson(recipient),
        info: hex(ENVELOPE_HPKE_INFO),
        ephemeralSeed: `${SEED}/envelopes/<name>/skE`,
        codePoints: { alg: ALG.HPKE4, headerAlg: HEADER.alg, headerKid: HEADER.kid, headerEk: HEADER.ek, tagEncrypt0: 16 },
      },
    ),
    positive,
    negative,
  };
}

// ---------------------------------------------------------------- session.json

const SESSION_SEQS = [100, 101, 102, 104, 105];

function buildSession(hpke: Hpke, recipient: Recipient, other: Recipient) {
  const skE = rand32('session/stream/skE');
  const sealer = createSessionSealer({ recipient, hpke, rng: fixedRng(skE) });
  const ks = hpke.keyScheduleR(sealer.enc, recipient.secretKey, ENVELOPE_HPKE_INFO);
  const messages = SESSION_SEQS.map((seq, i) => {
    const ts = T0_MS + i * 1_000;
    const header: ReadingHeader = { dev: 'oxi-02', seq, ts, st: 'spo2' };
    const r: Reading = { st: 'spo2', ts, v: [96 + (i % 3), 70 + i], u: '%,bpm' };
    const hs = sealer.nextHs;
    const envelope = sealer.seal({ reading: r, header });
    const d = decodeEnvelope(envelope);
    const nonce = ks.baseNonce.map((b, j) => b ^ i2osp(hs, 12)[j]!);
    return {
      hs,
      header,
      reading: r,
      plaintext: hex(encodeReading(r)),
      protected: hex(d.protectedBytes),
      aad: hex(envelopeAad(d.protectedBytes)),
      nonce: hex(nonce),
      ciphertext: hex(d.ciphertext),
      envelope: hex(envelope),
      recordId: hex(d.recordId),
    };
  });
  const m1 = fromHex(messages[1]!.envelope);
  const h1 = messages[1]!.header;
  const withProtected = (map: CborMap) => hex(reencode(m1, (items) => new Tag([encodeCanonical(map), items[1]!, items[2]!], 16)));
  const otherSession = createSessionSealer({ recipient: other, hpke, rng: fixedRng(rand32('session/negative/other-session/skE')) });
  const otherEnc = otherSession.enc;
  const negative = [
    {
      name: 'hs-relabelled',
      description: 'message hs 1 with its protected hs rewritten to 0: the AAD no longer matches (and the nonce is that of hs 0)',
      envelope: withProtected(protectedOf(h1, ALG.HPKE4, [['hs', 0]])),
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'hs-removed',
      description: 'message hs 1 with hs removed from the protected header: opened as single-shot, it fails',
      envelope: withProtected(protectedOf(h1)),
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'hs-text',
      description: 'protected hs is the text "1"',
      envelope: withProtected(protectedOf(h1, ALG.HPKE4, [['hs', '1']])),
      error: 'ENVELOPE_BAD_HEADER',
    },
    {
      name: 'hs-negative',
      description: 'protected hs is -1',
      envelope: withProtected(protectedOf(h1, ALG.HPKE4, [['hs', -1]])),
      error: 'ENVELOPE_BAD_HEADER',
    },
    {
      name: 'ek-of-another-session',
      description: 'message hs 1 carrying the enc of another session',
      envelope: hex(
        reencode(
          m1,
          (items) =>
            new Tag(
              [
                items[0]!,
                new Map<number, CborValue>([
                  [HEADER.kid, recipient.kid],
                  [HEADER.ek, otherEnc],
                ]),
                items[2]!,
              ],
              16,
            ),
        ),
      ),
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
  ];
  return {
    ...fileHeader(
      'session.json',
      'Reading envelope v1, session mode: ONE HPKE sender context (one ephemeral key, one enc) per ticket; every envelope carries the same enc and a protected "hs" = the RFC 9180 sequence number it was sealed at; ' +
        'nonce = base_nonce XOR I2OSP(hs, 12). Device seqs have a gap (103 lost): harmless. Decoder: openReading(envelope, inputs.recipient.secretKey), which opens at hs (setupBaseR(enc).openAt(hs)).',
      {
        recipient: recipientJson(recipient),
        info: hex(ENVELOPE_HPKE_INFO),
        ephemeral: { seed: `${SEED}/session/stream/skE`, secretKey: hex(skE), publicKey: hex(hpke.publicKeyOf(skE)) },
      },
    ),
    positive: [
      {
        name: 'spo2-stream-5-readings',
        enc: hex(sealer.enc),
        kem: kemOf(recipient.secretKey, sealer.enc),
        keySchedule: { key: hex(ks.key), baseNonce: hex(ks.baseNonce), exporterSecret: hex(ks.exporterSecret) },
        messages,
      },
    ],
    negative,
  };
}

// ---------------------------------------------------------------- auth-envelopes.json

/** AuthEncap's KEM intermediates (RFC 9180 §4.1): dh = DH(skE, pkR) ‖ DH(skS, pkR), kem_context = enc ‖ pkR ‖ pkS. */
function kemAuthOf(skR: Uint8Array, enc: Uint8Array, pkS: Uint8Array): { dh: string; kemContext: string; sharedSecret: string } {
  const dh = concatBytes(x25519.getSharedSecret(skR, enc), x25519.getSharedSecret(skR, pkS));
  const kemContext = concatBytes(enc, x25519.getPublicKey(skR), pkS);
  const sharedSecret = hkdfExpand(
    hmacSha256,
    labeledExtractKem('eae_prk', dh),
    labeledInfo(KEM_SUITE_ID, 'shared_secret', kemContext, 32),
    32,
  );
  return { dh: hex(dh), kemContext: hex(kemContext), sharedSecret: hex(sharedSecret) };
}

const AUTH_CASES: EnvelopeCase[] = [
  {
    name: 'auth-spo2',
    header: { dev: 'oxi-01', seq: 42, ts: T0_MS, st: 'spo2' },
    reading: { st: 'spo2', ts: T0_MS, v: [97], u: '%' },
  },
  {
    name: 'auth-temp',
    header: { dev: 'temp-01', seq: 7, ts: T0_MS + 60_000, st: 'temp' },
    reading: { st: 'temp', ts: T0_MS + 60_000, v: [36.8], u: '°C' },
  },
];

function buildAuthEnvelopes(hpke: Hpke, recipient: Recipient, other: Recipient) {
  const skS = rand32('auth-envelopes/device-identity/skS');
  const pkS = hpke.publicKeyOf(skS);
  const forgerSk = rand32('auth-envelopes/forger-identity/skS');
  const single = AUTH_CASES.map((c) => {
    const skE = rand32(`auth-envelopes/${c.name}/skE`);
    const envelope = sealReading({ ...c, recipient, hpke, rng: fixedRng(skE), senderSecretKey: skS });
    const d = decodeEnvelope(envelope);
    const ks = hpke.keyScheduleR(d.enc, recipient.secretKey, ENVELOPE_HPKE_INFO, pkS);
    return {
      name: c.name,
      header: c.header,
      reading: c.reading,
      plaintext: hex(encodeReading(c.reading)),
      protected: hex(d.protectedBytes),
      aad: hex(envelopeAad(d.protectedBytes)),
      ephemeral: { secretKey: hex(skE), publicKey: hex(hpke.publicKeyOf(skE)) },
      enc: hex(d.enc),
      kem: kemAuthOf(recipient.secretKey, d.enc, pkS),
      keySchedule: { key: hex(ks.key), baseNonce: hex(ks.baseNonce), exporterSecret: hex(ks.exporterSecret) },
      ciphertext: hex(d.ciphertext),
      envelope: hex(envelope),
      recordId: hex(d.recordId),
    };
  });
  const sessionSkE = rand32('auth-envelopes/session/skE');
  const sealer = createSessionSealer({ recipient, hpke, rng: fixedRng(sessionSkE), senderSecretKey: skS });
  const sks = hpke.keyScheduleR(sealer.enc, recipient.secretKey, ENVELOPE_HPKE_INFO, pkS);
  const messages = [0, 1, 2].map((i) => {
    const ts = T0_MS + i * 1_000;
    const header: ReadingHeader = { dev: 'oxi-01', seq: 200 + i, ts, st: 'spo2' };
    const r: Reading = { st: 'spo2', ts, v: [96 + i], u: '%' };
    const hs = sealer.nextHs;
    const envelope = sealer.seal({ reading: r, header });
    const d = decodeEnvelope(envelope);
    return {
      hs,
      header,
      reading: r,
      plaintext: hex(encodeReading(r)),
      protected: hex(d.protectedBytes),
      aad: hex(envelopeAad(d.protectedBytes)),
      nonce: hex(sks.baseNonce.map((b, j) => b ^ i2osp(hs, 12)[j]!)),
      ciphertext: hex(d.ciphertext),
      envelope: hex(envelope),
      recordId: hex(d.recordId),
    };
  });
  const c0 = AUTH_CASES[0]!;
  const e0 = fromHex(single[0]!.envelope);
  const withProtected = (env: Uint8Array, map: CborMap) =>
    hex(reencode(env, (items) => new Tag([encodeCanonical(map), items[1]!, items[2]!], 16)));
  const forged = sealReading({
    ...c0,
    recipient,
    hpke,
    rng: fixedRng(rand32('auth-envelopes/negative/forged/skE')),
    senderSecretKey: forgerSk,
  });
  const base = sealReading({ ...c0, recipient, hpke, rng: fixedRng(rand32('auth-envelopes/negative/base/skE')) });
  const device = hex(pkS);
  const negative = [
    {
      name: 'sealed-by-another-identity-key',
      description: "Auth mode, sealed with a forger's identity key (it holds only pkR): opened with the ticket's idk, not from the device",
      envelope: hex(forged),
      senderPublicKey: device,
      error: 'ENVELOPE_ORIGIN_UNVERIFIED',
    },
    {
      name: 'base-mode-under-idk-ticket',
      description:
        'a base-mode envelope for a session whose ticket certifies an identity key: not from the device (that device seals in Auth mode)',
      envelope: hex(base),
      senderPublicKey: device,
      error: 'ENVELOPE_ORIGIN_UNVERIFIED',
    },
    {
      name: 'no-sender-key',
      description: 'an Auth-mode envelope opened without the identity key of its ticket',
      envelope: single[0]!.envelope,
      senderPublicKey: null,
      error: 'ENVELOPE_NO_SENDER_KEY',
    },
    {
      name: 'm-removed',
      description: '"m" removed from the protected header (same ciphertext): opened in base mode, it fails',
      envelope: withProtected(e0, protectedOf(c0.header)),
      senderPublicKey: null,
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'm-added',
      description: 'a base-mode envelope relabelled "m": 2: AuthDecap with the idk gives another key, not from the device',
      envelope: withProtected(base, protectedOf(c0.header, ALG.HPKE4, [['m', 2]])),
      senderPublicKey: device,
      error: 'ENVELOPE_ORIGIN_UNVERIFIED',
    },
    {
      name: 'm-3',
      description: 'protected "m" is 3 (only 2, mode_auth, may be stated)',
      envelope: withProtected(e0, protectedOf(c0.header, ALG.HPKE4, [['m', 3]])),
      senderPublicKey: device,
      error: 'ENVELOPE_BAD_HEADER',
    },
    {
      name: 'other-recipient',
      description:
        "the Auth-mode envelope opened with another patient's secret key (recipientSecretKey): not its recipient, a decryption failure",
      envelope: single[0]!.envelope,
      senderPublicKey: device,
      recipientSecretKey: hex(other.secretKey),
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'session-hs-relabelled',
      description: 'session message hs 1 with its protected hs rewritten to 0: the AAD no longer matches',
      envelope: withProtected(
        fromHex(messages[1]!.envelope),
        protectedOf(messages[1]!.header, ALG.HPKE4, [
          ['hs', 0],
          ['m', 2],
        ]),
      ),
      senderPublicKey: device,
      error: 'ENVELOPE_ORIGIN_UNVERIFIED',
    },
  ];
  return {
    ...fileHeader(
      'auth-envelopes.json',
      'Reading envelope v1 in HPKE Auth mode (docs/PROTOCOL.md §3.6, §5): sealed with SealAuth / SetupAuthS (RFC 9180 mode_auth, 0x02) and the device identity ' +
        'secret key skS; the protected header carries "m": 2. Decoder: openReading(envelope, { secretKey: inputs.recipient.secretKey (or the vector\'s ' +
        "recipientSecretKey), senderPublicKey: inputs.device.publicKey (or the vector's senderPublicKey; null: none) }).",
      {
        recipient: recipientJson(recipient),
        device: { seed: `${SEED}/auth-envelopes/device-identity/skS`, secretKey: hex(skS), publicKey: device },
        forger: {
          seed: `${SEED}/auth-envelopes/forger-identity/skS`,
          secretKey: hex(forgerSk),
          publicKey: hex(hpke.publicKeyOf(forgerSk)),
        },
        info: hex(ENVELOPE_HPKE_INFO),
        mode: 2,
      },
    ),
    positive: [
      ...single,
      {
        name: 'auth-session-3-readings',
        ephemeral: { secretKey: hex(sessionSkE), publicKey: hex(hpke.publicKeyOf(sessionSkE)) },
        enc: hex(sealer.enc),
        kem: kemAuthOf(recipient.secretKey, sealer.enc, pkS),
        keySchedule: { key: hex(sks.key), baseNonce: hex(sks.baseNonce), exporterSecret: hex(sks.exporterSecret) },
        messages,
      },
    ],
    negative,
  };
}

// ---------------------------------------------------------------- tickets.json

function buildTickets(recipient: Recipient) {
  const authoritySecretKey = rand32('tickets/authority/sk');
  const authorityPublicKey = ed25519.getPublicKey(authoritySecretKey);
  const otherAuthority = rand32('tickets/other-authority/sk');
  const fields: TicketFields = {
    dev: 'oxi-01',
    kid: recipient.kid,
    pk: recipient.publicKey,
    patient: 'pseudonym-7f3a',
    nbf: T0_S,
    exp: T0_S + 8 * 3600,
  };
  const skew = 60;
  const fieldsJson = (f: TicketFields) => ({
    dev: f.dev,
    kid: hex(f.kid),
    pk: hex(f.pk),
    patient: f.patient,
    nbf: f.nbf,
    exp: f.exp,
    ...(f.maxReadings === undefined ? {} : { maxReadings: f.maxReadings }),
  });
  const positiveOf = (name: string, description: string, f: TicketFields, nowMs: number) => {
    const ticket = issueTicket(f, authoritySecretKey);
    const m = decodeSign1(ticket);
    return {
      name,
      description,
      fields: fieldsJson(f),
      payload: hex(encodeTicketPayload(f)),
      protected: hex(m.protectedBytes),
      sigStructure: hex(sigStructure1(m.protectedBytes, m.payload)),
      signature: hex(m.signature),
      ticket: hex(ticket),
      verify: { deviceId: f.dev, nowMs, skewSeconds: skew },
    };
  };
  const valid = issueTicket(fields, authoritySecretKey);
  const verifyAt = (nowMs: number, deviceId = fields.dev) => ({ deviceId, nowMs, skewSeconds: skew });
  const rawTicket = (payload: Map<string, CborValue>) =>
    hex(signSign1({ payload: encodeCanonical(payload), secretKey: authoritySecretKey }));
  const payloadWith = (edit: Array<[string, CborValue]>) => {
    const base = new Map<string, CborValue>([
      ['v', 1],
      ['dev', fields.dev],
      ['kid', fields.kid],
      [
        'pk',
        new Map<number, CborValue>([
          [1, 1],
          [-1, 4],
          [-2, fields.pk],
        ]),
      ],
      ['patient', fields.patient],
      ['nbf', fields.nbf],
      ['exp', fields.exp],
    ]);
    for (const [k, v] of edit) base.set(k, v);
    return base;
  };
  const vm = decodeSign1(valid);
  const negative = [
    {
      name: 'expired',
      description: 'now = exp + skew (valid while now < exp + skew)',
      ticket: hex(valid),
      verify: verifyAt((fields.exp + skew) * 1000),
      error: 'TICKET_EXPIRED',
    },
    {
      name: 'not-yet-valid',
      description: 'now = nbf - skew - 1 s',
      ticket: hex(valid),
      verify: verifyAt((fields.nbf - skew - 1) * 1000),
      error: 'TICKET_NOT_YET_VALID',
    },
    {
      name: 'wrong-device',
      description: 'the ticket is for oxi-01, verified by oxi-02',
      ticket: hex(valid),
      verify: verifyAt(T0_MS, 'oxi-02'),
      error: 'TICKET_WRONG_DEVICE',
    },
    {
      name: 'bad-signature-bit-flipped',
      description: 'the first signature byte XOR 0x01',
      ticket: hex(encodeCanonical(new Tag([vm.protectedBytes, new Map(), vm.payload, flip(vm.signature, 0)], 18))),
      verify: verifyAt(T0_MS),
      error: 'TICKET_BAD_SIGNATURE',
    },
    {
      name: 'bad-signature-other-authority',
      description: 'the same payload signed by another Ed25519 key',
      ticket: hex(issueTicket(fields, otherAuthority)),
      verify: verifyAt(T0_MS),
      error: 'TICKET_BAD_SIGNATURE',
    },
    {
      name: 'payload-changed-after-signing',
      description: 'exp moved one day later after signing',
      ticket: hex(
        encodeCanonical(
          new Tag([vm.protectedBytes, new Map(), encodeTicketPayload({ ...fields, exp: fields.exp + 86_400 }), vm.signature], 18),
        ),
      ),
      verify: verifyAt(T0_MS),
      error: 'TICKET_BAD_SIGNATURE',
    },
    {
      name: 'device-id-colon',
      description: 'signed payload with dev "a:b"',
      ticket: rawTicket(payloadWith([['dev', 'a:b']])),
      verify: verifyAt(T0_MS, 'a:b'),
      error: 'TICKET_MALFORMED',
    },
    {
      name: 'device-id-leading-dash',
      description: 'signed payload with dev "-x"',
      ticket: rawTicket(payloadWith([['dev', '-x']])),
      verify: verifyAt(T0_MS, '-x'),
      error: 'TICKET_MALFORMED',
    },
    {
      name: 'kid-not-of-pk',
      description: 'signed payload whose kid is not SHA-256(pk)[0:16]',
      ticket: rawTicket(payloadWith([['kid', flip(fields.kid, 0)]])),
      verify: verifyAt(T0_MS),
      error: 'TICKET_MALFORMED',
    },
    {
      name: 'exp-not-after-nbf',
      description: 'signed payload with exp = nbf',
      ticket: rawTicket(payloadWith([['exp', fields.nbf]])),
      verify: verifyAt(T0_MS),
      error: 'TICKET_MALFORMED',
    },
    {
      name: 'version-2',
      description: 'signed payload with v = 2',
      ticket: rawTicket(payloadWith([['v', 2]])),
      verify: verifyAt(T0_MS),
      error: 'TICKET_MALFORMED',
    },
    {
      name: 'unknown-field',
      description: 'signed payload with an extra field "x"',
      ticket: rawTicket(payloadWith([['x', 1]])),
      verify: verifyAt(T0_MS),
      error: 'TICKET_MALFORMED',
    },
    {
      name: 'not-cose',
      description: 'the bytes of a CBOR text string',
      ticket: hex(encodeCanonical('ticket')),
      verify: verifyAt(T0_MS),
      error: 'TICKET_MALFORMED',
    },
  ];
  return {
    ...fileHeader(
      'tickets.json',
      'Session ticket v1: canonical CBOR payload {"v": 1, "dev", "kid", "pk": COSE_Key {1: 1 (OKP), -1: 4 (X25519), -2: x}, "patient", "nbf", "exp"[, "maxReadings"]} (NumericDate seconds), ' +
        'signed as a tagged COSE_Sign1 (tag 18) with EdDSA/Ed25519 (alg -8) by the ward authority. Valid while nbf - skew <= floor(now / 1000) < exp + skew. ' +
        'Decoder: verifyTicket(ticket, {authorityPublicKey, deviceId, clock: now = verify.nowMs, skewSeconds}) (protocol/ticket); checks in order: structure, signature, device, time.',
      {
        authority: { seed: `${SEED}/tickets/authority/sk`, secretKey: hex(authoritySecretKey), publicKey: hex(authorityPublicKey) },
        otherAuthority: { secretKey: hex(otherAuthority), publicKey: hex(ed25519.getPublicKey(otherAuthority)) },
      },
    ),
    positive: [
      positiveOf('valid-at-nbf', 'verified at exactly nbf', fields, T0_MS),
      positiveOf('valid-last-second', 'verified at exp + skew - 1 s (the last accepted second)', fields, (fields.exp + skew - 1) * 1000),
      positiveOf('valid-within-skew-before-nbf', 'verified at nbf - skew (device clock behind)', fields, (fields.nbf - skew) * 1000),
      positiveOf('valid-with-max-readings', 'optional maxReadings 1000', { ...fields, maxReadings: 1000 }, T0_MS + 3_600_000),
      positiveOf('valid-id-charset', 'device id using every allowed character class', { ...fields, dev: 'Ward3.bed_12-oxi' }, T0_MS),
    ],
    negative,
  };
}

// ---------------------------------------------------------------- frames.json

function rawFrame(type: number, body: Uint8Array, crcXor = 0): { raw: Uint8Array; crc: Uint8Array } {
  const head = concatBytes(Uint8Array.of(type), body);
  const crc = new Uint8Array(4);
  new DataView(crc.buffer).setUint32(0, (crc32(head) ^ crcXor) >>> 0, true);
  return { raw: concatBytes(head, crc), crc };
}

function buildFrames(envelopeSpo2: Uint8Array, envelopeEcg: Uint8Array, ticket: Uint8Array) {
  const bodies: Array<{ name: string; type: FrameType; body: Uint8Array; description: string; decodedBody?: unknown }> = [
    {
      name: 'reading',
      type: FRAME_TYPE.reading,
      body: envelopeSpo2,
      description: 'reading frame: the body is the spo2 envelope of envelopes.json',
    },
    {
      name: 'reading-ecg-cobs-blocks',
      type: FRAME_TYPE.reading,
      body: envelopeEcg,
      description: 'reading frame whose body (the ECG envelope) spans several 254-byte COBS blocks',
    },
    {
      name: 'ticket',
      type: FRAME_TYPE.ticket,
      body: ticket,
      description: 'ticket frame: the body is the valid-at-nbf ticket of tickets.json',
    },
    {
      name: 'ack',
      type: FRAME_TYPE.ack,
      body: encodeAck({ dev: 'oxi-01', seq: 42 }),
      description: 'ack frame: body = canonical CBOR {"dev": tstr, "seq": uint}',
      decodedBody: { dev: 'oxi-01', seq: 42 },
    },
    {
      name: 'error',
      type: FRAME_TYPE.error,
      body: encodeCanonical(
        new Map<string, CborValue>([
          ['code', 'AGENT_UNKNOWN_KID'],
          ['seq', 42],
        ]),
      ),
      description:
        'error frame (the agent refused reading seq 42: its kid names no ticket): body = canonical CBOR {"code": tstr[, "seq": uint]}',
      decodedBody: { code: 'AGENT_UNKNOWN_KID', seq: 42 },
    },
    {
      name: 'error-without-seq',
      type: FRAME_TYPE.error,
      body: encodeCanonical(new Map<string, CborValue>([['code', 'AGENT_DEVICE_REVOKED']])),
      description: 'error frame without seq',
      decodedBody: { code: 'AGENT_DEVICE_REVOKED' },
    },
    {
      name: 'status',
      type: FRAME_TYPE.status,
      body: encodeCanonical(
        new Map<string, CborValue>([
          ['dev', 'oxi-01'],
          ['state', 'online'],
        ]),
      ),
      description: 'status frame: body = canonical CBOR {"dev", "state"}',
      decodedBody: { dev: 'oxi-01', state: 'online' },
    },
    {
      name: 'zero-bytes-in-body',
      type: FRAME_TYPE.status,
      body: Uint8Array.of(0, 0, 1, 0),
      description: 'a body with 0x00 bytes (COBS removes every 0x00 before the delimiter)',
    },
    { name: 'empty-body', type: FRAME_TYPE.status, body: new Uint8Array(0), description: 'the shortest frame: type + CRC' },
  ];
  const positive = bodies.map((b) => {
    const { raw, crc } = rawFrame(b.type, b.body);
    const wire = encodeFrame(b.type, b.body);
    return {
      name: b.name,
      description: b.description,
      type: b.type,
      typeName: frameTypeName(b.type),
      body: hex(b.body),
      crc32: hex(crc),
      raw: hex(raw),
      cobs: hex(cobsEncode(raw)),
      wire: hex(wire),
      ...(b.decodedBody === undefined ? {} : { decodedBody: b.decodedBody }),
    };
  });
  const neg = (
    name: string,
    description: string,
    encoded: Uint8Array,
    error: string,
    decoder: 'decodeFrame' | 'decodeAck' = 'decodeFrame',
  ) => ({
    name,
    description,
    decoder,
    encoded: hex(encoded),
    wire: hex(concatBytes(encoded, Uint8Array.of(0))),
    error,
  });
  const ackBody = encodeAck({ dev: 'oxi-01', seq: 42 });
  const badCrc = rawFrame(FRAME_TYPE.ack, ackBody, 0x01).raw;
  const flippedBody = rawFrame(FRAME_TYPE.ack, ackBody).raw;
  flippedBody[3] = flippedBody[3]! ^ 0x20;
  const oversizeBody = new Uint8Array(DEFAULT_MAX_BODY + 1).fill(0x5a);
  const negative = [
    neg('crc-error', 'ack frame whose CRC-32 has its lowest bit flipped', cobsEncode(badCrc), 'FRAME_BAD_CRC'),
    neg('body-bit-flipped', 'ack frame with one body bit flipped after the CRC was computed', cobsEncode(flippedBody), 'FRAME_BAD_CRC'),
    neg(
      'oversize',
      `reading frame with a ${DEFAULT_MAX_BODY + 1}-byte body (at most ${DEFAULT_MAX_BODY})`,
      cobsEncode(rawFrame(FRAME_TYPE.reading, oversizeBody).raw),
      'FRAME_OVERSIZE',
    ),
    neg('cobs-block-past-end', 'COBS code byte 0x05 followed by only two bytes', Uint8Array.of(0x05, 0x01, 0x02), 'FRAME_BAD_COBS'),
    neg(
      'cobs-zero-inside',
      'a 0x00 inside a COBS block (only a decoder handed the bytes between delimiters sees it)',
      Uint8Array.of(0x03, 0x01, 0x00),
      'FRAME_BAD_COBS',
    ),
    neg('too-short', 'type + 3 bytes: shorter than type + CRC-32', cobsEncode(Uint8Array.of(FRAME_TYPE.ack, 1, 2, 3)), 'FRAME_TOO_SHORT'),
    neg('unknown-type-0x06', 'type 0x06 with a correct CRC', cobsEncode(rawFrame(0x06, ackBody).raw), 'FRAME_UNKNOWN_TYPE'),
    neg('unknown-type-0x00', 'type 0x00 with a correct CRC', cobsEncode(rawFrame(0x00, ackBody).raw), 'FRAME_UNKNOWN_TYPE'),
    neg(
      'ack-body-missing-seq',
      'ack frame (correct CRC) whose body is {"dev": "oxi-01"}',
      cobsEncode(rawFrame(FRAME_TYPE.ack, encodeCanonical(new Map([['dev', 'oxi-01']]))).raw),
      'FRAME_BAD_BODY',
      'decodeAck',
    ),
    neg(
      'ack-body-negative-seq',
      'ack frame (correct CRC) whose body is {"dev": "oxi-01", "seq": -1}',
      cobsEncode(
        rawFrame(
          FRAME_TYPE.ack,
          encodeCanonical(
            new Map<string, CborValue>([
              ['dev', 'oxi-01'],
              ['seq', -1],
            ]),
          ),
        ).raw,
      ),
      'FRAME_BAD_BODY',
      'decodeAck',
    ),
    neg(
      'ack-body-not-cbor',
      'ack frame (correct CRC) whose body is 0xff',
      cobsEncode(rawFrame(FRAME_TYPE.ack, Uint8Array.of(0xff)).raw),
      'FRAME_BAD_BODY',
      'decodeAck',
    ),
  ];
  return {
    ...fileHeader(
      'frames.json',
      'Serial frame: wire = COBS(type ‖ body ‖ CRC-32(type ‖ body) little-endian) ‖ 0x00. CRC-32 is IEEE 802.3 (reflected 0xEDB88320, init and final XOR 0xFFFFFFFF). ' +
        `Types: ${Object.entries(FRAME_TYPE)
          .map(([k, v]) => `0x0${v} ${k}`)
          .join(', ')}. Largest body ${DEFAULT_MAX_BODY} bytes. ` +
        'Positive decoder: decodeFrame(wire without its 0x00) → {type, body}; the ack body with decodeAck. Negative decoder: `decoder` applied to `encoded` (decodeAck after decodeFrame); a stream decoder fed `wire` drops the frame with the same code.',
      { maxBody: DEFAULT_MAX_BODY, frameTypes: FRAME_TYPE },
    ),
    positive,
    negative,
  };
}

// ---------------------------------------------------------------- log.json

interface LogEntry {
  readonly name: string;
  readonly kind: LeafKind;
  readonly body: Uint8Array;
}

function buildLog(entries: readonly LogEntry[]) {
  const leaves = entries.map((e, index) => {
    const common = { index, source: e.name, kind: e.kind, body: hex(e.body) };
    if (e.kind === LEAF_KIND.record) return { ...common, recordId: hex(sha256(e.body)), leafHash: hex(leafHash(e.body)) };
    return { ...common, accessEvent: decodeAccessEvent(e.body), leafHash: hex(leafHash(e.body)) };
  });
  const hashes = leaves.map((l) => fromHex(l.leafHash));
  const size = hashes.length;
  const root = merkleRoot(hashes);
  const inclusion = leaves.map((l) => ({
    index: l.index,
    treeSize: size,
    leafHash: l.leafHash,
    proof: inclusionProof(hashes, l.index).map(hex),
    root: hex(root),
  }));
  const roots = Array.from({ length: size + 1 }, (_, n) => ({
    size: n,
    root: hex(n === 0 ? emptyRoot() : merkleRoot(hashes.slice(0, n))),
  }));
  const consistency = [
    [1, size],
    [3, size],
    [4, size],
    [6, 8],
    [size, size],
  ].map(([m, n]) => ({
    size1: m!,
    size2: n!,
    root1: roots[m!]!.root,
    root2: roots[n!]!.root,
    proof: consistencyProof(hashes, m!, n!).map(hex),
  }));
  const p3 = inclusion[3]!;
  const negative = [
    {
      name: 'inclusion-proof-hash-flipped',
      check: 'inclusion',
      ...p3,
      proof: p3.proof.map((h, i) => (i === 0 ? hex(flip(fromHex(h), 0)) : h)),
      error: 'PROOF_MISMATCH',
    },
    { name: 'inclusion-wrong-leaf', check: 'inclusion', ...p3, leafHash: leaves[4]!.leafHash, error: 'PROOF_MISMATCH' },
    { name: 'inclusion-wrong-index', check: 'inclusion', ...p3, index: 2, error: 'PROOF_MISMATCH' },
    { name: 'inclusion-proof-too-short', check: 'inclusion', ...p3, proof: p3.proof.slice(0, -1), error: 'PROOF_WRONG_LENGTH' },
    { name: 'inclusion-index-not-in-tree', check: 'inclusion', ...p3, index: size, error: 'PROOF_BAD_INDEX' },
    {
      name: 'inclusion-proof-hash-31-bytes',
      check: 'inclusion',
      ...p3,
      proof: p3.proof.map((h, i) => (i === 0 ? h.slice(0, 62) : h)),
      error: 'PROOF_BAD_HASH',
    },
    { name: 'consistency-wrong-root2', check: 'consistency', ...consistency[1]!, root2: roots[size - 1]!.root, error: 'PROOF_MISMATCH' },
    {
      name: 'consistency-proof-too-short',
      check: 'consistency',
      ...consistency[1]!,
      proof: consistency[1]!.proof.slice(1),
      error: 'PROOF_WRONG_LENGTH',
    },
  ];
  return {
    ...fileHeader(
      'log.json',
      'Transparency log (RFC 6962 §2.1, SHA-256). Every leaf hash is SHA-256(0x00 ‖ body); interior nodes SHA-256(0x01 ‖ left ‖ right). A reading record is a kind-1 leaf whose body is the envelope exactly as received, ' +
        'recordId = SHA-256(envelope); an access event is a kind-2 leaf whose body is the canonical CBOR access-event map (decoded: decodeAccessEvent, protocol/log). ' +
        'The tree holds the envelopes of envelopes.json, then session.json, then two access events, in that order. ' +
        'Decoders: verifyInclusion(index, treeSize, leafHash, proof, root) and verifyConsistency(size1, size2, root1, root2, proof) (protocol/merkle).',
      {
        leafKinds: {
          [LEAF_KIND.record]: 'reading record (body = envelope bytes)',
          [LEAF_KIND.accessEvent]: 'access event (body = canonical CBOR {"v": 1, "t", ...})',
        },
      },
    ),
    positive: [{ name: `tree-of-${size}`, treeSize: size, root: hex(root), leaves, roots, inclusion, consistency }],
    negative,
  };
}

// ---------------------------------------------------------------- tree-head.json

function buildTreeHead(log: { treeSize: number; root: string }) {
  const logSecretKey = rand32('tree-head/log/sk');
  const logPublicKey = ed25519.getPublicKey(logSecretKey);
  const logId = sha256(logPublicKey);
  const root = fromHex(log.root);
  const heads = [
    { name: 'tree-head', head: { logId, size: log.treeSize, root, ts: T0_MS + 600_000 } },
    { name: 'empty-tree', head: { logId, size: 0, root: emptyRoot(), ts: T0_MS } },
  ];
  const positive = heads.map(({ name, head }) => {
    const bytes = signTreeHead(head, logSecretKey);
    const m = decodeSign1(bytes);
    return {
      name,
      expected: { logId: hex(head.logId), size: head.size, root: hex(head.root), ts: head.ts },
      payload: hex(encodeTreeHeadPayload(head)),
      protected: hex(m.protectedBytes),
      sigStructure: hex(sigStructure1(m.protectedBytes, m.payload)),
      signature: hex(m.signature),
      treeHead: hex(bytes),
    };
  });
  const good = signTreeHead(heads[0]!.head, logSecretKey);
  const gm = decodeSign1(good);
  const other = rand32('tree-head/other-log/sk');
  const signPayload = (payload: Map<string, CborValue>) => hex(signSign1({ payload: encodeCanonical(payload), secretKey: logSecretKey }));
  const payloadWith = (edit: Array<[string, CborValue]>) => {
    const m = new Map<string, CborValue>([
      ['v', 1],
      ['log', logId],
      ['size', log.treeSize],
      ['root', root],
      ['ts', T0_MS + 600_000],
    ]);
    for (const [k, v] of edit) m.set(k, v);
    return m;
  };
  const negative = [
    {
      name: 'signature-bit-flipped',
      treeHead: hex(encodeCanonical(new Tag([gm.protectedBytes, new Map(), gm.payload, flip(gm.signature, 63)], 18))),
      error: 'COSE_BAD_SIGNATURE',
    },
    { name: 'signed-by-another-key', treeHead: hex(signTreeHead(heads[0]!.head, other)), error: 'COSE_BAD_SIGNATURE' },
    {
      name: 'size-changed-after-signing',
      treeHead: hex(
        encodeCanonical(
          new Tag([gm.protectedBytes, new Map(), encodeTreeHeadPayload({ ...heads[0]!.head, size: log.treeSize + 1 }), gm.signature], 18),
        ),
      ),
      error: 'COSE_BAD_SIGNATURE',
    },
    { name: 'version-2', treeHead: signPayload(payloadWith([['v', 2]])), error: 'TREE_HEAD_MALFORMED' },
    { name: 'root-31-bytes', treeHead: signPayload(payloadWith([['root', root.subarray(0, 31)]])), error: 'TREE_HEAD_MALFORMED' },
    { name: 'negative-size', treeHead: signPayload(payloadWith([['size', -1]])), error: 'TREE_HEAD_MALFORMED' },
    { name: 'not-cose', treeHead: hex(encodeCanonical([1, 2, 3])), error: 'TREE_HEAD_MALFORMED' },
  ];
  return {
    ...fileHeader(
      'tree-head.json',
      'Signed tree head: canonical CBOR payload {"v": 1, "log": SHA-256(log Ed25519 public key), "size", "root", "ts" (ms)} signed as a tagged COSE_Sign1 (EdDSA, alg -8). ' +
        'The first head signs the tree of log.json. Decoder: verifyTreeHead(treeHead, inputs.log.publicKey) (protocol/treeHead.ts).',
      { log: { seed: `${SEED}/tree-head/log/sk`, secretKey: hex(logSecretKey), publicKey: hex(logPublicKey), logId: hex(logId) } },
    ),
    positive,
    negative,
  };
}

// ---------------------------------------------------------------- disclosure.json

function buildDisclosure(
  recipient: Recipient,
  sessionRecipient: Recipient,
  single: Array<{ name: string; envelope: string; reading: Reading; keySchedule: { key: string; baseNonce: string }; recordId: string }>,
  session: {
    keySchedule: { key: string };
    messages: Array<{ hs: number; envelope: string; reading: Reading; nonce: string; recordId: string }>;
  },
) {
  const positive = [
    ...single.slice(0, 2).map((e) => ({
      name: `reading-${e.name}`,
      scope: 'reading',
      secretKey: hex(recipient.secretKey),
      envelope: e.envelope,
      recordId: e.recordId,
      key: e.keySchedule.key,
      nonce: e.keySchedule.baseNonce,
      reading: e.reading,
    })),
    ...[3].map((i) => {
      const m = session.messages[i]!;
      return {
        name: `session-hs-${m.hs}`,
        scope: 'session',
        secretKey: hex(sessionRecipient.secretKey),
        envelope: m.envelope,
        recordId: m.recordId,
        key: session.keySchedule.key,
        nonce: m.nonce,
        reading: m.reading,
      };
    }),
  ];
  const [a, b] = positive;
  const s = positive[2]!;
  const prevNonce = session.messages[2]!.nonce;
  const negative = [
    {
      name: 'key-on-another-reading',
      description: 'the disclosure of the spo2 reading applied to the ECG envelope (no recordId given)',
      envelope: b!.envelope,
      key: a!.key,
      nonce: a!.nonce,
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'record-id-of-another-reading',
      description: 'a correct key and nonce whose recordId names another record',
      envelope: a!.envelope,
      key: a!.key,
      nonce: a!.nonce,
      recordId: b!.recordId,
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'key-bit-flipped',
      description: 'the disclosed key with its first bit flipped',
      envelope: a!.envelope,
      key: hex(flip(fromHex(a!.key), 0)),
      nonce: a!.nonce,
      recordId: a!.recordId,
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
    {
      name: 'session-nonce-of-another-hs',
      description: 'the session key with the nonce of hs 2 on the hs 3 envelope',
      envelope: s.envelope,
      key: s.key,
      nonce: prevNonce,
      recordId: s.recordId,
      error: 'ENVELOPE_DECRYPT_FAILED',
    },
  ];
  return {
    ...fileHeader(
      'disclosure.json',
      'Research disclosure of one reading: the HPKE context\'s AEAD key and the nonce of that reading (single-shot: base_nonce, scope "reading"; session mode: base_nonce XOR I2OSP(hs, 12), scope "session", the key then opens the whole session), never the secret key. ' +
        'Positive decoders: openDisclosedReading(envelope, {key, nonce, recordId}) → reading, and discloseReadingKey(envelope, secretKey) → {recordId, key, nonce, scope}. Negative decoder: openDisclosedReading(envelope, {key, nonce[, recordId]}). ' +
        "The wallet's signed disclosure file (EIP-712 signature over these fields) is not covered here.",
      { aead: 'ChaCha20Poly1305', aad: 'Enc_structure of the envelope (see envelopes.json)' },
    ),
    positive,
    negative,
  };
}

// ---------------------------------------------------------------- escrow.json

function buildEscrow(hpke: Hpke) {
  const patient = '0x8bA1f109551bD432803012645Ac136ddd64DBA72';
  const clinician = '0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B';
  const emergency = emergencyKeyGen('patient:0001', fixedRng(rand32('keys/emergency-ascii/rand')));
  const ward = hpke.deriveKeyPair(rand32('escrow/ward-emergency/ikm'));
  const clinicianKey = hpke.deriveKeyPair(rand32('escrow/clinician/ikm'));
  const sealStep = (name: string, pk: Uint8Array, sk: Uint8Array, info: Uint8Array, aad: Uint8Array, aadText: string) => {
    const skE = rand32(`escrow/${name}/skE`);
    const { enc, ciphertext } = hpke.seal(pk, info, aad, emergency.key, { rng: fixedRng(skE) });
    const ks = hpke.keyScheduleR(enc, sk, info);
    return {
      name,
      recipientSecretKey: hex(sk),
      recipientPublicKey: hex(pk),
      info: hex(info),
      infoText: new TextDecoder().decode(info),
      aad: hex(aad),
      aadText,
      ephemeral: { secretKey: hex(skE), publicKey: hex(enc) },
      enc: hex(enc),
      kem: kemOf(sk, enc),
      keySchedule: { key: hex(ks.key), baseNonce: hex(ks.baseNonce), exporterSecret: hex(ks.exporterSecret) },
      plaintext: hex(emergency.key),
      ciphertext: hex(ciphertext),
    };
  };
  const escrowed = sealStep('escrow-to-ward', ward.publicKey, ward.secretKey, ESCROW_INFO, escrowAad(patient), patient.toLowerCase());
  const released = sealStep(
    'release-to-clinician',
    clinicianKey.publicKey,
    clinicianKey.secretKey,
    RELEASE_INFO,
    releaseAad(patient, clinician),
    `${patient.toLowerCase()}/${clinician.toLowerCase()}`,
  );
  const negative = [
    {
      ...escrowed,
      name: 'escrow-aad-of-another-patient',
      description: 'the escrow opened with aad = another patient address',
      aad: hex(escrowAad('0x0000000000000000000000000000000000000001')),
      error: 'HPKE_OPEN_FAILED',
    },
    {
      ...escrowed,
      name: 'escrow-aad-not-lower-case',
      description: 'the escrow opened with aad = the mixed-case address (aad is lower-case)',
      aad: hex(utf8(patient)),
      error: 'HPKE_OPEN_FAILED',
    },
    {
      ...escrowed,
      name: 'escrow-opened-with-release-info',
      description: 'the escrow opened with the release info',
      info: hex(RELEASE_INFO),
      error: 'HPKE_OPEN_FAILED',
    },
    {
      ...released,
      name: 'release-ciphertext-bit-flipped',
      description: 'the release ciphertext with its first bit flipped',
      ciphertext: hex(flip(fromHex(released.ciphertext), 0)),
      error: 'HPKE_OPEN_FAILED',
    },
    {
      ...released,
      name: 'release-to-another-clinician',
      description: 'the release opened by the ward emergency key instead of the clinician key',
      recipientSecretKey: hex(ward.secretKey),
      error: 'HPKE_OPEN_FAILED',
    },
  ].map(({ name, description, recipientSecretKey, info, aad, enc, ciphertext, error }) => ({
    name,
    description,
    recipientSecretKey,
    info,
    aad,
    enc,
    ciphertext,
    error,
  }));
  return {
    ...fileHeader(
      'escrow.json',
      "Emergency escrow: the patient's emergency profile key K (EmergencyKeyGen, keys.json emergency-ascii) sealed with single-shot HPKE base mode (same suite as envelopes) to the ward's emergency X25519 key, " +
        'info = "vitalseal/v1/emergency-escrow", aad = utf8(lower-case patient address); released by the agent re-sealed to the clinician\'s X25519 key, info = "vitalseal/v1/emergency-release", ' +
        'aad = utf8(lower-case patient ‖ "/" ‖ lower-case clinician). Decoder: HPKE Open(enc, recipientSecretKey, info, aad, ciphertext) → K (protocol/escrow.ts parameters).',
      {
        patient,
        clinician,
        emergencyKey: { patientId: emergency.patientId, key: hex(emergency.key), kid: hex(emergency.kid) },
        wardEmergencyKey: { secretKey: hex(ward.secretKey), publicKey: hex(ward.publicKey) },
        clinicianKey: { secretKey: hex(clinicianKey.secretKey), publicKey: hex(clinicianKey.publicKey) },
      },
    ),
    positive: [escrowed, released],
    negative,
  };
}

// ---------------------------------------------------------------- all files

export type VectorFiles = ReadonlyMap<string, string>;

/** Every vector file (name → JSON text), computed with `hpke`; both backends give identical text. */
export function buildVectorFiles(hpke: Hpke): VectorFiles {
  const recipient = recipientOf(hpke, KEY_CASES[0].name, KEY_CASES[0].patientId);
  const sessionRecipient = recipientOf(hpke, KEY_CASES[1].name, KEY_CASES[1].patientId);
  const keys = buildKeys(hpke);
  const envelopes = buildEnvelopes(hpke, recipient, sessionRecipient);
  const session = buildSession(hpke, sessionRecipient, recipient);
  const tickets = buildTickets(recipient);
  const frames = buildFrames(
    fromHex(envelopes.positive[0]!.envelope),
    fromHex(envelopes.positive[1]!.envelope),
    fromHex(tickets.positive[0]!.ticket),
  );
  const stream = session.positive[0]!;
  const accessEvents: LogEntry[] = [
    {
      name: 'access-event/session',
      kind: LEAF_KIND.accessEvent,
      body: encodeAccessEvent({
        t: 'session',
        patient: '0x8ba1f109551bd432803012645ac136ddd64dba72',
        device: 'oxi-02',
        kid: sessionRecipient.kid,
        nbf: T0_S,
        exp: T0_S + 8 * 3600,
        ts: T0_MS,
      }),
    },
    {
      name: 'access-event/query',
      kind: LEAF_KIND.accessEvent,
      body: encodeAccessEvent({
        t: 'query',
        requester: '0xab5801a7d398351b8be11c439e05c5b3259aec9b',
        patient: '0x8ba1f109551bd432803012645ac136ddd64dba72',
        records: 6,
        withheld: 0,
        digest: sha256(utf8('query')),
        nonce: rand32('log/query/nonce'),
        ts: T0_MS + 60_000,
      }),
    },
  ];
  const log = buildLog([
    ...envelopes.positive.map((e) => ({ name: `envelopes.json/${e.name}`, kind: LEAF_KIND.record, body: fromHex(e.envelope) })),
    ...stream.messages.map((m) => ({ name: `session.json/hs-${m.hs}`, kind: LEAF_KIND.record, body: fromHex(m.envelope) })),
    ...accessEvents,
  ]);
  const treeHead = buildTreeHead(log.positive[0]!);
  const disclosure = buildDisclosure(recipient, sessionRecipient, envelopes.positive, stream);
  const escrow = buildEscrow(hpke);
  const authEnvelopes = buildAuthEnvelopes(hpke, recipient, sessionRecipient);
  const files = {
    'keys.json': keys,
    'envelopes.json': envelopes,
    'session.json': session,
    'tickets.json': tickets,
    'frames.json': frames,
    'log.json': log,
    'tree-head.json': treeHead,
    'disclosure.json': disclosure,
    'escrow.json': escrow,
    'auth-envelopes.json': authEnvelopes,
  };
  return new Map(Object.entries(files).map(([name, content]) => [name, `${JSON.stringify(content, null, 2)}\n`]));
}

/** Names of the files in VECTORS_DIR that differ from `files` (missing, changed or not generated). */
export function staleVectorFiles(files: VectorFiles, dir: string = VECTORS_DIR): string[] {
  let present: string[] = [];
  try {
    present = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    present = [];
  }
  const stale = [...files]
    .filter(([name, text]) => !present.includes(name) || readFileSync(join(dir, name), 'utf8') !== text)
    .map(([name]) => name);
  return [...stale, ...present.filter((f) => !files.has(f))].sort();
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { createHpke } = await import('../protocol/hpke/index.ts');
  const files = buildVectorFiles(createHpke('noble'));
  if (process.argv.includes('--check')) {
    const stale = staleVectorFiles(files);
    if (stale.length > 0) {
      console.error(`vectors differ from the generator: ${stale.join(', ')} (run npm run vectors)`);
      process.exit(1);
    }
    console.log(`${files.size} vector files match the generator`);
  } else {
    mkdirSync(VECTORS_DIR, { recursive: true });
    for (const [name, text] of files) writeFileSync(join(VECTORS_DIR, name), text);
    console.log(`wrote ${files.size} files to ${VECTORS_DIR}`);
  }
}
