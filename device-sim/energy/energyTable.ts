import { CYCLES, CORE_NAMES, type CoreName } from './cycleCounts.ts';
import { CR2032, MCUS, NRF52840_RADIO, SLEEP_MODES, type Battery, type SleepModeName } from './hardware.ts';
import { readingEnergy, type ReadingEnergy } from './model.ts';
import { readingShapeOf } from './readingShape.ts';
import { PROFILES, PROFILE_NAMES, type ProfileName } from '../profiles/index.ts';

export interface EnergyRow {
  readonly profile: ProfileName;
  readonly core: CoreName;
  readonly mode: 'per-reading' | 'session';
  readonly periodMs: number;
  readonly envelopeBytes: number;
  readonly plaintextBytes: number;
  readonly readingsPerSession: number;
  readonly cyclesPerReading: number;
  readonly cpuMsPerReading: number;
  readonly cryptoUj: number;
  readonly radioUj: number;
  readonly totalUj: number;
  readonly averageCurrentUa: number;
  readonly batteryDays: number;
  readonly detail: ReadingEnergy;
}

export interface EnergyTable {
  readonly rows: readonly EnergyRow[];
  readonly assumptions: {
    readonly battery: Battery;
    readonly sleep: { readonly mode: SleepModeName; readonly currentUa: number; readonly source: string };
    readonly radio: typeof NRF52840_RADIO;
    readonly mcus: typeof MCUS;
    readonly cycles: typeof CYCLES;
    readonly sessionHours: number;
    readonly notes: readonly string[];
  };
}

export interface EnergyTableOptions {
  readonly profiles?: readonly ProfileName[];
  readonly cores?: readonly CoreName[];
  readonly modes?: ReadonlyArray<'per-reading' | 'session'>;
  readonly battery?: Battery;
  readonly sleep?: SleepModeName;
  /** Ticket (= session) lifetime for session mode; 24 h by default. */
  readonly sessionHours?: number;
}

/**
 * The energy table for the five profiles × Cortex-M4 / Cortex-M0+ × per-reading / session
 * mode (used by `vitalseal sim --energy` and the benchmark suite).
 */
export function energyTable(o: EnergyTableOptions = {}): EnergyTable {
  const battery = o.battery ?? CR2032;
  const sleep = o.sleep ?? 'system-on';
  const sessionHours = o.sessionHours ?? 24;
  const rows: EnergyRow[] = [];
  for (const profile of o.profiles ?? PROFILE_NAMES) {
    const periodMs = PROFILES[profile].periodMs;
    for (const core of o.cores ?? CORE_NAMES) {
      for (const mode of o.modes ?? (['per-reading', 'session'] as const)) {
        const shape = readingShapeOf(profile, mode);
        const readingsPerSession = mode === 'session' ? Math.max(1, Math.floor((sessionHours * 3_600_000) / periodMs)) : 1;
        const e = readingEnergy(shape, { core, mode, readingsPerSession, periodMs, battery, sleep });
        rows.push({
          profile,
          core,
          mode,
          periodMs,
          envelopeBytes: shape.envelopeBytes,
          plaintextBytes: shape.plaintextBytes,
          readingsPerSession,
          cyclesPerReading: e.cycles.total,
          cpuMsPerReading: e.cpuMs,
          cryptoUj: e.cryptoUj,
          radioUj: e.radioUj,
          totalUj: e.totalUj,
          averageCurrentUa: e.averageCurrentUa,
          batteryDays: e.batteryDays,
          detail: e,
        });
      }
    }
  }
  return {
    rows,
    assumptions: {
      battery,
      sleep: { mode: sleep, currentUa: SLEEP_MODES[sleep].currentUa, source: SLEEP_MODES[sleep].source },
      radio: NRF52840_RADIO,
      mcus: MCUS,
      cycles: CYCLES,
      sessionHours,
      notes: [
        'crypto = X25519 keygen + DH, 5 HMAC-SHA256 (HKDF), ChaCha20-Poly1305 per reading, and building the envelope (CBOR bytes written × cycles per byte: plaintext, Enc_structure with the protected header, COSE framing); session mode spreads one setup over a ticket lifetime, the envelope is built per reading',
        'radio = MQTT PUBLISH + PUBACK over BLE 1M (L2CAP + link-layer overhead, ramp-up per PDU), one transmission per reading',
        'sensor front-end (LEDs, ECG AFE, cuff pump) not included: it does not depend on vitalseal',
        'cycle figures marked "estimate" or "quoted" in assumptions.cycles are not measurements',
      ],
    },
  };
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A text table of `energyTable()` for a terminal. */
export function formatEnergyTable(t: EnergyTable): string {
  const header = [
    'profile',
    'core',
    'mode',
    'period',
    'env B',
    'kcycles',
    'cpu ms',
    'crypto µJ',
    'radio µJ',
    'µJ/reading',
    'avg µA',
    `${t.assumptions.battery.name} days`,
  ];
  const lines = t.rows.map((r) => [
    r.profile,
    r.core,
    r.mode,
    r.periodMs >= 60_000 ? `${r.periodMs / 60_000} min` : `${r.periodMs / 1000} s`,
    fmt(r.envelopeBytes),
    fmt(r.cyclesPerReading / 1000, 1),
    fmt(r.cpuMsPerReading, 2),
    fmt(r.cryptoUj, 1),
    fmt(r.radioUj, 1),
    fmt(r.totalUj, 1),
    fmt(r.averageCurrentUa, 2),
    fmt(r.batteryDays, 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]): string => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const a = t.assumptions;
  return [
    row(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...lines.map(row),
    '',
    `battery ${a.battery.name} ${a.battery.capacityMah} mAh at ${a.battery.voltage} V; sleep ${a.sleep.currentUa} µA (${a.sleep.mode}); radio ${a.radio.name}: TX ${a.radio.txCurrentMa} mA, RX ${a.radio.rxCurrentMa} mA`,
    `X25519: ${fmt(CYCLES['cortex-m4'].x25519.value)} cycles on Cortex-M4 (Lenngren), ${fmt(CYCLES['cortex-m0plus'].x25519.value)} on Cortex-M0(+) (Düll et al. 2015); session mode: one setup per ${a.sessionHours} h ticket`,
    `envelope encoding: ${fmt(CYCLES['cortex-m4'].cborEncodePerByte.value)} cycles per CBOR byte on Cortex-M4, ${fmt(CYCLES['cortex-m0plus'].cborEncodePerByte.value)} on Cortex-M0+ (estimate from device-c's encoder, see cycleCounts.ts)`,
    ...a.notes.map((n) => `- ${n}`),
  ].join('\n');
}
