import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { SealBackend, SealMode } from '../crypto/sealer.ts';
import { simFail } from '../errors.ts';
import { checkFaultRates, NO_FAULTS, type FaultRates } from '../faults/faultPlan.ts';
import type { BackoffOptions } from '../firmware/backoff.ts';
import type { FirmwareBugName } from '../firmware/bugs.ts';
import { DeviceFirmware, type LinkFactory, type NetworkGauge } from '../firmware/device.ts';
import { FileNvm } from '../nvm/fileNvm.ts';
import type { OutboxPolicy } from '../nvm/outbox.ts';
import { MemoryNvm } from '../nvm/storage.ts';
import { profileByName, ScenarioTimeline, type ScenarioEvent } from '../profiles/index.ts';
import { fleetReport, type FleetReport } from '../report/fleetReport.ts';
import type { CoreName } from '../energy/index.ts';
import { realScheduler } from '../time/realScheduler.ts';
import type { Scheduler } from '../time/scheduler.ts';
import { VirtualScheduler } from '../time/virtualScheduler.ts';
import { LoopbackHub } from '../transport/loopbackLink.ts';
import { MqttLink } from '../transport/mqttLink.ts';
import { SerialLink } from '../transport/serialLink.ts';
import type { FleetDevice } from './fleetFile.ts';
import { lockNvmDir } from './nvmLock.ts';

export type FleetLink =
  | {
      readonly kind: 'mqtt';
      readonly url: string;
      /** MQTT over TLS: the ward CA, and for one device its client certificate and key (PEM; mutual TLS). */
      readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string };
    }
  | { readonly kind: 'serial'; readonly baudRate?: number }
  /** In-process stand-in for the agent (no network); `onHub` receives it (tests, benchmarks). */
  | { readonly kind: 'loopback'; readonly ackDelayMs?: number; readonly onHub?: (hub: LoopbackHub) => void };

export interface FleetProgress {
  readonly phase: 'connect' | 'run' | 'drain';
  readonly wallMs: number;
  /** Simulated time since the start. */
  readonly simulatedMs: number;
  readonly durationMs: number;
  readonly measured: number;
  readonly acknowledged: number;
  readonly pending: number;
  readonly connected: number;
  readonly devices: number;
  /** Acknowledged readings per wall second over the last interval. */
  readonly ackRate: number;
}

export interface FleetOptions {
  readonly devices: readonly FleetDevice[];
  readonly link: FleetLink;
  /** Simulated measuring time. */
  readonly durationMs: number;
  /** real: wall-clock timers; virtual: time jumps from timer to timer as fast as the network acknowledges. */
  readonly time?: 'real' | 'virtual';
  /** Virtual time origin (default: now − duration, so readings are not in the agent's future). */
  readonly startMs?: number;
  /** Run seed (default: random, reported). */
  readonly seed?: string;
  readonly backend?: SealBackend;
  readonly mode?: SealMode;
  /** File-backed NVM under this directory (one subdirectory per device); default: in memory. */
  readonly nvmDir?: string;
  readonly outboxCapacity?: number;
  readonly outboxPolicy?: OutboxPolicy;
  readonly faults?: FaultRates;
  readonly scenarios?: readonly ScenarioEvent[];
  readonly window?: number;
  readonly ackTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  /** After the measuring time, how long (wall ms) to wait for outboxes to empty. Default 30 s. */
  readonly drainTimeoutMs?: number;
  /** Devices are powered on over this many wall ms (real time), to spread connections. Default min(2000, 2·N). */
  readonly rampMs?: number;
  /**
   * Virtual time: timers of this much simulated time run between waits for the network
   * (every copy on the wire acknowledged, every connection attempt settled). Default 1000 ms,
   * less for fleets over 100 devices (100 000 ms / devices, at least 20 ms).
   */
  readonly virtualStepMs?: number;
  /** Longest wall wait for the network before virtual time moves on anyway (default 10 s). */
  readonly idleCapMs?: number;
  /** Virtual time: devices powered on (and connecting) at once, batch after batch. Default 100. */
  readonly connectBatch?: number;
  readonly energyCore?: CoreName | null;
  readonly progressIntervalMs?: number;
  readonly onProgress?: (p: FleetProgress) => void;
  /** Stops measuring early (then drains). */
  readonly signal?: AbortSignal;
  /** Every device runs this deliberately broken firmware variant (firmware/bugs.ts): conformance-kit tests only. */
  readonly firmwareBug?: FirmwareBugName;
}

