/**
 * Session tickets seen from the device (docs/PROTOCOL.md §7.3, §7.4): a ticket that fails a check
 * is refused with the right code in a status, and the ticket in use stays in use; a valid new
 * ticket replaces it at once; a byte-identical one is ignored; one that expires or is used up stops
 * the sealing.
 */
import { TestAuthority } from '../authority.ts';
import { fail, pass, type CaseOutcome, type ConformCase } from '../case.ts';
import type { ConformContext, IssuedTicket } from '../context.ts';
import { describeReading, listSome } from './common.ts';

/** How long a device may take to answer a ticket with a status. */
const STATUS_WAIT_MS = 10_000;

/** A ticket the device must refuse with `code`; the current ticket must stay in use. */
async function refusal(ctx: ConformContext, code: string, make: (ctx: ConformContext) => IssuedTicket | Uint8Array): Promise<CaseOutcome> {
  const current = await ctx.ticketedDevice();
  const bad = make(ctx);
  const bytes = bad instanceof Uint8Array ? bad : bad.bytes;
  const badKid = bad instanceof Uint8Array ? undefined : bad.kidHex;
  const mark = ctx.observations.mark;
  await ctx.transport.offerTicket(bytes);
  const st = await ctx.waitFor(
    (e) => (e.kind === 'status' && (e.status.state === 'error' || e.status.state === 'ticketed') ? e : undefined),
    {
      since: mark,
      timeoutMs: STATUS_WAIT_MS,
    },
  );
  // readings meanwhile: still under the ticket in use (wait for one sealed after the offer)
  const next = await ctx.readings(1, { since: (st?.n ?? mark) + 1, timeoutMs: ctx.bounds.readingTimeoutMs });
  const underBad = badKid ? ctx.observations.readings(mark).filter((r) => r.kidHex === badKid) : [];
  if (!st) return fail(`a status {"state": "error", "code": "${code}"}`, `no status within ${STATUS_WAIT_MS} ms`);
  if (st.status.state !== 'error' || st.status.code !== code)
    return fail(
      `status error ${code}`,
      `status ${st.status.state}${st.status.code ? ` ${st.status.code}` : ''}${st.status.kid ? ` kid ${st.status.kid}` : ''}`,
    );
  if (underBad.length > 0) return fail('nothing sealed under the refused ticket', listSome(underBad, describeReading));
  if (next.length === 0) return fail(`readings go on under the ticket in use (kid ${current.kidHex})`, ctx.silenceSummary(st.n));
  if (next[0]!.kidHex !== current.kidHex) return fail(`the ticket in use (kid ${current.kidHex}) stays in use`, describeReading(next[0]!));
  return pass({
    expected: `refused with ${code}, ticket in use kept`,
    received: `status error ${code}; next reading under kid ${current.kidHex.slice(0, 8)}…`,
  });
}

/** Ticket times relative to the kit's clock, in seconds. */
const nowS = (ctx: ConformContext): number => Math.floor(ctx.now() / 1000);

/** Hands out a fresh valid ticket and waits until the device uses it (the cases that spoil the current one end with it). */
async function restoreTicket(ctx: ConformContext): Promise<IssuedTicket> {
  const t = ctx.issue();
  const mark = ctx.observations.mark;
  await ctx.useTicket(t);
  await ctx.readings(1, { since: mark, filter: (r) => r.kidHex === t.kidHex, timeoutMs: ctx.bounds.readingTimeoutMs * 2 });
  return t;
}

/** Hands out `t` and waits for the status that accepts it; undefined when none comes. */
async function switchTo(ctx: ConformContext, t: IssuedTicket): Promise<{ n: number; seq: number | undefined } | undefined> {
  const mark = ctx.observations.mark;
  await ctx.useTicket(t);
  const st = await ctx.waitFor((e) => (e.kind === 'status' && e.status.state === 'ticketed' && e.status.kid === t.kidHex ? e : undefined), {
    since: mark,
    timeoutMs: STATUS_WAIT_MS,
  });
  return st ? { n: st.n, seq: st.status.seq } : undefined;
}

