/** MQTT behaviour (docs/PROTOCOL.md §9). Not applicable on a serial line. */
import { statusTopic, readingTopic, ticketTopic } from '../../protocol/topics.ts';
import { fail, pass, type ConformCase } from '../case.ts';
import type { ConformContext } from '../context.ts';
import type { Observation } from '../observations.ts';
import { allReadings, listSome } from './common.ts';

const onlyMqtt = (ctx: ConformContext): string | undefined => (ctx.mqtt ? undefined : 'MQTT only (the device is on a serial line)');

type ConnectEvent = Observation & { kind: 'connect' };
const connects = (ctx: ConformContext): ConnectEvent[] => ctx.observations.since(0).filter((e): e is ConnectEvent => e.kind === 'connect');

export const MQTT_CASES: ConformCase[] = [
  {
    id: 'MQ-01',
    title: 'CONNECT: MQTT 3.1.1, client identifier = user name = device id',
    section: '§9.2',
    group: 'mqtt',
    applies: onlyMqtt,
    async run(ctx) {
      await ctx.ticketedDevice();
      const cs = connects(ctx);
      const bad = cs.filter(
        (c) => c.connect.protocolVersion !== 4 || c.connect.clientId !== ctx.deviceId || c.connect.username !== ctx.deviceId,
      );
      if (cs.length === 0) return fail('a CONNECT', 'none');
      if (bad.length > 0)
        return fail(
          `protocol level 4, client id and user name ${JSON.stringify(ctx.deviceId)}`,
          listSome(
            bad,
            (c) =>
              `level ${c.connect.protocolVersion}, client id ${JSON.stringify(c.connect.clientId)}, user ${JSON.stringify(c.connect.username ?? null)}`,
          ),
        );
      return pass({ expected: 'MQTT 3.1.1 with the device id', received: `${cs.length} CONNECTs conform` });
    },
  },
  {
    id: 'MQ-02',
    title: 'CONNECT with clean session',
    section: '§9.2',
    group: 'mqtt',
    applies: onlyMqtt,
    async run(ctx) {
      await ctx.ticketedDevice();
      const bad = connects(ctx).filter((c) => c.connect.clean !== true);
      if (bad.length > 0) return fail('clean session = 1 on every CONNECT', `${bad.length} CONNECTs with clean session = 0`);
      return pass({ expected: 'clean session', received: `${connects(ctx).length} CONNECTs with clean session` });
    },
  },
  {
    id: 'MQ-03',
    title: 'The password is the device secret the operator provisioned',
    section: '§9.2',
    group: 'mqtt',
    async applies(ctx) {
      if (onlyMqtt(ctx)) return onlyMqtt(ctx);
      await ctx.ticketedDevice();
      return connects(ctx).some((c) => c.connect.passwordMatches !== undefined)
        ? undefined
        : 'no device secret given (--secret): the kit accepts any password';
    },
    async run(ctx) {
      await ctx.ticketedDevice();
      const bad = connects(ctx).filter((c) => c.connect.passwordMatches === false);
      if (bad.length > 0) return fail('the provisioned secret as the password', `${bad.length} CONNECTs with another password`);
      return pass({ expected: 'the provisioned secret', received: 'every CONNECT had it' });
    },
  },
  {
    id: 'MQ-04',
    title: 'Subscribes to vs/v1/<dev>/ticket with QoS 1, and to nothing else',
    section: '§9.2, §9.3',
    group: 'mqtt',
    applies: onlyMqtt,
    async run(ctx) {
      await ctx.ticketedDevice();
      const subs = ctx.observations.since(0).filter((e): e is Observation & { kind: 'subscribe' } => e.kind === 'subscribe');
      const want = ticketTopic(ctx.deviceId);
      const other = subs.filter((s) => s.topic !== want);
      const ticketSubs = subs.filter((s) => s.topic === want);
      if (ticketSubs.length === 0) return fail(`SUBSCRIBE ${want} QoS 1`, `subscriptions: ${listSome(subs, (s) => s.topic) || 'none'}`);
      if (ticketSubs.some((s) => s.qos !== 1))
        return fail(`SUBSCRIBE ${want} with QoS 1`, `QoS ${ticketSubs.map((s) => s.qos).join(', ')}`);
      if (other.length > 0)
        return fail(
          `no subscription but ${want}`,
          listSome(other, (s) => s.topic),
        );
      return pass({ expected: `SUBSCRIBE ${want} QoS 1`, received: `${ticketSubs.length} subscriptions, QoS 1` });
    },
  },
  {
    id: 'MQ-05',
    title: 'Readings are published with QoS 1 on vs/v1/<dev>/r, not retained',
    section: '§9.1, §9.4',
    group: 'mqtt',
    applies: onlyMqtt,
    async run(ctx) {
      await ctx.sample(3);
      const rs = allReadings(ctx);
      const bad = rs.filter((r) => r.arrival.qos !== 1 || r.arrival.retain === true || r.arrival.topic !== readingTopic(ctx.deviceId));
      if (bad.length > 0)
        return fail(
          `PUBLISH ${readingTopic(ctx.deviceId)} QoS 1 retain 0`,
          listSome(bad, (r) => `#${r.index} QoS ${r.arrival.qos} retain ${r.arrival.retain}`),
        );
      return pass({ expected: 'QoS 1, not retained', received: `${rs.length} readings` });
    },
  },
  {
    id: 'MQ-06',
    title: 'Status messages are published with QoS 1 on vs/v1/<dev>/status, not retained',
    section: '§9.1, §9.6',
    group: 'mqtt',
    applies: onlyMqtt,
    async run(ctx) {
      await ctx.ticketedDevice();
      const ss = ctx.observations.statuses(0);
      if (ss.length === 0) return fail(`status messages on ${statusTopic(ctx.deviceId)}`, 'none');
      const bad = ss.filter((s) => s.arrival.qos !== 1 || s.arrival.retain === true);
      if (bad.length > 0)
        return fail(
          'QoS 1, retain 0',
          listSome(bad, (s) => `QoS ${s.arrival.qos} retain ${s.arrival.retain}`),
        );
      return pass({ expected: 'QoS 1, not retained', received: `${ss.length} statuses` });
    },
  },
  {
    id: 'MQ-07',
    title: 'The last will is {"state": "offline"} on vs/v1/<dev>/status, QoS 1, not retained',
    section: '§9.2, §9.6',
    group: 'mqtt',
    applies: onlyMqtt,
    async run(ctx) {
      await ctx.ticketedDevice();
      const cs = connects(ctx).filter((c) => c.accepted);
      const without = cs.filter((c) => c.connect.will === undefined);
      // a SHOULD the kit requires: the ward sees a device go offline only by its will (§9.6)
      if (without.length > 0)
        return fail(
          `a last will on every CONNECT (§9.2 SHOULD; the ward marks a device offline by it, §9.6)`,
          `${without.length} of ${cs.length} CONNECTs without a will`,
        );
      const wills = cs.flatMap((c) => (c.connect.will ? [c.connect.will] : []));
      const problems: string[] = [];
      for (const w of wills) {
        if (w.topic !== statusTopic(ctx.deviceId)) problems.push(`topic ${w.topic}`);
        if (w.qos !== 1) problems.push(`QoS ${w.qos}`);
        if (w.retain) problems.push('retained');
        let state: unknown;
        try {
          state = (JSON.parse(new TextDecoder().decode(w.payload)) as { state?: unknown }).state;
        } catch {
          state = undefined;
        }
        if (state !== 'offline') problems.push(`payload ${JSON.stringify(new TextDecoder().decode(w.payload).slice(0, 60))}`);
      }
      if (problems.length > 0)
        return fail(`will {"state":"offline"} on ${statusTopic(ctx.deviceId)}, QoS 1, retain 0`, [...new Set(problems)].join('; '));
      return pass({ expected: 'offline will', received: `${wills.length} CONNECTs with the right will` });
    },
  },
  {
    id: 'MQ-08',
    title: 'Reconnects after the connection is dropped, re-subscribes and resumes sending',
    section: '§9.2, §8.7',
    group: 'mqtt',
    applies: onlyMqtt,
    async run(ctx) {
      const t = await ctx.ticketedDevice();
      await ctx.sample(1);
      const mark = ctx.observations.mark;
      await ctx.transport.dropLink(0);
      const timeoutMs = ctx.bounds.backoffCapMs + ctx.bounds.linkTimeoutMs;
      const back = await ctx.waitFor((e) => (e.kind === 'connect' && e.accepted ? e : undefined), { since: mark, timeoutMs });
      if (!back) return fail(`a new CONNECT within ${timeoutMs} ms`, ctx.silenceSummary(mark));
      const sub = await ctx.waitFor((e) => (e.kind === 'subscribe' && e.topic === ticketTopic(ctx.deviceId) ? e : undefined), {
        since: back.n,
        timeoutMs: 10_000,
      });
      if (!sub) return fail('SUBSCRIBE to the ticket topic again (clean session)', ctx.silenceSummary(back.n));
      const r = await ctx.waitFor((e) => (e.kind === 'reading' && e.reading.kidHex === t.kidHex ? e : undefined), {
        since: back.n,
        timeoutMs: ctx.bounds.readingTimeoutMs,
      });
      if (!r) return fail('readings again after the reconnection', ctx.silenceSummary(back.n));
      return pass({
        expected: 'reconnect, re-subscribe, send',
        received: `reconnected after ${back.at - ctx.observations.since(mark)[0]!.at} ms`,
      });
    },
  },
  {
    id: 'MQ-09',
    title: 'Reconnection backs off: refused attempts are spread (no tight loop), no delay beyond 30 s',
    section: '§8.7, §9.2',
    group: 'mqtt',
    applies: onlyMqtt,
    async run(ctx) {
      await ctx.ticketedDevice();
      const REFUSED = 4;
      const mark = ctx.observations.mark;
      ctx.mqtt!.refuseNext(REFUSED);
      await ctx.transport.dropLink(0);
      const cap = ctx.bounds.backoffCapMs + 1000;
      const attempts: number[] = [];
      const ok = await ctx.waitFor(
        (e) => {
          if (e.kind !== 'connect') return undefined;
          attempts.push(e.at);
          return e.accepted ? true : undefined;
        },
        { since: mark, timeoutMs: cap * (REFUSED + 1) },
      );
      const dropAt = ctx.observations.since(mark)[0]?.at ?? 0;
      const gaps = attempts.map((a, i) => a - (i === 0 ? dropAt : attempts[i - 1]!));
      if (!ok)
        return fail(
          `${REFUSED} refused attempts, then a connection, each within ${cap} ms`,
          `attempt gaps ${gaps.join(', ')} ms, no accepted CONNECT`,
        );
      const tooLong = gaps.filter((g) => g > cap);
      const refusedSpan = attempts[REFUSED]! - attempts[0]!;
      if (tooLong.length > 0) return fail(`every reconnection delay ≤ ${cap} ms`, `gaps ${gaps.join(', ')} ms`);
      if (attempts.length !== REFUSED + 1 || refusedSpan < 50)
        return fail(
          'exponential backoff with jitter: refused attempts spread over time',
          `${attempts.length} attempts within ${refusedSpan} ms (gaps ${gaps.join(', ')} ms)`,
        );
      return pass({ expected: 'backoff within bounds', received: `gaps ${gaps.join(', ')} ms` });
    },
  },
  {
    id: 'MQ-10',
    title: 'Publishes only to its own reading and status topics',
    section: '§9.3',
    group: 'whole-run',
    applies: onlyMqtt,
    async run(ctx) {
      await ctx.ticketedDevice();
      const other = ctx.observations.since(0).filter((e): e is Observation & { kind: 'publish' } => e.kind === 'publish');
      if (other.length > 0)
        return fail(
          `PUBLISH only to ${readingTopic(ctx.deviceId)} and ${statusTopic(ctx.deviceId)}`,
          listSome(other, (p) => p.topic),
        );
      return pass({ expected: 'own topics only', received: 'no other topic' });
    },
  },
];
