/** Session mode (docs/PROTOCOL.md §6). Applies only to a device that seals in session mode (its envelopes carry "hs"). */
import { fail, pass, type ConformCase } from '../case.ts';
import type { ConformContext } from '../context.ts';
import type { InspectedReading } from '../intake.ts';
import { decodedReadings, firstCopies, listSome } from './common.ts';

/** Whether the device seals in session mode (its first readings say). */
export async function usesSessionMode(ctx: ConformContext): Promise<boolean> {
  const rs = await ctx.sample(2);
  return rs.some((r) => r.header?.hs !== undefined);
}

const onlySession = async (ctx: ConformContext): Promise<string | undefined> =>
  (await usesSessionMode(ctx)) ? undefined : 'the device seals single-shot (no "hs"): session mode is optional';

/** The envelopes of each context (by ek), first copies, in arrival order. */
function contexts(rs: readonly InspectedReading[]): Map<string, InspectedReading[]> {
  const m = new Map<string, InspectedReading[]>();
  for (const r of firstCopies(rs)) {
    if (!r.ekHex) continue;
    const list = m.get(r.ekHex) ?? [];
    list.push(r);
    m.set(r.ekHex, list);
  }
  return m;
}

export const SESSION_CASES: ConformCase[] = [
  {
    id: 'SES-01',
    title: 'Session mode: one ek per context, hs 0, 1, 2, … one per envelope',
    section: '§6.1',
    group: 'session',
    applies: onlySession,
    async run(ctx) {
      await ctx.sample(4);
      const problems: string[] = [];
      for (const [ek, list] of contexts(decodedReadings(ctx))) {
        const hs = list.map((r) => r.header!.hs);
        if (hs[0] !== 0) problems.push(`context ${ek.slice(0, 8)}… starts at hs ${hs[0]}`);
        for (let i = 1; i < hs.length; i++)
          if (hs[i] !== (hs[i - 1] ?? -2) + 1) problems.push(`context ${ek.slice(0, 8)}…: hs ${hs[i]} after ${hs[i - 1]}`);
      }
      if (problems.length > 0)
        return fail(
          'hs from 0, one more per envelope, per ek',
          listSome(problems, (s) => s, 4),
        );
      return pass({ expected: 'hs 0, 1, 2, … per context', received: `${contexts(decodedReadings(ctx)).size} contexts conform` });
    },
  },
  {
    id: 'SES-02',
    title: 'Session mode: no (ek, hs) pair seals two different envelopes over the run',
    section: '§6.1',
    group: 'whole-run',
    applies: onlySession,
    async run(ctx) {
      const seen = new Map<string, string>();
      const twice: string[] = [];
      for (const r of decodedReadings(ctx)) {
        const k = `${r.ekHex}/${r.header!.hs}`;
        const id = seen.get(k);
        if (id === undefined) seen.set(k, r.recordId);
        else if (id !== r.recordId) twice.push(`ek ${r.ekHex!.slice(0, 8)}… hs ${r.header!.hs} (seq ${r.header!.seq})`);
      }
      if (twice.length > 0)
        return fail(
          'every (ek, hs) used once',
          listSome(twice, (s) => s),
        );
      return pass({ expected: 'no (ek, hs) reuse', received: `${seen.size} pairs, each used once` });
    },
  },
  {
    id: 'SES-03',
    title: 'Session mode: a new ticket starts a new context (new ek, hs from 0)',
    section: '§6.1',
    group: 'session',
    applies: onlySession,
    async run(ctx) {
      await ctx.ticketedDevice();
      const before = new Set(decodedReadings(ctx).map((r) => r.ekHex));
      const t = ctx.issue();
      const mark = ctx.observations.mark;
      await ctx.useTicket(t);
      const rs = await ctx.readings(2, { since: mark, filter: (r) => r.kidHex === t.kidHex });
      if (rs.length < 2) return fail('2 readings under the new ticket', ctx.silenceSummary(mark));
      if (rs.some((r) => before.has(r.ekHex))) return fail('a new ek under the new ticket', `ek ${rs[0]!.ekHex} was used before`);
      if (rs[0]!.header!.hs !== 0) return fail('hs 0 for the first envelope of the new context', `hs ${rs[0]!.header!.hs}`);
      return pass({ expected: 'new ek, hs 0', received: `ek ${rs[0]!.ekHex!.slice(0, 8)}…, hs ${rs.map((r) => r.header!.hs).join(', ')}` });
    },
  },
];
