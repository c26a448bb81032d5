/**
 * Microcontroller estimate: cycles, µJ per reading and battery life per device profile on
 * Cortex-M0+ and Cortex-M4, per-reading vs session mode, and the share of crypto vs radio in
 * the energy of a reading. Computed from the energy model (device-sim/energy: published cycle
 * counts, datasheet currents, exact envelope sizes); nothing here is timed.
 */
import { energyTable, type EnergyTable } from '../device-sim/energy/index.ts';
import { round } from './lib/stats.ts';

export interface McuRow {
  readonly profile: string;
  readonly core: string;
  readonly mode: 'per-reading' | 'session';
  readonly periodMs: number;
  readonly envelopeBytes: number;
  readonly kcyclesPerReading: number;
  readonly cpuMsPerReading: number;
  readonly cryptoUj: number;
  readonly radioUj: number;
  readonly totalUj: number;
  /** cryptoUj / totalUj (per reading, sleep excluded). */
  readonly cryptoShare: number;
  readonly radioShare: number;
  readonly averageCurrentUa: number;
  readonly batteryDays: number;
}

export interface McuBenchResult {
  readonly rows: readonly McuRow[];
  /** Per core: cycles per reading, per-reading mode / session mode (ECG patch). */
  readonly sessionSavings: Readonly<Record<string, number>>;
  readonly assumptions: EnergyTable['assumptions'];
}

export function runMcuBench(): McuBenchResult {
  const t = energyTable();
  const rows: McuRow[] = t.rows.map((r) => ({
    profile: r.profile,
    core: r.core,
    mode: r.mode,
    periodMs: r.periodMs,
    envelopeBytes: r.envelopeBytes,
    kcyclesPerReading: round(r.cyclesPerReading / 1000, 1),
    cpuMsPerReading: round(r.cpuMsPerReading, 3),
    cryptoUj: round(r.cryptoUj, 2),
    radioUj: round(r.radioUj, 2),
    totalUj: round(r.totalUj, 2),
    cryptoShare: round(r.cryptoUj / r.totalUj, 3),
    radioShare: round(r.radioUj / r.totalUj, 3),
    averageCurrentUa: round(r.averageCurrentUa, 2),
    batteryDays: round(r.batteryDays, 1),
  }));
  const sessionSavings: Record<string, number> = {};
  for (const core of new Set(rows.map((r) => r.core))) {
    const per = rows.find((r) => r.core === core && r.profile === 'ecg-patch' && r.mode === 'per-reading');
    const ses = rows.find((r) => r.core === core && r.profile === 'ecg-patch' && r.mode === 'session');
    if (per && ses) sessionSavings[core] = round(per.kcyclesPerReading / ses.kcyclesPerReading, 1);
  }
  return { rows, sessionSavings, assumptions: t.assumptions };
}
