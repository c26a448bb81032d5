/**
 * Rotating the device identity key (docs/PROTOCOL.md §3.6 "Rotating the identity key"), judged from
 * outside: the kit has the device rotate (`--rotate-cmd`: e.g. power it off, run the vendor's
 * rotation tool on its NVM, power it on; or a command a running device takes) while a v2 ticket
 * certifying the old key is in use and two readings sealed under it wait in the outbox, and keeps
 * handing out that ticket afterwards (a retained ticket the ward has not replaced yet). What the
 * kit can see of the five steps: the new key in a status (4); an error status and nothing more
 * sealed under the ticket that certifies the old key (3, 5); the outbox resent byte for byte and
 * still verifying against the old key (2); Auth mode with the new key under a ticket certifying it.
 * That the old secret is erased (1) cannot be seen from outside — except when the device goes on
 * sealing under the old ticket with it, which the evidence names.
 */
import { fromHex, toHex } from '../../protocol/bytes.ts';
import { fail, pass, type CaseOutcome, type ConformCase } from '../case.ts';
import type { ConformContext, IssuedTicket } from '../context.ts';
import type { InspectedReading } from '../intake.ts';
import { ACK_ALL } from '../transports/transport.ts';
import { authProblem, identityKey, onlyIdentity, readingsUnder, SAMPLE, STATUS_WAIT_MS } from './auth.ts';
import { describeReading, firstCopies, listSome, maxSeqSeen, seqsBefore, statusCodes } from './common.ts';

/** Readings left unacknowledged in the outbox across the rotation. */
const WITHHELD = 2;

const NO_ROTATE = 'no --rotate-cmd: the kit cannot make the device rotate its identity key (§3.6)';

/** A v2 ticket certifying `idk` in use, with a reading under it (the one in use when it already is). */
async function ticketCertifying(ctx: ConformContext, idk: string): Promise<IssuedTicket | CaseOutcome> {
  const t = ctx.current;
  if (t?.fields.idk !== undefined && toHex(t.fields.idk) === idk) return t;
  const v2 = ctx.issue({ idk: fromHex(idk) });
  const { rs } = await readingsUnder(ctx, v2, 1);
  return rs.length > 0 ? v2 : fail(`a reading under a v2 ticket (kid ${v2.kidHex}) before the rotation`, ctx.silenceSummary());
}

/** Why a withheld reading did not come back as the spec says (undefined: resent byte for byte, still verifying with the old key). */
function resendProblem(w: InspectedReading, copies: readonly InspectedReading[]): string | undefined {
  const seq = w.header!.seq;
  if (copies.length === 0) return `seq ${seq} never came back`;
  const other = copies.find((r) => r.recordId !== w.recordId);
  if (other) return `seq ${seq} came back with other bytes (re-sealed: ${describeReading(other)})`;
  const p = authProblem(copies[0]!);
  return p === undefined ? undefined : `seq ${seq}: ${p}`;
}

