/**
 * Hand-written SVG line charts for the scaling curves (no plotting library): one panel per
 * figure, log-scaled x axes, a legend per panel.
 */
import type { ScalingBenchResult } from './scaling.ts';

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xLog: boolean;
  readonly yLog?: boolean;
  readonly series: readonly Series[];
}

const W = 460;
const H = 300;
const M = { left: 64, right: 16, top: 34, bottom: 46 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

const label = (v: number): string => {
  const a = Math.abs(v);
  if (a >= 1e6) return `${v / 1e6}M`;
  if (a >= 1e3) return `${v / 1e3}k`;
  if (a > 0 && a < 0.01) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
};

function panel(p: Panel, ox: number, oy: number): string {
  const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const out: string[] = [`<g transform="translate(${ox},${oy})">`, `<rect width="${W}" height="${H}" fill="#fff" stroke="#ddd"/>`];
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
  if (pts.length === 0) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12" fill="#888">no data</text></g>`);
    return out.join('\n');
  }
  const tx = (x: number): number => (p.xLog ? Math.log10(x) : x);
  const ty = (y: number): number => (p.yLog ? Math.log10(Math.max(y, 1e-9)) : y);
  let xMin = Math.min(...pts.map(([x]) => tx(x)));
  let xMax = Math.max(...pts.map(([x]) => tx(x)));
  let yMin = p.yLog ? Math.min(...pts.map(([, y]) => ty(y))) : 0;
  let yMax = Math.max(...pts.map(([, y]) => ty(y)));
  if (xMax === xMin) [xMin, xMax] = [xMin - 0.5, xMax + 0.5];
  if (yMax === yMin) yMax = yMin + 1;
  yMax += (yMax - yMin) * 0.08;
  if (p.yLog) {
    yMin = Math.floor(yMin);
    yMax = Math.ceil(yMax);
  }
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const sx = (x: number): number => M.left + ((tx(x) - xMin) / (xMax - xMin)) * iw;
  const sy = (y: number): number => M.top + ih - ((ty(y) - yMin) / (yMax - yMin)) * ih;
  // axes and grid
  const xTicks = p.xLog
    ? Array.from({ length: Math.floor(xMax) - Math.ceil(xMin) + 1 }, (_, i) => 10 ** (Math.ceil(xMin) + i))
    : niceTicks(xMin, xMax);
  const yTicks = p.yLog ? Array.from({ length: yMax - yMin + 1 }, (_, i) => 10 ** (yMin + i)) : niceTicks(yMin, yMax);
  for (const t of xTicks) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ih}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${M.top + ih + 16}" text-anchor="middle" font-size="11">${label(t)}</text>`);
  }
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + iw}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${y}" dy="4" text-anchor="end" font-size="11">${label(t)}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${M.top + ih}" x2="${M.left + iw}" y2="${M.top + ih}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ih}" stroke="#333"/>`);
  out.push(`<text x="${M.left + iw / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`);
  out.push(`<text transform="translate(14,${M.top + ih / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(p.yLabel)}</text>`);
  // series
  p.series.forEach((s, i) => {
    const good = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (good.length === 0) return;
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${good.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [x, y] of good)
      out.push(
        `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(`${s.name}: ${label(x)} → ${y}`)}</title></circle>`,
      );
    const ly = M.top + 6 + i * 15;
    out.push(`<line x1="${M.left + 10}" y1="${ly}" x2="${M.left + 26}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${M.left + 30}" y="${ly + 4}" font-size="11">${esc(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** A grid of panels, two per row. */
export function renderPanels(title: string, panels: readonly Panel[]): string {
  const cols = 2;
  const rows = Math.ceil(panels.length / cols);
  const gap = 12;
  const width = cols * W + (cols + 1) * gap;
  const height = 40 + rows * (H + gap) + gap;
  const body = panels.map((p, i) => panel(p, gap + (i % cols) * (W + gap), 40 + Math.floor(i / cols) * (H + gap))).join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fafafa"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

const BLUE = '#1f77b4';
const ORANGE = '#ff7f0e';
const GREEN = '#2ca02c';
const RED = '#d62728';

/** The scaling figures: log growth (time, proof size) and device count (throughput, memory). */
export function scalingSvg(r: ScalingBenchResult, subtitle: string): string {
  const mem = r.log.find((l) => l.store === 'memory');
  const sql = r.log.find((l) => l.store === 'sqlite');
  const pts = (l: typeof mem, f: (p: NonNullable<typeof mem>['points'][number]) => number): Array<[number, number]> =>
    l ? l.points.map((p) => [p.leaves, f(p)]) : [];
  const panels: Panel[] = [
    {
      title: 'Log growth: µs per operation',
      xLabel: 'leaves in the log',
      yLabel: 'µs',
      xLog: true,
      series: [
        { name: 'append (memory)', color: BLUE, points: pts(mem, (p) => p.appendUs) },
        { name: 'append (SQLite, 1,000/txn)', color: ORANGE, points: pts(sql, (p) => p.appendUs) },
        { name: 'inclusion proof (memory)', color: GREEN, points: pts(mem, (p) => p.proofUs) },
        { name: 'inclusion proof (SQLite)', color: RED, points: pts(sql, (p) => p.proofUs) },
      ],
    },
    {
      title: 'Log growth: proof size',
      xLabel: 'leaves in the log',
      yLabel: 'hashes (32 B each)',
      xLog: true,
      series: [
        { name: 'inclusion proof (max of 200)', color: BLUE, points: pts(mem ?? sql, (p) => p.proofHashes) },
        { name: 'consistency proof n/2 → n', color: GREEN, points: pts(mem ?? sql, (p) => p.consistencyHashes) },
        { name: '⌈log2 n⌉', color: '#999', points: pts(mem ?? sql, (p) => p.log2Ceil) },
      ],
    },
    {
      title: 'Devices: durable ingest throughput',
      xLabel: 'connected devices (one reading in flight each)',
      yLabel: 'acknowledged readings/s',
      xLog: true,
      series: [{ name: 'readings/s', color: BLUE, points: r.devices.map((d) => [d.devices, d.perSecond]) }],
    },
    {
      title: 'Devices: agent memory and PUBACK p99',
      xLabel: 'connected devices',
      yLabel: 'MiB / ms',
      xLog: true,
      series: [
        { name: 'agent RSS connected (MiB)', color: ORANGE, points: r.devices.map((d) => [d.devices, d.agentRssMiB.connected]) },
        { name: 'agent RSS peak (MiB)', color: RED, points: r.devices.map((d) => [d.devices, d.agentRssMiB.peak]) },
        { name: 'PUBACK p99 (ms)', color: GREEN, points: r.devices.map((d) => [d.devices, d.pubackP99Ms]) },
      ],
    },
  ];
  return renderPanels(`vitalseal scaling — ${subtitle}`, panels);
}