export interface FleetRun {
  readonly report: FleetReport;
  readonly devices: readonly DeviceFirmware[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Runs a fleet of simulated devices in this process against one agent (MQTT broker or
 * serial lines) and returns the per-device and total report.
 */
export async function runFleet(o: FleetOptions): Promise<FleetRun> {
  if (o.devices.length === 0) simFail('SIM_CONFIG_INVALID', 'no devices');
  if (!(o.durationMs >= 0)) simFail('SIM_CONFIG_INVALID', 'duration must be ≥ 0');
  const faults = o.faults ?? NO_FAULTS;
  checkFaultRates(faults);
  const seed = o.seed ?? randomBytes(8).toString('hex');
  const timeMode = o.time ?? 'real';
  const wallStart = performance.now();
  const startedAtMs = Date.now();
  const virtual = timeMode === 'virtual' ? new VirtualScheduler(Math.floor(o.startMs ?? Date.now() - o.durationMs)) : undefined;
  const scheduler: Scheduler = virtual ?? realScheduler();
  const runStartMs = scheduler.now();
  const endMs = runStartMs + o.durationMs;
  const unlock = o.nvmDir ? lockNvmDir(o.nvmDir) : undefined;
  const bug = o.firmwareBug ? { bug: o.firmwareBug } : {};

  let hub: LoopbackHub | undefined;
  if (o.link.kind === 'loopback') {
    hub = new LoopbackHub(scheduler, o.link.ackDelayMs ?? 0);
    o.link.onHub?.(hub);
  }
  const linkFactoryFor = (d: FleetDevice): LinkFactory => {
    const link = o.link;
    if (link.kind === 'mqtt')
      return (dev, events) => {
        if (dev.secret === undefined && link.tls?.cert === undefined)
          simFail('SIM_CONFIG_INVALID', `device ${dev.id} has no secret (or client certificate) for MQTT`);
        return new MqttLink(
          {
            url: link.url,
            deviceId: dev.id,
            ...(dev.secret !== undefined ? { secret: dev.secret } : {}),
            ...(link.tls ? { tls: link.tls } : {}),
            ...bug,
          },
          events,
        );
      };
    if (link.kind === 'serial')
      return (dev, events) => {
        if (d.serialPath === undefined) simFail('SIM_CONFIG_INVALID', `device ${dev.id} has no serial port`);
        return new SerialLink(
          { path: d.serialPath, deviceId: dev.id, ...(link.baudRate ? { baudRate: link.baudRate } : {}), ...bug },
          events,
        );
      };
    return (dev, events) => hub!.link(dev.id, events);
  };

  const scenarios = new ScenarioTimeline(o.scenarios ?? []);
  const network: NetworkGauge = { awaiting: 0 };
  const wallTimers = realScheduler();
  const fleet = o.devices.map((d) => {
    const profile = profileByName(d.profile);
    const firmware = new DeviceFirmware({
      provisioning: {
        id: d.id,
        profile,
        ...(d.periodMs !== undefined ? { periodMs: d.periodMs } : {}),
        ...(d.secret !== undefined ? { secret: d.secret } : {}),
        ...(d.authorityPublicKey ? { authorityPublicKey: d.authorityPublicKey } : {}),
        ...(d.ticket ? { ticket: d.ticket } : {}),
      },
      scheduler,
      storage: o.nvmDir ? new FileNvm(join(o.nvmDir, d.id)) : new MemoryNvm(),
      link: linkFactoryFor(d),
      seed,
      runStartMs,
      backend: o.backend ?? 'noble',
      mode: o.mode ?? 'per-reading',
      ...(o.outboxCapacity !== undefined ? { outboxCapacity: o.outboxCapacity } : {}),
      ...(o.outboxPolicy !== undefined ? { outboxPolicy: o.outboxPolicy } : {}),
      faults,
      scenarios,
      ...(o.window !== undefined ? { window: o.window } : {}),
      ...(o.ackTimeoutMs !== undefined ? { ackTimeoutMs: o.ackTimeoutMs } : {}),
      ...(o.backoff !== undefined ? { backoff: o.backoff } : {}),
      // latency: simulated time for the in-process link (its acks are simulated), wall time otherwise
      monotonic: o.link.kind === 'loopback' ? () => scheduler.now() : () => performance.now(),
      ...(o.link.kind === 'loopback' ? {} : { ackTimers: wallTimers }),
      network,
      ...bug,
    });
    return { firmware, profile: profile.name };
  });
  const firmwares = fleet.map((f) => f.firmware);

  // ---- progress
  let phase: FleetProgress['phase'] = 'connect';
  let lastAcked = 0;
  let lastAt = performance.now();
  const progress = (): FleetProgress => {
    let measured = 0;
    let acknowledged = 0;
    let pending = 0;
    let connected = 0;
    for (const f of firmwares) {
      measured += f.stats.measured;
      acknowledged += f.stats.acknowledged;
      pending += f.pending;
      if (f.linkUp) connected++;
    }
    const now = performance.now();
    const ackRate = ((acknowledged - lastAcked) * 1000) / Math.max(1, now - lastAt);
    lastAcked = acknowledged;
    lastAt = now;
    return {
      phase,
      wallMs: now - wallStart,
      simulatedMs: Math.min(scheduler.now(), endMs) - runStartMs,
      durationMs: o.durationMs,
      measured,
      acknowledged,
      pending,
      connected,
      devices: firmwares.length,
      ackRate: Math.round(ackRate),
    };
  };
  const progressTimer = o.onProgress ? setInterval(() => o.onProgress!(progress()), o.progressIntervalMs ?? 250) : undefined;

  const aborted = (): boolean => o.signal?.aborted === true;
  const idleCapMs = o.idleCapMs ?? 10_000;
  // about 100 devices' readings per step at 1 Hz: large fleets advance in smaller steps, so one
  // step's burst does not queue thousands of publishes at the broker at once
  const step = o.virtualStepMs ?? (firmwares.length <= 100 ? 1000 : Math.max(20, Math.floor(100_000 / firmwares.length)));
  /** Virtual time waits for the network: no device is connecting or awaiting an acknowledgement. */
  const waitForNetwork = async (): Promise<void> => {
    const until = performance.now() + idleCapMs;
    await tick();
    while (network.awaiting > 0 && performance.now() < until) await sleep(1);
  };

  try {
    // ---- power on
    if (virtual) {
      // in batches, so a large fleet does not hit the broker with thousands of CONNECTs at once
      const batch = o.connectBatch ?? 100;
      for (let i = 0; i < firmwares.length; i += batch) {
        for (const f of firmwares.slice(i, i + batch)) f.start();
        await waitForNetwork();
      }
      // the retained ticket follows the subscription: give it a moment before simulated time starts
      const until = performance.now() + 2000;
      while (
        firmwares.some((f) => f.linkUp && f.state.kind === 'provisioned' && Object.keys(f.stats.ticketRefusals).length === 0) &&
        performance.now() < until
      )
        await sleep(5);
    } else {
      const ramp = o.rampMs ?? Math.min(2000, 2 * firmwares.length);
      for (let i = 0; i < firmwares.length; i++) {
        const at = (ramp * i) / firmwares.length;
        const wait = at - (performance.now() - wallStart);
        if (wait > 1) await sleep(wait);
        firmwares[i]!.start();
      }
    }
    phase = 'run';

    // ---- measure
    if (virtual) {
      while (!aborted()) {
        const next = virtual.nextAt();
        if (next === undefined || next > endMs) {
          virtual.runUntil(endMs);
          break;
        }
        virtual.runUntil(Math.min(endMs, next + step));
        await waitForNetwork();
      }
    } else {
      const until = performance.now() + Math.max(0, runStartMs + o.durationMs - Date.now());
      while (!aborted() && performance.now() < until) await sleep(Math.min(100, until - performance.now()));
    }

    // ---- drain: no more measurements; sending, retries and reconnections go on
    phase = 'drain';
    for (const f of firmwares) f.stopMeasuring();
    const drainUntil = performance.now() + (o.drainTimeoutMs ?? 30_000);
    const drained = (): boolean => firmwares.every((f) => f.pending === 0 || f.state.kind === 'error' || f.state.kind === 'off');
    if (virtual) {
      while (!drained() && performance.now() < drainUntil) {
        await waitForNetwork();
        if (drained()) break;
        const next = virtual.nextAt();
        // nothing simulated is due: what is left waits on wall-clock acknowledgement timeouts
        if (next === undefined) await sleep(20);
        else virtual.runUntil(next + step);
      }
    } else {
      while (!drained() && performance.now() < drainUntil) await sleep(20);
    }
  } finally {
    if (progressTimer) clearInterval(progressTimer);
  }
  o.onProgress?.(progress());
  const wallMs = performance.now() - wallStart;
  const report = fleetReport(fleet, {
    seed,
    time: timeMode,
    startedAtMs,
    simulatedMs: Math.min(scheduler.now(), endMs) - runStartMs,
    wallMs,
    link: o.link.kind,
    backend: o.backend ?? 'noble',
    mode: o.mode ?? 'per-reading',
    faults,
    ...(o.energyCore !== undefined ? { energyCore: o.energyCore } : {}),
  });
  await Promise.all(firmwares.map((f) => f.shutdown().catch(() => undefined)));
  unlock?.();
  return { report, devices: firmwares };
}
