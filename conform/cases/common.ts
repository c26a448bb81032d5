/** Helpers shared by the case groups: reading selection, withholding an acknowledgement, waiting for resends. */
import { CaseFailure, type ConformContext } from '../context.ts';
import { describeReading, listSome } from '../evidence.ts';
import type { InspectedReading } from '../intake.ts';

export { describeReading, listSome };

/** Every reading received so far (kept by the bounded log). */
export function allReadings(ctx: ConformContext): InspectedReading[] {
  return ctx.observations.readings(0);
}

/** Readings that decoded key-less. */
export function decodedReadings(ctx: ConformContext): InspectedReading[] {
  return allReadings(ctx).filter((r) => r.header !== undefined);
}

/** Readings that opened with a kit key and decoded as a reading. */
export function openedReadings(ctx: ConformContext): InspectedReading[] {
  return allReadings(ctx).filter((r) => r.reading !== undefined);
}

/** Seqs of the readings received before `mark`. */
export function seqsBefore(ctx: ConformContext, mark: number): Set<number> {
  const s = new Set<number>();
  for (const e of ctx.observations.since(0)) {
    if (e.n >= mark) break;
    if (e.kind === 'reading' && e.reading.header) s.add(e.reading.header.seq);
  }
  return s;
}

/** The highest seq received so far (-1: none). */
export function maxSeqSeen(ctx: ConformContext): number {
  return Math.max(-1, ...allReadings(ctx).flatMap((r) => (r.header ? [r.header.seq] : [])));
}

/** The codes of the statuses numbered `since` or later, for evidence ('none' when there is none). */
export function statusCodes(ctx: ConformContext, since: number): string {
  const codes = ctx.observations
    .statuses(since)
    .map((s) => s.status.code)
    .filter((c) => c !== undefined);
  return codes.join(', ') || 'none';
}

/** The first copy of every seq, in arrival order. */
export function firstCopies(readings: readonly InspectedReading[]): InspectedReading[] {
  const seen = new Set<number>();
  const out: InspectedReading[] = [];
  for (const r of readings) {
    const s = r.header?.seq;
    if (s === undefined || seen.has(s)) continue;
    seen.add(s);
    out.push(r);
  }
  return out;
}

/**
 * Withholds the acknowledgement of the next reading with a seq not seen before (every other reading
 * is acknowledged) and returns that reading. Fails the case when no new reading comes.
 */
export async function withholdNextReading(ctx: ConformContext): Promise<{ target: InspectedReading; mark: number }> {
  await ctx.ticketedDevice();
  const mark = ctx.observations.mark;
  const seen = seqsBefore(ctx, mark);
  let target: number | undefined;
  ctx.transport.ackPolicy = (r) => {
    const s = r.header?.seq;
    if (s === undefined) return true;
    if (target === undefined && !seen.has(s)) target = s;
    return s !== target;
  };
  const t = await ctx.waitFor(
    (e) => (e.kind === 'reading' && target !== undefined && e.reading.header?.seq === target ? e.reading : undefined),
    {
      since: mark,
      timeoutMs: ctx.bounds.readingTimeoutMs,
    },
  );
  if (!t)
    throw new CaseFailure({
      expected: `a new reading within ${ctx.bounds.readingTimeoutMs} ms`,
      received: ctx.silenceSummary(mark),
    });
  return { target: t, mark };
}

/** The first copy of `seq` numbered after `since`, waiting up to `timeoutMs`. */
export function waitForSeq(ctx: ConformContext, seq: number, since: number, timeoutMs: number): Promise<InspectedReading | undefined> {
  return ctx.waitFor((e) => (e.kind === 'reading' && e.reading.header?.seq === seq ? e.reading : undefined), { since, timeoutMs });
}

/** Readings of one seq after `since`. */
export function copiesOf(ctx: ConformContext, seq: number, since = 0): InspectedReading[] {
  return ctx.observations.readings(since).filter((r) => r.header?.seq === seq);
}
