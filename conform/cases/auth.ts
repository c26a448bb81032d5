/**
 * HPKE Auth mode and the device identity key (docs/PROTOCOL.md §3.6, §5.5, §5.7, §7.1): a device
 * that reports an identity public key ("idk" in its status) seals in Auth mode ("m": 2, SealAuth with
 * its identity secret) under a version 2 ticket certifying that key, so the kit opens every such
 * reading with OpenAuth(…, idk) and learns its origin; it refuses a ticket certifying another key,
 * and seals in base mode again under a version 1 ticket. The rest of the kit's cases run under v1
 * tickets (conform/README.md): these cases hand out the v2 tickets and end with a v1 one. AUTH-05
 * (group reboot) power-cycles the device under a v2 ticket: the identity key is kept in NVM (§3.6);
 * AUTH-06 (group rotation, cases/rotation.ts) has the device rotate it.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { fail, notApplicable, pass, type ConformCase } from '../case.ts';
import type { ConformContext, IssuedTicket } from '../context.ts';
import type { InspectedReading } from '../intake.ts';
import { describeReading, firstCopies, listSome, maxSeqSeen, statusCodes } from './common.ts';

/** How long a device may take to answer a ticket with a status. */
export const STATUS_WAIT_MS = 10_000;
/** Readings judged under each ticket. */
export const SAMPLE = 3;

/** The identity keys the device reported in its statuses (hex, in order of first appearance). */
function reportedIdks(ctx: ConformContext): string[] {
  const out: string[] = [];
  for (const e of ctx.observations.statuses(0)) if (e.status.idk !== undefined && !out.includes(e.status.idk)) out.push(e.status.idk);
  return out;
}

/** The device's identity public key (the last one it reported), once it is up. */
export async function identityKey(ctx: ConformContext): Promise<string | undefined> {
  await ctx.ticketedDevice();
  return reportedIdks(ctx).at(-1);
}

export const onlyIdentity = async (ctx: ConformContext): Promise<string | undefined> =>
  (await identityKey(ctx)) !== undefined
    ? undefined
    : 'the device reports no "idk" in its status: a base-mode-only device (an identity key is optional, §3.6)';

/** What one reading under a v2 ticket proved: undefined when it is Auth mode and opened with the idk. */
export function authProblem(r: InspectedReading): string | undefined {
  if (r.decodeError) return `does not decode (${r.decodeError})`;
  if (r.header?.m !== 2) return 'no "m": 2 (base mode)';
  if (r.openError) return `does not open with OpenAuth(…, idk): ${r.openError}`;
  if (r.origin !== 'auth') return 'origin not verified';
  if (r.readingError) return `opens, but the plaintext is not a reading (${r.readingError})`;
  return undefined;
}

const modeOf = (r: InspectedReading): string => (r.header?.hs === undefined ? 'single-shot' : `session hs ${r.header.hs}`);

/** Hands out `t` and collects `n` new readings under it (first copies). */
export async function readingsUnder(ctx: ConformContext, t: IssuedTicket, n: number): Promise<{ rs: InspectedReading[]; mark: number }> {
  const mark = ctx.observations.mark;
  await ctx.useTicket(t);
  const rs = await ctx.readings(n, { since: mark, filter: (r) => r.kidHex === t.kidHex, timeoutMs: ctx.bounds.readingTimeoutMs * (n + 1) });
  return { rs: firstCopies(rs), mark };
}