async function judgeRotation(ctx: ConformContext): Promise<CaseOutcome> {
  const before = (await identityKey(ctx))!;
  const old = await ticketCertifying(ctx, before);
  if ('verdict' in old) return old;

  // two readings sealed under the old ticket with the old key stay in the outbox: their acks withheld
  const mark = ctx.observations.mark;
  const acked = seqsBefore(ctx, mark);
  ctx.transport.ackPolicy = (r) => r.header === undefined || acked.has(r.header.seq);
  const held = firstCopies(
    await ctx.readings(WITHHELD, {
      since: mark,
      filter: (r) => r.kidHex === old.kidHex && r.header !== undefined && !acked.has(r.header.seq),
    }),
  );
  if (held.length < WITHHELD)
    return fail(`${WITHHELD} new readings under the v2 ticket (kid ${old.kidHex}) before the rotation`, ctx.silenceSummary(mark));
  const badHeld = held.filter((r) => authProblem(r) !== undefined);
  if (badHeld.length > 0)
    return fail(
      'Auth mode with the old identity key before the rotation (AUTH-02)',
      listSome(badHeld, (r) => `${describeReading(r)}: ${authProblem(r)}`),
    );

  // the rotation; the gateway keeps handing out the ticket that certifies the old key
  const maxSeqBefore = maxSeqSeen(ctx);
  ctx.transport.ackPolicy = ACK_ALL;
  const cut = ctx.observations.mark;
  await ctx.rotateIdentity();
  const rotatedTo = await ctx.waitFor(
    (e) => (e.kind === 'status' && e.status.idk !== undefined && e.status.idk !== before ? e : undefined),
    { since: cut, timeoutMs: STATUS_WAIT_MS },
  );
  const idksAfter = [...new Set(ctx.observations.statuses(cut).flatMap((s) => (s.status.idk ? [s.status.idk] : [])))];
  if (!rotatedTo)
    return fail(
      `a status with a new "idk" within ${STATUS_WAIT_MS} ms of the rotation (§3.6 step 4)`,
      idksAfter.length > 0 ? `only the old idk ${before.slice(0, 16)}… (the key was not rotated)` : `no "idk"; ${ctx.silenceSummary(cut)}`,
      [`status codes after the rotation: ${statusCodes(ctx, cut)}`],
    );
  const after = rotatedTo.status.idk!;

  // the outbox comes back and the old ticket is refused; watched for one reading period at least
  const seqs = held.map((r) => r.header!.seq);
  const isNewUnderOld = (r: InspectedReading): boolean => r.kidHex === old.kidHex && r.header !== undefined && r.header.seq > maxSeqBefore;
  const settled = (): true | undefined => {
    const back = ctx.observations.readings(cut);
    const refused = ctx.observations.statuses(cut).some((s) => s.status.state === 'error');
    return (refused && seqs.every((s) => back.some((r) => r.header?.seq === s))) || back.some(isNewUnderOld) ? true : undefined;
  };
  const watchFrom = ctx.now();
  await ctx.waitFor(() => settled(), {
    since: cut,
    timeoutMs: ctx.bounds.resendBoundMs + ctx.bounds.backoffCapMs + ctx.bounds.readingTimeoutMs,
  });
  await ctx.sleep(Math.max(0, ctx.bounds.readingTimeoutMs - (ctx.now() - watchFrom)));
  const sealedUnderOld = firstCopies(ctx.observations.readings(cut).filter(isNewUnderOld));
  const refusal = ctx.observations.statuses(cut).find((s) => s.status.state === 'error');
  const resent = held.map((w) =>
    resendProblem(
      w,
      ctx.observations.readings(cut).filter((r) => r.header?.seq === w.header!.seq),
    ),
  );

  // a ticket certifying the new key: Auth mode with it
  const fresh = ctx.issue({ idk: fromHex(after) });
  const { rs } = await readingsUnder(ctx, fresh, SAMPLE);

  if (sealedUnderOld.length > 0)
    return fail(
      `nothing sealed under the ticket certifying the previous key (kid ${old.kidHex}) after the rotation (§3.6 steps 3, 5)`,
      listSome(
        sealedUnderOld,
        (r) => `${describeReading(r)}${r.origin === 'auth' ? ': opens with the OLD identity key (its secret still in use)' : ''}`,
        3,
      ),
    );
  if (!refusal)
    return fail(
      'an error status after the rotation: the ticket certifying the old key dropped (the reference firmware: SIM_IDENTITY_KEY_ROTATED)',
      `no error status; status codes: ${statusCodes(ctx, cut)}`,
    );
  const resendProblems = resent.filter((p) => p !== undefined);
  if (resendProblems.length > 0)
    return fail(
      `the outbox (seq ${seqs.join(', ')}) resent byte for byte after the rotation, verifying against the old idk (§3.6 step 2)`,
      resendProblems.join('; '),
    );
  if (rs.length < SAMPLE)
    return fail(
      `${SAMPLE} readings under a v2 ticket certifying the new key (kid ${fresh.kidHex})`,
      `${rs.length}; status codes: ${statusCodes(ctx, cut)}`,
    );
  const badNew = rs.filter((r) => authProblem(r) !== undefined);
  if (badNew.length > 0)
    return fail(
      `Auth mode with the new identity key ${after.slice(0, 16)}… under the ticket certifying it`,
      listSome(badNew, (r) => `${describeReading(r)}: ${authProblem(r)}`, 3),
    );
  return pass({
    expected:
      'the new idk reported; the old ticket refused, nothing sealed under it; the outbox resent as sealed; Auth mode with the new key',
    received: `idk ${before.slice(0, 16)}… → ${after.slice(0, 16)}…; status error ${refusal.status.code ?? '(no code)'}; seq ${seqs.join(', ')} resent identical, origin verified with the old key; ${rs.length} readings under kid ${fresh.kidHex.slice(0, 8)}…, origin verified with the new key`,
  });
}

export const ROTATION_CASES: ConformCase[] = [
  {
    id: 'AUTH-06',
    title:
      'Identity key rotation: the new idk reported, the ticket certifying the old key refused (error status, nothing sealed under it), the outbox resent as sealed, Auth mode with the new key',
    section: '§3.6, §7.3, §8.7',
    group: 'rotation',
    async applies(ctx) {
      return (ctx.canRotateIdentity ? undefined : NO_ROTATE) ?? (await onlyIdentity(ctx));
    },
    async run(ctx) {
      try {
        return await judgeRotation(ctx);
      } finally {
        // back to a v1 ticket (base mode) for the cases after this one, whatever happened
        await ctx.useTicket(ctx.issue());
      }
    },
  },
];
