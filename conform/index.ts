/**
 * The conformance kit (issue #18), in-process API — the CLI (`vitalseal conform`) and the tests use it:
 *
 *   const kit = new ConformKit({ deviceId, link: { kind: 'mqtt', port: 0 }, authority, reboot });
 *   await kit.start();                 // the kit's end of the link (MQTT: kit.mqttPort)
 *   // … power the device on / start the simulator against the path or port …
 *   const { report } = await kit.run();
 *   await kit.stop();
 *
 * or `runConformance(options)` for the three in one. conform/README.md documents the options.
 */
import { createHpke } from '../protocol/node.ts';
import { systemClock, systemRng, type Clock, type Rng } from '../protocol/rng.ts';
import type { TestAuthority } from './authority.ts';
import { CASE_GROUPS, type ConformCase } from './case.ts';
import { ConformContext, DEFAULT_BOUNDS, type ConformBounds } from './context.ts';
import { ConformError } from './errors.ts';
import { isSensorType } from '../protocol/envelope/index.ts';
import { PROFILE_SENSOR_TYPES } from './cases/plaintext.ts';
import { Observations } from './observations.ts';
import { PatientKeys } from './patientKeys.ts';
import { ALL_CASES, selectCases } from './registry.ts';
import { KIT_VERSION, REPORT_SCHEMA_VERSION, SPEC_VERSION, summarize, type ConformReport } from './report/json.ts';
import { runCases, type CaseResult } from './runner.ts';
import { MqttTransport, type MqttTlsOptions } from './transports/mqtt.ts';
import { SerialTransport } from './transports/serial.ts';
import type { KitTransport } from './transports/transport.ts';

export type ConformLink =
  | { readonly kind: 'serial'; readonly path: string; readonly baudRate?: number }
  | {
      readonly kind: 'mqtt';
      readonly port: number;
      readonly host?: string;
      readonly secret?: string;
      readonly maxPacketBytes?: number;
      /** MQTT over TLS (§9.8): the broker's key and certificate (PEM), `ca` and `requireClientCert` for mutual TLS (prepareKitTls). */
      readonly tls?: MqttTlsOptions;
    };

export interface ConformOptions {
  /** The device under test's id (§2.5). */
  readonly deviceId: string;
  readonly link: ConformLink;
  /** The test ward authority whose public key the device has pinned. */
  readonly authority: TestAuthority;
  /** The device's profile (pulse-oximeter, ecg-patch, nibp-cuff, cgm, thermometer, their aliases, or a sensor type): PT-07 checks st. */
  readonly profile?: string;
  /** Case ids (comma-separated or a list) or "all" (default). */
  readonly cases?: string | readonly string[];
  /** Power-cycles the device (kill -9 and restart, --reboot-cmd, a prompt); without it the reboot cases are N/A. */
  readonly reboot?: () => Promise<void>;
  /** The N/A reason of the reboot cases when `reboot` is absent. */
  readonly rebootUnavailable?: string;
  /**
   * Makes the device rotate its identity key (§3.6; --rotate-cmd; e.g. stop it, run the vendor's
   * rotation tool on its NVM, start it) and resolves once that is done; without it AUTH-06 is N/A.
   */
  readonly rotateIdentity?: () => Promise<void>;
  readonly bounds?: Partial<ConformBounds>;
  /** Time limit of one case (default 120 s). */
  readonly caseTimeoutMs?: number;
  readonly clock?: Clock;
  /** The kit's randomness (patient keys, garbage bytes). */
  readonly rng?: Rng;
  readonly onStart?: (c: ConformCase, index: number, total: number) => void;
  readonly onResult?: (r: CaseResult, index: number, total: number) => void;
}

/** The sensor type of a `--profile` name (CONFORM_CONFIG_INVALID when it is neither a known profile nor a sensor type). */
export function sensorTypeOfProfile(profile: string): string {
  const st = PROFILE_SENSOR_TYPES[profile.toLowerCase()] ?? profile;
  if (!isSensorType(st))
    throw new ConformError('CONFORM_CONFIG_INVALID', `--profile: not a profile or a sensor type: ${JSON.stringify(profile.slice(0, 40))}`);
  return st;
}

export class ConformKit {
  readonly observations: Observations;
  readonly transport: KitTransport;
  readonly context: ConformContext;
  private readonly cases: ConformCase[];
  private started = false;