export const AUTH_CASES: ConformCase[] = [
  {
    id: 'AUTH-01',
    title: 'The device reports its identity public key: "idk" (64 hex digits) in its status, one key over the run',
    section: '§3.6, §8.4, §9.6',
    group: 'auth',
    async run(ctx) {
      const idk = await identityKey(ctx);
      if (idk === undefined)
        return notApplicable('the device reports no "idk" in its status: a base-mode-only device (an identity key is optional, §3.6)');
      const all = reportedIdks(ctx);
      if (all.length > 1) return fail('one identity key over the run', `${all.length} different idk values: ${listSome(all, (k) => k, 3)}`);
      const states = [
        ...new Set(
          ctx.observations
            .statuses(0)
            .filter((e) => e.status.idk !== undefined)
            .map((e) => e.status.state),
        ),
      ];
      return pass({ expected: 'an "idk" in the status', received: `idk ${idk} in ${states.join(', ')} statuses` });
    },
  },
  {
    id: 'AUTH-02',
    title: 'Under a v2 ticket certifying its idk every reading carries "m": 2 and opens with OpenAuth(idk): origin verified',
    section: '§3.6, §5.5, §5.7, §6.1, §7.1',
    group: 'auth',
    applies: onlyIdentity,
    async run(ctx) {
      const idk = (await identityKey(ctx))!;
      const t = ctx.issue({ idk: fromHex(idk) });
      const { rs, mark } = await readingsUnder(ctx, t, SAMPLE);
      if (rs.length < SAMPLE)
        return fail(`${SAMPLE} readings under the v2 ticket (kid ${t.kidHex})`, `${rs.length}; ${ctx.silenceSummary(mark)}`, [
          `status codes: ${statusCodes(ctx, mark)}`,
        ]);
      const verdicts = rs.map((r) => {
        const p = authProblem(r);
        return `seq ${r.header?.seq ?? '?'} (${modeOf(r)}): ${p ?? '"m": 2, opened with OpenAuth(idk): origin verified'}`;
      });
      const bad = rs.filter((r) => authProblem(r) !== undefined);
      if (bad.length > 0)
        return fail(
          `every reading under the v2 ticket in Auth mode, sealed with the identity key ${idk.slice(0, 16)}…`,
          `${bad.length} of ${rs.length} readings: ${listSome(bad, (r) => `${describeReading(r)}: ${authProblem(r)}`, 3)}`,
          verdicts,
        );
      return pass({
        expected: '"m": 2 and OpenAuth with the ticket\'s idk for every reading',
        received: `${rs.length} readings, origin verified`,
        details: verdicts,
      });
    },
  },
  {
    id: 'AUTH-03',
    title: 'A v2 ticket certifying another identity key is refused (error status), nothing is sealed to it',
    section: '§3.6, §7.3',
    group: 'auth',
    applies: onlyIdentity,
    async run(ctx) {
      const current = await ctx.ticketedDevice();
      const other = x25519.getPublicKey(ctx.random(32));
      const bad = ctx.issue({ idk: other }, { valid: false });
      const mark = ctx.observations.mark;
      await ctx.transport.offerTicket(bad.bytes);
      const st = await ctx.waitFor(
        (e) => (e.kind === 'status' && (e.status.state === 'error' || e.status.state === 'ticketed') ? e : undefined),
        { since: mark, timeoutMs: STATUS_WAIT_MS },
      );
      const next = await ctx.readings(1, { since: (st?.n ?? mark) + 1, timeoutMs: ctx.bounds.readingTimeoutMs });
      const underBad = ctx.observations.readings(mark).filter((r) => r.kidHex === bad.kidHex);
      const expected = 'status error (the reference firmware: SIM_IDENTITY_KEY_MISMATCH), the ticket in use kept';
      if (underBad.length > 0)
        return fail('nothing sealed under a ticket certifying another identity key', listSome(underBad, describeReading));
      if (!st) return fail(expected, `no status within ${STATUS_WAIT_MS} ms`);
      if (st.status.state !== 'error')
        return fail(expected, `status ${st.status.state}${st.status.kid ? ` kid ${st.status.kid}` : ''} (the ticket was accepted)`);
      if (next.length === 0) return fail(`readings go on under the ticket in use (kid ${current.kidHex})`, ctx.silenceSummary(st.n));
      if (next[0]!.kidHex !== current.kidHex)
        return fail(`the ticket in use (kid ${current.kidHex}) stays in use`, describeReading(next[0]!));
      return pass({
        expected,
        received: `status error ${st.status.code ?? '(no code)'}; next reading under kid ${current.kidHex.slice(0, 8)}…`,
      });
    },
  },
  {
    id: 'AUTH-04',
    title: 'Under a v1 ticket (no idk) after a v2 one the device seals in base mode again',
    section: '§5.5, §7.1',
    group: 'auth',
    applies: onlyIdentity,
    async run(ctx) {
      const idk = (await identityKey(ctx))!;
      if (ctx.current?.fields.idk === undefined) {
        const v2 = ctx.issue({ idk: fromHex(idk) });
        const { rs } = await readingsUnder(ctx, v2, 1);
        if (rs.length === 0) return fail(`a reading under a v2 ticket (kid ${v2.kidHex}) first`, ctx.silenceSummary());
      }
      const t = ctx.issue();
      const { rs, mark } = await readingsUnder(ctx, t, SAMPLE);
      if (rs.length < SAMPLE)
        return fail(`${SAMPLE} readings under the v1 ticket (kid ${t.kidHex})`, `${rs.length}; ${ctx.silenceSummary(mark)}`);
      const problem = (r: InspectedReading): string | undefined =>
        r.header?.m !== undefined
          ? '"m": 2 under a v1 ticket'
          : r.openError
            ? r.openError
            : r.origin !== 'base'
              ? 'did not open'
              : undefined;
      const bad = rs.filter((r) => problem(r) !== undefined);
      if (bad.length > 0)
        return fail(
          'base mode (no "m", OpenBase) under the v1 ticket',
          listSome(bad, (r) => `${describeReading(r)}: ${problem(r)}`, 3),
        );
      return pass({ expected: 'base mode under the v1 ticket', received: `${rs.length} readings without "m", opened with OpenBase` });
    },
  },
  {
    id: 'AUTH-05',
    title: 'The identity key survives a reboot: the same idk after it, and the v2 ticket in use still seals in Auth mode (no new ticket)',
    section: '§3.6, §7.3',
    group: 'reboot',
    async applies(ctx) {
      return (ctx.canReboot ? undefined : ctx.rebootUnavailable) ?? (await onlyIdentity(ctx));
    },
    async run(ctx) {
      const idk = (await identityKey(ctx))!;
      let t = ctx.current;
      if (t?.fields.idk === undefined || toHex(t.fields.idk) !== idk) {
        t = ctx.issue({ idk: fromHex(idk) });
        const { rs } = await readingsUnder(ctx, t, 1);
        if (rs.length === 0) return fail(`a reading under a v2 ticket (kid ${t.kidHex}) before the reboot`, ctx.silenceSummary());
      }
      const v2 = t;
      // the kit hands out no ticket after the reboot: the device must take the v2 ticket from its NVM
      await ctx.transport.withholdTicket();
      const maxSeqBefore = maxSeqSeen(ctx);
      const cut = ctx.observations.mark;
      await ctx.reboot();
      const after = await ctx.waitFor((e) => (e.kind === 'status' && e.status.idk !== undefined ? e.status.idk : undefined), {
        since: cut,
        timeoutMs: STATUS_WAIT_MS,
      });
      // new readings under the v2 ticket, or the device giving up on it (an error status): whichever comes first
      const isNew = (r: InspectedReading): boolean => r.kidHex === v2.kidHex && r.header !== undefined && r.header.seq > maxSeqBefore;
      const waitMs = ctx.bounds.resendBoundMs + ctx.bounds.backoffCapMs + ctx.bounds.readingTimeoutMs * (SAMPLE + 1);
      await ctx.waitFor(
        (e) =>
          (e.kind === 'status' && e.status.state === 'error') || ctx.observations.readings(cut).filter(isNew).length >= SAMPLE
            ? true
            : undefined,
        { since: cut, timeoutMs: waitMs },
      );
      const fresh = firstCopies(ctx.observations.readings(cut).filter(isNew));
      const codes = statusCodes(ctx, cut);
      // back to a v1 ticket for the cases after this one
      await ctx.useTicket(ctx.issue());
      if (after === undefined) return fail('an "idk" in the status after the reboot', `none within ${STATUS_WAIT_MS} ms`);
      if (after !== idk)
        return fail(`the identity key ${idk.slice(0, 16)}… after the reboot (kept in NVM)`, `idk ${after.slice(0, 16)}…: a new key`, [
          `status codes after the reboot: ${codes}`,
        ]);
      if (fresh.length === 0)
        return fail(
          `new readings under the v2 ticket in use (kid ${v2.kidHex}) after the reboot, without a new ticket`,
          `none; status codes: ${codes}; ${ctx.silenceSummary(cut)}`,
        );
      const bad = fresh.filter((r) => authProblem(r) !== undefined);
      if (bad.length > 0)
        return fail(
          'Auth mode with the same identity key after the reboot',
          listSome(bad, (r) => `${describeReading(r)}: ${authProblem(r)}`, 3),
        );
      return pass({
        expected: 'the same idk after the reboot; the v2 ticket kept, Auth mode',
        received: `idk ${idk.slice(0, 16)}…; ${fresh.length} new readings under kid ${v2.kidHex.slice(0, 8)}…, origin verified`,
      });
    },
  },
];
