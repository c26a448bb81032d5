/** Retransmission of unacknowledged readings (docs/PROTOCOL.md §8.7, §10.5). */
import { fail, pass, type ConformCase } from '../case.ts';
import type { ConformContext } from '../context.ts';
import type { InspectedReading } from '../intake.ts';
import { copiesOf, describeReading, firstCopies, listSome, waitForSeq, withholdNextReading } from './common.ts';

interface ResendObservation {
  readonly target: InspectedReading;
  readonly resend: InspectedReading | undefined;
}

/** Withholds one reading's ack and waits for its resend (shared by RTX-01 and RTX-02: one wait). */
async function observeResend(ctx: ConformContext): Promise<ResendObservation> {
  const cached = ctx.scratch.get('rtx') as ResendObservation | undefined;
  if (cached) return cached;
  const { target } = await withholdNextReading(ctx);
  const resend = await waitForSeq(ctx, target.header!.seq, ctx.observations.mark, ctx.bounds.resendBoundMs);
  const o = { target, resend };
  if (resend) {
    ctx.observedResendMs = resend.at - target.at;
    ctx.scratch.set('rtx', o);
  }
  return o;
}

export const RETRANSMISSION_CASES: ConformCase[] = [
  {
    id: 'RTX-01',
    title: 'A reading not acknowledged is sent again within the bound',
    section: '§8.7',
    group: 'retransmission',
    async run(ctx) {
      const { target, resend } = await observeResend(ctx);
      if (!resend) return fail(`seq ${target.header!.seq} sent again within ${ctx.bounds.resendBoundMs} ms (ack withheld)`, 'no resend');
      return pass({
        expected: `a resend within ${ctx.bounds.resendBoundMs} ms`,
        received: `seq ${target.header!.seq} resent after ${resend.at - target.at} ms`,
      });
    },
  },
  {
    id: 'RTX-02',
    title: 'A resend is byte for byte the envelope first sent (never re-sealed)',
    section: '§8.7, §10.5, §5.9',
    group: 'retransmission',
    async run(ctx) {
      const { target, resend } = await observeResend(ctx);
      if (!resend) return fail(`a resend of seq ${target.header!.seq}`, 'no resend within the bound');
      const copies = copiesOf(ctx, target.header!.seq, 0);
      const other = copies.filter((c) => c.recordId !== target.recordId);
      if (other.length > 0)
        return fail(
          `every copy of seq ${target.header!.seq} = record ${target.recordId.slice(0, 16)}…`,
          listSome(
            other,
            (c) => `${describeReading(c)}: record ${c.recordId.slice(0, 16)}…${c.ekHex !== target.ekHex ? ' (new ek: re-sealed)' : ''}`,
          ),
        );
      return pass({ expected: 'identical bytes', received: `${copies.length} copies, identical` });
    },
  },
  {
    id: 'RTX-03',
    title: 'Unacknowledged readings are resent in seq order',
    section: '§8.7',
    group: 'retransmission',
    async run(ctx) {
      await ctx.ticketedDevice();
      const mark = ctx.observations.mark;
      ctx.transport.ackPolicy = () => false;
      // three new readings withheld, then the first resend of each
      const news = await ctx.readings(3, { since: mark, timeoutMs: ctx.bounds.readingTimeoutMs * 3 });
      if (news.length < 3) return fail('3 new readings', `${news.length}: ${ctx.silenceSummary(mark)}`);
      const seqs = [...new Set(news.map((r) => r.header?.seq).filter((s): s is number => s !== undefined))];
      const after = news.at(-1)!;
      const gotAll = await ctx.waitFor(
        () => {
          const later = ctx.observations.readings(mark).filter((r) => r.index > after.index);
          return seqs.every((s) => later.some((r) => r.header?.seq === s)) ? true : undefined;
        },
        { since: mark, timeoutMs: ctx.bounds.resendBoundMs + 1000 },
      );
      const later = firstCopies(ctx.observations.readings(mark).filter((r) => r.index > after.index && seqs.includes(r.header?.seq ?? -1)));
      if (!gotAll) return fail(`resends of seq ${seqs.join(', ')}`, `resent: ${later.map((r) => r.header!.seq).join(', ') || 'none'}`);
      const order = later.map((r) => r.header!.seq);
      const sorted = [...order].sort((a, b) => a - b);
      if (order.join() !== sorted.join()) return fail(`resends in seq order ${sorted.join(', ')}`, `order ${order.join(', ')}`);
      return pass({ expected: 'seq order', received: `resent ${order.join(', ')}` });
    },
  },
  {
    id: 'RTX-04',
    title: 'An acknowledged reading is not sent again',
    section: '§8.7',
    group: 'retransmission',
    async run(ctx) {
      await ctx.ticketedDevice();
      await ctx.sleep(1000); // every reading before now has been acknowledged at least 1 s ago
      const mark = ctx.observations.mark;
      const acked = new Set(ctx.observations.readings(0).flatMap((r) => (r.header ? [r.header.seq] : [])));
      const wait = ctx.quietWaitMs();
      await ctx.sleep(wait);
      const again = ctx.observations.readings(mark).filter((r) => r.header && acked.has(r.header.seq));
      if (again.length > 0) return fail(`no acknowledged seq sent again within ${wait} ms`, listSome(again, describeReading));
      return pass({ expected: 'no resend of acknowledged readings', received: `none within ${wait} ms` });
    },
  },
];
