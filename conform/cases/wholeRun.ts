/** Judged over everything the device sent during the run (docs/PROTOCOL.md §3.5, §5.5, §16). */
import { toHex } from '../../protocol/bytes.ts';
import { encodeCanonical } from '../../protocol/cbor/index.ts';
import { fail, pass, type ConformCase } from '../case.ts';
import { describeReading, listSome, openedReadings } from './common.ts';
import { usesSessionMode } from './session.ts';

/** Whether `needle` occurs in `hay`. */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  if (needle.length === 0 || needle.length > hay.length) return false;
  const first = needle[0]!;
  outer: for (let i = hay.indexOf(first); i !== -1 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

export const WHOLE_RUN_CASES: ConformCase[] = [
  {
    id: 'KEY-01',
    title: 'A fresh ephemeral key for every reading: no ek repeats over the run',
    section: '§5.5, §3.5',
    group: 'whole-run',
    async applies(ctx) {
      return (await usesSessionMode(ctx)) ? 'session mode: one ek per context by design (SES-01, SES-02)' : undefined;
    },
    async run(ctx) {
      const byEk = new Map<string, string>();
      const repeats: string[] = [];
      let n = 0;
      for (const r of ctx.observations.readings(0)) {
        if (!r.ekHex) continue;
        n++;
        const id = byEk.get(r.ekHex);
        if (id === undefined) byEk.set(r.ekHex, r.recordId);
        else if (id !== r.recordId) repeats.push(`${describeReading(r)}: ek ${r.ekHex.slice(0, 16)}… already used`);
      }
      if (repeats.length > 0)
        return fail(
          'every envelope (other than a resend) has its own ek',
          listSome(repeats, (s) => s, 3),
        );
      return pass({ expected: 'no ek repeated', received: `${byEk.size} distinct ek over ${n} envelopes` });
    },
  },
  {
    id: 'PRIV-01',
    title: 'No plaintext leaves the device: no reading, or its values, appears in anything it sent',
    section: '§1.1, §5.5, §16',
    group: 'whole-run',
    async run(ctx) {
      await ctx.sample(1);
      const opened = openedReadings(ctx).slice(-200);
      const sent: Uint8Array[] = [];
      for (const e of ctx.observations.since(0)) {
        if (e.kind === 'reading') sent.push(e.reading.bytes);
        else if (e.kind === 'status') sent.push(e.raw);
      }
      const leaks: string[] = [];
      for (const r of opened) {
        const needles = [r.plaintext!, new TextEncoder().encode(toHex(r.plaintext!))];
        const v = encodeCanonical([...r.reading!.v]);
        if (v.length >= 8) needles.push(v);
        // the values as text (a JSON status): "[97,60]", "97,60"
        const text = r.reading!.v.join(',');
        if (text.length >= 5) needles.push(new TextEncoder().encode(text));
        for (const hay of sent)
          if (needles.some((nd) => contains(hay, nd))) {
            leaks.push(`the plaintext of ${describeReading(r)} (or its values) appears in ${hay.length} bytes the device sent`);
            break;
          }
        if (leaks.length >= 3) break;
      }
      if (leaks.length > 0) return fail('plaintext only inside the AEAD ciphertext', leaks.join('; '));
      return pass({
        expected: 'no plaintext on the wire',
        received: `${opened.length} plaintexts searched in ${sent.length} messages: not found`,
      });
    },
  },
];
