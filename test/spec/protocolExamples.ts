/**
 * The examples of docs/PROTOCOL.md, made by the project's own encoders from fixed inputs (seeded
 * randomness, fixed clocks), and the tooling that keeps the document in step with them:
 *
 *   node --import tsx test/spec/protocolExamples.ts           # checks: exit 1 if the doc is stale
 *   node --import tsx test/spec/protocolExamples.ts --write   # rewrites the example regions of
 *                                                              # docs/PROTOCOL.md and docs/vitalseal.cddl
 *
 * Each example fills the region between `<!-- example: ID -->` and `<!-- /example -->` in the
 * document: the CDDL rule it satisfies, its CBOR diagnostic notation and its hex (or, for the JSON
 * formats, the JSON text), and for serial frames the bytes on the wire. docs/vitalseal.cddl is the
 * concatenation of the document's ```cddl blocks. test/spec/protocolDoc.test.ts checks all of it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { privateKeyToAccount } from 'viem/accounts';
import { bytesToHex } from 'viem';
import { concatBytes, toHex, utf8 } from '../../protocol/bytes.ts';
import { decodeStrict, encodeCanonical, type CborValue } from '../../protocol/cbor/index.ts';
import { encodeX25519CoseKey, encryptEncrypt0ChaCha, sigStructure1, decodeSign1 } from '../../protocol/cose/index.ts';
import {
  createSessionSealer,
  decodeEnvelope,
  discloseReadingKey,
  encodeReading,
  envelopeAad,
  sealReading,
  type Reading,
  type ReadingHeader,
} from '../../protocol/envelope/index.ts';
import { ESCROW_INFO, escrowAad } from '../../protocol/escrow.ts';
import { encodeAck, encodeFrame, FRAME_TYPE } from '../../protocol/framing/index.ts';
import { createHpke } from '../../protocol/hpke/index.ts';
import { emergencyKeyGen, tempKeyPairGen } from '../../protocol/keys/index.ts';
import { encodeAccessEvent, type AccessEvent } from '../../protocol/log/accessEvent.ts';
import { leafHash, MerkleLog } from '../../protocol/merkle/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { issueTicket } from '../../protocol/ticket/index.ts';
import { signTreeHead } from '../../protocol/treeHead.ts';
import { apiDomain, typedDataOf, type MessageOf } from '../../protocol/api/typedData.ts';
import type { ServedRecord } from '../../protocol/api/servedRecord.ts';
import { PROFILES, ScenarioTimeline, type ProfileName } from '../../device-sim/profiles/index.ts';
import { CddlSchema, pathOf } from './cddl.ts';
import { printDiag } from './diag.ts';

export const PROTOCOL_MD = fileURLToPath(new URL('../../docs/PROTOCOL.md', import.meta.url));
export const CDDL_FILE = fileURLToPath(new URL('../../docs/vitalseal.cddl', import.meta.url));

export type ProtocolExample =
  | {
      readonly id: string;
      readonly kind: 'cbor';
      readonly rule: string;
      readonly bytes: Uint8Array;
      readonly comments?: ReadonlyMap<string, string>;
      readonly notes?: ReadonlyArray<readonly [string, string]>;
      readonly wire?: Uint8Array;
    }
  | {
      readonly id: string;
      readonly kind: 'json';
      readonly rule: string;
      readonly json: unknown;
      readonly notes?: ReadonlyArray<readonly [string, string]>;
    };

/** The fixed inputs every example derives from. */
export const EXAMPLE_INPUTS = {
  /** 2026-01-01T00:00:00Z */
  ts: 1_767_225_600_000,
  seed: 'vitalseal/protocol-examples/v1',
  chainId: 31337,
  consent: '0x5fbdb2315678afecb367f032d93f642f64180aa3',
} as const;

const rngOf = (name: string) => seededRng(`${EXAMPLE_INPUTS.seed}/${name}`);
const T = EXAMPLE_INPUTS.ts;
const T_SEC = T / 1000;

/** 32 seeded bytes as a secp256k1 / Ed25519 secret (an example key, never a real one). */
const secretOf = (name: string) => rngOf(name)(32);

