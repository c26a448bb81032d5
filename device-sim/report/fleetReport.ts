import type { FaultRates } from '../faults/faultPlan.ts';
import type { DeviceFirmware } from '../firmware/device.ts';
import { readingEnergy, readingShapeOf, type CoreName } from '../energy/index.ts';
import type { ProfileName } from '../profiles/index.ts';
import type { LinkKind } from '../transport/link.ts';
import { summarize, type LatencySummary } from './latency.ts';

export interface DeviceEnergy {
  readonly core: CoreName;
  /** Per reading, with this run's envelope size and retransmissions. */
  readonly uJPerReading: number;
  readonly averageCurrentUa: number;
  readonly batteryDays: number;
}

export interface DeviceReport {
  readonly id: string;
  readonly profile: ProfileName;
  readonly state: string;
  readonly measured: number;
  readonly notMeasured: { readonly noTicket: number; readonly outboxFull: number };
  readonly sent: number;
  readonly transmissions: number;
  readonly acknowledged: number;
  readonly acks: number;
  readonly retried: number;
  /** Acknowledgements of readings already acknowledged: copies the agent saw more than once. */
  readonly duplicates: number;
  /** Readings lost to the outbox policy (dropped oldest + not measured because the ring was full). */
  readonly droppedByPolicy: number;
  readonly droppedSeqs: readonly number[];
  readonly droppedAfterSend: number;
  /** As the agent counts them on the stored readings (same algorithm, on the acknowledgement order). */
  readonly gaps: number;
  readonly reorders: number;
  readonly rejected: Readonly<Record<string, number>>;
  readonly corruptedSeqs: readonly number[];
  readonly faults: Readonly<Record<string, number>>;
  readonly ackTimeouts: number;
  readonly connects: number;
  readonly connectFailures: number;
  readonly linkLosses: number;
  readonly reboots: number;
  readonly replayedAtBoot: number;
  readonly ticketRefusals: Readonly<Record<string, number>>;
  readonly ticketsAccepted: number;
  /** Readings still in the outbox at the end (not acknowledged). */
  readonly pending: number;
  readonly pendingSeqs: readonly number[];
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly nextSeq: number;
  readonly latencyMs: LatencySummary;
  readonly bytesSent: number;
  readonly lastLinkError: string | null;
  readonly energy: DeviceEnergy | null;
}

export interface FleetTotals {
  readonly devices: number;
  readonly measured: number;
  readonly sent: number;
  readonly transmissions: number;
  readonly acknowledged: number;
  readonly acks: number;
  readonly retried: number;
  readonly duplicates: number;
  readonly droppedByPolicy: number;
  readonly gaps: number;
  readonly reorders: number;
  readonly rejected: number;
  readonly corrupted: number;
  readonly pending: number;
  readonly reboots: number;
  readonly linkLosses: number;
  readonly ticketRefusals: number;
  readonly latencyMs: LatencySummary;
  /** Acknowledged readings per wall-clock second. */
  readonly ackedPerSecond: number;
  readonly sealedPerSecond: number;
}

export interface FleetReport {
  readonly version: 1;
  readonly seed: string;
  readonly time: 'real' | 'virtual';
  readonly startedAt: string;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly link: LinkKind;
  readonly backend: string;
  readonly mode: string;
  readonly faults: FaultRates;
  /** Every outbox was empty at the end. */
  readonly drained: boolean;
  readonly totals: FleetTotals;
  readonly devices: readonly DeviceReport[];
}

