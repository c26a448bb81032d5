import { describe, expect, it } from 'vitest';
import { runStoreBench, storeTable } from '../../bench/store.ts';

describe('bench/store (quick)', () => {
  it('measures both layouts for both group shapes on a real SQLite file with fdatasync, and the table shows them', () => {
    const r = runStoreBench({ quick: true });
    expect(r.cases.map((c) => [c.groupSize, c.devices])).toEqual([
      [11, 1],
      [150, 16],
    ]);
    for (const c of r.cases) {
      for (const run of [c.agent, c.dense]) {
        expect(run.groups).toBe(Math.ceil(r.readingsPerRun / c.groupSize));
        expect(run.cpuUsPerReading).toBeGreaterThan(0);
        expect(run.syncP50Ms).toBeGreaterThan(0);
        expect(run.syncP90Ms).toBeGreaterThanOrEqual(run.syncP50Ms);
      }
      // dense stores every interior node (~1 per leaf), agent every 4th level (~1/15 per leaf)
      expect(c.dense.nodeRows).toBeGreaterThan(2 * r.readingsPerRun - 16);
      expect(c.agent.nodeRows).toBeLessThan((2 * r.readingsPerRun) / 14);
      expect(c.cpuRatio).toBeCloseTo(c.agent.cpuUsPerReading / c.dense.cpuUsPerReading, 1);
    }
    expect(storeTable(r)).toContain('agent/dense CPU');
  });
});