const comment = (entries: Array<[string, string]>): ReadonlyMap<string, string> => new Map(entries);
const P = pathOf;

/** Comments for a COSE header map at `path` (protected headers are embedded byte strings). */
function envelopeComments(root: string): Array<[string, string]> {
  const body = P.tag(root, 16);
  const prot = P.embedded(P.item(body, 0));
  return [
    [P.item(body, 0), 'protected'],
    [P.value(prot, 1), 'alg: HPKE-4'],
    [P.item(body, 1), 'unprotected'],
    [P.value(P.item(body, 1), 4), 'kid'],
    [P.value(P.item(body, 1), -4), 'ek: encapsulated key'],
    [P.item(body, 2), 'ciphertext ‖ tag'],
  ];
}

function sign1Comments(payloadName: string): Array<[string, string]> {
  const body = P.tag('', 18);
  return [
    [P.item(body, 0), 'protected'],
    [P.value(P.embedded(P.item(body, 0)), 1), 'alg: EdDSA'],
    [P.item(body, 1), 'unprotected'],
    [P.item(body, 2), payloadName],
    [P.item(body, 3), 'Ed25519 signature'],
  ];
}

const reading = (name: ProfileName): Reading =>
  PROFILES[name].createGenerator({ rng: rngOf(`signal/${name}`), scenarios: new ScenarioTimeline(), runStartMs: T }).next(T);

