/**
 * Mutation testing of the conformance kit (issue #18): the kit must catch bugs. The device
 * simulator has deliberately broken firmware variants (device-sim/firmware/bugs.ts). The kit runs
 * against the correct simulator (every applicable case passes) and against every variant; each
 * variant must fail at least one case. Every run is a real simulator child process
 * (test/conform/support/simDut.ts) on a socat pty pair or on the kit's MQTT broker; the reboot
 * cases kill it with SIGKILL and restart it from its NVM directory. A variant runs the cases that
 * concern its rule (VARIANTS below) on the link that shows it; the correct simulator runs every
 * case on MQTT, and on a serial line the union of the serial variants' cases — so no kill is a
 * case that fails whatever the firmware (the full serial run is test/conform/serial.test.ts's).
 * Gaps this test found in the kit are listed in conform/README.md, "Gaps found by mutation". The kill rate and the cases that killed each variant are
 * printed as a table.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConformKit, TestAuthority, summaryLine, type CaseResult } from '../../conform/index.ts';
import { seededRng } from '../../protocol/rng.ts';
import { FIRMWARE_BUG_NAMES, FIRMWARE_BUGS, type FirmwareBugName } from '../../device-sim/firmware/bugs.ts';
import { startPtyPair } from '../support/services.ts';
import { startSimDut } from './support/simDut.ts';

type Link = 'serial' | 'mqtt';

/** Per variant: the link it runs on and the cases of the rule it breaks. */
const VARIANTS: Record<FirmwareBugName, { readonly link: Link; readonly cases: readonly string[] }> = {
  'seq-reuse-after-reboot': { link: 'serial', cases: ['SEQ-03', 'SEQ-04', 'SEQ-02'] },
  'skip-outbox-replay': { link: 'serial', cases: ['OBX-03'] },
  'replay-acked': { link: 'mqtt', cases: ['OBX-04'] },
  'wrong-aad': { link: 'serial', cases: ['ENV-10'] },
  'wrong-kid': { link: 'mqtt', cases: ['ENV-05'] },
  'ephemeral-key-reuse': { link: 'serial', cases: ['KEY-01'] },
  'non-canonical-cbor': { link: 'serial', cases: ['ENV-08', 'ENV-09'] },
  'accept-expired-ticket': { link: 'serial', cases: ['TKT-02', 'TKT-10'] },
  'accept-other-device-ticket': { link: 'serial', cases: ['TKT-04'] },
  'ignore-ticket-signature': { link: 'serial', cases: ['TKT-05', 'TKT-06'] },
  'bad-crc': { link: 'serial', cases: ['FRM-01'] },
  'no-resync-after-garbage': { link: 'serial', cases: ['FRM-04', 'FRM-06'] },
  'wrong-units': { link: 'mqtt', cases: ['PT-04'] },
  'ts-in-seconds': { link: 'mqtt', cases: ['PT-06'] },
  'publish-qos0': { link: 'mqtt', cases: ['MQ-05'] },
  'wrong-refusal-code': { link: 'serial', cases: ['TKT-02', 'TKT-04', 'TKT-05'] },
  'ignore-ack-dev': { link: 'serial', cases: ['FRM-07'] },
  'no-last-will': { link: 'mqtt', cases: ['MQ-07'] },
  'persistent-session': { link: 'mqtt', cases: ['MQ-02'] },
  'resend-different-bytes': { link: 'serial', cases: ['RTX-02', 'SEQ-02'] },
  'seq-gap': { link: 'mqtt', cases: ['SEQ-01'] },
  'plaintext-in-status': { link: 'mqtt', cases: ['STAT-02', 'PRIV-01'] },
  // issue #20's identity key and HPKE Auth mode (conform/cases/auth.ts)
  'base-mode-under-v2': { link: 'mqtt', cases: ['AUTH-02'] },
  'wrong-identity-key': { link: 'serial', cases: ['AUTH-02'] },
  'ignores-foreign-idk': { link: 'serial', cases: ['AUTH-03'] },
  'idk-not-persisted': { link: 'mqtt', cases: ['AUTH-05'] },
  'auth-mode-under-v1': { link: 'mqtt', cases: ['AUTH-04'] },
  // §3.6 identity rotation (AUTH-06: kill -9, `vitalseal sim --rotate-identity`, restart)
  'rotation-keeps-ticket': { link: 'mqtt', cases: ['AUTH-06'] },
  'rotation-silent': { link: 'serial', cases: ['AUTH-06'] },
};

/** Variants run at once (each a simulator child and a kit; most of their time is waiting on the device). */
const PARALLEL = 3;
/** The simulator resends after 1 s (--ack-timeout) and measures every 250 ms; its reconnection backoff is the reference one (≤ 30 s). */
const BOUNDS = { resendBoundMs: 5000, readingTimeoutMs: 5000, linkTimeoutMs: 20_000, backoffCapMs: 30_000 };

interface Run {
  readonly results: CaseResult[];
  readonly summary: string;
  readonly firmware: string | null;
  readonly wallMs: number;
  readonly stderr: string;
}

