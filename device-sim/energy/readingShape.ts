import { AEAD_TAG_BYTES, encodeEnvelopeProtected, encodeReading, envelopeAad } from '../../protocol/envelope/index.ts';
import { utf8 } from '../../protocol/bytes.ts';
import { tempKeyPairGen } from '../../protocol/keys/index.ts';
import { createHpke } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { readingTopic } from '../../protocol/topics.ts';
import { createReadingSealer, type SealMode } from '../crypto/sealer.ts';
import { PROFILES, ScenarioTimeline, type ProfileName } from '../profiles/index.ts';
import type { ReadingShape } from './model.ts';

const REFERENCE_TS = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const REFERENCE_DEVICE = 'sim-000001';

/**
 * The byte sizes of a typical reading of a profile: one reading generated from a fixed
 * seed and really sealed (so CBOR, COSE and HPKE overheads are exact, not guessed).
 */
const cache = new Map<string, ReadingShape>();

export function readingShapeOf(profile: ProfileName, mode: SealMode = 'per-reading', seq = 1000): ReadingShape {
  const key = `${profile}/${mode}/${seq}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const shape = computeShape(profile, mode, seq);
  cache.set(key, shape);
  return shape;
}

function computeShape(profile: ProfileName, mode: SealMode, seq: number): ReadingShape {
  const p = PROFILES[profile];
  const reading = p
    .createGenerator({ rng: seededRng(`shape/${profile}`), scenarios: new ScenarioTimeline(), runStartMs: REFERENCE_TS })
    .next(REFERENCE_TS + 3_600_000);
  const header = { dev: REFERENCE_DEVICE, seq, ts: reading.ts, st: reading.st };
  const key = tempKeyPairGen('patient:shape', seededRng('shape/key'), createHpke('node'));
  const sealer = createReadingSealer({
    backend: 'node',
    mode,
    recipient: { publicKey: key.publicKey, kid: key.kid },
    rng: seededRng('shape/eph'),
  });
  const envelope = sealer.seal(reading, header);
  const protectedBytes = encodeEnvelopeProtected(header, mode === 'session' ? seq : undefined);
  const plaintextBytes = encodeReading(reading).length;
  const aadBytes = envelopeAad(protectedBytes).length;
  return {
    plaintextBytes,
    aadBytes,
    envelopeBytes: envelope.length,
    topicBytes: utf8(readingTopic(REFERENCE_DEVICE)).length,
    // plaintext + Enc_structure + the envelope around the ciphertext (plaintext + tag)
    cborBytes: plaintextBytes + aadBytes + envelope.length - (plaintextBytes + AEAD_TAG_BYTES),
  };
}
