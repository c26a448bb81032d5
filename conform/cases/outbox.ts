/**
 * The outbox across a link loss and a reboot (docs/PROTOCOL.md §8.7, §10.3, §3.5, §6.1, §7.3): the
 * kit withholds acknowledgements, then drops the link (or power-cycles the device), and judges what
 * comes back. One link loss and one reboot serve several cases (their observations are shared).
 */
import { fail, pass, type CaseOutcome, type ConformCase } from '../case.ts';
import { CaseFailure, type ConformContext } from '../context.ts';
import type { InspectedReading } from '../intake.ts';
import { describeReading, firstCopies, listSome, maxSeqSeen, seqsBefore } from './common.ts';
import { usesSessionMode } from './session.ts';

/** What came back after the kit withheld acks and then cut the device off. */
interface Comeback {
  /** First copies of the readings whose acks were withheld. */
  readonly withheld: InspectedReading[];
  /** Seqs acknowledged at least 1 s before the cut. */
  readonly acked: Set<number>;
  readonly maxSeqBefore: number;
  readonly eksBefore: Set<string>;
  /** Record ids of every envelope received before the cut. */
  readonly recordsBefore: Set<string>;
  /** Event number of the cut. */
  readonly cut: number;
  /** Readings after the cut. */
  readonly after: InspectedReading[];
  /** Whether every withheld reading came back within the wait. */
  readonly allBack: boolean;
  /** Reboot only: new readings came under the ticket in use although the kit handed out no ticket. */
  readonly ticketKept?: boolean;
  readonly onlineSeq?: number | undefined;
  /** The smallest seq at or above onlineSeq sent after the online status (Infinity: none). */
  readonly nextAfterOnline?: number | undefined;
}

const WITHHELD = 2;

async function comeback(ctx: ConformContext, kind: 'link' | 'reboot'): Promise<Comeback> {
  const key = `comeback:${kind}`;
  const cached = ctx.scratch.get(key) as Comeback | CaseFailure | undefined;
  if (cached instanceof CaseFailure) throw cached;
  if (cached) return cached;
  try {
    const c = await observeComeback(ctx, kind);
    ctx.scratch.set(key, c);
    return c;
  } catch (e) {
    if (e instanceof CaseFailure) ctx.scratch.set(key, e);
    throw e;
  }
}

async function observeComeback(ctx: ConformContext, kind: 'link' | 'reboot'): Promise<Comeback> {
  const ticket = await ctx.ticketedDevice();
  await ctx.sleep(1000);
  const mark = ctx.observations.mark;
  const acked = seqsBefore(ctx, mark);
  ctx.transport.ackPolicy = (r) => r.header === undefined || acked.has(r.header.seq);
  const fresh = await ctx.readings(WITHHELD, { since: mark, filter: (r) => r.header !== undefined && !acked.has(r.header.seq) });
  const withheld = firstCopies(fresh);
  if (withheld.length < WITHHELD) throw new CaseFailure({ expected: `${WITHHELD} new readings`, received: ctx.silenceSummary(mark) });
  const eksBefore = new Set(ctx.observations.readings(0).flatMap((r) => (r.ekHex ? [r.ekHex] : [])));
  if (kind === 'reboot') await ctx.transport.withholdTicket();
  ctx.transport.ackPolicy = () => true;
  const cut = ctx.observations.mark;
  const maxBeforeCut = maxSeqSeen(ctx);
  if (kind === 'link') await ctx.transport.dropLink(1000);
  else await ctx.reboot();
  const seqs = withheld.map((r) => r.header!.seq);
  const isNew = (r: InspectedReading): boolean => r.header !== undefined && r.header.seq > maxBeforeCut;
  const waitMs = ctx.bounds.resendBoundMs + ctx.bounds.backoffCapMs + ctx.bounds.readingTimeoutMs * 2;
  const done = (): true | undefined => {
    const after = ctx.observations.readings(cut);
    return seqs.every((s) => after.some((r) => r.header?.seq === s)) && after.filter(isNew).length >= 2 ? true : undefined;
  };
  let allBack = (await ctx.waitFor(() => done(), { since: cut, timeoutMs: waitMs })) === true;
  let ticketKept: boolean | undefined;
  if (kind === 'reboot') {
    ticketKept = ctx.observations.readings(cut).some((r) => isNew(r) && r.kidHex === ticket.kidHex);
    if (!ticketKept) {
      await ctx.useTicket(ctx.current ?? ticket);
      allBack = (await ctx.waitFor(() => done(), { since: cut, timeoutMs: waitMs })) === true;
    }
  }
  const after = ctx.observations.readings(cut);
  const firstAfter = after[0]?.index ?? Number.POSITIVE_INFINITY;
  const recordsBefore = new Set(
    ctx.observations
      .readings(0)
      .filter((r) => r.index < firstAfter)
      .map((r) => r.recordId),
  );
  const online = ctx.observations.statuses(cut).find((s) => s.status.state === 'online');
  const onlineSeq = online?.status.seq;
  const nextAfterOnline =
    online && onlineSeq !== undefined
      ? Math.min(...ctx.observations.readings(online.n).flatMap((r) => (r.header && r.header.seq >= onlineSeq ? [r.header.seq] : [])))
      : undefined;
  return {
    withheld,
    acked,
    maxSeqBefore: maxBeforeCut,
    eksBefore,
    recordsBefore,
    cut,
    after,
    allBack,
    ...(ticketKept !== undefined ? { ticketKept } : {}),
    ...(kind === 'reboot' ? { onlineSeq, nextAfterOnline } : {}),
  };
}