  constructor(private readonly o: ConformOptions) {
    this.cases = selectCases(o.cases ?? 'all');
    const clock = o.clock ?? systemClock;
    const rng = o.rng ?? systemRng;
    const hpke = createHpke('node');
    this.observations = new Observations(() => clock.now());
    let ctx: ConformContext | undefined;
    const host = {
      deviceId: o.deviceId,
      observations: this.observations,
      intake: (bytes: Uint8Array, arrival: object) => ctx!.intake(bytes, arrival),
      knowsKid: (kid: string) => ctx!.knowsKid(kid),
    };
    this.transport =
      o.link.kind === 'serial'
        ? new SerialTransport({ path: o.link.path, ...(o.link.baudRate ? { baudRate: o.link.baudRate } : {}) }, host)
        : new MqttTransport(
            {
              port: o.link.port,
              ...(o.link.host ? { host: o.link.host } : {}),
              ...(o.link.secret !== undefined ? { secret: o.link.secret } : {}),
              ...(o.link.maxPacketBytes ? { maxPacketBytes: o.link.maxPacketBytes } : {}),
              ...(o.link.tls ? { tls: o.link.tls } : {}),
            },
            host,
          );
    ctx = new ConformContext({
      deviceId: o.deviceId,
      transport: this.transport,
      observations: this.observations,
      authority: o.authority,
      patients: new PatientKeys(rng, hpke),
      hpke,
      clock,
      rng,
      bounds: { ...DEFAULT_BOUNDS, ...o.bounds },
      ...(o.reboot ? { reboot: o.reboot } : {}),
      ...(o.rebootUnavailable ? { rebootUnavailable: o.rebootUnavailable } : {}),
      ...(o.rotateIdentity ? { rotateIdentity: o.rotateIdentity } : {}),
      ...(o.profile !== undefined ? { expectedSensorType: sensorTypeOfProfile(o.profile) } : {}),
    });
    this.context = ctx;
  }

  /** The selected cases, in run order. */
  get selected(): readonly ConformCase[] {
    return this.cases;
  }

  /** The MQTT port the kit's broker listens on (after start). */
  get mqttPort(): number | undefined {
    return this.transport instanceof MqttTransport ? this.transport.port : undefined;
  }

  /** Opens the kit's end of the link (serial port, MQTT broker). CONFORM_LINK_FAILED when it cannot. */
  async start(): Promise<void> {
    await this.transport.start();
    this.started = true;
  }

  /** Runs the selected cases and builds the report. Never throws on device input. */
  async run(): Promise<{ report: ConformReport; results: CaseResult[] }> {
    if (!this.started) throw new ConformError('CONFORM_LINK_FAILED', 'start() the kit before run()');
    const clock = this.o.clock ?? systemClock;
    const startedAt = clock.now();
    const results = await runCases(this.cases, this.context, {
      ...(this.o.caseTimeoutMs ? { caseTimeoutMs: this.o.caseTimeoutMs } : {}),
      ...(this.o.onStart ? { onStart: this.o.onStart } : {}),
      ...(this.o.onResult ? { onResult: this.o.onResult } : {}),
      now: () => clock.now(),
    });
    const finishedAt = clock.now();
    const events = this.observations.since(0);
    const firmware = this.observations.statuses(0).find((s) => s.status.fw !== undefined)?.status.fw ?? this.context.firmware ?? null;
    const link = this.o.link.kind === 'serial' ? this.o.link.path : `mqtt://${this.o.link.host ?? '127.0.0.1'}:${this.mqttPort}`;
    const report: ConformReport = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      kit: { name: 'vitalseal conform', version: KIT_VERSION },
      spec: SPEC_VERSION,
      device: { id: this.o.deviceId, firmware, transport: this.o.link.kind, link },
      authorityPublicKey: this.o.authority.publicKeyHex,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: Math.round(finishedAt - startedAt),
      summary: summarize(results),
      cases: results,
      observed: {
        readings: events.filter((e) => e.kind === 'reading').length,
        statuses: events.filter((e) => e.kind === 'status').length,
        badFrames: events.filter((e) => e.kind === 'bad-frame').length,
        droppedEvents: this.observations.dropped,
      },
    };
    return { report, results };
  }

  async stop(): Promise<void> {
    this.transport.ackPolicy = () => true;
    await this.transport.stop();
  }
}

/** start, run, stop. `onStarted` runs once the kit's link is open (e.g. to start a simulator against the MQTT port). */
export async function runConformance(
  o: ConformOptions & { onStarted?: (kit: ConformKit) => void | Promise<void> },
): Promise<{ report: ConformReport; results: CaseResult[] }> {
  const kit = new ConformKit(o);
  await kit.start();
  try {
    await o.onStarted?.(kit);
    return await kit.run();
  } finally {
    await kit.stop();
  }
}

export { ALL_CASES, CASE_GROUPS, selectCases };
export { TestAuthority, loadAuthority, loadOrCreateAuthority } from './authority.ts';
export { CONFORM_ERRORS, ConformError } from './errors.ts';
export { caseTableMarkdown } from './registry.ts';
export { deviceCommand, rebootByCommand, rebootByPrompt, rotateByCommand } from './reboot.ts';
export { reportHtml } from './report/html.ts';
export { KIT_VERSION, REPORT_SCHEMA_VERSION, reportJson, sha256Hex, summaryLine, type ConformReport } from './report/json.ts';
export { reportMarkdown } from './report/markdown.ts';
export { writeReport, type WrittenReport } from './report/write.ts';
export type { CaseResult } from './runner.ts';
export type { ConformBounds } from './context.ts';
export type { ConformCase, CaseOutcome, Evidence, Verdict } from './case.ts';
export { KitTestCa, prepareKitTls, type KitTlsSetup } from './tlsCa.ts';