export interface ReportContext {
  readonly seed: string;
  readonly time: 'real' | 'virtual';
  readonly startedAtMs: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly link: LinkKind;
  readonly backend: string;
  readonly mode: 'per-reading' | 'session';
  readonly faults: FaultRates;
  readonly energyCore?: CoreName | null;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

export function deviceReport(d: DeviceFirmware, profile: ProfileName, ctx: ReportContext): DeviceReport {
  const s = d.stats;
  const core = ctx.energyCore === undefined ? 'cortex-m4' : ctx.energyCore;
  let energy: DeviceEnergy | null = null;
  if (core !== null && ctx.backend !== 'none') {
    const shape = readingShapeOf(profile, ctx.mode);
    const envelopeBytes = s.transmissions > 0 && ctx.link !== 'serial' ? s.bytesSent / s.transmissions : shape.envelopeBytes;
    const e = readingEnergy(
      { ...shape, envelopeBytes },
      {
        core,
        mode: ctx.mode,
        readingsPerSession: Math.max(1, s.measured),
        periodMs: d.periodMs,
        transmissionsPerReading: s.sent > 0 ? s.transmissions / s.sent : 1,
      },
    );
    const r2 = (x: number): number => Math.round(x * 100) / 100;
    energy = { core, uJPerReading: r2(e.totalUj), averageCurrentUa: r2(e.averageCurrentUa), batteryDays: Math.round(e.batteryDays) };
  }
  return {
    id: d.id,
    profile,
    state: d.state.kind,
    measured: s.measured,
    notMeasured: { ...s.notMeasured },
    sent: s.sent,
    transmissions: s.transmissions,
    acknowledged: s.acknowledged,
    acks: s.acks,
    retried: s.retried,
    duplicates: s.duplicateAcks,
    droppedByPolicy: s.droppedByPolicy,
    droppedSeqs: [...s.droppedSeqs],
    droppedAfterSend: s.droppedAfterSend,
    gaps: s.sequence.gaps,
    reorders: s.sequence.reorders,
    rejected: { ...s.rejected },
    corruptedSeqs: [...s.corruptedSeqs],
    faults: { ...s.faults },
    ackTimeouts: s.ackTimeouts,
    connects: s.connects,
    connectFailures: s.connectFailures,
    linkLosses: s.linkLosses,
    reboots: s.reboots,
    replayedAtBoot: s.replayedAtBoot,
    ticketRefusals: { ...s.ticketRefusals },
    ticketsAccepted: s.ticketsAccepted,
    pending: d.pending,
    pendingSeqs: d.outbox?.pendingSeqs() ?? [],
    firstSeq: s.firstSeq,
    lastSeq: s.lastSeq,
    nextSeq: d.seq,
    latencyMs: s.latencySummary(),
    bytesSent: s.bytesSent,
    lastLinkError: s.lastLinkError,
    energy,
  };
}

export function fleetReport(devices: ReadonlyArray<{ firmware: DeviceFirmware; profile: ProfileName }>, ctx: ReportContext): FleetReport {
  const reports = devices.map((d) => deviceReport(d.firmware, d.profile, ctx));
  const all: number[] = [];
  for (const d of devices) for (const v of d.firmware.stats.latency.sorted()) all.push(v);
  const wallS = Math.max(ctx.wallMs, 1) / 1000;
  const total = (f: (r: DeviceReport) => number): number => sum(reports.map(f));
  const totals: FleetTotals = {
    devices: reports.length,
    measured: total((r) => r.measured),
    sent: total((r) => r.sent),
    transmissions: total((r) => r.transmissions),
    acknowledged: total((r) => r.acknowledged),
    acks: total((r) => r.acks),
    retried: total((r) => r.retried),
    duplicates: total((r) => r.duplicates),
    droppedByPolicy: total((r) => r.droppedByPolicy),
    gaps: total((r) => r.gaps),
    reorders: total((r) => r.reorders),
    rejected: total((r) => sum(Object.values(r.rejected))),
    corrupted: total((r) => r.corruptedSeqs.length),
    pending: total((r) => r.pending),
    reboots: total((r) => r.reboots),
    linkLosses: total((r) => r.linkLosses),
    ticketRefusals: total((r) => sum(Object.values(r.ticketRefusals))),
    latencyMs: summarize(Float64Array.from(all).sort()),
    ackedPerSecond: Math.round(total((r) => r.acknowledged) / wallS),
    sealedPerSecond: Math.round(total((r) => r.measured) / wallS),
  };
  return {
    version: 1,
    seed: ctx.seed,
    time: ctx.time,
    startedAt: new Date(ctx.startedAtMs).toISOString(),
    simulatedMs: ctx.simulatedMs,
    wallMs: Math.round(ctx.wallMs),
    link: ctx.link,
    backend: ctx.backend,
    mode: ctx.mode,
    faults: ctx.faults,
    drained: totals.pending === 0,
    totals,
    devices: reports,
  };
}

const COLUMNS: Array<[string, (r: DeviceReport | FleetTotals) => string]> = [
  ['sent', (r) => String(r.sent)],
  ['acked', (r) => String(r.acknowledged)],
  ['retried', (r) => String(r.retried)],
  ['dropped', (r) => String(r.droppedByPolicy)],
  ['dups', (r) => String(r.duplicates)],
  ['gaps', (r) => String(r.gaps)],
  ['reord', (r) => String(r.reorders)],
  ['pending', (r) => String(r.pending)],
  ['p50 ms', (r) => (r.latencyMs.p50 === null ? '-' : r.latencyMs.p50.toFixed(1))],
  ['p99 ms', (r) => (r.latencyMs.p99 === null ? '-' : r.latencyMs.p99.toFixed(1))],
];

/** The report as a text table: one row per device (the first `maxRows`), then the total. */
export function formatFleetReport(r: FleetReport, maxRows = 40): string {
  const rows: string[][] = r.devices.slice(0, maxRows).map((d) => [d.id, ...COLUMNS.map(([, f]) => f(d))]);
  if (r.devices.length > maxRows) rows.push([`… ${r.devices.length - maxRows} more`, ...COLUMNS.map(() => '')]);
  rows.push([`TOTAL (${r.totals.devices})`, ...COLUMNS.map(([, f]) => f(r.totals))]);
  const header = ['device', ...COLUMNS.map(([h]) => h)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const t = r.totals;
  return [
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(0, -1).map(line),
    widths.map((w) => '-'.repeat(w)).join('  '),
    line(rows[rows.length - 1]!),
    '',
    `seed ${r.seed} · ${r.time} time · simulated ${(r.simulatedMs / 1000).toFixed(1)} s in ${(r.wallMs / 1000).toFixed(1)} s · link ${r.link} · ${r.backend}/${r.mode}`,
    `sealed ${t.measured} (${t.sealedPerSecond}/s), acknowledged ${t.acknowledged} (${t.ackedPerSecond}/s), transmissions ${t.transmissions}, corrupted ${t.corrupted}, rejected ${t.rejected}, reboots ${t.reboots}, link losses ${t.linkLosses}, ticket refusals ${t.ticketRefusals}`,
    r.drained ? 'drained: every reading acknowledged' : `NOT drained: ${t.pending} readings still in outboxes (kept in NVM)`,
  ].join('\n');
}