/** `ordered`: judge the order too (a device that saw the loss resends its outbox in seq order; over a serial line it cannot see the kit's port closing, and each reading's own resend timer decides). */
function judgeReplay(c: Comeback, what: string, ordered = true): CaseOutcome {
  const problems: string[] = [];
  for (const w of c.withheld) {
    const copies = c.after.filter((r) => r.header?.seq === w.header!.seq);
    if (copies.length === 0) problems.push(`seq ${w.header!.seq} never came back`);
    for (const r of copies)
      if (r.recordId !== w.recordId) problems.push(`seq ${w.header!.seq} came back with other bytes (${describeReading(r)})`);
  }
  const order = firstCopies(c.after.filter((r) => c.withheld.some((w) => w.header!.seq === r.header?.seq))).map((r) => r.header!.seq);
  const sorted = [...order].sort((a, b) => a - b);
  if (ordered && order.join() !== sorted.join()) problems.push(`resent in the order ${order.join(', ')}`);
  if (problems.length > 0)
    return fail(
      `after ${what}: seq ${c.withheld.map((w) => w.header!.seq).join(', ')} resent byte for byte, in seq order`,
      problems.join('; '),
    );
  return pass({
    expected: `unacknowledged readings resent after ${what}`,
    received: `seq ${order.join(', ')} resent, identical, in order`,
  });
}

function judgeNoReplay(c: Comeback, what: string): CaseOutcome {
  const again = c.after.filter((r) => r.header && c.acked.has(r.header.seq));
  if (again.length > 0) return fail(`after ${what}: no acknowledged reading sent again`, listSome(again, describeReading));
  return pass({ expected: 'acknowledged readings not replayed', received: `none of ${c.acked.size} acknowledged seqs came back` });
}

const needsReboot = (ctx: ConformContext): string | undefined => (ctx.canReboot ? undefined : ctx.rebootUnavailable);