export const TICKET_CASES: ConformCase[] = [
  {
    id: 'TKT-01',
    title: 'A valid ticket from the pinned authority is accepted and sealed to',
    section: '§7.3, §5.5',
    group: 'tickets',
    async run(ctx) {
      const t = await ctx.ticketedDevice();
      const rs = await ctx.sample(1);
      return pass({ expected: `readings under kid ${t.kidHex}`, received: `${rs.length} readings opened with the ticket's key` });
    },
  },
  {
    id: 'TKT-02',
    title: 'An expired ticket is refused with TICKET_EXPIRED',
    section: '§7.3',
    group: 'tickets',
    run: (ctx) => refusal(ctx, 'TICKET_EXPIRED', (c) => c.issue({ nbf: nowS(c) - 3 * 3600, exp: nowS(c) - 2 * 3600 }, { valid: false })),
  },
  {
    id: 'TKT-03',
    title: 'A ticket not yet valid is refused with TICKET_NOT_YET_VALID',
    section: '§7.3',
    group: 'tickets',
    run: (ctx) => refusal(ctx, 'TICKET_NOT_YET_VALID', (c) => c.issue({ nbf: nowS(c) + 3600, exp: nowS(c) + 7200 }, { valid: false })),
  },
  {
    id: 'TKT-04',
    title: 'A ticket for another device is refused with TICKET_WRONG_DEVICE',
    section: '§7.3',
    group: 'tickets',
    run: (ctx) =>
      refusal(ctx, 'TICKET_WRONG_DEVICE', (c) =>
        c.issue({ dev: c.deviceId === 'conform-other' ? 'conform-other-2' : 'conform-other' }, { valid: false }),
      ),
  },
  {
    id: 'TKT-05',
    title: 'A ticket with a bad signature is refused with TICKET_BAD_SIGNATURE',
    section: '§7.2, §7.3',
    group: 'tickets',
    run: (ctx) =>
      refusal(ctx, 'TICKET_BAD_SIGNATURE', (c) => {
        const t = c.issue({}, { valid: false });
        const bytes = Uint8Array.from(t.bytes);
        bytes[bytes.length - 1]! ^= 0x01; // the signature is the last item
        return { ...t, bytes };
      }),
  },
  {
    id: 'TKT-06',
    title: 'A ticket signed by an unknown authority is refused with TICKET_BAD_SIGNATURE',
    section: '§7.3',
    group: 'tickets',
    run: (ctx) =>
      refusal(ctx, 'TICKET_BAD_SIGNATURE', (c) => c.issue({}, { valid: false, signer: TestAuthority.generate((n) => c.random(n)) })),
  },
  {
    id: 'TKT-07',
    title: 'A malformed ticket (truncated COSE_Sign1) is refused with TICKET_MALFORMED',
    section: '§7.3',
    group: 'tickets',
    run: (ctx) => refusal(ctx, 'TICKET_MALFORMED', (c) => c.issue({}, { valid: false }).bytes.subarray(0, 60)),
  },
  {
    id: 'TKT-08',
    title: 'A new valid ticket mid-session replaces the one in use at once',
    section: '§7.3, §7.4',
    group: 'tickets',
    async run(ctx) {
      const old = await ctx.ticketedDevice();
      const t = ctx.issue();
      const st = await switchTo(ctx, t);
      if (!st) return fail(`a status {"state": "ticketed", "kid": "${t.kidHex}"}`, ctx.silenceSummary());
      const after = await ctx.readings(2, { since: st.n + 1 });
      if (after.length < 2) return fail('readings after the switch', ctx.silenceSummary(st.n));
      const wrong = after.filter(
        (r) => r.kidHex !== t.kidHex && r.header !== undefined && (st.seq === undefined || r.header.seq >= st.seq),
      );
      if (wrong.length > 0) return fail(`new readings under the new kid ${t.kidHex}`, listSome(wrong, describeReading));
      if (after.some((r) => r.kidHex === t.kidHex && !r.reading))
        return fail('readings under the new ticket open with its key', listSome(after, describeReading));
      return pass({
        expected: `switch from ${old.kidHex.slice(0, 8)}… to ${t.kidHex.slice(0, 8)}…`,
        received: `switched at seq ${st.seq}`,
      });
    },
  },
  {
    id: 'TKT-09',
    title: 'A ticket byte-identical to the one in use is ignored',
    section: '§7.3',
    group: 'tickets',
    async run(ctx) {
      const t = await ctx.ticketedDevice();
      const mark = ctx.observations.mark;
      await ctx.transport.offerTicket(ctx.current!.bytes);
      const st = await ctx.waitFor((e) => (e.kind === 'status' && e.status.state !== 'online' ? e : undefined), {
        since: mark,
        timeoutMs: 3000,
      });
      if (st)
        return fail(
          'no status for a ticket identical to the one in use',
          `status ${st.status.state}${st.status.code ? ` ${st.status.code}` : ''}`,
        );
      const next = await ctx.readings(1, { since: mark });
      if (next.length === 0 || next[0]!.kidHex !== ctx.current!.kidHex)
        return fail(`readings go on under kid ${t.kidHex}`, next[0] ? describeReading(next[0]) : 'none');
      return pass({ expected: 'ignored', received: 'no status, sealing goes on' });
    },
  },
  {
    id: 'TKT-10',
    title: 'A ticket that expires in use: sealing under it stops and TICKET_EXPIRED is reported',
    section: '§7.4',
    group: 'tickets',
    async run(ctx) {
      await ctx.ticketedDevice();
      const exp = nowS(ctx) + 4;
      const t = ctx.issue({ exp });
      try {
        const st = await switchTo(ctx, t);
        if (!st) return fail(`the short ticket (exp in 4 s) accepted`, ctx.silenceSummary());
        const expired = await ctx.waitFor(
          (e) => (e.kind === 'status' && e.status.state === 'error' && e.status.code === 'TICKET_EXPIRED' ? e : undefined),
          { since: st.n, timeoutMs: exp * 1000 - ctx.now() + ctx.bounds.readingTimeoutMs },
        );
        const late = ctx.observations.readings(st.n).filter((r) => r.kidHex === t.kidHex && r.header && r.header.ts >= exp * 1000);
        if (late.length > 0)
          return fail(
            `nothing sealed under the ticket at or after exp (${exp * 1000} ms)`,
            listSome(late, (r) => `${describeReading(r)} ts ${r.header!.ts}`),
          );
        if (!expired) return fail('a status {"state": "error", "code": "TICKET_EXPIRED"} once it expired', ctx.silenceSummary(st.n));
        return pass({ expected: 'stops at exp, TICKET_EXPIRED', received: `reported ${expired.at - exp * 1000} ms after exp` });
      } finally {
        await restoreTicket(ctx);
      }
    },
  },
  {
    id: 'TKT-11',
    title: 'maxReadings caps the readings sealed under a ticket, and the device says so',
    section: '§7.1, §7.4',
    group: 'tickets',
    async run(ctx) {
      await ctx.ticketedDevice();
      const t = ctx.issue({ maxReadings: 2 });
      try {
        const st = await switchTo(ctx, t);
        if (!st) return fail('the ticket with maxReadings 2 accepted', ctx.silenceSummary());
        const err = await ctx.waitFor((e) => (e.kind === 'status' && e.status.state === 'error' ? e : undefined), {
          since: st.n,
          timeoutMs: ctx.bounds.readingTimeoutMs * 4,
        });
        const seqs = new Set(
          ctx.observations
            .readings(st.n)
            .filter((r) => r.kidHex === t.kidHex)
            .map((r) => r.header!.seq),
        );
        if (seqs.size > 2) return fail('at most 2 readings under the ticket', `${seqs.size} (seq ${[...seqs].join(', ')})`);
        if (!err) return fail('an error status once the ticket is used up', ctx.silenceSummary(st.n));
        return pass({ expected: '2 readings, then an error status', received: `${seqs.size} readings, then ${err.status.code}` });
      } finally {
        await restoreTicket(ctx);
      }
    },
  },
];
