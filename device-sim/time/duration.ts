import { simFail } from '../errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** "250ms", "30s", "15m", "2h", "1d", "1h30m" or a bare number of milliseconds → ms (SIM_DURATION_INVALID otherwise). */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ms|min|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== s)
    simFail('SIM_DURATION_INVALID', `not a duration: ${JSON.stringify(text.slice(0, 32))}`);
  let total = 0;
  for (const p of parts) total += Number(p[1]) * UNIT_MS[p[2]!]!;
  if (!Number.isFinite(total)) simFail('SIM_DURATION_INVALID');
  return Math.round(total);
}

/** 90000 → "1m30s" (for tables). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  let rest = Math.round(ms / 1000) * 1000;
  let out = '';
  for (const [u, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * size;
    }
  }
  return out || '0s';
}