/** Every example, in document order. Deterministic: the same bytes on every run and backend. */
export function protocolExamples(): ProtocolExample[] {
  const hpke = createHpke('noble');
  const patient = privateKeyToAccount(bytesToHex(secretOf('patient-eth'))).address.toLowerCase();
  const clinician = privateKeyToAccount(bytesToHex(secretOf('clinician-eth')));
  const clinicianAddress = clinician.address.toLowerCase();
  const temp = tempKeyPairGen(patient, rngOf('temp-key'), hpke);
  const recipient = { publicKey: temp.publicKey, kid: temp.kid };
  const authority = secretOf('ward-authority');
  const logKey = secretOf('agent-log');
  const logId = sha256(ed25519.getPublicKey(logKey));
  const out: ProtocolExample[] = [];

  // §3.4 COSE_Key
  out.push({
    id: 'cose-key',
    kind: 'cbor',
    rule: 'cose-key-x25519',
    bytes: encodeX25519CoseKey(temp.publicKey),
    comments: comment([
      ['{1}', 'kty: OKP'],
      ['{3}', 'alg: HPKE-4'],
      ['{-1}', 'crv: X25519'],
      ['{-2}', 'x'],
    ]),
    notes: [
      ['patient (PatientID)', patient],
      ['kid = SHA-256(x)[0:16]', toHex(temp.kid)],
    ],
  });

  // §4 readings, one per sensor-type profile
  const readings: Array<[string, ProfileName]> = [
    ['reading-spo2', 'pulse-oximeter'],
    ['reading-ecg', 'ecg-patch'],
    ['reading-nibp', 'nibp-cuff'],
    ['reading-cgm', 'cgm'],
    ['reading-temp', 'thermometer'],
  ];
  for (const [id, profile] of readings) out.push({ id, kind: 'cbor', rule: 'reading', bytes: encodeReading(reading(profile)) });

  // §5 single-shot envelope
  const spo2 = reading('pulse-oximeter');
  const spo2Header: ReadingHeader = { dev: 'oxi-01', seq: 42, ts: spo2.ts, st: spo2.st };
  const envelope = sealReading({ reading: spo2, header: spo2Header, recipient, hpke, rng: rngOf('ephemeral/oxi-01') });
  const decoded = decodeEnvelope(envelope);
  const schedule = hpke.keyScheduleR(decoded.enc, temp.secretKey, new Uint8Array(0));
  out.push({
    id: 'enc-structure',
    kind: 'cbor',
    rule: 'enc-structure',
    bytes: envelopeAad(decoded.protectedBytes),
    notes: [['HPKE info', '(empty)']],
  });
  out.push({
    id: 'envelope-single-shot',
    kind: 'cbor',
    rule: 'reading-envelope',
    bytes: envelope,
    comments: comment(envelopeComments('')),
    notes: [
      ["skR (the patient's temporary secret key)", toHex(temp.secretKey)],
      ['pkR', toHex(temp.publicKey)],
      ['HPKE key', toHex(schedule.key)],
      ['HPKE base_nonce', toHex(schedule.baseNonce)],
      ['plaintext', toHex(encodeReading(spo2))],
      ['record id = SHA-256(envelope)', toHex(decoded.recordId)],
      ['log leaf hash = SHA-256(0x00 ‖ envelope)', toHex(leafHash(envelope))],
    ],
  });

  // §3.6, §5: the same reading sealed in HPKE Auth mode with the device's identity key
  const identity = hpke.generateKeyPair(rngOf('identity/oxi-01'));
  const authEnvelope = sealReading({
    reading: spo2,
    header: spo2Header,
    recipient,
    hpke,
    rng: rngOf('ephemeral/oxi-01-auth'),
    senderSecretKey: identity.secretKey,
  });
  const authDecoded = decodeEnvelope(authEnvelope);
  const authSchedule = hpke.keyScheduleR(authDecoded.enc, temp.secretKey, new Uint8Array(0), identity.publicKey);
  out.push({
    id: 'envelope-auth',
    kind: 'cbor',
    rule: 'reading-envelope',
    bytes: authEnvelope,
    comments: comment([...envelopeComments(''), [P.value(P.embedded(P.item(P.tag('', 16), 0)), 'm'), 'HPKE mode: auth (0x02)']]),
    notes: [
      ["skS (the device's identity secret key; never leaves the device)", toHex(identity.secretKey)],
      ["idk = pkS (in the device's tickets, §7.1)", toHex(identity.publicKey)],
      ['HPKE key (mode_auth)', toHex(authSchedule.key)],
      ['HPKE base_nonce', toHex(authSchedule.baseNonce)],
      ['record id = SHA-256(envelope)', toHex(authDecoded.recordId)],
    ],
  });

  // §6 session mode: the second envelope of a session (hs = 1)
  const session = createSessionSealer({ recipient, hpke, rng: rngOf('ephemeral/temp-01-session') });
  const temps = [0, 1].map((i) => {
    const r = PROFILES.thermometer
      .createGenerator({ rng: rngOf('signal/thermometer'), scenarios: new ScenarioTimeline(), runStartMs: T })
      .next(T + i * 60_000);
    return session.seal({ reading: r, header: { dev: 'temp-01', seq: 7 + i, ts: r.ts, st: r.st } });
  });
  const sessionEnvelope = temps[1]!;
  const sessionDecoded = decodeEnvelope(sessionEnvelope);
  out.push({
    id: 'envelope-session',
    kind: 'cbor',
    rule: 'reading-envelope',
    bytes: sessionEnvelope,
    comments: comment(envelopeComments('')),
    notes: [
      ['ek of the session (same in every envelope of the session)', toHex(session.enc)],
      ['HPKE key', toHex(hpke.keyScheduleR(sessionDecoded.enc, temp.secretKey, new Uint8Array(0)).key)],
      ['nonce = base_nonce XOR I2OSP(hs, 12)', toHex(discloseReadingKey(sessionEnvelope, { secretKey: temp.secretKey, hpke }).baseNonce)],
    ],
  });

  // §7 session ticket
  const ticketFields = {
    dev: 'oxi-01',
    kid: temp.kid,
    pk: temp.publicKey,
    patient,
    nbf: T_SEC,
    exp: T_SEC + 8 * 3600,
    maxReadings: 28_800,
  };
  const ticket = issueTicket(ticketFields, authority);
  const ticketMessage = decodeSign1(ticket);
  out.push({
    id: 'ticket',
    kind: 'cbor',
    rule: 'session-ticket',
    bytes: ticket,
    comments: comment(sign1Comments('payload')),
    notes: [['ward authority Ed25519 public key', toHex(ed25519.getPublicKey(authority))]],
  });
  out.push({
    id: 'sig-structure',
    kind: 'cbor',
    rule: 'sig-structure',
    bytes: sigStructure1(ticketMessage.protectedBytes, ticketMessage.payload),
  });

  // §8 serial frames
  const ackBody = encodeAck({ dev: 'oxi-01', seq: 0 });
  out.push({ id: 'frame-ack', kind: 'cbor', rule: 'ack-body', bytes: ackBody, wire: encodeFrame(FRAME_TYPE.ack, ackBody) });
  const errorBody = encodeCanonical(
    new Map<string, CborValue>([
      ['code', 'AGENT_UNKNOWN_KID'],
      ['seq', 43],
    ]),
  );
  out.push({ id: 'frame-error', kind: 'cbor', rule: 'error-body', bytes: errorBody, wire: encodeFrame(FRAME_TYPE.error, errorBody) });
  const statusBody = encodeCanonical(
    new Map<string, CborValue>([
      ['dev', 'oxi-01'],
      ['state', 'online'],
      ['kid', toHex(temp.kid)],
      ['seq', 43],
    ]),
  );
  out.push({
    id: 'frame-status',
    kind: 'cbor',
    rule: 'serial-status-body',
    bytes: statusBody,
    wire: encodeFrame(FRAME_TYPE.status, statusBody),
  });
  out.push({
    id: 'frame-reading',
    kind: 'cbor',
    rule: 'reading-envelope',
    bytes: envelope,
    wire: encodeFrame(FRAME_TYPE.reading, envelope),
  });

  // §9 MQTT status payloads (JSON, as the simulator's firmware sends them)
  out.push({
    id: 'mqtt-status-online',
    kind: 'json',
    rule: 'mqtt-status',
    json: { state: 'online', boot: 3, seq: 43, kid: toHex(temp.kid) },
  });
  out.push({ id: 'mqtt-status-error', kind: 'json', rule: 'mqtt-status', json: { state: 'error', code: 'TICKET_EXPIRED' } });
  out.push({ id: 'mqtt-will', kind: 'json', rule: 'mqtt-status', json: { state: 'offline' } });

  // §11 log: three leaves (the single-shot envelope, a session access event, the session envelope)
  const sessionEvent: AccessEvent = {
    t: 'session',
    patient,
    device: 'oxi-01',
    kid: temp.kid,
    nbf: T_SEC,
    exp: T_SEC + 8 * 3600,
    ts: T + 1_500,
  };
  const log = new MerkleLog();
  log.append(envelope);
  log.append(encodeAccessEvent(sessionEvent));
  log.append(sessionEnvelope);
  const root = log.root(3);
  const sth = signTreeHead({ logId, size: 3, root, ts: T + 60_000 }, logKey);
  out.push({
    id: 'tree-head',
    kind: 'cbor',
    rule: 'signed-tree-head',
    bytes: sth,
    comments: comment(sign1Comments('payload')),
    notes: [
      ['log Ed25519 public key', toHex(ed25519.getPublicKey(logKey))],
      ['logId = SHA-256(public key)', toHex(logId)],
    ],
  });
  const served: ServedRecord = {
    recordId: toHex(decoded.recordId),
    device: spo2Header.dev,
    seq: spo2Header.seq,
    ts: spo2Header.ts,
    st: spo2Header.st,
    kid: toHex(decoded.kid),
    leafIndex: 0,
    treeSize: 3,
    envelope: Buffer.from(envelope).toString('base64'),
    inclusionProof: log.inclusionProof(0, 3).map(toHex),
    root: toHex(root),
    anchor: null,
  };
  out.push({ id: 'served-record', kind: 'json', rule: 'served-record', json: served });

  // §12 access events, one per type
  const nonce = rngOf('api-nonce')(32);
  const events: AccessEvent[] = [
    {
      t: 'query',
      requester: clinicianAddress,
      patient,
      records: 2,
      withheld: 1,
      digest: sha256(concatBytes(decoded.recordId, sessionDecoded.recordId)),
      nonce,
      ts: T + 120_000,
    },
    sessionEvent,
    { t: 'session-end', patient, device: 'oxi-01', kid: temp.kid, ts: T + 4 * 3_600_000 },
    { t: 'escrow', patient, ts: T + 5_000 },
    { t: 'assign', patient, device: 'oxi-01', via: 'pairing', ts: T + 1_000 },
    { t: 'release', patient, device: 'oxi-01', reason: 'released', sessions: 1, ts: T + 8 * 3_600_000 },
    { t: 'session-refused', patient, requester: clinicianAddress, device: 'oxi-01', kid: temp.kid, reason: 'not-assigned', ts: T + 2_000 },
    { t: 'emergency-release', clinician: clinicianAddress, patient, drill: true, until: T_SEC + 3600, ts: T + 600_000 },
  ];
  for (const e of events)
    out.push({
      id: `access-${e.t}`,
      kind: 'cbor',
      rule: 'access-event',
      bytes: encodeAccessEvent(e),
      ...(e === sessionEvent ? { notes: [['log leaf hash = SHA-256(0x00 ‖ body)', toHex(leafHash(encodeAccessEvent(e)))]] } : {}),
    });

  // §13 research disclosure (JSON file)
  const domain = apiDomainOfExamples();
  const d = discloseReadingKey(envelope, { secretKey: temp.secretKey, hpke });
  const disclosed = {
    recordId: `0x${toHex(d.recordId)}` as const,
    key: toHex(d.key),
    nonce: toHex(d.baseNonce),
    scope: d.scope,
    record: served,
  };
  const patientAccount = privateKeyToAccount(bytesToHex(secretOf('patient-eth')));
  const issuedAt = T_SEC + 86_400;
  const disclosureMessage: MessageOf['Disclosure'] = {
    patient: patientAccount.address.toLowerCase() as `0x${string}`,
    recordId: disclosed.recordId,
    disclosureHash: disclosureHashOf(disclosed),
    issuedAt,
  };
  out.push({
    id: 'disclosure',
    kind: 'json',
    rule: 'disclosure-file',
    json: {
      v: 1,
      kind: 'vitalseal-disclosure',
      domain,
      patient: disclosureMessage.patient,
      ...disclosed,
      issuedAt,
      signature: SIGNATURE_PLACEHOLDER,
      _typed: disclosureMessage,
    },
  });

  // §14 emergency escrow
  const k = emergencyKeyGen(patient, rngOf('emergency-key'));
  const wardEmergency = hpke.deriveKeyPair(rngOf('ward-emergency')(32));
  const profile = encryptEncrypt0ChaCha({
    key: k.key,
    iv: rngOf('emergency-iv')(12),
    plaintext: utf8(JSON.stringify({ bloodType: 'A+', allergies: ['penicillin'], medication: ['metformin 500 mg'] })),
    externalAad: utf8(patient),
    unprotected: new Map([[4, k.kid]]),
  });
  const profileBody = P.tag('', 16);
  out.push({
    id: 'emergency-profile',
    kind: 'cbor',
    rule: 'emergency-profile',
    bytes: profile,
    comments: comment([
      [P.item(profileBody, 0), 'protected'],
      [P.value(P.embedded(P.item(profileBody, 0)), 1), 'alg: ChaCha20-Poly1305'],
      [P.value(P.item(profileBody, 1), 4), 'kid = SHA-256(K)[0:16]'],
      [P.value(P.item(profileBody, 1), 5), 'IV'],
    ]),
    notes: [
      ['K (EmergencyKeyGen)', toHex(k.key)],
      ['external_aad', `utf8("${patient}")`],
    ],
  });
  const sealedK = hpke.seal(wardEmergency.publicKey, ESCROW_INFO, escrowAad(patient), k.key, { rng: rngOf('escrow-ephemeral') });
  const escrowMessage: MessageOf['EscrowUpload'] = {
    requester: patient as `0x${string}`,
    nonce: bytesToHex(nonce),
    expiry: T_SEC + 300,
    profileHash: bytesToHex(sha256(profile)),
    escrowHash: bytesToHex(sha256(concatBytes(sealedK.enc, sealedK.ciphertext))),
  };
  out.push({
    id: 'escrow-upload',
    kind: 'json',
    rule: 'escrow-upload',
    json: {
      message: escrowMessage,
      signature: SIGNATURE_PLACEHOLDER,
      profile: Buffer.from(profile).toString('base64'),
      enc: bytesToHex(sealedK.enc),
      sealed: Buffer.from(sealedK.ciphertext).toString('base64'),
      _typed: ['EscrowUpload', escrowMessage],
    },
    notes: [['ward emergency X25519 public key', toHex(wardEmergency.publicKey)]],
  });

  // Appendix A: one signed request
  const queryMessage: MessageOf['RecordQuery'] = {
    requester: clinicianAddress as `0x${string}`,
    nonce: bytesToHex(nonce),
    expiry: T_SEC + 300,
    patient: patient as `0x${string}`,
    device: 'oxi-01',
    fromLeaf: 0,
    limit: 100,
  };
  out.push({
    id: 'signed-record-query',
    kind: 'json',
    rule: 'signed-request',
    json: { message: queryMessage, signature: SIGNATURE_PLACEHOLDER, _typed: ['RecordQuery', queryMessage] },
  });
  return out;
}

