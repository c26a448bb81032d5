/** The reading envelope (docs/PROTOCOL.md §2.3, §3.1, §5). */
import { hexOf } from '../evidence.ts';
import { canonicalEnvelopeOf, diagnoseOpen, envelopeStructureProblems, isCanonicalCbor } from '../intake.ts';
import { createHpke } from '../../protocol/node.ts';
import { fail, pass, type CaseOutcome, type ConformCase } from '../case.ts';
import type { ConformContext } from '../context.ts';
import type { InspectedReading } from '../intake.ts';
import { allReadings, decodedReadings, describeReading, listSome } from './common.ts';

const SAMPLE = 3;

/** Judges every reading received so far by `problem` (undefined: fine). */
async function everyReading(
  ctx: ConformContext,
  expected: string,
  problem: (r: InspectedReading) => string | undefined,
  which: (ctx: ConformContext) => InspectedReading[] = allReadings,
): Promise<CaseOutcome> {
  await ctx.sample(SAMPLE);
  const rs = which(ctx);
  const bad: Array<[InspectedReading, string]> = [];
  for (const r of rs) {
    const p = problem(r);
    if (p !== undefined) bad.push([r, p]);
  }
  if (bad.length > 0) {
    const [r0] = bad[0]!;
    return fail(expected, `${bad.length} of ${rs.length} readings: ${listSome(bad, ([r, p]) => `${describeReading(r)}: ${p}`, 3)}`, [
      `first offending envelope: ${hexOf(r0.bytes, 160)}`,
    ]);
  }
  return pass({ expected, received: `${rs.length} readings conform` });
}