/** The kit against one simulator child (correct, or a variant) on `link`, running `cases`. */
async function runKit(tag: string, link: Link, bug: FirmwareBugName | undefined, cases: readonly string[] | 'all'): Promise<Run> {
  const started = performance.now();
  const deviceId = `dut-${tag}`.slice(0, 64);
  const authority = TestAuthority.generate(seededRng(`mutation/${tag}/authority`));
  const pty = link === 'serial' ? await startPtyPair() : undefined;
  const secret = `secret-${tag}`;
  let dut: ReturnType<typeof startSimDut> | undefined;
  const kit = new ConformKit({
    deviceId,
    link: pty ? { kind: 'serial', path: pty.a } : { kind: 'mqtt', port: 0, secret },
    authority,
    cases: cases === 'all' ? 'all' : [...cases],
    reboot: async () => dut!.reboot(),
    rotateIdentity: async () => dut!.rotateIdentity(),
    rng: seededRng(`mutation/${tag}/kit`),
    bounds: BOUNDS,
    caseTimeoutMs: 60_000,
  });
  await kit.start();
  try {
    dut = startSimDut({
      deviceId,
      authorityPublicKey: authority.publicKey,
      ...(pty ? { serialPath: pty.b } : { brokerUrl: `mqtt://127.0.0.1:${kit.mqttPort}`, secret }),
      periodMs: 250,
      ackTimeoutMs: 1000,
      ...(bug ? { bug } : {}),
    });
    const { report, results } = await kit.run();
    return {
      results,
      summary: summaryLine(report),
      firmware: report.device.firmware,
      wallMs: performance.now() - started,
      stderr: dut.stderr,
    };
  } finally {
    await kit.stop();
    await dut?.stop();
    await pty?.stop();
  }
}

const failedIds = (r: Run): string[] => r.results.filter((c) => c.verdict === 'fail').map((c) => c.id);
const failures = (r: Run): string =>
  JSON.stringify(
    r.results.filter((c) => c.verdict === 'fail'),
    null,
    2,
  ) + (r.stderr ? `\nsimulator stderr:\n${r.stderr.slice(0, 2000)}` : '');

/** A counting semaphore: at most `n` holders. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((r) => queue.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

describe('mutation testing of the conformance kit (simulator children: socat pty pairs, the kit’s MQTT broker, kill -9 reboots)', () => {
  const killed = new Map<FirmwareBugName, { link: Link; cases: readonly string[]; killers: string[]; wallMs: number }>();
  const timings: string[] = [];

  afterAll(() => {
    if (killed.size === 0) {
      if (timings.length > 0) process.stdout.write(`\n${timings.join('\n')}\n`);
      return;
    }
    const rows = FIRMWARE_BUG_NAMES.filter((n) => killed.has(n)).map((n) => {
      const k = killed.get(n)!;
      const rule = FIRMWARE_BUGS.find((b) => b.name === n)!.rule;
      return `| ${n} | ${k.link} | ${k.cases.join(' ')} | ${k.killers.length > 0 ? k.killers.join(' ') : 'NOT KILLED'} | ${(k.wallMs / 1000).toFixed(1)} s | ${rule} |`;
    });
    const n = killed.size;
    const dead = [...killed.values()].filter((k) => k.killers.length > 0).length;
    process.stdout.write(
      [
        '',
        '| variant | link | cases run | failed (killed by) | wall | rule broken |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rows,
        '',
        `kill rate: ${dead}/${n} variants (${((100 * dead) / n).toFixed(1)} %)`,
        ...timings,
        '',
      ].join('\n'),
    );
  });

  it('the correct simulator passes every applicable case: full run on MQTT (the kit’s broker, kill -9 reboots)', async () => {
    const run = await runKit('ok-mqtt', 'mqtt', undefined, 'all');
    timings.push(`correct simulator, full run on MQTT: ${(run.wallMs / 1000).toFixed(1)} s (${run.summary})`);
    expect(failedIds(run), failures(run)).toEqual([]);
    expect(run.results.filter((c) => c.verdict === 'pass').length).toBeGreaterThanOrEqual(40);
    expect(run.firmware).toMatch(/^vitalseal-sim\//);
  }, 900_000);

  it('the correct simulator passes the serial variants’ cases on a serial line (socat pty pair, kill -9 reboots)', async () => {
    const cases = [...new Set(Object.values(VARIANTS).flatMap((v) => (v.link === 'serial' ? v.cases : [])))];
    const run = await runKit('ok-serial', 'serial', undefined, cases);
    timings.push(`correct simulator on serial, ${cases.length} cases: ${(run.wallMs / 1000).toFixed(1)} s (${run.summary})`);
    expect(failedIds(run), failures(run)).toEqual([]);
    expect(run.results.filter((c) => c.verdict === 'pass').map((c) => c.id)).toEqual(expect.arrayContaining(cases));
  }, 600_000);

  describe.concurrent('every broken variant fails at least one case', () => {
    const slot = limiter(PARALLEL);
    let started: number | undefined;
    for (const name of FIRMWARE_BUG_NAMES) {
      const v = VARIANTS[name];
      it(`${name} (${v.link}: ${v.cases.join(', ')})`, async () => {
        started ??= performance.now();
        const run = await slot(() => runKit(name, v.link, name, v.cases));
        const killers = failedIds(run);
        killed.set(name, { link: v.link, cases: v.cases, killers, wallMs: run.wallMs });
        if (killed.size === FIRMWARE_BUG_NAMES.length)
          timings.push(`all ${killed.size} variants (${PARALLEL} at once): ${((performance.now() - started!) / 1000).toFixed(1)} s`);
        expect(killers, `${name} was not caught by ${v.cases.join(', ')}: ${run.summary}`).not.toEqual([]);
        // the variant reports the same firmware string as the correct simulator: the kit found it by behaviour
        if (run.firmware !== null) expect(run.firmware).toMatch(/^vitalseal-sim\/[0-9.]+$/);
      }, 900_000);
    }
  });
});
