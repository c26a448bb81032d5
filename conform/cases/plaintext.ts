/** The reading plaintext (docs/PROTOCOL.md §4, §10.4). */
import { fail, pass, type CaseOutcome, type ConformCase } from '../case.ts';
import type { ConformContext } from '../context.ts';
import { isCanonicalCbor, type InspectedReading } from '../intake.ts';
import { describeReading, listSome, openedReadings } from './common.ts';

const SAMPLE = 3;

/** Registered sensor types (§4.2): unit, number of values, integral values. */
export const REGISTERED_SENSORS: Readonly<Record<string, { u: string; count: number; integral: boolean }>> = {
  spo2: { u: '%,bpm', count: 2, integral: true },
  ecg: { u: 'uV', count: 250, integral: true },
  nibp: { u: 'mmHg,bpm', count: 4, integral: true },
  cgm: { u: 'mg/dL', count: 1, integral: true },
  temp: { u: '°C', count: 1, integral: false },
};

/** Judges every reading with a plaintext (opened) by `problem`. */
async function everyPlaintext(
  ctx: ConformContext,
  expected: string,
  problem: (r: InspectedReading) => string | undefined,
  withReadingOnly = true,
): Promise<CaseOutcome> {
  await ctx.sample(SAMPLE);
  const rs = ctx.observations.readings(0).filter((r) => (withReadingOnly ? r.reading !== undefined : r.plaintext !== undefined));
  if (rs.length === 0) return fail(expected, 'no reading opened with the kit’s keys');
  const bad: Array<[InspectedReading, string]> = [];
  for (const r of rs) {
    const p = problem(r);
    if (p !== undefined) bad.push([r, p]);
  }
  if (bad.length > 0)
    return fail(expected, `${bad.length} of ${rs.length}: ${listSome(bad, ([r, p]) => `${describeReading(r)}: ${p}`, 3)}`);
  return pass({ expected, received: `${rs.length} plaintexts conform` });
}

/** `--profile` names (the simulator's profiles and their aliases) → registered sensor type; any other name is taken as a sensor type. */
export const PROFILE_SENSOR_TYPES: Readonly<Record<string, string>> = {
  'pulse-oximeter': 'spo2',
  spo2: 'spo2',
  'ecg-patch': 'ecg',
  ecg: 'ecg',
  'nibp-cuff': 'nibp',
  nibp: 'nibp',
  cgm: 'cgm',
  thermometer: 'temp',
  temp: 'temp',
};

export const PLAINTEXT_CASES: ConformCase[] = [
  {
    id: 'PT-01',
    title: 'The plaintext is a strict CBOR map of exactly st, ts, v (1–400 finite numbers), u',
    section: '§4.1',
    group: 'plaintext',
    run: (ctx) =>
      everyPlaintext(
        ctx,
        'the strict reading decoder accepts every plaintext',
        (r) => (r.readingError ? `${r.readingError} (${r.plaintext!.length}-byte plaintext; its bytes stay out of the report)` : undefined),
        false,
      ),
  },
  {
    id: 'PT-02',
    title: 'The plaintext is deterministically encoded (keys u, v, st, ts; integers as integers; 8-byte floats)',
    section: '§2.3, §4.1',
    group: 'plaintext',
    run: (ctx) =>
      everyPlaintext(ctx, 'plaintext = its deterministic encoding', (r) =>
        isCanonicalCbor(r.plaintext!, { maxDepth: 2, maxItems: 400, maxStringBytes: 128 })
          ? undefined
          : `not deterministic (${r.plaintext!.length} bytes; the plaintext stays out of the report)`,
      ),
  },
  {
    id: 'PT-03',
    title: "The plaintext's st and ts equal the protected header's",
    section: '§4.1, §5.7',
    group: 'plaintext',
    run: (ctx) =>
      everyPlaintext(ctx, 'reading.st = header st and reading.ts = header ts', (r) =>
        r.reading!.st !== r.header!.st || r.reading!.ts !== r.header!.ts
          ? `plaintext st ${JSON.stringify(r.reading!.st)} ts ${r.reading!.ts}, header st ${JSON.stringify(r.header!.st)} ts ${r.header!.ts}`
          : undefined,
      ),
  },
  {
    id: 'PT-04',
    title: 'A registered sensor type uses its registered unit and value layout',
    section: '§4.2',
    group: 'plaintext',
    run: (ctx) =>
      everyPlaintext(
        ctx,
        'registered st → registered u and number of values (spo2 %,bpm ×2; ecg uV ×250; nibp mmHg,bpm ×4; cgm mg/dL ×1; temp °C ×1)',
        (r) => {
          const reg = REGISTERED_SENSORS[r.reading!.st];
          if (!reg) return undefined;
          if (r.reading!.u !== reg.u) return `st ${r.reading!.st} with u ${JSON.stringify(r.reading!.u)}`;
          if (r.reading!.v.length !== reg.count) return `st ${r.reading!.st} with ${r.reading!.v.length} values`;
          return undefined;
        },
      ),
  },
  {
    id: 'PT-05',
    title: 'Integral sensor values (spo2, ecg, nibp, cgm) are sent as integers',
    section: '§4.2',
    group: 'plaintext',
    run: (ctx) =>
      everyPlaintext(ctx, 'integers for the integral sensor types', (r) => {
        const reg = REGISTERED_SENSORS[r.reading!.st];
        if (!reg?.integral) return undefined;
        const i = r.reading!.v.findIndex((x) => !Number.isInteger(x));
        return i < 0 ? undefined : `value #${i} of ${r.reading!.v.length} is not an integer`;
      }),
  },
  {
    id: 'PT-06',
    title: "ts is plausible: within 5 min of the kit's clock at first sending, within the ticket's validity",
    section: '§10.4, §7.4',
    group: 'plaintext',
    async run(ctx) {
      await ctx.sample(SAMPLE);
      const skew = ctx.bounds.tsSkewMs;
      const seen = new Set<number>();
      const bad: string[] = [];
      let n = 0;
      for (const r of openedReadings(ctx)) {
        const h = r.header!;
        if (seen.has(h.seq)) continue; // a resend arrives later than it was measured, legitimately
        seen.add(h.seq);
        n++;
        const t = ctx.ticketOf(r.kidHex!);
        if (Math.abs(r.at - h.ts) > skew)
          bad.push(`${describeReading(r)}: ts ${h.ts} is ${Math.round((r.at - h.ts) / 1000)} s from the kit's clock`);
        else if (t && (h.ts < t.fields.nbf * 1000 - skew || h.ts > t.fields.exp * 1000 + skew))
          bad.push(`${describeReading(r)}: ts ${h.ts} outside the ticket [${t.fields.nbf}, ${t.fields.exp}] s`);
      }
      if (bad.length > 0)
        return fail(
          `|ts − arrival| ≤ ${skew} ms and nbf ≤ ts ≤ exp`,
          listSome(bad, (s) => s, 3),
        );
      return pass({ expected: 'plausible ts', received: `${n} readings plausible` });
    },
  },
  {
    id: 'PT-07',
    title: 'Readings are of the declared profile: st is its sensor type (--profile)',
    section: '§4.2',
    group: 'plaintext',
    applies: (ctx) => (ctx.expectedSensorType === undefined ? 'no --profile given' : undefined),
    run: (ctx) =>
      everyPlaintext(ctx, `st ${JSON.stringify(ctx.expectedSensorType)}`, (r) =>
        r.reading!.st === ctx.expectedSensorType ? undefined : `st ${JSON.stringify(r.reading!.st)}`,
      ),
  },
];
