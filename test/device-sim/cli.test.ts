import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EnergyTable } from '../../device-sim/energy/index.ts';
import type { FleetReport } from '../../device-sim/report/fleetReport.ts';
import { runSimCli } from '../support/simCli.ts';

const sim = runSimCli;

afterEach(() => vi.restoreAllMocks());

describe('vitalseal sim (CLI)', () => {
  it('--help documents the flags', async () => {
    const r = await sim(['--help']);
    for (const flag of [
      '--devices',
      '--profile',
      '--broker',
      '--duration',
      '--virtual',
      '--faults',
      '--serial',
      '--energy',
      '--json',
      '--nvm-dir',
      '--session',
    ])
      expect(r.out).toContain(flag);
  });

  it('--energy --json gives the table data', async () => {
    const r = await sim(['--energy', '--json']);
    const t = JSON.parse(r.out) as EnergyTable;
    expect(t.rows).toHaveLength(20);
    expect(t.assumptions.battery.capacityMah).toBe(225);
  });

  it('runs a small seeded fleet (in-process agent stand-in, virtual time) and reports as JSON and as a table', async () => {
    const args = [
      '--devices',
      '3',
      '--profile',
      'spo2,ecg,temp',
      '--broker',
      'loopback',
      '--virtual',
      '--duration',
      '5m',
      '--backend',
      'node',
      '--faults',
      'drop=0.05,dup=0.05,reorder=0.05',
      '--seed',
      'cli',
      '--ack-timeout',
      '2s',
    ];
    const a = JSON.parse((await sim([...args, '--json'])).out) as FleetReport;
    const b = JSON.parse((await sim([...args, '--json'])).out) as FleetReport;
    expect(a.devices.map((d) => d.id)).toEqual(['sim-0001', 'sim-0002', 'sim-0003']);
    expect(a.drained).toBe(true);
    expect(a.totals.measured).toBeGreaterThan(600);
    expect(a.totals.retried).toBeGreaterThan(0);
    // repeatable from the seed
    const strip = (r: FleetReport) =>
      r.devices.map((d) => ({ measured: d.measured, faults: d.faults, dropped: d.droppedSeqs, lastSeq: d.lastSeq }));
    expect(strip(b)).toEqual(strip(a));
    expect(a.devices[0]!.energy).toMatchObject({ core: 'cortex-m4' });
    const table = await sim(args);
    expect(table.out).toMatch(/TOTAL \(3\)/);
    expect(table.out).toContain('p99 ms');
  });

  it('bad flags exit 2 with a stable code', async () => {
    const r = await sim(['--faults', 'drop=7', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: { code: 'SIM_FAULT_SPEC_INVALID' } });
    expect((await sim(['--duration', 'soon'])).code).toBe(2);
    expect((await sim(['--devices', '2', '--agent', 'http://127.0.0.1:1', '--broker', 'mqtt://127.0.0.1:1', '--token', 'x'])).code).toBe(5);
  });

  it('--device <id>: one device under test without a fleet file; its flags are checked', async () => {
    const r = await sim(['--device', 'dut-9', '--broker', 'loopback', '--virtual', '--duration', '10s', '--backend', 'node', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as FleetReport;
    expect(report.devices.map((d) => d.id)).toEqual(['dut-9']);
    expect(report.devices[0]!.measured).toBe(0); // no ticket on the stand-in: nothing sealed
    const code = async (args: string[]) => {
      const x = await sim([...args, '--json']);
      return [x.code, (JSON.parse(x.out) as { error?: { code?: string } }).error?.code];
    };
    const bad = ['SIM_CONFIG_INVALID'];
    expect(await code(['--device', 'bad id', '--broker', 'loopback'])).toEqual([2, ...bad]);
    expect(await code(['--device', 'dut-9', '--authority-key', 'abcd', '--broker', 'loopback'])).toEqual([2, ...bad]);
    expect(await code(['--device', 'dut-9', '--broker', 'mqtt://127.0.0.1:1'])).toEqual([2, ...bad]); // no --secret-file
    expect(await code(['--device', 'dut-9'])).toEqual([2, ...bad]); // no link
    expect(await code(['--device', 'dut-9', '--devices', '2', '--broker', 'loopback'])).toEqual([2, ...bad]);
    expect(await code(['--devices', '2', '--authority-key', '00'.repeat(32), '--broker', 'loopback'])).toEqual([2, ...bad]);
  });

  it('--firmware-bug is hidden, and refused unless VITALSEAL_TEST_FIRMWARE_BUGS=1', async () => {
    expect((await sim(['--help'])).out).not.toContain('firmware-bug');
    const args = ['--device', 'dut-8', '--broker', 'loopback', '--virtual', '--duration', '5s', '--backend', 'node', '--json'];
    vi.stubEnv('VITALSEAL_TEST_FIRMWARE_BUGS', '');
    const refused = await sim([...args, '--firmware-bug', 'seq-gap']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.out)).toMatchObject({ ok: false, error: { code: 'SIM_CONFIG_INVALID' } });
    vi.stubEnv('VITALSEAL_TEST_FIRMWARE_BUGS', '1');
    expect((await sim([...args, '--firmware-bug', 'no-such-bug'])).code).toBe(2);
    const ran = await sim([...args, '--firmware-bug', 'seq-gap']);
    expect(ran.code).toBe(0);
    expect(ran.out).not.toContain('seq-gap'); // the report does not reveal the variant
    vi.unstubAllEnvs();
  });
});