/** Replaced by a real EIP-712 signature in `withSignatures` (signing is asynchronous). */
const SIGNATURE_PLACEHOLDER = '0x';

/**
 * docs/PROTOCOL.md §13.2: disclosureHash = SHA-256(utf8(JSON.stringify([recordId, key, nonce,
 * scope, envelope, leafIndex, treeSize, inclusionProof, anchor]))) — as wallet/disclosure.ts
 * computes it (the wallet keeps its function private; this is the spec's formula).
 */
export function disclosureHashOf(d: { recordId: string; key: string; nonce: string; scope: string; record: ServedRecord }): `0x${string}` {
  const r = d.record;
  return bytesToHex(
    sha256(utf8(JSON.stringify([d.recordId, d.key, d.nonce, d.scope, r.envelope, r.leafIndex, r.treeSize, r.inclusionProof, r.anchor]))),
  );
}

/** The examples with their EIP-712 signatures filled in (the example's `_typed` field says what is signed). */
export async function protocolExamplesSigned(): Promise<ProtocolExample[]> {
  const domain = apiDomainOfExamples();
  const signers = new Map([
    [
      privateKeyToAccount(bytesToHex(secretOf('patient-eth'))).address.toLowerCase(),
      privateKeyToAccount(bytesToHex(secretOf('patient-eth'))),
    ],
    [
      privateKeyToAccount(bytesToHex(secretOf('clinician-eth'))).address.toLowerCase(),
      privateKeyToAccount(bytesToHex(secretOf('clinician-eth'))),
    ],
  ]);
  const out: ProtocolExample[] = [];
  for (const ex of protocolExamples()) {
    if (ex.kind !== 'json' || typeof ex.json !== 'object' || ex.json === null || !('_typed' in ex.json)) {
      out.push(ex);
      continue;
    }
    const { _typed, ...json } = ex.json as Record<string, unknown> & { _typed: unknown };
    const [primaryType, message] = Array.isArray(_typed)
      ? (_typed as [string, Record<string, unknown>])
      : ['Disclosure', _typed as Record<string, unknown>];
    const who = String(message['requester'] ?? message['patient']).toLowerCase();
    const signer = signers.get(who)!;
    const typed = typedDataOf(domain, primaryType as 'RecordQuery', message as unknown as MessageOf['RecordQuery']);
    const signature = await signer.signTypedData(typed as Parameters<typeof signer.signTypedData>[0]);
    out.push({ ...ex, json: { ...json, signature } });
  }
  return out;
}

