/**
 * The readings the crypto benchmarks seal: a 64-byte and a 1-KiB reading (their canonical CBOR
 * plaintext is exactly that long) and one ECG block of the ecg-patch profile (250 integer µV
 * samples). The HPKE-alone rows seal the same plaintext bytes (encodeReading of the reading).
 */
import { encodeReading, type Reading } from '../../protocol/envelope/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { PROFILES, ScenarioTimeline } from '../../device-sim/profiles/index.ts';

export type BenchPayloadName = '64 B' | '1 KiB' | 'ECG block (250 samples)';

export interface BenchPayload {
  readonly name: BenchPayloadName;
  readonly reading: Reading;
  /** encodeReading(reading): what HPKE seals inside the envelope. */
  readonly plaintext: Uint8Array;
}

/** 2026-01-01T00:00:00Z in ms: an 8-byte CBOR uint, as every real timestamp. */
const BENCH_TS = 1_767_225_600_000;
const FLOAT64_BYTES = 9;
const SMALL_INT_BYTES = 1;

/** CBOR head length of an array of `n` items (n < 65,536). */
const arrayHeadBytes = (n: number): number => (n < 24 ? 1 : n < 256 ? 2 : 3);

/**
 * A spo2-like reading whose canonical plaintext is exactly `bytes` long: as many float64 values
 * (9 bytes each) as fit, the rest small integers (1 byte each).
 */
export function readingOfEncodedLength(bytes: number): Reading {
  const empty = { st: 'spo2', ts: BENCH_TS, u: '%' };
  const fixed = encodeReading({ ...empty, v: [0] }).length - 1 - arrayHeadBytes(1);
  for (let n = 1; n <= 400; n++) {
    const room = bytes - fixed - arrayHeadBytes(n) - n * SMALL_INT_BYTES;
    const floats = room / (FLOAT64_BYTES - SMALL_INT_BYTES);
    if (!Number.isInteger(floats) || floats < 0 || floats > n) continue;
    const v = Array.from({ length: n }, (_, i) => (i < floats ? 90.3 + i : i % 24));
    const reading: Reading = { ...empty, v };
    if (encodeReading(reading).length !== bytes) throw new Error(`reading of ${bytes} B: the size arithmetic is wrong`);
    return reading;
  }
  throw new Error(`no reading encodes to exactly ${bytes} bytes`);
}

/** One second of the ecg-patch profile: 250 integer samples in µV. */
export function ecgReading(): Reading {
  return PROFILES['ecg-patch']
    .createGenerator({ rng: seededRng('bench/ecg'), scenarios: new ScenarioTimeline(), runStartMs: BENCH_TS })
    .next(BENCH_TS + 60_000);
}

function payload(name: BenchPayloadName, reading: Reading): BenchPayload {
  return { name, reading, plaintext: encodeReading(reading) };
}

/** The three payloads, in report order. */
export function benchPayloads(): readonly BenchPayload[] {
  return [
    payload('64 B', readingOfEncodedLength(64)),
    payload('1 KiB', readingOfEncodedLength(1024)),
    payload('ECG block (250 samples)', ecgReading()),
  ];
}