export const OUTBOX_CASES: ConformCase[] = [
  {
    id: 'OBX-01',
    title: 'After a link loss every unacknowledged reading is resent, byte for byte (in seq order on MQTT)',
    section: '§8.7',
    group: 'outbox',
    run: async (ctx) => judgeReplay(await comeback(ctx, 'link'), 'a link loss', ctx.mqtt !== undefined),
  },
  {
    id: 'OBX-02',
    title: 'After a link loss acknowledged readings are not resent',
    section: '§8.7',
    group: 'outbox',
    run: async (ctx) => judgeNoReplay(await comeback(ctx, 'link'), 'a link loss'),
  },
  {
    id: 'OBX-03',
    title: 'After a reboot every unacknowledged reading is resent from NVM, byte for byte, in seq order',
    section: '§8.7',
    group: 'reboot',
    applies: needsReboot,
    run: async (ctx) => judgeReplay(await comeback(ctx, 'reboot'), 'a reboot'),
  },
  {
    id: 'OBX-04',
    title: 'After a reboot acknowledged readings are not resent',
    section: '§8.7',
    group: 'reboot',
    applies: needsReboot,
    run: async (ctx) => judgeNoReplay(await comeback(ctx, 'reboot'), 'a reboot'),
  },
  {
    id: 'SEQ-03',
    title: 'After a reboot seq continues above every seq used before (never reused)',
    section: '§10.3',
    group: 'reboot',
    applies: needsReboot,
    async run(ctx) {
      const c = await comeback(ctx, 'reboot');
      // new envelopes after the reboot (not a resend of one sent before): each must carry a seq never used before
      const fresh = firstCopies(c.after.filter((r) => r.header && !c.recordsBefore.has(r.recordId)));
      if (fresh.length === 0) return fail('new readings after the reboot', 'none');
      const low = fresh.filter((r) => r.header!.seq <= c.maxSeqBefore);
      if (low.length > 0) return fail(`new seqs above ${c.maxSeqBefore}`, listSome(low, describeReading));
      return pass({ expected: `seq from ${c.maxSeqBefore + 1}`, received: `seq ${fresh.map((r) => r.header!.seq).join(', ')}` });
    },
  },
  {
    id: 'SEQ-04',
    title: 'After a reboot the "online" status names the next seq the device uses (above every seq used before)',
    section: '§8.4, §9.6',
    group: 'reboot',
    applies: needsReboot,
    async run(ctx) {
      const c = await comeback(ctx, 'reboot');
      if (c.onlineSeq === undefined) return fail('an "online" status with seq after the reboot', 'none');
      if (c.onlineSeq <= c.maxSeqBefore)
        return fail(`a seq above ${c.maxSeqBefore} (the last used before the reboot)`, `seq ${c.onlineSeq}`);
      if (c.nextAfterOnline !== undefined && Number.isFinite(c.nextAfterOnline) && c.nextAfterOnline !== c.onlineSeq)
        return fail(`the next reading sealed has seq ${c.onlineSeq}`, `seq ${c.nextAfterOnline}`);
      return pass({ expected: `a seq above ${c.maxSeqBefore}, used next`, received: `seq ${c.onlineSeq}` });
    },
  },
  {
    id: 'KEY-02',
    title: 'After a reboot no ephemeral key of before the reboot is used again',
    section: '§3.5, §5.5, §6.1',
    group: 'reboot',
    applies: needsReboot,
    async run(ctx) {
      const c = await comeback(ctx, 'reboot');
      const resent = new Set(c.withheld.map((w) => w.recordId));
      const fresh = c.after.filter((r) => r.ekHex && !resent.has(r.recordId) && r.header && r.header.seq > c.maxSeqBefore);
      const reused = fresh.filter((r) => c.eksBefore.has(r.ekHex!));
      if (reused.length > 0)
        return fail(
          'a new ek for every new reading after the reboot',
          listSome(reused, (r) => `${describeReading(r)}: ek ${r.ekHex!.slice(0, 16)}… used before the reboot`),
        );
      return pass({ expected: 'fresh ephemeral keys', received: `${fresh.length} new readings, all with new ek` });
    },
  },
  {
    id: 'SES-04',
    title: 'Session mode: a reboot starts a new context (new ek, hs from 0)',
    section: '§6.1',
    group: 'reboot',
    async applies(ctx) {
      return needsReboot(ctx) ?? ((await usesSessionMode(ctx)) ? undefined : 'the device seals single-shot (no "hs")');
    },
    async run(ctx) {
      const c = await comeback(ctx, 'reboot');
      const fresh = firstCopies(c.after.filter((r) => r.header && r.header.seq > c.maxSeqBefore));
      if (fresh.length === 0) return fail('new readings after the reboot', 'none');
      if (fresh[0]!.header!.hs !== 0 || c.eksBefore.has(fresh[0]!.ekHex!)) return fail('new ek, hs 0', describeReading(fresh[0]!));
      return pass({ expected: 'new context', received: `hs ${fresh.map((r) => r.header!.hs).join(', ')}` });
    },
  },
  {
    id: 'TKT-12',
    title: 'The ticket in use survives a reboot (kept in NVM, no new ticket needed)',
    section: '§7.3',
    group: 'reboot',
    applies: needsReboot,
    async run(ctx) {
      const c = await comeback(ctx, 'reboot');
      if (c.ticketKept !== true)
        return fail(
          'readings under the ticket in use after the reboot without the kit handing out a ticket',
          'no new reading until the kit sent the ticket again',
        );
      return pass({ expected: 'ticket kept', received: 'new readings under the same kid without a new ticket' });
    },
  },
];
