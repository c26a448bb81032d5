/**
 * What devices say about themselves in their status messages (docs/PROTOCOL.md §8.4 serial status
 * frames, §9.6 MQTT status JSON): decoded strictly and boundedly, counted, and the last report of
 * each provisioned device kept for the operator (GET /admin/devices, GET /admin/devices/:id/identity).
 *
 * A status is the device's word, authenticated only as far as its transport is: the embedded broker
 * lets a device publish on its own status topic only (§9.3), an external broker must do the same
 * (§9.7), a bound serial line drops a status frame naming another device (§8.6); an unbound line
 * trusts the frame's `dev`, like readings. Nothing here changes what the agent stores or accepts: a
 * device that lies about itself only misleads the operator's view of that device.
 *
 * Bounds (an attacker may send anything on its own topic or line): a payload over
 * MAX_STATUS_BYTES is not parsed; labels come from fixed sets (a code outside
 * TICKET_REFUSAL_CODES counts as `other`), so no input creates a new metric series; one entry per
 * PROVISIONED device (a status naming an unknown device is counted and dropped); a warning per
 * device at most once a minute for the same code (a change of code is logged at once); no key
 * material (idk, kid) in a log line.
 */
import type { Logger } from 'pino';
import type { Clock } from '../protocol/rng.ts';

/** A status payload larger than this is not parsed (the reference device's longest, online with fw, idk and kid, is ~250 bytes). */
export const MAX_STATUS_BYTES = 1024;

export const DEVICE_STATES = ['online', 'ticketed', 'error', 'offline'] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

/**
 * The ticket refusal codes a device reports (§7.3, §7.4, §3.6; §15): a status `{"state": "error",
 * "code": …}` with any other code is counted as `other`.
 */
export const TICKET_REFUSAL_CODES = [
  'TICKET_MALFORMED',
  'TICKET_BAD_SIGNATURE',
  'TICKET_WRONG_DEVICE',
  'TICKET_NOT_YET_VALID',
  'TICKET_EXPIRED',
  'SIM_NO_AUTHORITY_KEY',
  'SIM_TICKET_EXHAUSTED',
  'SIM_IDENTITY_KEY_MISMATCH',
  'SIM_IDENTITY_KEY_ROTATED',
] as const;
export type TicketRefusalLabel = (typeof TICKET_REFUSAL_CODES)[number] | 'other';
const KNOWN_CODES: ReadonlySet<string> = new Set(TICKET_REFUSAL_CODES);

/** The results `vitalseal_device_status_total{result}` counts: a state, or why the status was dropped. */
export const STATUS_RESULTS = [...DEVICE_STATES, 'malformed', 'unknown_device'] as const;
export type StatusResult = (typeof STATUS_RESULTS)[number];

/** The fields of a status the agent keeps (others, e.g. `fw`, are ignored, §8.4: unknown keys are ignored). */
export interface DeviceStatusReport {
  readonly state: DeviceState;
  /** A stable error code (§15 shape: upper case, digits, underscores; ≤ 64 characters). */
  readonly code?: string;
  /** The ticket in use (32 hex digits). */
  readonly kid?: string;
  /** The next seq the device will use. */
  readonly seq?: number;
  readonly boot?: number;
  /** The device's identity public key (64 hex digits, §3.6): public, for the operator to register. */
  readonly idk?: string;
}

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const KID = /^[0-9a-f]{32}$/;
const IDK = /^[0-9a-f]{64}$/;
const STATES: ReadonlySet<string> = new Set(DEVICE_STATES);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The refusal label of a code: itself when it is a known ticket refusal code, else `other`. */
export function refusalLabel(code: string | undefined): TicketRefusalLabel {
  return code !== undefined && KNOWN_CODES.has(code) ? (code as TicketRefusalLabel) : 'other';
}

/**
 * The status fields of a decoded object (an MQTT status's JSON object or a serial status frame's CBOR
 * map, read through `get`), or undefined when it is not a status: `state` missing or not a device
 * state, or a known field of the wrong shape. Unknown fields are ignored.
 */
export function statusOf(get: (key: string) => unknown): DeviceStatusReport | undefined {
  const state = get('state');
  if (typeof state !== 'string' || !STATES.has(state)) return undefined;
  const code = get('code');
  const kid = get('kid');
  const seq = get('seq');
  const boot = get('boot');
  const idk = get('idk');
  if (code !== undefined && (typeof code !== 'string' || !CODE.test(code))) return undefined;
  if (kid !== undefined && (typeof kid !== 'string' || !KID.test(kid))) return undefined;
  if (idk !== undefined && (typeof idk !== 'string' || !IDK.test(idk))) return undefined;
  if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 0)) return undefined;
  if (boot !== undefined && !(Number.isSafeInteger(boot) && (boot as number) >= 0)) return undefined;
  return {
    state: state as DeviceState,
    ...(code !== undefined ? { code: code as string } : {}),
    ...(kid !== undefined ? { kid: kid as string } : {}),
    ...(seq !== undefined ? { seq: seq as number } : {}),
    ...(boot !== undefined ? { boot: boot as number } : {}),
    ...(idk !== undefined ? { idk: idk as string } : {}),
  };
}

/**
 * An MQTT status payload (§9.6): at most MAX_STATUS_BYTES of UTF-8 JSON whose top level is an object;
 * undefined otherwise (too large, not UTF-8, not JSON, not an object, not a status). JSON.parse of
 * 1 KiB cannot nest deeper than 512 levels, far below V8's limit.
 */
