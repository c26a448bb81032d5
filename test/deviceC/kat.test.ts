/**
 * The C sealing core (device-c/, issue #19) against the published vectors, byte for byte, and
 * against the TypeScript library and @hpke/core on random readings.
 *
 * The C driver `vs-kat` (device-c/tests/kat.c) reads one command per line and answers one line
 * each; every test feeds it a batch and compares. Each check runs on the -O2 build and on the
 * -fsanitize=address,undefined build (`make asan`), whose driver allocates every output buffer
 * at exactly the capacity it passes, so a write past the end aborts the run.
 *
 * Vectors reproduced here: envelopes.json, session.json and auth-envelopes.json (HPKE Auth mode, "m": 2) (plaintext, KEM dh / shared secret,
 * key schedule, envelope, record id), keys.json (DeriveKeyPair, EmergencyKeyGen's HKDF, kids),
 * escrow.json (HPKE seal with info and aad; the negatives fail to open), disclosure.json (the
 * disclosed key and nonce of each reading), the RFC 9180 base-mode vector (key schedule, all 257
 * encryptions, exports) and the Ed25519 signatures of tickets.json (the port's verify). Frames and
 * ticket parsing are the device side's (test/deviceC/device*.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NativeSeal } from '../../bench/native.ts';
import { createHpkeCorePeer } from '../../bench/peers/hpkeCore.ts';
import { bytesEqual } from '../../protocol/bytes.ts';
import { decodeEnvelope, encodeReading, envelopeAad, openReading, type Reading } from '../../protocol/envelope/index.ts';
import { keyIdOf } from '../../protocol/keys/index.ts';
import { createHpke, HPKE_BACKENDS } from '../../protocol/node.ts';
import { seededRng } from '../../protocol/rng.ts';
import { deviceCPrograms, skipDeviceC, skipDeviceCReason } from './build.ts';

// biome-ignore lint/suspicious/noExplicitAny: vectors are untyped JSON, checked field by field
type Json = any;

const load = (name: string): Json => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'));
const envelopes = load('vitalseal/envelopes.json');
const session = load('vitalseal/session.json');
const authEnvelopes = load('vitalseal/auth-envelopes.json');
const keys = load('vitalseal/keys.json');
const escrow = load('vitalseal/escrow.json');
const disclosure = load('vitalseal/disclosure.json');
const tickets = load('vitalseal/tickets.json');
const rfc9180: Json[] = load('rfc9180-x25519-sha256-chacha20poly1305.json');

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
/** A byte string argument of vs-kat: hex, "-" when empty. */
const arg = (h: string): string => (h === '' ? '-' : h);
const text = (s: string): string => arg(Buffer.from(s, 'utf8').toString('hex'));

interface Answer {
  readonly ok: boolean;
  /** `err NAME` → NAME. */
  readonly err?: string;
  readonly f: Readonly<Record<string, string>>;
}

function parse(line: string): Answer {
  const [status, ...rest] = line.split(' ');
  const f: Record<string, string> = {};
  let err: string | undefined;
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq < 0) err = part;
    else f[part.slice(0, eq)] = part.slice(eq + 1) === '-' ? '' : part.slice(eq + 1);
  }
  return status === 'ok' ? { ok: true, f } : { ok: false, err: err ?? '?', f };
}

