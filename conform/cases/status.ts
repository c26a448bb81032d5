/** Status messages (docs/PROTOCOL.md §7.3, §8.4, §8.6, §9.6). */
import { fail, pass, type ConformCase } from '../case.ts';
import { listSome } from './common.ts';

export const STATUS_CASES: ConformCase[] = [
  {
    id: 'STAT-01',
    title: 'The device reports an "online" status when its link comes up',
    section: '§8.6, §9.6',
    group: 'status',
    async run(ctx) {
      await ctx.ticketedDevice();
      const online = ctx.observations.statuses(0).find((s) => s.status.state === 'online');
      if (!online)
        return fail(
          'a status {"state": "online", …} when the link comes up (power the device on after starting the kit)',
          `statuses seen: ${listSome(ctx.observations.statuses(0), (s) => s.status.state ?? '(no state)') || 'none'}`,
        );
      ctx.firmware ??= ctx.observations.statuses(0).find((s) => s.status.fw !== undefined)?.status.fw;
      return pass({ expected: 'an "online" status', received: `online status with seq ${online.status.seq ?? '(none)'}` });
    },
  },
  {
    id: 'STAT-02',
    title: 'Every status follows its schema (state, code, kid, seq, boot; dev on a serial line)',
    section: '§8.4, §9.6',
    group: 'status',
    async run(ctx) {
      await ctx.ticketedDevice();
      const all = ctx.observations.statuses(0);
      if (all.length === 0) return fail('at least one status message', 'none');
      const bad = all.filter(
        (s) => s.status.problems.length > 0 || (ctx.serial && s.status.dev !== undefined && s.status.dev !== ctx.deviceId),
      );
      if (bad.length > 0)
        return fail(
          ctx.serial
            ? 'serial-status-body {dev, state, code?, kid?, seq?} with dev = the device id'
            : 'mqtt-status JSON {state, code?, kid?, boot?, seq?}',
          listSome(bad, (s) =>
            [...s.status.problems, s.status.dev !== ctx.deviceId ? `dev ${JSON.stringify(s.status.dev)}` : ''].filter(Boolean).join(', '),
          ),
        );
      return pass({ expected: 'every status valid', received: `${all.length} statuses, all valid` });
    },
  },
  {
    id: 'STAT-03',
    title: 'Accepting a ticket is reported: "ticketed" with its kid and the next seq',
    section: '§7.3',
    group: 'status',
    async run(ctx) {
      const t = await ctx.ticketedDevice();
      const st = ctx.observations.statuses(0).find((s) => s.status.state === 'ticketed' && s.status.kid === t.kidHex);
      if (!st)
        return fail(
          `a status {"state": "ticketed", "kid": "${t.kidHex}", "seq": …}`,
          `statuses: ${listSome(ctx.observations.statuses(0), (s) => `${s.status.state}${s.status.kid ? ` kid ${s.status.kid}` : ''}`) || 'none'}`,
        );
      const first = ctx.observations.readings(st.n).find((r) => r.kidHex === t.kidHex && r.header);
      if (st.status.seq === undefined) return fail('the ticketed status names the next seq', 'no seq in it');
      if (first && first.header!.seq !== st.status.seq)
        return fail(`the first reading under the ticket has the seq the status named (${st.status.seq})`, `seq ${first.header!.seq}`);
      return pass({ expected: 'ticketed status with kid and seq', received: `kid ${t.kidHex}, seq ${st.status.seq}` });
    },
  },
];