export const ENVELOPE_CASES: ConformCase[] = [
  {
    id: 'ENV-01',
    title: 'Every envelope decodes key-less: strict CBOR COSE_Encrypt0, tag 16 or none',
    section: '§5.6, §2.2',
    group: 'envelope',
    run: (ctx) =>
      everyReading(ctx, 'the key-less decoder accepts every envelope', (r) =>
        r.decodeError ? `refused with ${r.decodeError}` : undefined,
      ),
  },
  {
    id: 'ENV-02',
    title:
      'The protected header has exactly the labels alg, dev, seq, ts, st (hs only in session mode, "m": 2 only under a ticket with idk)',
    section: '§5.2, §3.6',
    group: 'envelope',
    run: (ctx) =>
      everyReading(ctx, 'protected labels 1, "dev", "seq", "ts", "st" [, "hs"] [, "m": 2 under a v2 ticket]', (r) => {
        const p = envelopeStructureProblems(r.bytes).filter(
          (x) => x.startsWith('protected') || x.includes('both headers') || x.startsWith('"m"'),
        );
        if (r.header?.m !== undefined && r.kidHex !== undefined && ctx.ticketOf(r.kidHex)?.fields.idk === undefined)
          p.push('"m": 2 (HPKE Auth mode) under a ticket without idk');
        return p.length > 0 ? p.join('; ') : undefined;
      }),
  },
  {
    id: 'ENV-03',
    title: 'alg is HPKE-4 (42): X25519, HKDF-SHA256, ChaCha20Poly1305',
    section: '§3.1, §5.2',
    group: 'envelope',
    run: (ctx) =>
      everyReading(ctx, 'alg 42 in the protected header', (r) => {
        const p = envelopeStructureProblems(r.bytes).filter((x) => x.startsWith('alg'));
        return p.length > 0 ? p.join('; ') : r.decodeError === 'ENVELOPE_UNKNOWN_ALG' ? 'ENVELOPE_UNKNOWN_ALG' : undefined;
      }),
  },
  {
    id: 'ENV-04',
    title: 'The unprotected header is exactly {4: kid (16 bytes), -4: ek (32 bytes)}',
    section: '§5.3, §3.3',
    group: 'envelope',
    run: (ctx) =>
      everyReading(ctx, 'unprotected {4: kid 16 bytes, -4: ek 32 bytes}', (r) => {
        const p = envelopeStructureProblems(r.bytes).filter((x) => /^(unprotected|kid|ek)/.test(x));
        return p.length > 0 ? p.join('; ') : undefined;
      }),
  },
  {
    id: 'ENV-05',
    title: 'The kid is the kid of the ticket in use',
    section: '§5.5, §7.1',
    group: 'envelope',
    async run(ctx) {
      const t = await ctx.ticketedDevice();
      const rs = await ctx.sample(SAMPLE);
      const unknown = decodedReadings(ctx).filter((r) => r.openError === 'KIT_UNKNOWN_KID');
      if (unknown.length > 0)
        return fail(
          `every kid is one of a ticket the kit issued (current ${t.kidHex})`,
          listSome(unknown, (r) => `${describeReading(r)}: kid ${r.kidHex}`),
        );
      return pass({ expected: `kid ${t.kidHex}`, received: `${rs.length} readings under it` });
    },
  },
  {
    id: 'ENV-06',
    title: 'The header dev is the device id',
    section: '§5.2, §10.1',
    group: 'envelope',
    run: (ctx) =>
      everyReading(
        ctx,
        `dev = ${JSON.stringify(ctx.deviceId)}`,
        (r) => (r.header && r.header.dev !== ctx.deviceId ? `dev ${JSON.stringify(r.header.dev)}` : undefined),
        decodedReadings,
      ),
  },
  {
    id: 'ENV-07',
    title: 'No envelope is larger than 4096 bytes',
    section: '§5.8',
    group: 'envelope',
    run: (ctx) => everyReading(ctx, 'at most 4096 bytes', (r) => (r.bytes.length > 4096 ? `${r.bytes.length} bytes` : undefined)),
  },
  {
    id: 'ENV-08',
    title: 'The protected header is deterministically encoded',
    section: '§2.3, §5.2',
    group: 'envelope',
    run: (ctx) =>
      everyReading(
        ctx,
        'protected header bytes = their Core Deterministic Encoding (keys 1, "hs", "st", "ts", "dev", "seq")',
        (r) =>
          r.decoded && !isCanonicalCbor(r.decoded.protectedBytes) ? `protected header ${hexOf(r.decoded.protectedBytes, 64)}` : undefined,
        decodedReadings,
      ),
  },
  {
    id: 'ENV-09',
    title: 'The envelope is deterministically encoded (it is hashed: the record id)',
    section: '§2.3, §5.9, §11.1',
    group: 'envelope',
    run: (ctx) =>
      everyReading(
        ctx,
        'envelope bytes = the deterministic encoding of its items',
        (r) => {
          const c = canonicalEnvelopeOf(r);
          if (!c) return undefined;
          return c.length === r.bytes.length && c.every((b, i) => b === r.bytes[i])
            ? undefined
            : `deterministic form would be ${hexOf(c, 48)}`;
        },
        decodedReadings,
      ),
  },
  {
    id: 'ENV-10',
    title: "Every envelope opens with the ticket's key: AAD = Enc_structure, info empty",
    section: '§5.4, §5.5, §5.7',
    group: 'envelope',
    run: (ctx) =>
      everyReading(
        ctx,
        "HPKE OpenBase (OpenAuth with the ticket's idk under a v2 ticket) with the patient key, aad = [\"Encrypt0\", protected, h''], info = h''",
        (r) => {
          if (r.openError === undefined || r.openError === 'KIT_UNKNOWN_KID') return undefined;
          if (r.openError !== 'ENVELOPE_DECRYPT_FAILED') return r.openError;
          const key = ctx.secretKeyOf(r.kidHex!);
          const why = key ? diagnoseOpen(r, key, createHpke('node')) : undefined;
          return `ENVELOPE_DECRYPT_FAILED${why ? ` (${why})` : ''}`;
        },
        decodedReadings,
      ),
  },
];
