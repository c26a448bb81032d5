/**
 * Per-reading seal/open cost: vitalseal (node and noble backends, per-reading and session
 * mode) against peers measured in the same run — @hpke/core (RFC 9180, same suite) and
 * libsodium's crypto_box_seal — and against the sum of the primitives (from bench/seal.ts).
 *
 * Payloads: three readings (bench/lib/readings.ts) — a 64-byte and a 1-KiB one (their CBOR
 * plaintext is exactly that long) and one ECG block (250 samples of the ecg-patch profile). Raw HPKE
 * and the peers seal the plaintext bytes (info = aad = ""); the envelope rows seal the reading as a
 * full COSE envelope (sealReading / createSessionSealer / openReading, with the real Enc_structure
 * aad). The targets judge the envelope (issue #21).
 *
 * Before anything is timed, every path is checked: vitalseal's backends agree byte for byte
 * and open each other's output; @hpke/core and vitalseal decrypt each other's ciphertexts
 * (single-shot and session) in both directions; libsodium opens its own sealed boxes; a
 * tampered ciphertext is refused by every opener. A peer whose check fails is not timed.
 *
 * Timing: a warm-up, then `rounds` rounds; in each, every operation runs `sampleMs` in 5 ms
 * slices interleaved with all the others (load from other processes hits them alike).
 * Reported per operation: µs per call, median and min–max over rounds; ratios are medians of
 * per-round ratios.
 */
import { randomBytes } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import type { Hpke, HpkeBackendName, RecipientContext } from '../protocol/hpke/index.ts';
import { createHpke } from '../protocol/node.ts';
import { bytesEqual } from '../protocol/bytes.ts';
import { createSessionSealer, openReading, sealReading, type Reading } from '../protocol/envelope/index.ts';
import { tempKeyPairGen } from '../protocol/keys/index.ts';
import type { Rng } from '../protocol/rng.ts';
import { runSealBench, type SealBenchResult } from './seal.ts';
import { NativeSeal, type NativeOp, type NativeSealSummary } from './native.ts';
import { benchPayloads, type BenchPayloadName } from './lib/readings.ts';
import { createHpkeCorePeer, type HpkeCorePeer } from './peers/hpkeCore.ts';
import { loadSodium, sodiumVersion, type Sodium } from './peers/libsodium.ts';
import { ALLOWED_SPREAD, measurement, median, quantile, round, type Measurement } from './lib/stats.ts';

export interface CryptoBenchOptions {
  readonly quick?: boolean;
  readonly rounds?: number;
  readonly sampleMs?: number;
  readonly onProgress?: (message: string, fraction: number) => void;
}