/** Runs a batch of commands through one vs-kat process; one answer per command. */
function kat(bin: string, commands: readonly string[]): Answer[] {
  const r = spawnSync(bin, [], {
    input: `${commands.join('\n')}\n`,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
    env: { ...process.env, ASAN_OPTIONS: 'abort_on_error=1:detect_leaks=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
  });
  if (r.status !== 0) throw new Error(`vs-kat exited with ${r.status ?? r.signal}: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  expect(lines.length, `one answer per command (stderr: ${r.stderr})`).toBe(commands.length);
  return lines.map(parse);
}

/** VALUES of `vs-kat reading`: integers as i<decimal> when every value is a safe integer, else every value's float64 bits. */
function values(v: readonly number[]): string {
  if (v.every((x) => Number.isSafeInteger(x))) return v.map((x) => `i${x}`).join(',');
  return v
    .map((x) => {
      const d = new DataView(new ArrayBuffer(8));
      d.setFloat64(0, x);
      return `f${d.getBigUint64(0).toString(16).padStart(16, '0')}`;
    })
    .join(',');
}

const readingCmd = (r: Reading, cap: number | 'max' = 'max'): string => `reading ${text(r.st)} ${r.ts} ${text(r.u)} ${values(r.v)} ${cap}`;
const sealCmd = (
  h: { dev: string; seq: number; ts: number; st: string },
  pt: string,
  pk: string,
  kid: string,
  skE: string,
  cap: number | 'max' = 'max',
): string => `seal ${text(h.dev)} ${h.seq} ${h.ts} ${text(h.st)} ${arg(pt)} ${pk} ${kid} ${arg(skE)} ${cap}`;
const sealAuthCmd = (
  h: { dev: string; seq: number; ts: number; st: string },
  pt: string,
  pk: string,
  kid: string,
  skS: string,
  skE: string,
  cap: number | 'max' = 'max',
): string => `seal-auth ${text(h.dev)} ${h.seq} ${h.ts} ${text(h.st)} ${arg(pt)} ${pk} ${kid} ${skS} ${arg(skE)} ${cap}`;
const sessionSealCmd = (h: { dev: string; seq: number; ts: number; st: string }, pt: string, cap: number | 'max' = 'max'): string =>
  `session-seal ${text(h.dev)} ${h.seq} ${h.ts} ${text(h.st)} ${arg(pt)} ${cap}`;

const BUILDS = [
  { name: '-O2', asan: false },
  { name: 'ASan+UBSan', asan: true },
] as const;

describe.skipIf(skipDeviceC)(`device-c sealing core${skipDeviceC ? ` (skipped: ${skipDeviceCReason})` : ''}`, () => {
  describe.each(BUILDS)('$name build', ({ asan }) => {
    const bin = (): string => deviceCPrograms({ asan }).kat;

    it('builds with -std=c11 -Wall -Wextra -Werror (make all / make asan)', { timeout: 300_000 }, () => {
      expect(bin()).toMatch(/vs-kat$/);
    });

    it('envelopes.json: every positive vector byte for byte (plaintext, dh, shared secret, key schedule, envelope, record id)', () => {
      const r = envelopes.inputs.recipient;
      const cmds: string[] = [];
      for (const v of envelopes.positive) {
        cmds.push(readingCmd(v.reading));
        cmds.push(sealCmd(v.header, v.plaintext, r.publicKey, r.kid, v.ephemeral.secretKey));
        cmds.push(`encap ${r.publicKey} ${v.ephemeral.secretKey}`);
        cmds.push(`schedule ${v.kem.sharedSecret} ${arg(v.info)}`);
        cmds.push(`sha256 ${v.envelope}`);
      }
      cmds.push(`kid ${r.publicKey}`);
      const a = kat(bin(), cmds);
      envelopes.positive.forEach((v: Json, i: number) => {
        const [reading, seal, encap, schedule, sha] = a.slice(i * 5, i * 5 + 5) as [Answer, Answer, Answer, Answer, Answer];
        expect(reading.f.plaintext, `${v.name} plaintext`).toBe(v.plaintext);
        expect(seal.f.envelope, `${v.name} envelope`).toBe(v.envelope);
        expect(encap.f, `${v.name} KEM`).toEqual({ enc: v.enc, dh: v.kem.dh, shared_secret: v.kem.sharedSecret });
        expect(schedule.f.key, `${v.name} key`).toBe(v.keySchedule.key);
        expect(schedule.f.base_nonce, `${v.name} base_nonce`).toBe(v.keySchedule.baseNonce);
        expect(schedule.f.exporter_secret, `${v.name} exporter_secret`).toBe(v.keySchedule.exporterSecret);
        expect(sha.f.hash, `${v.name} record id`).toBe(v.recordId);
      });
      expect(a.at(-1)!.f.kid).toBe(r.kid);
      expect(envelopes.positive.length).toBeGreaterThanOrEqual(6);
    });

    it('session.json: one context, every message byte for byte (hs 0, 1, …; nonce = base_nonce XOR hs)', () => {
      const r = session.inputs.recipient;
      const eph = session.inputs.ephemeral;
      for (const v of session.positive) {
        const cmds = [
          `session-wipe`,
          `session-setup ${r.publicKey} ${eph.secretKey}`,
          `encap ${r.publicKey} ${eph.secretKey}`,
          `schedule ${v.kem.sharedSecret} -`,
        ];
        for (const m of v.messages) {
          cmds.push(readingCmd(m.reading));
          cmds.push(sessionSealCmd(m.header, m.plaintext));
          const dec = decodeEnvelope(unhex(m.envelope));
          cmds.push(`hpke-open ${r.secretKey} ${hex(dec.enc)} - ${hex(envelopeAad(dec.protectedBytes))} ${hex(dec.ciphertext)} ${m.hs}`);
        }
        const a = kat(bin(), cmds);
        expect(a[1]!.f).toEqual({ enc: v.enc, kid: r.kid });
        expect(a[2]!.f).toEqual({ enc: v.enc, dh: v.kem.dh, shared_secret: v.kem.sharedSecret });
        expect(a[3]!.f.key).toBe(v.keySchedule.key);
        expect(a[3]!.f.base_nonce).toBe(v.keySchedule.baseNonce);
        expect(a[3]!.f.exporter_secret).toBe(v.keySchedule.exporterSecret);
        v.messages.forEach((m: Json, i: number) => {
          const [reading, sealed, opened] = a.slice(4 + i * 3, 7 + i * 3) as [Answer, Answer, Answer];
          expect(reading.f.plaintext, `${v.name} #${i} plaintext`).toBe(m.plaintext);
          expect(sealed.f.envelope, `${v.name} #${i} envelope`).toBe(m.envelope);
          expect(sealed.f.hs).toBe(String(m.hs));
          expect(opened.f.nonce, `${v.name} #${i} nonce`).toBe(m.nonce);
          expect(opened.f.pt).toBe(m.plaintext);
        });
      }
    });

    it('auth-envelopes.json: every positive vector byte for byte in HPKE Auth mode ("m": 2; AuthEncap dh and shared secret, mode_auth key schedule, envelope, record id; the session one message by message)', () => {
      const r = authEnvelopes.inputs.recipient;
      const skS = authEnvelopes.inputs.device.secretKey;
      expect(authEnvelopes.inputs.mode).toBe(2);
      let checked = 0;
      for (const v of authEnvelopes.positive) {
        const cmds = [`auth-encap ${r.publicKey} ${v.ephemeral.secretKey} ${skS}`, `schedule-auth ${v.kem.sharedSecret} -`];
        if (v.messages) {
          cmds.push('session-wipe', `session-setup-auth ${r.publicKey} ${skS} ${v.ephemeral.secretKey}`);
          for (const m of v.messages) cmds.push(readingCmd(m.reading), sessionSealCmd(m.header, m.plaintext), `sha256 ${m.envelope}`);
        } else {
          cmds.push(
            readingCmd(v.reading),
            sealAuthCmd(v.header, v.plaintext, r.publicKey, r.kid, skS, v.ephemeral.secretKey),
            `sha256 ${v.envelope}`,
          );
        }
        const a = kat(bin(), cmds);
        expect(a[0]!.f, `${v.name} AuthEncap`).toEqual({ enc: v.enc, dh: v.kem.dh, shared_secret: v.kem.sharedSecret });
        expect(a[0]!.f.dh!.length, 'dh = DH(skE, pkR) ‖ DH(skS, pkR)').toBe(128);
        expect(a[1]!.f.key_schedule_context!.slice(0, 2), 'mode_auth').toBe('02');
        expect(a[1]!.f.key, `${v.name} key`).toBe(v.keySchedule.key);
        expect(a[1]!.f.base_nonce, `${v.name} base_nonce`).toBe(v.keySchedule.baseNonce);
        expect(a[1]!.f.exporter_secret, `${v.name} exporter_secret`).toBe(v.keySchedule.exporterSecret);
        const msgs: Json[] = v.messages ?? [v];
        const first = v.messages ? 4 : 2;
        if (v.messages) expect(a[3]!.f, `${v.name} SetupAuthS`).toEqual({ enc: v.enc, kid: r.kid });
        msgs.forEach((m: Json, i: number) => {
          const [reading, sealed, sha] = a.slice(first + i * 3, first + i * 3 + 3) as [Answer, Answer, Answer];
          expect(reading.f.plaintext, `${v.name} #${i} plaintext`).toBe(m.plaintext);
          expect(sealed.f.envelope, `${v.name} #${i} envelope`).toBe(m.envelope);
          expect(sealed.f.envelope!.includes(m.protected), `${v.name} #${i} protected header`).toBe(true);
          if (v.messages) expect(sealed.f.hs).toBe(String(m.hs));
          expect(sha.f.hash, `${v.name} #${i} record id`).toBe(m.recordId);
          checked++;
        });
      }
      expect(checked).toBe(authEnvelopes.positive.reduce((n: number, v: Json) => n + (v.messages?.length ?? 1), 0));
      expect(authEnvelopes.positive.length).toBeGreaterThanOrEqual(3);
    });

    it('keys.json: DeriveKeyPair (dkp_prk, sk, pk), EmergencyKeyGen (HKDF-SHA256) and every kid', () => {
      const cmds: string[] = [];
      for (const v of keys.positive) {
        if (v.kind === 'temp') cmds.push(`derive ${v.ikm}`, `kid ${v.publicKey}`);
        else cmds.push(`hkdf ${v.salt} ${v.ikm} - 32`, `sha256 ${v.key}`);
      }
      const a = kat(bin(), cmds);
      keys.positive.forEach((v: Json, i: number) => {
        const [first, second] = [a[2 * i]!, a[2 * i + 1]!];
        if (v.kind === 'temp') {
          expect(first.f, v.name).toEqual({ dkp_prk: v.dkpPrk, sk: v.secretKey, pk: v.publicKey });
          expect(second.f.kid, v.name).toBe(v.kid);
        } else {
          expect(first.f.okm, v.name).toBe(v.key);
          expect(second.f.hash!.slice(0, 32), v.name).toBe(v.kid);
        }
      });
      expect(keys.positive.filter((v: Json) => v.kind === 'emergency').length).toBeGreaterThan(0);
    });

    it('escrow.json: HPKE seal with info and aad byte for byte; every negative fails to open', () => {
      const cmds: string[] = [];
      for (const v of escrow.positive) {
        cmds.push(`hpke-seal ${v.recipientPublicKey} ${v.ephemeral.secretKey} ${arg(v.info)} ${arg(v.aad)} ${arg(v.plaintext)} 0`);
        cmds.push(`encap ${v.recipientPublicKey} ${v.ephemeral.secretKey}`);
        cmds.push(`hpke-open ${v.recipientSecretKey} ${v.enc} ${arg(v.info)} ${arg(v.aad)} ${v.ciphertext} 0`);
      }
      for (const v of escrow.negative)
        cmds.push(`hpke-open ${v.recipientSecretKey} ${v.enc} ${arg(v.info)} ${arg(v.aad)} ${v.ciphertext} 0`);
      const a = kat(bin(), cmds);
      escrow.positive.forEach((v: Json, i: number) => {
        const [sealed, encap, opened] = a.slice(3 * i, 3 * i + 3) as [Answer, Answer, Answer];
        expect(sealed.f.enc, v.name).toBe(v.enc);
        expect(sealed.f.key, v.name).toBe(v.keySchedule.key);
        expect(sealed.f.base_nonce, v.name).toBe(v.keySchedule.baseNonce);
        expect(sealed.f.ct, v.name).toBe(v.ciphertext);
        expect(encap.f.dh, v.name).toBe(v.kem.dh);
        expect(encap.f.shared_secret, v.name).toBe(v.kem.sharedSecret);
        expect(opened.f.pt, v.name).toBe(v.plaintext);
      });
      const negatives = a.slice(3 * escrow.positive.length);
      for (const [i, v] of (escrow.negative as Json[]).entries()) expect(negatives[i]!.err, v.name).toBe('VS_ERR_OPEN');
    });

    it("disclosure.json: the disclosed key and nonce are the C key schedule's (single-shot and session)", () => {
      const cmds = disclosure.positive.map((v: Json) => {
        const dec = decodeEnvelope(unhex(v.envelope));
        return `hpke-open ${v.secretKey} ${hex(dec.enc)} - ${hex(envelopeAad(dec.protectedBytes))} ${hex(dec.ciphertext)} ${dec.header.hs ?? 0}`;
      });
      const a = kat(bin(), cmds);
      disclosure.positive.forEach((v: Json, i: number) => {
        expect(a[i]!.f.key, v.name).toBe(v.key);
        expect(a[i]!.f.nonce, v.name).toBe(v.nonce);
        expect(a[i]!.f.pt, v.name).toBe(hex(encodeReading(v.reading)));
      });
    });

    it('RFC 9180 base-mode vector: DeriveKeyPair, KEM, key schedule, all 257 encryptions both ways, exports', () => {
      const base = rfc9180.filter((v) => v.mode === 0 && v.kem_id === 32 && v.kdf_id === 1 && v.aead_id === 3);
      expect(base.length).toBe(1);
      for (const v of base) {
        const head = [`derive ${v.ikmE}`, `derive ${v.ikmR}`, `encap ${v.pkRm} ${v.skEm}`, `schedule ${v.shared_secret} ${arg(v.info)}`];
        const encs = v.encryptions.flatMap((e: Json, seq: number) => [
          `hpke-seal ${v.pkRm} ${v.skEm} ${arg(v.info)} ${arg(e.aad)} ${arg(e.pt)} ${seq}`,
          `hpke-open ${v.skRm} ${v.enc} ${arg(v.info)} ${arg(e.aad)} ${e.ct} ${seq}`,
        ]);
        const exps = v.exports.map((x: Json) => `export ${v.exporter_secret} ${arg(x.exporter_context)} ${x.L}`);
        const a = kat(bin(), [...head, ...encs, ...exps]);
        expect(a[0]!.f).toEqual({ dkp_prk: expect.any(String), sk: v.skEm, pk: v.pkEm });
        expect(a[1]!.f).toEqual({ dkp_prk: expect.any(String), sk: v.skRm, pk: v.pkRm });
        expect(a[2]!.f).toEqual({ enc: v.enc, dh: expect.any(String), shared_secret: v.shared_secret });
        expect(a[3]!.f).toEqual({
          key_schedule_context: v.key_schedule_context,
          secret: v.secret,
          key: v.key,
          base_nonce: v.base_nonce,
          exporter_secret: v.exporter_secret,
        });
        v.encryptions.forEach((e: Json, seq: number) => {
          expect(a[4 + 2 * seq]!.f.nonce, `nonce #${seq}`).toBe(e.nonce);
          expect(a[4 + 2 * seq]!.f.ct, `ct #${seq}`).toBe(e.ct);
          expect(a[5 + 2 * seq]!.f.pt, `pt #${seq}`).toBe(e.pt);
        });
        expect(v.encryptions.length).toBe(257);
        const off = 4 + 2 * v.encryptions.length;
        for (const [i, x] of (v.exports as Json[]).entries()) expect(a[off + i]!.f.value, `export #${i}`).toBe(x.exported_value);
      }
    });

    it("tickets.json: the port's Ed25519 verify accepts every ticket signature, refuses other keys, flipped bits and S + L", () => {
      const authority = tickets.inputs.authority.publicKey;
      const other = tickets.inputs.otherAuthority.publicKey;
      const cmds: string[] = [];
      const L = (1n << 252n) + 27742317777372353535851937790883648493n;
      for (const v of tickets.positive) {
        const sig = unhex(v.signature);
        const flipped = sig.slice();
        flipped[0]! ^= 1;
        // S + L (< 2^256 for every S < L): the same point equation, a non-canonical S that RFC 8032 §5.1.7 refuses
        let s = 0n;
        for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
        const sPlusL = sig.slice();
        let t = s + L;
        for (let i = 0; i < 32; i++) {
          sPlusL[32 + i] = Number(t & 0xffn);
          t >>= 8n;
        }
        cmds.push(
          `ed25519-verify ${v.signature} ${v.sigStructure} ${authority}`,
          `ed25519-verify ${v.signature} ${v.sigStructure} ${other}`,
          `ed25519-verify ${hex(flipped)} ${v.sigStructure} ${authority}`,
          `ed25519-verify ${hex(sPlusL)} ${v.sigStructure} ${authority}`,
          `ed25519-verify ${v.signature} ${v.sigStructure.slice(0, -2)}${((Number.parseInt(v.sigStructure.slice(-2), 16) ^ 1) & 0xff).toString(16).padStart(2, '0')} ${authority}`,
        );
      }
      const a = kat(bin(), cmds);
      tickets.positive.forEach((v: Json, i: number) => {
        const [good, otherKey, flippedSig, nonCanonical, changedMsg] = a.slice(5 * i, 5 * i + 5) as Answer[];
        expect(good!.ok, v.name).toBe(true);
        for (const bad of [otherKey, flippedSig, nonCanonical, changedMsg]) expect(bad!.err, v.name).toBe('VS_ERR_SIGNATURE');
      });
    });

    it('refuses instead of overflowing: every too small buffer is VS_ERR_BUFFER with the bytes after cap untouched', () => {
      const r = envelopes.inputs.recipient;
      const v = envelopes.positive[0];
      const total = v.envelope.length / 2;
      const ptLen = v.plaintext.length / 2;
      const caps = [0, 1, 2, 40, total - 17, total - 1];
      const cmds = [
        ...caps.map((cap) => sealCmd(v.header, v.plaintext, r.publicKey, r.kid, v.ephemeral.secretKey, cap)),
        ...caps.map((cap) => sealCmd(v.header, v.plaintext, r.publicKey, r.kid, '', cap)),
        sealCmd(v.header, v.plaintext, r.publicKey, r.kid, v.ephemeral.secretKey, total),
        ...[0, 1, 5, ptLen - 1].map((cap) => readingCmd(v.reading, cap)),
        readingCmd(v.reading, ptLen),
        `session-wipe`,
        `session-setup ${r.publicKey} -`,
        ...[0, total, total + 3, total + 4].map((cap) => sessionSealCmd(v.header, v.plaintext, cap)),
      ];
      const a = kat(bin(), cmds);
      for (const x of a.slice(0, 2 * caps.length))
        expect(x).toMatchObject({ ok: false, err: 'VS_ERR_BUFFER', f: { canary: 'ok', len: '0' } });
      expect(a[2 * caps.length]!.f.envelope).toBe(v.envelope);
      for (const x of a.slice(2 * caps.length + 1, 2 * caps.length + 5))
        expect(x).toMatchObject({ ok: false, err: 'VS_ERR_BUFFER', f: { canary: 'ok' } });
      expect(a[2 * caps.length + 5]!.f.plaintext).toBe(v.plaintext);
      const s = a.slice(2 * caps.length + 8);
      // a session envelope has "hs": 0, 4 bytes more than the single-shot one; a refused seal leaves next_hs alone
      for (const x of s.slice(0, 3)) expect(x).toMatchObject({ ok: false, err: 'VS_ERR_BUFFER', f: { canary: 'ok', next_hs: '0' } });
      expect(s[3]!.ok).toBe(true);
      expect(s[3]!.f.hs).toBe('0');
      expect(s[3]!.f.envelope!.length / 2).toBe(total + 4);
    });

    it('refuses inputs the spec forbids (VS_ERR_INPUT, TOO_LARGE, DH_ALL_ZERO, STATE, SEQ_OVERFLOW)', () => {
      const r = envelopes.inputs.recipient;
      const v = envelopes.positive[0];
      const skE = v.ephemeral.secretKey;
      const h = v.header;
      const reading = v.reading as Reading;
      const seal = (hh: Partial<typeof h>, pt = v.plaintext, pk = r.publicKey) => sealCmd({ ...h, ...hh }, pt, pk, r.kid, skE);
      const cases: Array<[string, string, string]> = [
        ['dev with a colon', seal({ dev: 'oxi:01' }), 'VS_ERR_INPUT'],
        ['dev starting with -', seal({ dev: '-oxi' }), 'VS_ERR_INPUT'],
        ['dev of 65 characters', seal({ dev: 'd'.repeat(65) }), 'VS_ERR_INPUT'],
        ['dev empty', seal({ dev: '' }), 'VS_ERR_INPUT'],
        ['st of 33 characters', seal({ st: 's'.repeat(33) }), 'VS_ERR_INPUT'],
        ['seq 2^53', seal({ seq: 2 ** 53 }), 'VS_ERR_INPUT'],
        ['ts 2^53', seal({ ts: 2 ** 53 }), 'VS_ERR_INPUT'],
        ['an envelope over 4096 bytes', seal({}, '00'.repeat(4000)), 'VS_ERR_TOO_LARGE'],
        ['pkR all zero (all-zero DH)', seal({}, v.plaintext, '00'.repeat(32)), 'VS_ERR_DH_ALL_ZERO'],
        [
          'pkR of order 8 (all-zero DH)',
          seal({}, v.plaintext, 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
          'VS_ERR_DH_ALL_ZERO',
        ],
        ['unit with a control character', readingCmd({ ...reading, u: 'mm\u0007Hg' }), 'VS_ERR_INPUT'],
        ['unit of 17 code points', readingCmd({ ...reading, u: '°'.repeat(17) }), 'VS_ERR_INPUT'],
        ['unit empty', readingCmd({ ...reading, u: '' }), 'VS_ERR_INPUT'],
        ['no values', `reading ${text('spo2')} 1 ${text('%')} - max`, 'VS_ERR_INPUT'],
        ['401 values', readingCmd({ ...reading, v: Array.from({ length: 401 }, () => 1) }), 'VS_ERR_INPUT'],
        ['an integer beyond int53', `reading ${text('spo2')} 1 ${text('%')} i9007199254740992 max`, 'VS_ERR_INPUT'],
        ['NaN', `reading ${text('spo2')} 1 ${text('%')} f7ff8000000000000 max`, 'VS_ERR_INPUT'],
        ['+Infinity', `reading ${text('spo2')} 1 ${text('%')} f7ff0000000000000 max`, 'VS_ERR_INPUT'],
        ['sensor type with a slash', readingCmd({ ...reading, st: 'sp/o2' }), 'VS_ERR_INPUT'],
        ['session seal before setup', `session-wipe\n${sessionSealCmd(h, v.plaintext)}`, 'VS_ERR_STATE'],
      ];
      const cmds = cases.flatMap(([, c]) => c.split('\n'));
      const a = kat(bin(), cmds).filter((_, i) => !cmds[i]!.startsWith('session-wipe'));
      for (const [i, [name, , err]] of cases.entries()) expect(a[i]!.err, name).toBe(err);
      // hs runs to 2^53 - 1, then the session refuses (PROTOCOL §6.2: hs is a uint53)
      const o = kat(bin(), [
        `session-setup ${r.publicKey} ${skE}`,
        `session-set-hs ${2 ** 53 - 1}`,
        sessionSealCmd(h, v.plaintext),
        sessionSealCmd(h, v.plaintext),
      ]);
      expect(o[2]!.f.hs).toBe(String(2 ** 53 - 1));
      expect(o[3]).toMatchObject({ ok: false, err: 'VS_ERR_SEQ_OVERFLOW' });
      const names = kat(
        bin(),
        [-1, -2, -3, -4, -5, -6, -7, -8, -9, 0, 7].map((n) => `err-name ${n}`),
      ).map((x) => x.f.name);
      expect(names).toEqual([
        'VS_ERR_BUFFER',
        'VS_ERR_CRYPTO',
        'VS_ERR_INPUT',
        'VS_ERR_TOO_LARGE',
        'VS_ERR_RANDOM',
        'VS_ERR_DH_ALL_ZERO',
        'VS_ERR_SEQ_OVERFLOW',
        'VS_ERR_STATE',
        'VS_ERR_OPEN',
        'VS_OK',
        'VS_ERR_UNKNOWN',
      ]);
    });
  });

  describe('interoperability (-O2 build)', () => {
    const bin = (): string => deviceCPrograms().kat;
    const rng = seededRng('test/deviceC/kat interop');
    /** A uniform-enough integer in [0, n) from the seeded generator. */
    const int = (n: number): number => new DataView(rng(4).buffer).getUint32(0) % n;
    const SPECIAL = [
      0,
      -0,
      1,
      -1,
      23,
      24,
      -24,
      -25,
      255,
      256,
      65535,
      65536,
      2 ** 32 - 1,
      2 ** 32,
      -(2 ** 32),
      -(2 ** 32) - 1,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      2 ** 53,
      2 ** 64,
      1e300,
      -1e-300,
      0.1,
      36.85,
      104.5,
      3.4028234663852886e38,
      5e-324,
    ];
    const randomValue = (floats: boolean): number => {
      if (!floats) return int(2) === 0 ? int(2000) - 1000 : (int(2 ** 31) - 2 ** 30) * 2 ** int(22);
      if (int(3) === 0) return SPECIAL[int(SPECIAL.length)]!;
      const d = new DataView(rng(8).buffer);
      const x = d.getFloat64(0);
      return Number.isFinite(x) ? x : 0.5;
    };
    const UNITS = ['%,bpm', 'uV', 'mmHg,bpm', 'mg/dL', '°C', 'µmol/L', '𝄞x', 'a b c'];
    const ID = 'ABCabc019._-';
    const randomId = (max: number): string => {
      const len = 1 + int(max);
      let s = 'Aa0'[int(3)]!;
      for (let i = 1; i < len; i++) s += ID[int(ID.length)]!;
      return s;
    };
    const randomReading = (): Reading => {
      const floats = int(2) === 0;
      const n = 1 + (int(4) === 0 ? int(400) : int(8));
      return {
        st: randomId(32),
        ts: int(2 ** 31) * 2 ** int(22),
        u: UNITS[int(UNITS.length)]!,
        v: Array.from({ length: n }, () => randomValue(floats)),
      };
    };
    const recipient = keys.positive[0];
    const N = 60;
    const cases = Array.from({ length: N }, (_, i) => {
      const reading = randomReading();
      return { reading, header: { dev: randomId(64), seq: i * 2 ** int(40), ts: reading.ts, st: reading.st } };
    });

    it(`encodes ${N} random readings exactly as protocol's encodeReading (ints, float64, -0, int53 edges, 400 values)`, () => {
      const a = kat(
        bin(),
        cases.map((c) => readingCmd(c.reading)),
      );
      for (const [i, c] of cases.entries())
        expect(a[i]!.f.plaintext, JSON.stringify(c.reading).slice(0, 200)).toBe(hex(encodeReading(c.reading)));
    });

    it(`${N} envelopes sealed by C with fresh ephemeral keys open with openReading (node and noble) and @hpke/core`, async () => {
      const pts = kat(
        bin(),
        cases.map((c) => readingCmd(c.reading)),
      ).map((x) => x.f.plaintext!);
      const sealed = kat(
        bin(),
        cases.map((c, i) => sealCmd(c.header, pts[i]!, recipient.publicKey, recipient.kid, '')),
      ).map((x) => unhex(x.f.envelope!));
      const core = createHpkeCorePeer();
      const coreSk: webcrypto.CryptoKey = await core.importSecretKey(unhex(recipient.secretKey));
      const encs = new Set<string>();
      for (const [i, env] of sealed.entries()) {
        for (const backend of HPKE_BACKENDS) {
          const opened = openReading(env, { secretKey: unhex(recipient.secretKey), hpke: createHpke(backend) });
          expect(opened.reading).toEqual({ ...cases[i]!.reading, v: cases[i]!.reading.v.map((x) => (Object.is(x, -0) ? 0 : x)) });
          expect(opened.header).toMatchObject(cases[i]!.header);
          expect(opened.header.hs).toBeUndefined();
        }
        const dec = decodeEnvelope(env);
        expect(hex(dec.kid)).toBe(recipient.kid);
        const pt = await core.open(coreSk, dec.enc, dec.ciphertext, envelopeAad(dec.protectedBytes));
        expect(hex(pt)).toBe(pts[i]);
        expect(env[0]).toBe(0xd0); // tagged 16 (§5.9)
        encs.add(hex(dec.enc));
      }
      expect(encs.size, 'a fresh ephemeral key per reading').toBe(N);
    });

    it('a C session (fresh ephemeral key) opens with openReading (node and noble) and with an @hpke/core recipient context in order', async () => {
      const pts = kat(
        bin(),
        cases.map((c) => readingCmd(c.reading)),
      ).map((x) => x.f.plaintext!);
      const a = kat(bin(), [`session-setup ${recipient.publicKey} -`, ...cases.map((c, i) => sessionSealCmd(c.header, pts[i]!))]);
      const enc = a[0]!.f.enc!;
      expect(a[0]!.f.kid).toBe(recipient.kid);
      const envs = a.slice(1).map((x) => unhex(x.f.envelope!));
      const core = createHpkeCorePeer();
      const ctx = await core.suite.createRecipientContext({
        recipientKey: await core.importSecretKey(unhex(recipient.secretKey)),
        enc: unhex(enc).slice().buffer as ArrayBuffer,
      });
      for (const [i, env] of envs.entries()) {
        const dec = decodeEnvelope(env);
        expect(hex(dec.enc)).toBe(enc);
        expect(dec.header.hs).toBe(i);
        for (const backend of HPKE_BACKENDS) {
          const opened = openReading(env, { secretKey: unhex(recipient.secretKey), hpke: createHpke(backend) });
          expect(opened.reading.v.length).toBe(cases[i]!.reading.v.length);
        }
        const pt = new Uint8Array(
          await ctx.open(dec.ciphertext.slice().buffer as ArrayBuffer, envelopeAad(dec.protectedBytes).slice().buffer as ArrayBuffer),
        );
        expect(bytesEqual(pt, unhex(pts[i]!))).toBe(true);
      }
      // a different (ek, hs) in every envelope, never the same nonce twice
      expect(new Set(envs.map((e) => decodeEnvelope(e).header.hs)).size).toBe(N);
    });
  });

  describe('Auth mode interoperability (-O2 build)', () => {
    const bin = (): string => deviceCPrograms().kat;
    const hpkeNoble = createHpke('noble');
    const patient = hpkeNoble.deriveKeyPair(new TextEncoder().encode('patient:device-c-auth-mode-0000000000000'));
    const identity = hpkeNoble.deriveKeyPair(new TextEncoder().encode('device:device-c-auth-identity-000000000'));
    const other = hpkeNoble.deriveKeyPair(new TextEncoder().encode('gateway:device-c-auth-forger-0000000000'));
    const pkR = hex(patient.publicKey);
    const kid = hex(keyIdOf(patient.publicKey));
    const reading: Reading = { st: 'spo2', ts: 1_767_225_600_000, u: '%,bpm', v: [97, 72] };
    const header = (seq: number) => ({ dev: 'oxi-01', seq, ts: reading.ts, st: 'spo2' });
    const open = (env: Uint8Array, backend: (typeof HPKE_BACKENDS)[number], senderPublicKey?: Uint8Array) =>
      openReading(env, { secretKey: patient.secretKey, hpke: createHpke(backend), ...(senderPublicKey ? { senderPublicKey } : {}) });
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
        return undefined;
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };

    it('20 C Auth-mode envelopes (fresh ephemeral keys) open with the identity key on node and noble; another sender key or none is refused', () => {
      const pt = kat(bin(), [readingCmd(reading)])[0]!.f.plaintext!;
      const a = kat(
        bin(),
        Array.from({ length: 20 }, (_, i) => sealAuthCmd(header(i), pt, pkR, kid, hex(identity.secretKey), '')),
      );
      const encs = new Set<string>();
      for (const [i, x] of a.entries()) {
        const env = unhex(x.f.envelope!);
        const dec = decodeEnvelope(env);
        expect(dec.header.m).toBe(2);
        encs.add(hex(dec.enc));
        for (const backend of HPKE_BACKENDS) {
          const opened = open(env, backend, identity.publicKey);
          expect(opened.reading).toEqual(reading);
          expect(opened.header).toMatchObject({ ...header(i), m: 2 });
          expect(
            code(() => open(env, backend, other.publicKey)),
            backend,
          ).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
          expect(
            code(() => open(env, backend)),
            backend,
          ).toBe('ENVELOPE_NO_SENDER_KEY');
        }
      }
      expect(encs.size).toBe(20);
    });

    it('a C Auth-mode session opens with the identity key on node and noble ("m": 2, hs 0, 1, …); another sender key is refused', () => {
      const pt = kat(bin(), [readingCmd(reading)])[0]!.f.plaintext!;
      const a = kat(bin(), [
        `session-setup-auth ${pkR} ${hex(identity.secretKey)} -`,
        ...Array.from({ length: 10 }, (_, i) => sessionSealCmd(header(100 + i), pt)),
      ]);
      expect(a[0]!.f.kid).toBe(kid);
      for (const [i, x] of a.slice(1).entries()) {
        const env = unhex(x.f.envelope!);
        const dec = decodeEnvelope(env);
        expect(hex(dec.enc)).toBe(a[0]!.f.enc);
        expect(dec.header).toMatchObject({ m: 2, hs: i });
        for (const backend of HPKE_BACKENDS) {
          expect(open(env, backend, identity.publicKey).reading).toEqual(reading);
          expect(
            code(() => open(env, backend, other.publicKey)),
            backend,
          ).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
        }
      }
    });

    it('Auth mode refuses instead of overflowing: a buffer one byte short is VS_ERR_BUFFER with the bytes after cap untouched', () => {
      const v = authEnvelopes.positive[0];
      const r = authEnvelopes.inputs.recipient;
      const skS = authEnvelopes.inputs.device.secretKey;
      const len = v.envelope.length / 2;
      for (const k of [0, 1]) {
        const a = kat(deviceCPrograms({ asan: k === 1 }).kat, [
          sealAuthCmd(v.header, v.plaintext, r.publicKey, r.kid, skS, v.ephemeral.secretKey, len - 1),
          sealAuthCmd(v.header, v.plaintext, r.publicKey, r.kid, skS, v.ephemeral.secretKey, len),
        ]);
        expect(a[0]).toMatchObject({ ok: false, err: 'VS_ERR_BUFFER', f: { canary: 'ok', len: '0' } });
        expect(a[1]!.f.envelope).toBe(v.envelope);
      }
    });

    it('a base-mode C envelope has no "m" and is refused under a ticket that certifies an identity key', () => {
      const pt = kat(bin(), [readingCmd(reading)])[0]!.f.plaintext!;
      const env = unhex(kat(bin(), [sealCmd(header(1), pt, pkR, kid, '')])[0]!.f.envelope!);
      expect(decodeEnvelope(env).header.m).toBeUndefined();
      for (const backend of HPKE_BACKENDS) expect(code(() => open(env, backend, identity.publicKey))).toBe('ENVELOPE_ORIGIN_UNVERIFIED');
    });
  });

  it('vs-bench --stack measures the peak stack of every public call (the figures of device-c/README.md)', () => {
    const { bench } = deviceCPrograms();
    const r = spawnSync(bench, ['--stack'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const bytes = (name: string): number => Number(new RegExp(`^${name}[^\\n]*?(\\d+)$`, 'm').exec(r.stdout)?.[1]);
    for (const call of ['vs_kid_of', 'vs_reading_encode', 'vs_seal_reading', 'vs_session_setup', 'vs_session_seal']) {
      expect(bytes(call), `${call} in:\n${r.stdout}`).toBeGreaterThan(0);
      expect(bytes(call), call).toBeLessThan(16 * 1024);
    }
    // the seal includes an X25519 and an HMAC chain: more than the AEAD-only session seal
    expect(bytes('vs_seal_reading')).toBeGreaterThan(bytes('vs_reading_encode'));
  });

  it('bench/native.ts: the C rows start, pass their prechecks on node and noble, and time themselves', async () => {
    const r = keys.positive[0];
    const native = await NativeSeal.start(unhex(r.publicKey));
    try {
      expect(native.summary().status, native.summary().reason).toBe('measured');
      const reading = envelopes.positive[0].reading as Reading;
      const hpke = { node: createHpke('node'), noble: createHpke('noble') };
      const checks = await native.prepare('spo2', encodeReading(reading), reading, unhex(r.secretKey), hpke);
      expect(checks.length).toBe(2);
      for (const c of checks) expect(c.ok, `${c.name}: ${c.detail}`).toBe(true);
      const ops = native.ops();
      expect([...ops.keys()]).toEqual(['c.seal', 'c.envelope-seal', 'c.session-seal']);
      for (const op of ops.values()) {
        const [ms, calls] = await op.slice(2);
        expect(calls).toBeGreaterThan(0);
        expect(ms).toBeGreaterThan(0);
      }
      native.floorOf('spo2', {
        ops: { 'c.seal': { median: 100 }, 'node.seal': { median: 200 }, 'libsodium.seal': { median: Number.NaN } },
        fastSlices: { 'c.seal': 90, 'node.seal': 80 },
      });
      expect(native.summary().floor.spo2).toEqual({
        op: 'c.seal',
        us: 100,
        rows: { 'c.seal': 100, 'node.seal': 200 },
        fastOp: 'node.seal',
        fastUs: 80,
      });
    } finally {
      native.close();
    }
  });

  it('no heap in the sealing core: its objects in libvitalseal-device.a reference no malloc, calloc, realloc or free', () => {
    const { lib } = deviceCPrograms();
    const r = spawnSync('nm', ['-u', lib], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    // nm -u on an archive: a "member.o:" line, then that member's undefined symbols
    const byMember = new Map<string, string[]>();
    let member = '';
    for (const line of r.stdout.split('\n').map((l) => l.trim())) {
      if (line.endsWith('.o:')) byMember.set((member = line.slice(0, -1)), []);
      else if (line.length > 0) byMember.get(member)?.push(line.split(/\s+/).at(-1)!);
    }
    const core = ['err.o', 'fields.o', 'cbor_enc.o', 'hpke.o', 'reading.o', 'envelope.o', 'session.o'];
    for (const m of core) {
      expect(byMember.has(m), `${m} is in the library`).toBe(true);
      for (const bad of ['malloc', 'calloc', 'realloc', 'free', 'aligned_alloc', 'posix_memalign'])
        expect(byMember.get(m), `${m} must not call ${bad}`).not.toContain(bad);
    }
    expect(byMember.get('envelope.o')).toContain('vs_port_aead_seal');
  });
});
