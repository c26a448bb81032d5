import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { MAX_SEQ, type Hpke, type HpkeBackendName } from '../../protocol/hpke/index.ts';
import { HPKE_BACKENDS, createHpke } from '../../protocol/node.ts';
import { computeNonce, checkSeq } from '../../protocol/hpke/context.ts';
import { hkdfExpand } from '../../protocol/hpke/labeled.ts';
import { noblePrimitives } from '../../protocol/hpke/noble.ts';
import { nodePrimitives } from '../../protocol/hpke/node.ts';
import { ERROR_CODES, VitalsealError, type ErrorCode } from '../../protocol/errors.ts';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { fixedRng, seededRng } from '../../protocol/rng.ts';
import { runs } from '../support/fuzz.ts';

interface Vector {
  mode: number;
  info: string;
  ikmR: string;
  ikmE: string;
  ikmS?: string;
  skRm: string;
  pkRm: string;
  skEm: string;
  pkEm: string;
  skSm?: string;
  pkSm?: string;
  enc: string;
  shared_secret: string;
  key: string;
  base_nonce: string;
  exporter_secret: string;
  encryptions: { aad: string; ct: string; nonce: string; pt: string }[];
  exports: { exporter_context: string; L: number; exported_value: string }[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/rfc9180-x25519-sha256-chacha20poly1305.json', import.meta.url), 'utf8'),
) as Vector[];

const hex = (b: Uint8Array): string => toHex(b);
const EMPTY = new Uint8Array(0);

function expectCode(fn: () => unknown, code: ErrorCode): VitalsealError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VitalsealError);
    expect((e as VitalsealError).code).toBe(code);
    return e as VitalsealError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

/** RFC 9180 Appendix A.2: A.2.1 is base mode, A.2.3 auth mode of this suite. */
const section = (v: Vector): string => (v.mode === 0 ? 'A.2.1 (base)' : 'A.2.3 (auth)');

function senderOf(hpke: Hpke, v: Vector) {
  const info = fromHex(v.info);
  return v.mode === 0
    ? hpke.setupBaseS(fromHex(v.pkRm), info, { ikmE: fromHex(v.ikmE) })
    : hpke.setupAuthS(fromHex(v.pkRm), info, fromHex(v.skSm!), { ikmE: fromHex(v.ikmE) });
}

function recipientOf(hpke: Hpke, v: Vector) {
  const info = fromHex(v.info);
  return v.mode === 0
    ? hpke.setupBaseR(fromHex(v.enc), fromHex(v.skRm), info)
    : hpke.setupAuthR(fromHex(v.enc), fromHex(v.skRm), info, fromHex(v.pkSm!));
}

it('the vector file holds mode 0 and mode 2 with 257 encryptions and 3 exports each', () => {
  expect(vectors.map((v) => v.mode).sort()).toEqual([0, 2]);
  for (const v of vectors) {
    expect(v.encryptions).toHaveLength(257);
    expect(v.exports).toHaveLength(3);
  }
});