export interface Precheck {
  readonly name: string;
  readonly payload: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface PayloadResult {
  readonly payload: string;
  readonly bytes: number;
  /** µs per call for every timed operation ("<impl>.<op>"). */
  readonly ops: Readonly<Record<string, Measurement>>;
  /** Median over rounds of per-round ratios (see RATIO_DEFS). */
  readonly ratios: Readonly<Record<string, number>>;
  /**
   * The least disturbed estimate under load: each operation's 10th-percentile 5 ms slice (µs per
   * call), and the ratios of those. Slices hit by another process's time slice are the slow ones.
   */
  readonly fastSlices: Readonly<Record<string, number>>;
  readonly fastRatios: Readonly<Record<string, number>>;
  /** From bench/seal.ts (runSealBench) on this payload, same interleaved run: primitive sums, HPKE alone and the full envelope. */
  readonly primitives: Readonly<
    Record<
      HpkeBackendName,
      {
        /** keygen + DH + HKDF + AEAD seal (µs). */
        readonly primitiveSumUs: number;
        /** DH + HKDF + AEAD open (µs). */
        readonly openPrimitiveSumUs: number;
        readonly sealUs: number;
        readonly sealReadingUs: number;
        readonly openReadingUs: number;
        /** HPKE seal alone / seal primitive sum (information). */
        readonly sealRatio: number;
        readonly sealRatioFastSlices: number;
        readonly sealRatioRange: readonly [number, number];
        readonly sealRatioCpu: number;
        /** HPKE open alone / open primitive sum (information). */
        readonly openRatio: number;
        /** sealReading (the full envelope) / seal primitive sum: what the targets judge. */
        readonly sealReadingRatio: number;
        readonly sealReadingRatioRange: readonly [number, number];
        readonly sealReadingRatioFastSlices: number;
        readonly sealReadingVsHpke: number;
        /** openReading (the full envelope) / open primitive sum: what the targets judge. */
        readonly openReadingRatio: number;
        readonly openReadingRatioRange: readonly [number, number];
        readonly openReadingRatioFastSlices: number;
        readonly openReadingVsHpke: number;
      }
    >
  > | null;
  /** Operations not timed because their precheck failed. */
  readonly skipped: readonly string[];
}

export interface CryptoTarget {
  readonly value: number;
  readonly target: number;
  readonly met: boolean;
}

/**
 * Issue #21: every target judges what users call — sealReading / openReading, the full COSE envelope —
 * on the 64-byte reading; HPKE alone is kept as information (`hpkeOnly`).
 */
export interface CryptoTargets {
  /** libsodium crypto_box_seal / node sealReading (≥ 2: the envelope seals at least twice as fast). */
  readonly nodeVsLibsodium: CryptoTarget;
  /** @hpke/core seal / node sealReading. */
  readonly nodeVsHpkeCore: CryptoTarget;
  /** node sealReading / its seal primitive sum (≤ 1.15). */
  readonly nodeVsPrimitiveSum: CryptoTarget;
  /** noble sealReading / its seal primitive sum (≤ 1.05). */
  readonly nobleVsPrimitiveSum: CryptoTarget;
  /** node openReading / its open primitive sum, DH + HKDF + AEAD open (≤ 1.15). */
  readonly nodeOpenVsPrimitiveSum: CryptoTarget;
  /** The same on the least disturbed slices (10th percentile), for a loaded machine. */
  readonly fastSlices: {
    readonly nodeVsLibsodium: number;
    readonly nodeVsHpkeCore: number;
    readonly nodeVsPrimitiveSum: number;
    readonly nobleVsPrimitiveSum: number;
    readonly nodeOpenVsPrimitiveSum: number;
  };
  /** Information: the same comparisons for HPKE alone (what the targets judged before issue #21). */
  readonly hpkeOnly: {
    readonly nodeVsLibsodium: number;
    readonly nodeVsHpkeCore: number;
    readonly nodeVsPrimitiveSum: number;
    readonly nobleVsPrimitiveSum: number;
    readonly nodeOpenVsPrimitiveSum: number;
  };
}

export interface CryptoBenchResult {
  readonly config: {
    readonly rounds: number;
    readonly sampleMs: number;
    readonly sliceMs: number;
    readonly warmupMs: number;
    readonly info: 0;
    readonly aad: 'empty for raw payloads; Enc_structure for envelopes';
  };
  readonly peers: {
    readonly hpkeCore: string;
    readonly libsodium: string;
  };
  readonly prechecks: readonly Precheck[];
  readonly payloads: readonly PayloadResult[];
  readonly targets: CryptoTargets;
  readonly sealBench: readonly SealBenchResult[];
  /** The C rows (device-c, issue #19) and each payload's floor, the fastest single-shot seal (bench/native.ts). */
  readonly native: NativeSealSummary;
}

const EMPTY = new Uint8Array(0);
const SLICE_MS = 5;
const POOL = 64;
const FAST_QUANTILE = 0.1;

type Op = { readonly sync: () => unknown } | { readonly async: () => Promise<unknown> } | NativeOp;

/** Ratios reported per payload: name → [numerator op, denominator op]. */
const RATIO_DEFS: Record<string, readonly [string, string]> = {
  'libsodium.seal / node.seal': ['libsodium.seal', 'node.seal'],
  'hpke-core.seal / node.seal': ['hpke-core.seal', 'node.seal'],
  'noble.seal / node.seal': ['noble.seal', 'node.seal'],
  'c.seal / node.seal': ['c.seal', 'node.seal'],
  'libsodium.open / node.open': ['libsodium.open', 'node.open'],
  'hpke-core.open / node.open': ['hpke-core.open', 'node.open'],
  'node.seal / node.session-seal': ['node.seal', 'node.session-seal'],
  'noble.seal / noble.session-seal': ['noble.seal', 'noble.session-seal'],
  'hpke-core.session-seal / node.session-seal': ['hpke-core.session-seal', 'node.session-seal'],
  'node.envelope-seal / node.envelope-session-seal': ['node.envelope-seal', 'node.envelope-session-seal'],
  // the full envelope (sealReading / openReading): what the targets judge, and what it adds to HPKE alone
  'libsodium.seal / node.envelope-seal': ['libsodium.seal', 'node.envelope-seal'],
  'hpke-core.seal / node.envelope-seal': ['hpke-core.seal', 'node.envelope-seal'],
  'libsodium.open / node.envelope-open': ['libsodium.open', 'node.envelope-open'],
  'node.envelope-seal / node.seal': ['node.envelope-seal', 'node.seal'],
  'noble.envelope-seal / noble.seal': ['noble.envelope-seal', 'noble.seal'],
  'node.envelope-open / node.open': ['node.envelope-open', 'node.open'],
  'noble.envelope-open / noble.open': ['noble.envelope-open', 'noble.open'],
};

interface Payload {
  readonly name: BenchPayloadName;
  readonly plaintext: Uint8Array;
  /** Set for the envelope payload: the reading it encodes. */
  readonly reading?: Reading;
}

/** Random 32-byte secrets from a pre-filled pool (so randomness costs nothing in the loop). */
function poolRng(): Rng {
  const pool = Array.from({ length: 1024 }, () => new Uint8Array(randomBytes(32)));
  let i = 0;
  return (n) => (n === 32 ? pool[i++ & 1023]! : new Uint8Array(randomBytes(n)));
}

// ---------------------------------------------------------------- prechecks

function check(list: Precheck[], name: string, payload: string, fn: () => void): boolean {
  try {
    fn();
    list.push({ name, payload, ok: true });
    return true;
  } catch (e) {
    list.push({ name, payload, ok: false, detail: e instanceof Error ? e.message : String(e) });
    return false;
  }
}

async function checkAsync(list: Precheck[], name: string, payload: string, fn: () => Promise<void>): Promise<boolean> {
  try {
    await fn();
    list.push({ name, payload, ok: true });
    return true;
  } catch (e) {
    list.push({ name, payload, ok: false, detail: e instanceof Error ? e.message : String(e) });
    return false;
  }
}

function expectEqual(a: Uint8Array, b: Uint8Array, what: string): void {
  if (!bytesEqual(a, b)) throw new Error(`${what}: plaintext differs`);
}

function expectThrows(fn: () => unknown, what: string): void {
  let threw = false;
  try {
    fn();
  } catch {
    threw = true;
  }
  if (!threw) throw new Error(`${what}: a tampered ciphertext was accepted`);
}

async function expectRejects(fn: () => Promise<unknown>, what: string): Promise<void> {
  let threw = false;
  try {
    await fn();
  } catch {
    threw = true;
  }
  if (!threw) throw new Error(`${what}: a tampered ciphertext was accepted`);
}

const flip = (b: Uint8Array): Uint8Array => {
  const c = b.slice();
  c[c.length - 1]! ^= 0x01;
  return c;
};

interface Keys {
  readonly skR: Uint8Array;
  readonly pkR: Uint8Array;
  readonly kid: Uint8Array;
  readonly corePk: webcrypto.CryptoKey;
  readonly coreSk: webcrypto.CryptoKey;
  readonly sodiumPk: Uint8Array;
  readonly sodiumSk: Uint8Array;
}

/** Every correctness check for one payload; returns the implementations that passed. */
async function precheck(
  p: Payload,
  keys: Keys,
  hpke: Record<HpkeBackendName, Hpke>,
  core: HpkeCorePeer,
  sodium: Sodium,
  out: Precheck[],
): Promise<Set<string>> {
  const ok = new Set<string>();
  const pt = p.plaintext;
  const { skR, pkR } = keys;
  const n = p.name;

  const vitalseal = check(out, 'vitalseal node and noble: same bytes for the same ephemeral key, each opens the other', n, () => {
    const ikmE = new Uint8Array(randomBytes(32));
    const a = hpke.node.seal(pkR, EMPTY, EMPTY, pt, { ikmE });
    const b = hpke.noble.seal(pkR, EMPTY, EMPTY, pt, { ikmE });
    if (!bytesEqual(a.enc, b.enc) || !bytesEqual(a.ciphertext, b.ciphertext)) throw new Error('backends differ');
    expectEqual(hpke.noble.open(a.enc, skR, EMPTY, EMPTY, a.ciphertext), pt, 'noble opens node');
    expectEqual(hpke.node.open(b.enc, skR, EMPTY, EMPTY, b.ciphertext), pt, 'node opens noble');
    expectThrows(() => hpke.node.open(a.enc, skR, EMPTY, EMPTY, flip(a.ciphertext)), 'node open');
    expectThrows(() => hpke.noble.open(a.enc, skR, EMPTY, EMPTY, flip(a.ciphertext)), 'noble open');
  });
  const session = check(out, 'vitalseal session mode: node context opened by noble (openAt) and vice versa', n, () => {
    for (const [s, r] of [
      ['node', 'noble'],
      ['noble', 'node'],
    ] as const) {
      const ctx = hpke[s].setupBaseS(pkR, EMPTY, { rng: poolRng() });
      const cts = [ctx.seal(pt), ctx.seal(pt), ctx.seal(pt)];
      const rc = hpke[r].setupBaseR(ctx.enc, skR, EMPTY);
      expectEqual(rc.openAt(2n, cts[2]!), pt, `${r} opens ${s} #2`);
      expectEqual(rc.openAt(0n, cts[0]!), pt, `${r} opens ${s} #0`);
      expectThrows(() => rc.openAt(1n, cts[0]!), `${r} opens at the wrong seq`);
    }
  });
  if (vitalseal) ok.add('node').add('noble');
  if (session) ok.add('session');

  const coreOk = await checkAsync(
    out,
    '@hpke/core ↔ vitalseal: each decrypts the other (single-shot, both directions, both backends)',
    n,
    async () => {
      const c = await core.seal(keys.corePk, pt, EMPTY);
      for (const b of ['node', 'noble'] as const)
        expectEqual(hpke[b].open(c.enc, skR, EMPTY, EMPTY, c.ciphertext), pt, `vitalseal ${b} opens @hpke/core`);
      for (const b of ['node', 'noble'] as const) {
        const v = hpke[b].seal(pkR, EMPTY, EMPTY, pt, { rng: poolRng() });
        expectEqual(await core.open(keys.coreSk, v.enc, v.ciphertext, EMPTY), pt, `@hpke/core opens vitalseal ${b}`);
        await expectRejects(() => core.open(keys.coreSk, v.enc, flip(v.ciphertext), EMPTY), '@hpke/core open');
      }
      expectThrows(() => hpke.node.open(c.enc, skR, EMPTY, EMPTY, flip(c.ciphertext)), 'vitalseal open of @hpke/core');
    },
  );
  const coreSessionOk = await checkAsync(
    out,
    '@hpke/core ↔ vitalseal: session contexts (sequence numbers) interoperate both ways',
    n,
    async () => {
      const sender = await core.suite.createSenderContext({ recipientPublicKey: keys.corePk });
      const c0 = new Uint8Array(await sender.seal(pt.slice().buffer as ArrayBuffer));
      const c1 = new Uint8Array(await sender.seal(pt.slice().buffer as ArrayBuffer));
      const rc = hpke.node.setupBaseR(new Uint8Array(sender.enc), skR, EMPTY);
      expectEqual(rc.openAt(1n, c1), pt, 'vitalseal opens @hpke/core context message #1');
      expectEqual(rc.openAt(0n, c0), pt, 'vitalseal opens @hpke/core context message #0');
      const v = hpke.node.setupBaseS(pkR, EMPTY, { rng: poolRng() });
      const v0 = v.seal(pt);
      const v1 = v.seal(pt);
      const recipient = await core.suite.createRecipientContext({ recipientKey: keys.coreSk, enc: v.enc.slice().buffer as ArrayBuffer });
      expectEqual(new Uint8Array(await recipient.open(v0.slice().buffer as ArrayBuffer)), pt, '@hpke/core opens vitalseal context #0');
      expectEqual(new Uint8Array(await recipient.open(v1.slice().buffer as ArrayBuffer)), pt, '@hpke/core opens vitalseal context #1');
    },
  );
  if (coreOk) ok.add('hpke-core');
  if (coreSessionOk) ok.add('hpke-core-session');

  const sodiumOk = check(
    out,
    'libsodium crypto_box_seal: its own crypto_box_seal_open returns the plaintext, refuses a tampered box',
    n,
    () => {
      const c = sodium.crypto_box_seal(pt, keys.sodiumPk);
      if (c.length !== pt.length + sodium.crypto_box_SEALBYTES) throw new Error('unexpected sealed box length');
      expectEqual(sodium.crypto_box_seal_open(c, keys.sodiumPk, keys.sodiumSk), pt, 'crypto_box_seal_open');
      expectThrows(() => sodium.crypto_box_seal_open(flip(c), keys.sodiumPk, keys.sodiumSk), 'crypto_box_seal_open');
    },
  );
  if (sodiumOk) ok.add('libsodium');

  if (p.reading) {
    const reading = p.reading;
    const envOk = check(
      out,
      'envelope: sealReading and the session sealer (node, noble) open with openReading on the other backend',
      n,
      () => {
        for (const [s, r] of [
          ['node', 'noble'],
          ['noble', 'node'],
        ] as const) {
          const header = { dev: 'bench-ecg', seq: 1, ts: reading.ts, st: reading.st };
          const env = sealReading({ reading, header, recipient: { publicKey: pkR, kid: keys.kid }, hpke: hpke[s], rng: poolRng() });
          const opened = openReading(env, { secretKey: skR, hpke: hpke[r] });
          if (opened.reading.v.length !== reading.v.length || opened.reading.v[17] !== reading.v[17])
            throw new Error('envelope reading differs');
          const ss = createSessionSealer({ recipient: { publicKey: pkR, kid: keys.kid }, hpke: hpke[s], rng: poolRng() });
          ss.seal({ reading, header });
          const env2 = ss.seal({ reading, header: { ...header, seq: 2 } });
          const opened2 = openReading(env2, { secretKey: skR, hpke: hpke[r] });
          if (opened2.reading.v[100] !== reading.v[100]) throw new Error('session envelope reading differs');
          expectThrows(() => openReading(flip(env), { secretKey: skR, hpke: hpke[r] }), 'openReading');
        }
      },
    );
    if (envOk) ok.add('envelope');
  }
  return ok;
}

// ---------------------------------------------------------------- operations

function opsFor(
  p: Payload,
  keys: Keys,
  hpke: Record<HpkeBackendName, Hpke>,
  core: HpkeCorePeer,
  sodium: Sodium,
  passed: Set<string>,
  coreSender: { seal(pt: ArrayBuffer): Promise<ArrayBuffer> },
): { ops: Map<string, Op>; skipped: string[] } {
  const ops = new Map<string, Op>();
  const skipped: string[] = [];
  const pt = p.plaintext;
  const { pkR, skR } = keys;
  const add = (group: string, name: string, op: Op): void => {
    if (passed.has(group)) ops.set(name, op);
    else skipped.push(name);
  };
  for (const b of ['node', 'noble'] as const) {
    const h = hpke[b];
    const rng = poolRng();
    const eph = { rng };
    const sealed = Array.from({ length: POOL }, () => h.seal(pkR, EMPTY, EMPTY, pt, eph));
    let i = 0;
    add(b, `${b}.seal`, { sync: () => h.seal(pkR, EMPTY, EMPTY, pt, eph) });
    add(b, `${b}.open`, {
      sync: () => {
        const m = sealed[i++ & (POOL - 1)]!;
        return h.open(m.enc, skR, EMPTY, EMPTY, m.ciphertext);
      },
    });
    // session mode: one context per ticket; a fresh sender context every 2^20 messages is never reached here
    const ctx = h.setupBaseS(pkR, EMPTY, eph);
    add('session', `${b}.session-seal`, { sync: () => ctx.seal(pt) });
    const sctx = h.setupBaseS(pkR, EMPTY, eph);
    const sessionCts = Array.from({ length: POOL }, () => sctx.seal(pt));
    const rctx: RecipientContext = h.setupBaseR(sctx.enc, skR, EMPTY);
    let j = 0;
    add('session', `${b}.session-open`, {
      sync: () => {
        const k = j++ & (POOL - 1);
        return rctx.openAt(BigInt(k), sessionCts[k]!);
      },
    });
    if (p.reading) {
      const reading = p.reading;
      const recipient = { publicKey: pkR, kid: keys.kid };
      let seq = 0;
      add('envelope', `${b}.envelope-seal`, {
        sync: () =>
          sealReading({ reading, header: { dev: 'bench-ecg', seq: ++seq, ts: reading.ts, st: reading.st }, recipient, hpke: h, rng }),
      });
      const ss = createSessionSealer({ recipient, hpke: h, rng });
      let sseq = 0;
      add('envelope', `${b}.envelope-session-seal`, {
        sync: () => ss.seal({ reading, header: { dev: 'bench-ecg', seq: ++sseq, ts: reading.ts, st: reading.st } }),
      });
      const envs = Array.from({ length: POOL }, (_, k) =>
        sealReading({ reading, header: { dev: 'bench-ecg', seq: k + 1, ts: reading.ts, st: reading.st }, recipient, hpke: h, rng }),
      );
      let e = 0;
      add('envelope', `${b}.envelope-open`, { sync: () => openReading(envs[e++ & (POOL - 1)]!, { secretKey: skR, hpke: h }) });
    }
  }
  const coreSealed: { enc: Uint8Array; ciphertext: Uint8Array }[] = [];
  for (let k = 0; k < POOL; k++) coreSealed.push(hpke.node.seal(pkR, EMPTY, EMPTY, pt, { rng: poolRng() }));
  let c = 0;
  add('hpke-core', 'hpke-core.seal', { async: () => core.seal(keys.corePk, pt, EMPTY) });
  add('hpke-core', 'hpke-core.open', {
    async: () => {
      const m = coreSealed[c++ & (POOL - 1)]!;
      return core.open(keys.coreSk, m.enc, m.ciphertext, EMPTY);
    },
  });
  const ptBuf = pt.slice().buffer as ArrayBuffer;
  add('hpke-core-session', 'hpke-core.session-seal', { async: () => coreSender.seal(ptBuf) });
  const boxes = Array.from({ length: POOL }, () => sodium.crypto_box_seal(pt, keys.sodiumPk));
  let s = 0;
  add('libsodium', 'libsodium.seal', { sync: () => sodium.crypto_box_seal(pt, keys.sodiumPk) });
  add('libsodium', 'libsodium.open', { sync: () => sodium.crypto_box_seal_open(boxes[s++ & (POOL - 1)]!, keys.sodiumPk, keys.sodiumSk) });
  return { ops, skipped };
}

let sink: unknown;

/** Runs `op` for at least `ms` ms; returns [elapsed ms, calls]. */
async function slice(op: Op, ms: number): Promise<[number, number]> {
  if ('slice' in op) return op.slice(ms); // the C rows: the child times itself (bench/native.ts)
  const start = performance.now();
  let calls = 0;
  let elapsed = 0;
  if ('sync' in op) {
    const f = op.sync;
    while (elapsed < ms) {
      sink = f();
      sink = f();
      calls += 2;
      elapsed = performance.now() - start;
    }
  } else {
    const f = op.async;
    while (elapsed < ms) {
      sink = await f();
      calls++;
      elapsed = performance.now() - start;
    }
  }
  return [elapsed, calls];
}

/** One round: every op for `sampleMs`, in interleaved slices. Returns µs per call. */
async function round1(ops: Map<string, Op>, sampleMs: number, slices: Map<string, number[]>): Promise<Map<string, number>> {
  const passes = Math.max(1, Math.round(sampleMs / SLICE_MS));
  const acc = new Map<string, [number, number]>();
  for (let pass = 0; pass < passes; pass++) {
    for (const [name, op] of ops) {
      const [ms, calls] = await slice(op, sampleMs / passes);
      slices.get(name)?.push((ms * 1000) / calls);
      const a = acc.get(name) ?? [0, 0];
      acc.set(name, [a[0] + ms, a[1] + calls]);
    }
  }
  return new Map([...acc].map(([k, [ms, calls]]) => [k, (ms * 1000) / calls]));
}

// ---------------------------------------------------------------- the suite

export async function runCryptoBench(o: CryptoBenchOptions = {}): Promise<CryptoBenchResult> {
  const quick = o.quick ?? false;
  const rounds = o.rounds ?? (quick ? 3 : 7);
  const sampleMs = o.sampleMs ?? (quick ? 25 : 150);
  const warmupMs = quick ? 10 : 30;
  const progress = o.onProgress ?? (() => undefined);
  const hpke = { node: createHpke('node'), noble: createHpke('noble') };
  const core = createHpkeCorePeer();
  const sodium = await loadSodium();
  const recipient = tempKeyPairGen('bench-patient', poolRng(), hpke.node);
  const sodiumKeys = sodium.crypto_box_keypair();
  const keys: Keys = {
    skR: recipient.secretKey,
    pkR: recipient.publicKey,
    kid: recipient.kid,
    corePk: await core.importPublicKey(recipient.publicKey),
    coreSk: await core.importSecretKey(recipient.secretKey),
    sodiumPk: sodiumKeys.publicKey,
    sodiumSk: sodiumKeys.privateKey,
  };
  progress('crypto: building device-c (make) for the C rows', 0);
  const native = await NativeSeal.start(keys.pkR);
  // every payload is a reading (its CBOR plaintext is 64 B, 1 KiB, or an ECG block): raw HPKE seals those bytes, the envelope the reading
  const payloads: Payload[] = benchPayloads().map((b) => ({ name: b.name, plaintext: b.plaintext, reading: b.reading }));
  const prechecks: Precheck[] = [];
  const results: PayloadResult[] = [];
  const sealBench: SealBenchResult[] = [];
  const steps = payloads.length * 2;
  let step = 0;
  for (const p of payloads) {
    progress(`crypto ${p.name}: prechecks`, step / steps);
    const passed = await precheck(p, keys, hpke, core, sodium, prechecks);
    const coreSender = await core.suite.createSenderContext({ recipientPublicKey: keys.corePk });
    const { ops, skipped } = opsFor(p, keys, hpke, core, sodium, passed, coreSender);
    prechecks.push(...(await native.prepare(p.name, p.plaintext, p.reading, keys.skR, hpke)));
    for (const [name, op] of native.ops()) ops.set(name, op);
    // warm-up (JIT, WebCrypto, wasm), then the rounds
    for (const op of ops.values()) await slice(op, warmupMs);
    const series = new Map<string, number[]>([...ops.keys()].map((k) => [k, []]));
    const slices = new Map<string, number[]>([...ops.keys()].map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      const got = await round1(ops, sampleMs, slices);
      for (const [k, v] of got) series.get(k)!.push(v);
      progress(`crypto ${p.name}: round ${r + 1}/${rounds}`, (step + (r + 1) / rounds) / steps);
    }
    step++;
    const ratios: Record<string, number> = {};
    for (const [name, [num, den]] of Object.entries(RATIO_DEFS)) {
      const a = series.get(num);
      const b = series.get(den);
      if (a && b) ratios[name] = round(median(a.map((x, i) => x / b[i]!)), 3);
    }
    const fastSlices: Record<string, number> = Object.fromEntries([...slices].map(([k, v]) => [k, round(quantile(v, FAST_QUANTILE), 2)]));
    const fastRatios: Record<string, number> = {};
    for (const [name, [num, den]] of Object.entries(RATIO_DEFS)) {
      if (fastSlices[num] !== undefined && fastSlices[den] !== undefined) fastRatios[name] = round(fastSlices[num]! / fastSlices[den]!, 3);
    }
    // primitive sum (bench/seal.ts) on this plaintext length
    progress(`crypto ${p.name}: primitive sum (bench/seal.ts)`, step / steps);
    let primitives: PayloadResult['primitives'] = null;
    // quick mode: the primitive sum only for the 64-byte reading (the target); full mode: every payload
    if (passed.has('node') && passed.has('noble') && (!quick || results.length === 0)) {
      const sb = runSealBench({
        quick,
        payloads: [p.name],
        ...(quick ? {} : { samples: 5, sampleMs: 150, warmupMs: 300 }),
      });
      sealBench.push(sb);
      const entry = (b: HpkeBackendName) => {
        const x = sb.payloads[0]!.backends.find((y) => y.backend === b)!;
        const r = (v: number | undefined): number => round(v ?? NaN, 3);
        return {
          primitiveSumUs: round(x.sealPrimitiveSum, 2),
          openPrimitiveSumUs: round(x.openPrimitiveSum, 2),
          sealUs: round(x.wall.seal?.median ?? NaN, 2),
          sealReadingUs: round(x.wall.sealReading?.median ?? NaN, 2),
          openReadingUs: round(x.wall.openReading?.median ?? NaN, 2),
          sealRatio: r(x.ratios.hpkeSealVsSum?.median),
          sealRatioFastSlices: r(x.ratiosFastSlices.hpkeSealVsSum),
          sealRatioRange: [r(x.ratios.hpkeSealVsSum?.min), r(x.ratios.hpkeSealVsSum?.max)] as const,
          sealRatioCpu: r(x.ratiosCpu.hpkeSealVsSum),
          openRatio: r(x.ratios.hpkeOpenVsSum?.median),
          sealReadingRatio: r(x.ratios.sealReadingVsSum?.median),
          sealReadingRatioRange: [r(x.ratios.sealReadingVsSum?.min), r(x.ratios.sealReadingVsSum?.max)] as const,
          sealReadingRatioFastSlices: r(x.ratiosFastSlices.sealReadingVsSum),
          sealReadingVsHpke: r(x.ratios.sealReadingVsHpke?.median),
          openReadingRatio: r(x.ratios.openReadingVsSum?.median),
          openReadingRatioRange: [r(x.ratios.openReadingVsSum?.min), r(x.ratios.openReadingVsSum?.max)] as const,
          openReadingRatioFastSlices: r(x.ratiosFastSlices.openReadingVsSum),
          openReadingVsHpke: r(x.ratios.openReadingVsHpke?.median),
        };
      };
      primitives = { node: entry('node'), noble: entry('noble') };
    }
    step++;
    results.push({
      payload: p.name,
      bytes: p.plaintext.length,
      ops: Object.fromEntries([...series].map(([k, v]) => [k, roundMeasurement(measurement(v, 'µs/op', ALLOWED_SPREAD.cpu))])),
      ratios,
      fastSlices,
      fastRatios,
      primitives,
      skipped,
    });
    native.floorOf(p.name, results.at(-1)!);
  }
  native.close();
  void sink;
  const small = results[0]!;
  const target = (value: number | undefined, goal: number, comparison: '>=' | '<='): CryptoTarget => {
    const v = value ?? NaN;
    return { value: v, target: goal, met: comparison === '>=' ? v >= goal : v <= goal };
  };
  return {
    config: { rounds, sampleMs, sliceMs: SLICE_MS, warmupMs, info: 0, aad: 'empty for raw payloads; Enc_structure for envelopes' },
    peers: {
      hpkeCore: `@hpke/core ${'DhkemX25519HkdfSha256 (WebCrypto X25519) + HkdfSha256'} + ChaCha20Poly1305 adapter on @noble/ciphers (as @hpke/chacha20poly1305 does; that package is not installed)`,
      libsodium: `libsodium-wrappers (libsodium ${sodiumVersion(sodium)}, WebAssembly) crypto_box_seal / crypto_box_seal_open`,
    },
    prechecks,
    payloads: results,
    targets: {
      nodeVsLibsodium: target(small.ratios['libsodium.seal / node.envelope-seal'], 2, '>='),
      nodeVsHpkeCore: target(small.ratios['hpke-core.seal / node.envelope-seal'], 8, '>='),
      nodeVsPrimitiveSum: target(small.primitives?.node.sealReadingRatio, 1.15, '<='),
      nobleVsPrimitiveSum: target(small.primitives?.noble.sealReadingRatio, 1.05, '<='),
      nodeOpenVsPrimitiveSum: target(small.primitives?.node.openReadingRatio, 1.15, '<='),
      fastSlices: {
        nodeVsLibsodium: small.fastRatios['libsodium.seal / node.envelope-seal'] ?? NaN,
        nodeVsHpkeCore: small.fastRatios['hpke-core.seal / node.envelope-seal'] ?? NaN,
        nodeVsPrimitiveSum: small.primitives?.node.sealReadingRatioFastSlices ?? NaN,
        nobleVsPrimitiveSum: small.primitives?.noble.sealReadingRatioFastSlices ?? NaN,
        nodeOpenVsPrimitiveSum: small.primitives?.node.openReadingRatioFastSlices ?? NaN,
      },
      hpkeOnly: {
        nodeVsLibsodium: small.ratios['libsodium.seal / node.seal'] ?? NaN,
        nodeVsHpkeCore: small.ratios['hpke-core.seal / node.seal'] ?? NaN,
        nodeVsPrimitiveSum: small.primitives?.node.sealRatio ?? NaN,
        nobleVsPrimitiveSum: small.primitives?.noble.sealRatio ?? NaN,
        nodeOpenVsPrimitiveSum: small.primitives?.node.openRatio ?? NaN,
      },
    },
    sealBench,
    native: native.summary(),
  };
}

function roundMeasurement(m: Measurement): Measurement {
  return { ...m, median: round(m.median, 2), min: round(m.min, 2), max: round(m.max, 2), samples: m.samples.map((x) => round(x, 2)) };
}
