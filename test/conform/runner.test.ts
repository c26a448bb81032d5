/**
 * The runner: a case that hangs is aborted at its time limit and fails, a case that throws fails
 * with the error, a helper's CaseFailure carries its evidence, `applies` gives N/A, and the next
 * case always runs. The link here is an in-memory stand-in: the runner is under test, not a transport.
 */
import { describe, expect, it } from 'vitest';
import { seededRng, systemClock } from '../../protocol/rng.ts';
import { createHpke } from '../../protocol/node.ts';
import { TestAuthority } from '../../conform/authority.ts';
import { pass, type ConformCase } from '../../conform/case.ts';
import { CaseFailure, ConformContext, DEFAULT_BOUNDS } from '../../conform/context.ts';
import { Observations } from '../../conform/observations.ts';
import { PatientKeys } from '../../conform/patientKeys.ts';
import { runCases } from '../../conform/runner.ts';
import { ACK_ALL, type KitTransport } from '../../conform/transports/transport.ts';
import { ALL_CASES, selectCases } from '../../conform/registry.ts';

function context(): ConformContext {
  const observations = new Observations(() => Date.now());
  let resets = 0;
  const transport: KitTransport = {
    kind: 'serial',
    ackPolicy: ACK_ALL,
    linkUp: true,
    start: async () => undefined,
    stop: async () => undefined,
    setTicket: async () => {
      resets++;
    },
    offerTicket: async () => undefined,
    withholdTicket: async () => undefined,
    releaseWithheld: () => undefined,
    dropLink: async () => undefined,
  };
  void resets;
  return new ConformContext({
    deviceId: 'dut',
    transport,
    observations,
    authority: TestAuthority.generate(seededRng('runner-authority')),
    patients: new PatientKeys(seededRng('runner-patients'), createHpke('node')),
    hpke: createHpke('node'),
    clock: systemClock,
    rng: seededRng('runner'),
    bounds: { ...DEFAULT_BOUNDS, linkTimeoutMs: 50 },
  });
}

const base = { title: 't', section: '§1', group: 'status' as const };

describe('conform runner', () => {
  it('times out a hanging case, fails a throwing one, and runs every case', async () => {
    const ran: string[] = [];
    let aborted = false;
    const cases: ConformCase[] = [
      {
        ...base,
        id: 'T-01',
        timeoutMs: 100,
        run: (ctx) =>
          new Promise((resolve) => {
            ran.push('T-01');
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
            });
            void resolve; // never settles
          }),
      },
      {
        ...base,
        id: 'T-02',
        run: async () => {
          ran.push('T-02');
          throw new TypeError('device sent something odd');
        },
      },
      {
        ...base,
        id: 'T-03',
        run: async () => {
          ran.push('T-03');
          throw new CaseFailure({ expected: 'x', received: 'y' });
        },
      },
      { ...base, id: 'T-04', applies: () => 'not this device', run: async () => pass() },
      { ...base, id: 'T-05', run: async () => (ran.push('T-05'), pass({ expected: 'a', received: 'a' })) },
    ];
    const results = await runCases(cases, context());
    expect(ran).toEqual(['T-01', 'T-02', 'T-03', 'T-05']);
    expect(aborted).toBe(true);
    expect(results.map((r) => r.verdict)).toEqual(['fail', 'fail', 'fail', 'n/a', 'pass']);
    expect(results[0]!.evidence!.received).toMatch(/timed out/);
    expect(results[1]!.evidence!.received).toContain('TypeError: device sent something odd');
    expect(results[2]!.evidence).toEqual({ expected: 'x', received: 'y' });
    expect(results[3]!.reason).toBe('not this device');
  });

  it('a silent device fails the cases that need it, quickly, with the same evidence', async () => {
    const results = await runCases(selectCases('ENV-01,ENV-02,PT-01'), context(), { caseTimeoutMs: 5000 });
    expect(results.map((r) => r.verdict)).toEqual(['fail', 'fail', 'fail']);
    for (const r of results) expect(r.evidence!.received).toBe('nothing at all');
  });

  it('the registry: at least 40 cases, unique ids, a spec section each; selection by id', () => {
    expect(ALL_CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(ALL_CASES.map((c) => c.id)).size).toBe(ALL_CASES.length);
    for (const c of ALL_CASES) {
      expect(c.id).toMatch(/^[A-Z]+-\d\d$/);
      expect(c.section).toMatch(/^§\d/);
      expect(c.title.length).toBeGreaterThan(10);
    }
    expect(selectCases('env-01,RTX-01').map((c) => c.id)).toEqual(['ENV-01', 'RTX-01']);
    expect(() => selectCases('NOPE-01')).toThrow(/unknown case id/);
  });
});