describe.each(HPKE_BACKENDS)('%s backend', (backend) => {
  const hpke = createHpke(backend);

  describe.each(vectors.map((v) => [section(v), v] as const))('RFC 9180 %s', (_name, v) => {
    it('DeriveKeyPair(ikmR / ikmE / ikmS) gives skRm/pkRm, skEm/pkEm, skSm/pkSm', () => {
      const r = hpke.deriveKeyPair(fromHex(v.ikmR));
      expect([hex(r.secretKey), hex(r.publicKey)]).toEqual([v.skRm, v.pkRm]);
      const e = hpke.deriveKeyPair(fromHex(v.ikmE));
      expect([hex(e.secretKey), hex(e.publicKey)]).toEqual([v.skEm, v.pkEm]);
      if (v.ikmS !== undefined) {
        const s = hpke.deriveKeyPair(fromHex(v.ikmS));
        expect([hex(s.secretKey), hex(s.publicKey)]).toEqual([v.skSm, v.pkSm]);
      }
      expect(hex(hpke.publicKeyOf(fromHex(v.skRm)))).toBe(v.pkRm);
    });

    it('setup gives enc, key, base_nonce and exporter_secret', () => {
      expect(hex(senderOf(hpke, v).enc)).toBe(v.enc);
      // The same with the ephemeral pair given directly.
      const ephemeral = { secretKey: fromHex(v.skEm), publicKey: fromHex(v.pkEm) };
      const s2 =
        v.mode === 0
          ? hpke.setupBaseS(fromHex(v.pkRm), fromHex(v.info), { ephemeral })
          : hpke.setupAuthS(fromHex(v.pkRm), fromHex(v.info), fromHex(v.skSm!), { ephemeral });
      expect(hex(s2.enc)).toBe(v.enc);
      const ks = hpke.keyScheduleR(fromHex(v.enc), fromHex(v.skRm), fromHex(v.info), v.mode === 2 ? fromHex(v.pkSm!) : undefined);
      expect([hex(ks.key), hex(ks.baseNonce), hex(ks.exporterSecret)]).toEqual([v.key, v.base_nonce, v.exporter_secret]);
    });

    it(`${section(v).slice(0, 5)}.1 encryptions: all 257 sealed and opened in sequence`, () => {
      const sender = senderOf(hpke, v);
      const recipient = recipientOf(hpke, v);
      v.encryptions.forEach((e, i) => {
        expect(sender.seq).toBe(BigInt(i));
        expect(hex(sender.seal(fromHex(e.pt), fromHex(e.aad)))).toBe(e.ct);
        expect(hex(recipient.open(fromHex(e.ct), fromHex(e.aad)))).toBe(e.pt);
      });
      expect(recipient.seq).toBe(257n);
    });

    it(`${section(v).slice(0, 5)}.1 encryptions: openAt(seq) out of order, and aeadOpen with the disclosed key and nonce`, () => {
      const recipient = recipientOf(hpke, v);
      const key = fromHex(v.key);
      for (let i = v.encryptions.length - 1; i >= 0; i -= 17) {
        const e = v.encryptions[i]!;
        expect(hex(recipient.openAt(BigInt(i), fromHex(e.ct), fromHex(e.aad)))).toBe(e.pt);
        expect(hex(hpke.aeadOpen(key, fromHex(e.nonce), fromHex(e.aad), fromHex(e.ct)))).toBe(e.pt);
        expect(hex(computeNonce(fromHex(v.base_nonce), BigInt(i)))).toBe(e.nonce);
      }
      expect(recipient.seq).toBe(0n);
    });

    it('single-shot seal/open is encryption 0', () => {
      const e = v.encryptions[0]!;
      const [info, aad, pt] = [fromHex(v.info), fromHex(e.aad), fromHex(e.pt)];
      const sealed =
        v.mode === 0
          ? hpke.seal(fromHex(v.pkRm), info, aad, pt, { ikmE: fromHex(v.ikmE) })
          : hpke.sealAuth(fromHex(v.pkRm), info, aad, pt, fromHex(v.skSm!), { ikmE: fromHex(v.ikmE) });
      expect([hex(sealed.enc), hex(sealed.ciphertext)]).toEqual([v.enc, e.ct]);
      const opened =
        v.mode === 0
          ? hpke.open(fromHex(v.enc), fromHex(v.skRm), info, aad, fromHex(e.ct))
          : hpke.openAuth(fromHex(v.enc), fromHex(v.skRm), info, aad, fromHex(e.ct), fromHex(v.pkSm!));
      expect(hex(opened)).toBe(e.pt);
    });

    it(`${section(v).slice(0, 5)}.2 exported values, on both sides`, () => {
      const sender = senderOf(hpke, v);
      const recipient = recipientOf(hpke, v);
      for (const x of v.exports) {
        expect(hex(sender.export(fromHex(x.exporter_context), x.L))).toBe(x.exported_value);
        expect(hex(recipient.export(fromHex(x.exporter_context), x.L))).toBe(x.exported_value);
      }
    });
  });

  describe('failures', () => {
    const recipient = hpke.deriveKeyPair(new Uint8Array(32).fill(7));
    const sender = hpke.deriveKeyPair(new Uint8Array(32).fill(9));
    const info = Uint8Array.of(1, 2, 3);
    const aad = Uint8Array.of(4, 5);
    const pt = new Uint8Array(64).fill(0x42);
    const sealed = hpke.seal(recipient.publicKey, info, aad, pt, { rng: seededRng('tamper') });
    const flip = (b: Uint8Array, i: number): Uint8Array => {
      const c = b.slice();
      c[i]! ^= 1;
      return c;
    };

    it('tampered ciphertext, tag, aad, info or enc, or the wrong key → HPKE_OPEN_FAILED', () => {
      expect(hex(hpke.open(sealed.enc, recipient.secretKey, info, aad, sealed.ciphertext))).toBe(hex(pt));
      for (const i of [0, 31, 63, 64, 79])
        expectCode(() => hpke.open(sealed.enc, recipient.secretKey, info, aad, flip(sealed.ciphertext, i)), 'HPKE_OPEN_FAILED');
      expectCode(() => hpke.open(sealed.enc, recipient.secretKey, info, flip(aad, 1), sealed.ciphertext), 'HPKE_OPEN_FAILED');
      expectCode(() => hpke.open(sealed.enc, recipient.secretKey, info, EMPTY, sealed.ciphertext), 'HPKE_OPEN_FAILED');
      expectCode(() => hpke.open(sealed.enc, recipient.secretKey, flip(info, 0), aad, sealed.ciphertext), 'HPKE_OPEN_FAILED');
      for (const i of [0, 17, 30])
        expectCode(() => hpke.open(flip(sealed.enc, i), recipient.secretKey, info, aad, sealed.ciphertext), 'HPKE_OPEN_FAILED');
      expectCode(() => hpke.open(sealed.enc, sender.secretKey, info, aad, sealed.ciphertext), 'HPKE_OPEN_FAILED');
      expectCode(() => hpke.open(sealed.enc, recipient.secretKey, info, aad, sealed.ciphertext.subarray(0, 79)), 'HPKE_OPEN_FAILED');
      expectCode(() => hpke.open(sealed.enc, recipient.secretKey, info, aad, sealed.ciphertext.subarray(0, 15)), 'HPKE_OPEN_FAILED');
      expectCode(() => hpke.open(sealed.enc, recipient.secretKey, info, aad, EMPTY), 'HPKE_OPEN_FAILED');
    });

    it('a failed context open leaves seq alone; auth open with the wrong pkS fails', () => {
      const s = hpke.setupAuthS(recipient.publicKey, info, sender.secretKey, { rng: seededRng('ctx') });
      const c0 = s.seal(pt, aad);
      const r = hpke.setupAuthR(s.enc, recipient.secretKey, info, sender.publicKey);
      expectCode(() => r.open(flip(c0, 3), aad), 'HPKE_OPEN_FAILED');
      expect(r.seq).toBe(0n);
      expect(hex(r.open(c0, aad))).toBe(hex(pt));
      expect(r.seq).toBe(1n);
      expectCode(() => hpke.setupAuthR(s.enc, recipient.secretKey, info, recipient.publicKey).open(c0, aad), 'HPKE_OPEN_FAILED');
      const single = hpke.sealAuth(recipient.publicKey, info, aad, pt, sender.secretKey, { rng: seededRng('auth') });
      expectCode(
        () => hpke.openAuth(single.enc, recipient.secretKey, info, aad, single.ciphertext, recipient.publicKey),
        'HPKE_OPEN_FAILED',
      );
      expectCode(() => hpke.open(single.enc, recipient.secretKey, info, aad, single.ciphertext), 'HPKE_OPEN_FAILED');
    });

    // RFC 7748 low-order u coordinates (and their non-canonical / high-bit-set encodings).
    const lowOrder = [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0100000000000000000000000000000000000000000000000000000000000000',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      '0000000000000000000000000000000000000000000000000000000000000080',
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880',
    ];

    it.each(lowOrder)('low-order public key %s → HPKE_DH_ALL_ZERO (seal, open, auth)', (pkHex) => {
      const pk = fromHex(pkHex);
      expectCode(() => hpke.seal(pk, info, aad, pt, { rng: seededRng('lo') }), 'HPKE_DH_ALL_ZERO');
      expectCode(() => hpke.open(pk, recipient.secretKey, info, aad, sealed.ciphertext), 'HPKE_DH_ALL_ZERO');
      expectCode(() => hpke.setupBaseR(pk, recipient.secretKey, info), 'HPKE_DH_ALL_ZERO');
      expectCode(() => hpke.setupAuthS(pk, info, sender.secretKey, { rng: seededRng('lo') }), 'HPKE_DH_ALL_ZERO');
      expectCode(() => hpke.setupAuthR(sealed.enc, recipient.secretKey, info, pk), 'HPKE_DH_ALL_ZERO');
    });

    it('wrong key lengths → HPKE_BAD_PUBLIC_KEY / HPKE_BAD_SECRET_KEY; short ikm → HPKE_DERIVE_FAILED', () => {
      const rng = seededRng('len');
      for (const n of [0, 31, 33]) {
        expectCode(() => hpke.seal(new Uint8Array(n), info, aad, pt, { rng }), 'HPKE_BAD_PUBLIC_KEY');
        expectCode(() => hpke.open(new Uint8Array(n), recipient.secretKey, info, aad, sealed.ciphertext), 'HPKE_BAD_PUBLIC_KEY');
        expectCode(() => hpke.open(sealed.enc, new Uint8Array(n), info, aad, sealed.ciphertext), 'HPKE_BAD_SECRET_KEY');
        expectCode(() => hpke.setupAuthS(recipient.publicKey, info, new Uint8Array(n), { rng }), 'HPKE_BAD_SECRET_KEY');
        expectCode(() => hpke.setupAuthR(sealed.enc, recipient.secretKey, info, new Uint8Array(n)), 'HPKE_BAD_PUBLIC_KEY');
        expectCode(() => hpke.publicKeyOf(new Uint8Array(n)), 'HPKE_BAD_SECRET_KEY');
        expectCode(() => hpke.seal(recipient.publicKey, info, aad, pt, { rng: () => new Uint8Array(n) }), 'HPKE_BAD_SECRET_KEY');
        expectCode(() => hpke.generateKeyPair(() => new Uint8Array(n)), 'HPKE_BAD_SECRET_KEY');
      }
      expectCode(
        () => hpke.seal(recipient.publicKey, info, aad, pt, { ephemeral: { secretKey: sender.secretKey, publicKey: recipient.publicKey } }),
        'HPKE_BAD_PUBLIC_KEY',
      );
      expectCode(() => hpke.deriveKeyPair(new Uint8Array(31)), 'HPKE_DERIVE_FAILED');
      expectCode(() => hpke.aeadOpen(new Uint8Array(31), new Uint8Array(12), aad, sealed.ciphertext), 'INPUT_BAD_LENGTH');
      expectCode(() => hpke.aeadOpen(new Uint8Array(32), new Uint8Array(11), aad, sealed.ciphertext), 'INPUT_BAD_LENGTH');
      expectCode(() => hpke.aeadOpen(new Uint8Array(32), new Uint8Array(12), aad, sealed.ciphertext), 'HPKE_OPEN_FAILED');
    });

    it('export lengths: 0 … 255·32 allowed, more → HPKE_EXPORT_TOO_LONG', () => {
      const s = hpke.setupBaseS(recipient.publicKey, info, { rng: seededRng('exp') });
      expect(s.export(EMPTY, 0)).toHaveLength(0);
      expect(s.export(EMPTY, 8160)).toHaveLength(8160);
      for (const n of [8161, -1, 1.5, Number.NaN]) expectCode(() => s.export(EMPTY, n), 'HPKE_EXPORT_TOO_LONG');
    });

    it('sequence numbers: openAt outside 0 … 2^96 − 2 → HPKE_SEQ_OVERFLOW', () => {
      const r = hpke.setupBaseR(sealed.enc, recipient.secretKey, info);
      expectCode(() => r.openAt(MAX_SEQ, sealed.ciphertext, aad), 'HPKE_SEQ_OVERFLOW');
      expectCode(() => r.openAt(-1n, sealed.ciphertext, aad), 'HPKE_SEQ_OVERFLOW');
      expectCode(() => r.openAt(MAX_SEQ - 1n, sealed.ciphertext, aad), 'HPKE_OPEN_FAILED');
      expect(checkSeq(MAX_SEQ - 1n)).toBe(MAX_SEQ - 1n);
      const base = fromHex('000102030405060708090a0b');
      expect(hex(computeNonce(base, MAX_SEQ - 1n))).toBe('fffefdfcfbfaf9f8f7f6f5f5');
      expect(hex(computeNonce(base, 0x0102n))).toBe('000102030405060708090b09');
    });

    it('errors carry the table message only; contexts never print keys', () => {
      const e = expectCode(() => hpke.open(sealed.enc, recipient.secretKey, info, aad, flip(sealed.ciphertext, 0)), 'HPKE_OPEN_FAILED');
      expect(e.message).toBe(ERROR_CODES.HPKE_OPEN_FAILED);
      const ks = hpke.keyScheduleR(sealed.enc, recipient.secretKey, info);
      const r = hpke.setupBaseR(sealed.enc, recipient.secretKey, info);
      for (const shown of [JSON.stringify(r), inspect(r, { showHidden: true, depth: 5 }), String(r)]) {
        expect(shown).not.toContain(hex(ks.key));
        expect(shown).not.toContain(hex(recipient.secretKey));
      }
    });

    it('Buffer keys work, and mutated pkR / pkS / skR Buffers are re-imported (no stale cache)', () => {
      const other = hpke.deriveKeyPair(new Uint8Array(32).fill(13));
      const pk = Buffer.from(recipient.publicKey);
      const toRecipient = hpke.seal(pk, info, aad, pt, { rng: seededRng('b1') });
      pk.set(other.publicKey);
      const toOther = hpke.seal(pk, info, aad, pt, { rng: seededRng('b2') });
      const sk = Buffer.from(recipient.secretKey);
      expect(hex(hpke.open(toRecipient.enc, sk, info, aad, toRecipient.ciphertext))).toBe(hex(pt));
      sk.set(other.secretKey);
      expect(hex(hpke.open(toOther.enc, sk, info, aad, toOther.ciphertext))).toBe(hex(pt));
      const pkS = Buffer.from(sender.publicKey);
      const auth = hpke.sealAuth(recipient.publicKey, info, aad, pt, sender.secretKey, { rng: seededRng('b3') });
      expect(hex(hpke.openAuth(auth.enc, recipient.secretKey, info, aad, auth.ciphertext, pkS))).toBe(hex(pt));
      pkS.set(other.publicKey);
      expectCode(() => hpke.openAuth(auth.enc, recipient.secretKey, info, aad, auth.ciphertext, pkS), 'HPKE_OPEN_FAILED');
    });

    it('a secret key array mutated after use is re-imported (no stale cache)', () => {
      const other = hpke.deriveKeyPair(new Uint8Array(32).fill(11));
      const toOther = hpke.seal(other.publicKey, info, aad, pt, { rng: seededRng('mut') });
      const sk = recipient.secretKey.slice();
      expect(hex(hpke.open(sealed.enc, sk, info, aad, sealed.ciphertext))).toBe(hex(pt));
      expect(hex(hpke.publicKeyOf(sk))).toBe(hex(recipient.publicKey));
      sk.set(other.secretKey);
      expect(hex(hpke.publicKeyOf(sk))).toBe(hex(other.publicKey));
      expect(hex(hpke.open(toOther.enc, sk, info, aad, toOther.ciphertext))).toBe(hex(pt));
      expectCode(() => hpke.open(sealed.enc, sk, info, aad, sealed.ciphertext), 'HPKE_OPEN_FAILED');
    });
  });
});