export function decodeMqttStatus(payload: Uint8Array): DeviceStatusReport | undefined {
  if (!(payload instanceof Uint8Array) || payload.length === 0 || payload.length > MAX_STATUS_BYTES) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(payload));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  return statusOf((k) => (Object.hasOwn(o, k) ? o[k] : undefined));
}

/** The last status of one device (GET /admin/devices `reported`). */
export interface ReportedStatus {
  /** The last state it reported, and when (ms). */
  state: DeviceState;
  at: number;
  /** Its last "error" report: the code (as reported when it has the §15 shape) and when. */
  lastError?: { code: string | null; at: number };
  /** The identity public key it last reported (online status), and when. */
  idk?: { idk: string; at: number };
  /** The ticket in use and the next seq, as in its last status that carried them. */
  kid?: string;
  seq?: number;
}

export type StatusVia = 'mqtt' | 'external' | 'serial';

/** The two counters of AgentMetrics the book feeds (metrics.ts; not imported here: metrics.ts imports this file's label sets). */
export interface StatusCounters {
  readonly deviceStatus: { inc(labels: { result: StatusResult }): void };
  readonly ticketRefusals: { inc(labels: { code: TicketRefusalLabel }): void };
}

const WARN_INTERVAL_MS = 60_000;

/**
 * The agent's book of device statuses: counts each status by result, each refusal (`state` "error")
 * by code in `vitalseal_device_ticket_refusals_total{code}`, warns with device and code, and keeps the
 * last report of each provisioned device (in memory: a restart starts it empty; devices report again
 * when they reconnect). Never throws.
 */
export class DeviceStatusBook {
  private readonly last = new Map<string, ReportedStatus & { warnedAt?: number; warnedCode?: string | null }>();

  constructor(
    private readonly o: {
      metrics: StatusCounters;
      logger: Logger;
      clock: Clock;
      /** The device is provisioned (a status naming any other device is dropped). */
      known: (device: string) => boolean;
    },
  ) {}

  /** An MQTT status payload from `device`'s own status topic. */
  reportPayload(device: string, payload: Uint8Array, via: StatusVia): void {
    this.report(device, () => decodeMqttStatus(payload), via);
  }

  /** A status (undefined: it was malformed) of `device`, as its transport authenticated it. */
  report(device: string, status: DeviceStatusReport | undefined | (() => DeviceStatusReport | undefined), via: StatusVia): void {
    try {
      this.record(device, typeof status === 'function' ? status() : status, via);
    } catch (e) {
      this.o.logger.warn({ err: (e as Error).message }, 'device status not recorded');
    }
  }

  /** The last report of a device, if it reported since the agent started. */
  reported(device: string): ReportedStatus | undefined {
    const r = this.last.get(device);
    if (r === undefined) return undefined;
    const { warnedAt: _w, warnedCode: _c, ...view } = r;
    return view;
  }

  private record(device: string, status: DeviceStatusReport | undefined, via: StatusVia): void {
    if (!this.o.known(device)) {
      this.o.metrics.deviceStatus.inc({ result: 'unknown_device' });
      return;
    }
    if (status === undefined) {
      this.o.metrics.deviceStatus.inc({ result: 'malformed' });
      this.o.logger.debug({ device, via }, 'malformed device status dropped');
      return;
    }
    this.o.metrics.deviceStatus.inc({ result: status.state });
    const now = this.o.clock.now();
    const prev = this.last.get(device);
    const entry: ReportedStatus & { warnedAt?: number; warnedCode?: string | null } = {
      ...(prev ?? {}),
      state: status.state,
      at: now,
    };
    if (status.idk !== undefined) entry.idk = { idk: status.idk, at: now };
    if (status.kid !== undefined) entry.kid = status.kid;
    else if (status.state === 'online') delete entry.kid; // an online status without kid: no ticket in use
    if (status.seq !== undefined) entry.seq = status.seq;
    if (status.state === 'error') {
      const label = refusalLabel(status.code);
      this.o.metrics.ticketRefusals.inc({ code: label });
      const code = status.code ?? null;
      entry.lastError = { code, at: now };
      if (prev?.warnedCode !== code || prev.warnedAt === undefined || now - prev.warnedAt >= WARN_INTERVAL_MS) {
        entry.warnedAt = now;
        entry.warnedCode = code;
        // device and code only: never the idk or kid (§ agent/README.md rules)
        this.o.logger.warn({ device, code: code ?? 'none', via, known: label !== 'other' }, hintOf(label));
      }
    }
    this.last.set(device, entry);
  }
}

function hintOf(label: TicketRefusalLabel): string {
  switch (label) {
    case 'SIM_IDENTITY_KEY_ROTATED':
      return 'device refused a ticket: it rotated its identity key; register the idk it reports (vitalseal device identity) and open a new session';
    case 'SIM_IDENTITY_KEY_MISMATCH':
      return "device refused a ticket: the ticket certifies another identity key than the device's (check the registered key)";
    case 'TICKET_BAD_SIGNATURE':
    case 'SIM_NO_AUTHORITY_KEY':
      return 'device refused a ticket: it does not verify with the authority key the device has pinned (re-provision it)';
    default:
      return 'device refused or dropped a ticket';
  }
}