export function apiDomainOfExamples() {
  const logId = sha256(ed25519.getPublicKey(secretOf('agent-log')));
  return apiDomain(EXAMPLE_INPUTS.chainId, EXAMPLE_INPUTS.consent, `0x${toHex(logId)}`);
}

// ------------------------------------------------------------------ rendering into the document

const HEX_PER_LINE = 64;

function hexBlock(bytes: Uint8Array): string {
  const hex = toHex(bytes);
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += HEX_PER_LINE) lines.push(hex.slice(i, i + HEX_PER_LINE));
  return lines.join('\n');
}

/** The text of an example's region in docs/PROTOCOL.md (between its markers). */
export function renderExample(ex: ProtocolExample, schema: CddlSchema): string {
  const notes = ex.notes && ex.notes.length > 0 ? `\n${ex.notes.map(([k, v]) => `- ${k}: \`${v}\``).join('\n')}\n` : '';
  if (ex.kind === 'json') {
    const json = JSON.stringify(ex.json, null, 2);
    return `CDDL rule \`${ex.rule}\` (JSON, ${utf8(JSON.stringify(ex.json)).length} bytes without whitespace):\n\n\`\`\`json\n${json}\n\`\`\`\n${notes}`;
  }
  const value = decodeStrict(ex.bytes, { allowedTags: [16, 18], maxBytes: 1 << 16, maxStringBytes: 1 << 16 });
  const result = schema.validate(value, ex.rule);
  if (!result.ok) throw new Error(`example ${ex.id} does not match rule ${ex.rule}: ${result.error}`);
  const diag = printDiag(value, { embedded: new Set(result.embedded), comments: ex.comments ?? new Map(), pretty: true });
  const wire =
    ex.wire === undefined
      ? ''
      : `\nOn the wire (COBS(type ‖ body ‖ CRC-32 LE) ‖ 00), ${ex.wire.length} bytes:\n\n\`\`\`frame\n${hexBlock(ex.wire)}\n\`\`\`\n`;
  return `CDDL rule \`${ex.rule}\`, ${ex.bytes.length} bytes:\n\n\`\`\`cbor-diag\n${diag}\n\`\`\`\n\n\`\`\`hex\n${hexBlock(ex.bytes)}\n\`\`\`\n${wire}${notes}`;
}