describe('noble and node backends agree', () => {
  const noble = createHpke('noble');
  const node = createHpke('node');
  const other = (name: HpkeBackendName): Hpke => (name === 'noble' ? node : noble);

  it('byte-identical output for the same seededRng (keys, single-shot, contexts, exports)', () => {
    const run = (hpke: Hpke): string[] => {
      const rng = seededRng('vitalseal/hpke/identical');
      const r = hpke.generateKeyPair(rng);
      const s = hpke.generateKeyPair(rng);
      const out = [hex(r.secretKey), hex(r.publicKey), hex(s.publicKey)];
      const pt = rng(64);
      const one = hpke.seal(r.publicKey, EMPTY, EMPTY, pt, { rng });
      const auth = hpke.sealAuth(r.publicKey, rng(5), rng(7), pt, s.secretKey, { rng });
      out.push(hex(one.enc), hex(one.ciphertext), hex(auth.enc), hex(auth.ciphertext));
      const ctx = hpke.setupBaseS(r.publicKey, rng(9), { rng });
      for (let i = 0; i < 5; i++) out.push(hex(ctx.seal(rng(i * 13), rng(i))));
      out.push(hex(ctx.export(rng(3), 77)), hex(hpke.deriveKeyPair(rng(40)).publicKey));
      return out;
    };
    expect(run(node)).toEqual(run(noble));
  });

  it('both return plain Uint8Array values', () => {
    for (const hpke of [noble, node]) {
      const r = hpke.generateKeyPair(seededRng('types'));
      const sealed = hpke.seal(r.publicKey, EMPTY, EMPTY, Uint8Array.of(1), { rng: seededRng('t') });
      const opened = hpke.open(sealed.enc, r.secretKey, EMPTY, EMPTY, sealed.ciphertext);
      for (const b of [r.publicKey, sealed.enc, sealed.ciphertext, opened, hpke.keyScheduleR(sealed.enc, r.secretKey, EMPTY).key]) {
        expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype);
      }
      // Disclosed key and nonce are exact-length arrays, not views into a larger secret buffer.
      const ks = hpke.keyScheduleR(sealed.enc, r.secretKey, EMPTY);
      expect([ks.key.buffer.byteLength, ks.baseNonce.buffer.byteLength]).toEqual([32, 12]);
    }
  });

  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
  const key32 = bytes(32, 32);

  it('property: seal with one backend, open with the other; outputs and exports are equal (base mode)', () => {
    fc.assert(
      fc.property(
        key32,
        key32,
        bytes(0, 40),
        bytes(0, 40),
        bytes(0, 300),
        fc.constantFrom<HpkeBackendName>('noble', 'node'),
        (skR, skE, info, aad, pt, first) => {
          const a = first === 'noble' ? noble : node;
          const b = other(first);
          const pkR = a.publicKeyOf(skR);
          expect(hex(b.publicKeyOf(skR))).toBe(hex(pkR));
          const ephemeral = { secretKey: skE, publicKey: b.publicKeyOf(skE) };
          const sa = a.setupBaseS(pkR, info, { ephemeral });
          const sb = b.setupBaseS(pkR, info, { ephemeral });
          const ct = sa.seal(pt, aad);
          expect(hex(sb.seal(pt, aad))).toBe(hex(ct));
          expect(hex(b.open(sa.enc, skR, info, aad, ct))).toBe(hex(pt));
          const rb = b.setupBaseR(sa.enc, skR, info);
          expect(hex(rb.openAt(0n, ct, aad))).toBe(hex(pt));
          expect(hex(rb.export(aad, 48))).toBe(hex(sa.export(aad, 48)));
        },
      ),
      { numRuns: runs(60) },
    );
  });

  it('property: auth mode across backends', () => {
    fc.assert(
      fc.property(key32, key32, key32, bytes(0, 20), bytes(0, 20), bytes(0, 100), (skR, skS, skE, info, aad, pt) => {
        const pkR = node.publicKeyOf(skR);
        const pkS = node.publicKeyOf(skS);
        const sealed = noble.sealAuth(pkR, info, aad, pt, skS, { rng: fixedRng(skE) });
        expect(hex(node.sealAuth(pkR, info, aad, pt, skS, { rng: fixedRng(skE) }).ciphertext)).toBe(hex(sealed.ciphertext));
        expect(hex(node.openAuth(sealed.enc, skR, info, aad, sealed.ciphertext, pkS))).toBe(hex(pt));
        const viaNode = node.sealAuth(pkR, info, aad, pt, skS, { rng: fixedRng(skE) });
        expect(hex(noble.openAuth(viaNode.enc, skR, info, aad, viaNode.ciphertext, pkS))).toBe(hex(pt));
      }),
      { numRuns: runs(15) },
    );
  });

  it('property: random 32-byte public keys give the same DH result or the same error on both', () => {
    fc.assert(
      fc.property(key32, key32, (sk, pk) => {
        const outcome = (hpke: Hpke): string => {
          try {
            return hex(hpke.seal(pk, EMPTY, EMPTY, EMPTY, { rng: fixedRng(sk) }).ciphertext);
          } catch (e) {
            return (e as VitalsealError).code;
          }
        };
        expect(outcome(node)).toBe(outcome(noble));
      }),
      { numRuns: runs(30) },
    );
  });

  it('HKDF-Expand (multi-block) matches node:crypto hkdfSync on both primitive sets', () => {
    fc.assert(
      fc.property(bytes(32, 32), bytes(0, 80), fc.integer({ min: 0, max: 1000 }), (prk, info, length) => {
        // hkdfSync(ikm, salt) extracts first; expanding its PRK with our code must give the same bytes.
        const salt = Uint8Array.of(1, 2);
        const expected = length === 0 ? '' : Buffer.from(hkdfSync('sha256', prk, salt, info, length)).toString('hex');
        const ownPrk = noblePrimitives.hmacSha256(salt, prk);
        expect(hex(hkdfExpand(noblePrimitives.hmacSha256, ownPrk, info, length))).toBe(expected);
        expect(hex(hkdfExpand(nodePrimitives.hmacSha256, ownPrk, info, length))).toBe(expected);
      }),
      { numRuns: runs(50) },
    );
  });
});
