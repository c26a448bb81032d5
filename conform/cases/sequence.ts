/** Sequence numbers (docs/PROTOCOL.md §10.3, §10.5). */
import { fail, pass, type ConformCase } from '../case.ts';
import { decodedReadings, describeReading, firstCopies, listSome } from './common.ts';

export const SEQUENCE_CASES: ConformCase[] = [
  {
    id: 'SEQ-01',
    title: 'seq increases by one per sealed reading: new readings come in order, without gaps',
    section: '§10.3, §8.7',
    group: 'sequence',
    async run(ctx) {
      await ctx.sample(4);
      const firsts = firstCopies(decodedReadings(ctx));
      const problems: string[] = [];
      for (let i = 1; i < firsts.length; i++) {
        const a = firsts[i - 1]!.header!.seq;
        const b = firsts[i]!.header!.seq;
        if (b !== a + 1) problems.push(`seq ${b} came right after seq ${a}`);
      }
      if (problems.length > 0)
        return fail(
          'seq n + 1 after seq n',
          listSome(problems, (s) => s, 4),
        );
      return pass({ expected: 'consecutive seqs', received: `seq ${firsts[0]?.header?.seq} … ${firsts.at(-1)?.header?.seq}, consecutive` });
    },
  },
  {
    id: 'SEQ-02',
    title: 'A seq is never used for two different envelopes over the whole run (no re-sealing, no reuse)',
    section: '§10.3, §10.5',
    group: 'whole-run',
    async run(ctx) {
      await ctx.ticketedDevice();
      const bySeq = new Map<number, string>();
      const reused: string[] = [];
      let n = 0;
      for (const r of decodedReadings(ctx)) {
        n++;
        const s = r.header!.seq;
        const id = bySeq.get(s);
        if (id === undefined) bySeq.set(s, r.recordId);
        else if (id !== r.recordId)
          reused.push(`${describeReading(r)}: another envelope with seq ${s} (record ${id.slice(0, 12)}… vs ${r.recordId.slice(0, 12)}…)`);
      }
      if (reused.length > 0)
        return fail(
          'one envelope per seq (a resend is the same bytes)',
          listSome(reused, (s) => s, 3),
        );
      return pass({ expected: 'one envelope per seq', received: `${bySeq.size} seqs over ${n} envelopes` });
    },
  },
];
