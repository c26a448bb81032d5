import { simFail } from '../errors.ts';
import { decisionUnit } from '../random/streams.ts';
import { parseDuration } from '../time/duration.ts';

/**
 * Fault rates (probabilities). Per transmission: drop, duplicate, corrupt, reorder,
 * delay (mutually exclusive, so their sum is at most 1). Per measurement tick: reboot,
 * link down. Every decision is a pure function of (seed, device, coordinates), so a run
 * is repeatable from its seed whatever the network timing.
 */
export interface FaultRates {
  readonly drop: number;
  readonly duplicate: number;
  readonly corrupt: number;
  readonly reorder: number;
  readonly delay: number;
  /** Largest injected delay; a delayed message waits uniform(10 %, 100 %) of it. */
  readonly delayMaxMs: number;
  readonly reboot: number;
  /** How long a rebooting device stays off. */
  readonly rebootOffMs: number;
  readonly linkDown: number;
  /** Mean link outage; each lasts uniform(50 %, 150 %) of it. */
  readonly linkDownMs: number;
}

export const NO_FAULTS: FaultRates = {
  drop: 0,
  duplicate: 0,
  corrupt: 0,
  reorder: 0,
  delay: 0,
  delayMaxMs: 500,
  reboot: 0,
  rebootOffMs: 500,
  linkDown: 0,
  linkDownMs: 3000,
};

export type TransmitFault =
  | { readonly kind: 'none' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'duplicate' }
  /** `at` in [0, 1): where in the message the link flips a byte. */
  | { readonly kind: 'corrupt'; readonly at: number }
  | { readonly kind: 'reorder' }
  | { readonly kind: 'delay'; readonly ms: number };

export type TickFault =
  | { readonly kind: 'none' }
  | { readonly kind: 'reboot'; readonly offMs: number }
  | { readonly kind: 'link-down'; readonly ms: number };

export type TransmitFaultKind = Exclude<TransmitFault['kind'], 'none'>;

/** The fault (if any) the link applies to transmission `attempt` of reading `seq`. */
export function transmitFault(rates: FaultRates, seed: string, device: string, seq: number, attempt: number): TransmitFault {
  const u = decisionUnit(seed, device, 'tx', seq, attempt);
  let edge = rates.drop;
  if (u < edge) return { kind: 'drop' };
  if (u < (edge += rates.duplicate)) return { kind: 'duplicate' };
  if (u < (edge += rates.corrupt)) return { kind: 'corrupt', at: decisionUnit(seed, device, 'tx-at', seq, attempt) };
  if (u < (edge += rates.reorder)) return { kind: 'reorder' };
  if (u < (edge += rates.delay))
    return { kind: 'delay', ms: Math.round(rates.delayMaxMs * (0.1 + 0.9 * decisionUnit(seed, device, 'tx-delay', seq, attempt))) };
  return { kind: 'none' };
}

/** The fault (if any) at measurement tick `tick` (its index on the device's measurement grid). */
export function tickFault(rates: FaultRates, seed: string, device: string, tick: number): TickFault {
  const u = decisionUnit(seed, device, 'tick', tick);
  if (u < rates.reboot) return { kind: 'reboot', offMs: rates.rebootOffMs };
  if (u < rates.reboot + rates.linkDown)
    return { kind: 'link-down', ms: Math.round(rates.linkDownMs * (0.5 + decisionUnit(seed, device, 'tick-len', tick))) };
  return { kind: 'none' };
}

const KEYS: Record<string, keyof FaultRates> = {
  drop: 'drop',
  dup: 'duplicate',
  duplicate: 'duplicate',
  corrupt: 'corrupt',
  reorder: 'reorder',
  delay: 'delay',
  reboot: 'reboot',
  link: 'linkDown',
  'link-down': 'linkDown',
  linkdown: 'linkDown',
};

/**
 * "drop=0.02,dup=0.01,corrupt=0.01,reorder=0.02,delay=0.05:800ms,reboot=0.002:1s,link=0.01:3s"
 * (rate[:duration]); "none" or "" for no faults. SIM_FAULT_SPEC_INVALID otherwise.
 */
export function parseFaults(spec: string, base: FaultRates = NO_FAULTS): FaultRates {
  const out: { -readonly [K in keyof FaultRates]: FaultRates[K] } = { ...base };
  const s = spec.trim();
  if (s === '' || s === 'none') return out;
  for (const item of s.split(',')) {
    const m = /^([a-z-]+)=([0-9.]+)(?::([0-9a-z.]+))?$/.exec(item.trim());
    const key = m ? KEYS[m[1]!] : undefined;
    if (!m || key === undefined)
      simFail('SIM_FAULT_SPEC_INVALID', `bad fault "${item.slice(0, 40)}" (known: ${Object.keys(KEYS).join(', ')})`);
    const rate = Number(m[2]);
    if (!(rate >= 0 && rate <= 1)) simFail('SIM_FAULT_SPEC_INVALID', `rate of ${m[1]} must be in [0, 1]`);
    out[key] = rate;
    if (m[3] !== undefined) {
      let ms: number;
      try {
        ms = parseDuration(m[3]);
      } catch (e) {
        return simFail('SIM_FAULT_SPEC_INVALID', `bad duration for ${m[1]}`, e);
      }
      if (key === 'delay') out.delayMaxMs = ms;
      else if (key === 'reboot') out.rebootOffMs = ms;
      else if (key === 'linkDown') out.linkDownMs = ms;
      else simFail('SIM_FAULT_SPEC_INVALID', `${m[1]} takes no duration`);
    }
  }
  checkFaultRates(out);
  return out;
}

export function checkFaultRates(r: FaultRates): void {
  const perTx = r.drop + r.duplicate + r.corrupt + r.reorder + r.delay;
  if (perTx > 1 + 1e-9) simFail('SIM_FAULT_SPEC_INVALID', 'per-transmission fault rates add up to more than 1');
  if (r.reboot + r.linkDown > 1 + 1e-9) simFail('SIM_FAULT_SPEC_INVALID', 'reboot + link rates add up to more than 1');
}

export function hasFaults(r: FaultRates): boolean {
  return r.drop + r.duplicate + r.corrupt + r.reorder + r.delay + r.reboot + r.linkDown > 0;
}