export const EXAMPLE_REGION = /<!-- example: ([a-z0-9-]+) -->\n([\s\S]*?)<!-- \/example -->/g;

/** The document with every example region regenerated; throws on a region without an example (or the reverse). */
export function renderDocument(doc: string, examples: readonly ProtocolExample[], schema: CddlSchema): string {
  const byId = new Map(examples.map((e) => [e.id, e]));
  const used = new Set<string>();
  const out = doc.replace(EXAMPLE_REGION, (_m, id: string) => {
    const ex = byId.get(id);
    if (ex === undefined) throw new Error(`docs/PROTOCOL.md has a region for unknown example ${id}`);
    if (used.has(id)) throw new Error(`example ${id} appears twice`);
    used.add(id);
    return `<!-- example: ${id} -->\n${renderExample(ex, schema)}<!-- /example -->`;
  });
  const missing = examples.filter((e) => !used.has(e.id)).map((e) => e.id);
  if (missing.length > 0) throw new Error(`docs/PROTOCOL.md has no region for ${missing.join(', ')}`);
  return out;
}

/** The ```cddl blocks of the document, in order, joined: the content of docs/vitalseal.cddl. */
export function cddlOfDocument(doc: string): string {
  const blocks = [...doc.matchAll(/```cddl\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return `; vitalseal protocol v1: the CDDL (RFC 8610) of docs/PROTOCOL.md, in document order.\n; Generated from the document's cddl blocks by test/spec/protocolExamples.ts --write; do not edit.\n\n${blocks.join('\n')}`;
}

async function main(): Promise<void> {
  const write = process.argv.includes('--write');
  const doc = readFileSync(PROTOCOL_MD, 'utf8');
  const cddl = cddlOfDocument(doc);
  const schema = CddlSchema.parse(cddl);
  const rendered = renderDocument(doc, await protocolExamplesSigned(), schema);
  if (write) {
    writeFileSync(PROTOCOL_MD, rendered);
    writeFileSync(CDDL_FILE, cddl);
    console.log('docs/PROTOCOL.md examples and docs/vitalseal.cddl written');
    return;
  }
  const stale = rendered !== doc || readFileSync(CDDL_FILE, 'utf8') !== cddl;
  console.log(
    stale
      ? 'docs/PROTOCOL.md or docs/vitalseal.cddl is stale: run with --write'
      : 'docs/PROTOCOL.md and docs/vitalseal.cddl are up to date',
  );
  process.exitCode = stale ? 1 : 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
