/**
 * MQTT over TLS (docs/PROTOCOL.md §9.8), when the kit's broker listens over TLS (`--tls`): the device
 * connects with TLS 1.2 or later, presents a ward CA client certificate naming it under mutual TLS
 * (`--client-certs required`), and verifies the server — a kit certificate of another CA is refused.
 */
import { fail, pass, type ConformCase } from '../case.ts';
import type { ConformContext } from '../context.ts';
import type { ConnectInfo } from '../observations.ts';
import { KitTestCa } from '../tlsCa.ts';
import { listSome } from './common.ts';

const VERSIONS = new Set(['TLSv1.2', 'TLSv1.3']);
/** TLS-03: how long after a device's TLS connection attempt the kit waits for a CONNECT over it. */
const GRACE_MS = 3000;

const onlyTls = (ctx: ConformContext): string | undefined =>
  !ctx.mqtt
    ? 'MQTT only (the device is on a serial line): TLS protects the MQTT link (§9.8)'
    : ctx.mqtt.tlsMode === 'none'
      ? "the kit's broker listens without TLS (no --tls)"
      : undefined;

/** Every CONNECT the broker received so far (accepted or refused). */
function connects(ctx: ConformContext, since = 0): Array<{ connect: ConnectInfo; accepted: boolean; refusal?: string }> {
  const out: Array<{ connect: ConnectInfo; accepted: boolean; refusal?: string }> = [];
  for (const e of ctx.observations.since(since))
    if (e.kind === 'connect') out.push({ connect: e.connect, accepted: e.accepted, ...(e.refusal ? { refusal: e.refusal } : {}) });
  return out;
}

export const TLS_CASES: ConformCase[] = [
  {
    id: 'TLS-01',
    title: 'The device connects to the broker over TLS 1.2 or later',
    section: '§9.8',
    group: 'tls',
    applies: onlyTls,
    async run(ctx) {
      await ctx.ticketedDevice();
      const cs = connects(ctx);
      const bad = cs.filter((c) => !c.connect.tls || !VERSIONS.has(c.connect.tls.protocol));
      const failures = ctx.observations.since(0).flatMap((e) => (e.kind === 'tls-error' ? [e.reason] : []));
      const details = failures.length > 0 ? [`${failures.length} failed handshakes: ${listSome(failures, (r) => r, 3)}`] : [];
      if (cs.length === 0) return fail('an MQTT CONNECT over TLS', ctx.silenceSummary(), details);
      if (bad.length > 0)
        return fail(
          'every connection over TLS 1.2 or 1.3',
          listSome(bad, (c) => c.connect.tls?.protocol ?? 'not TLS'),
          details,
        );
      const versions = [...new Set(cs.map((c) => `${c.connect.tls!.protocol} ${c.connect.tls!.cipher}`))];
      return pass({ expected: 'TLS ≥ 1.2 on every connection', received: `${cs.length} connections: ${versions.join(', ')}`, details });
    },
  },
  {
    id: 'TLS-02',
    title: 'Mutual TLS: the device presents a ward CA client certificate naming it (CN or SAN urn:vitalseal:device:<id>)',
    section: '§9.8',
    group: 'tls',
    applies: (ctx) =>
      onlyTls(ctx) ??
      (ctx.mqtt?.tlsMode === 'mutual' ? undefined : 'the kit does not ask for client certificates (no --client-certs required)'),
    async run(ctx) {
      await ctx.ticketedDevice();
      const cs = connects(ctx);
      const bad = cs.filter((c) => !c.connect.tls?.clientCert || !c.connect.tls.authorized || !c.connect.tls.namesDevice);
      if (bad.length > 0)
        return fail(
          `a client certificate of the CA the kit trusts naming ${ctx.deviceId}`,
          listSome(bad, (c) =>
            !c.connect.tls?.clientCert
              ? 'no client certificate'
              : !c.connect.tls.authorized
                ? 'a certificate of another CA'
                : `a certificate naming ${c.connect.tls.clientCn ?? 'another device'}`,
          ),
        );
      return pass({
        expected: `client certificate naming ${ctx.deviceId}`,
        received: `${cs.length} connections, certificate CN ${cs[0]?.connect.tls?.clientCn ?? '(SAN URI only)'}`,
      });
    },
  },
  {
    id: 'TLS-03',
    title: 'The device verifies the broker: it sends no CONNECT to a server certificate of another CA',
    section: '§9.8',
    group: 'tls',
    applies: onlyTls,
    async run(ctx) {
      await ctx.ticketedDevice();
      const mqtt = ctx.mqtt!;
      const foreign = await (await KitTestCa.generate({ name: 'not the ward CA' })).issueServer(['localhost']);
      const attemptsBefore = mqtt.tlsConnections;
      const mark = ctx.observations.mark;
      const tlsErrorsBefore = ctx.observations.since(0).filter((e) => e.kind === 'tls-error').length;
      mqtt.useServerCert(foreign);
      let outcome: Awaited<ReturnType<ConformCase['run']>>;
      try {
        await mqtt.dropLink(0);
        const windowMs = ctx.bounds.backoffCapMs + 5000;
        const attemptsNow = (): number =>
          mqtt.tlsConnections - attemptsBefore + ctx.observations.since(0).filter((e) => e.kind === 'tls-error').length - tlsErrorsBefore;
        // the device's next attempts: a CONNECT (it took the certificate) or handshakes that end without one;
        // once an attempt is seen, GRACE_MS more for its CONNECT (a device that took the certificate sends it at once)
        const stop = new AbortController();
        const poll = setInterval(() => {
          if (attemptsNow() > 0) {
            clearInterval(poll);
            setTimeout(() => stop.abort(), GRACE_MS);
          }
        }, 100);
        const connected = await ctx
          .waitFor((e) => (e.kind === 'connect' ? e : undefined), {
            since: mark,
            timeoutMs: windowMs,
            signal: AbortSignal.any([ctx.signal, stop.signal]),
          })
          .finally(() => clearInterval(poll));
        const attempts = attemptsNow();
        if (connected)
          outcome = fail(
            'no MQTT CONNECT over a server certificate of another CA (the device verifies the broker against its CA)',
            `CONNECT ${connected.accepted ? 'accepted' : 'sent'} over the foreign certificate`,
          );
        else if (attempts === 0)
          outcome = fail(
            'the device tries to reconnect after the kit closed its connection',
            `no TLS connection attempt within ${windowMs} ms`,
          );
        else
          outcome = pass({
            expected: 'no CONNECT to a server certificate of another CA',
            received: `${attempts} TLS connection attempts, no MQTT CONNECT over the foreign certificate (watched ${GRACE_MS} ms after the first)`,
          });
      } finally {
        mqtt.useServerCert(undefined);
      }
      const back = ctx.observations.mark;
      const up = await ctx.waitFor((e) => (e.kind === 'connect' && e.accepted ? true : undefined), {
        since: back,
        timeoutMs: ctx.bounds.linkTimeoutMs + ctx.bounds.backoffCapMs,
      });
      if (!up && outcome.verdict === 'pass')
        return fail('the device back once the kit serves its own certificate again', ctx.silenceSummary(back));
      return outcome;
    },
  },
];
