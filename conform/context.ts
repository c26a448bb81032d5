/**
 * What a case works with: the device's link (the kit's transport), everything observed so far,
 * the kit's authority and patient keys, the ticket the gateway hands out, and helpers that wait
 * for the device — every wait bounded by a timeout and the case's AbortSignal, so a silent or
 * flooding device can only make a case fail, never hang the kit.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../protocol/bytes.ts';
import type { Hpke } from '../protocol/hpke/types.ts';
import type { Clock, Rng } from '../protocol/rng.ts';
import type { TicketFields } from '../protocol/ticket/index.ts';
import type { TestAuthority } from './authority.ts';
import { hexOf, type Evidence } from './evidence.ts';
import { inspectReading, type ArrivalInfo, type InspectedReading } from './intake.ts';
import type { Observation, Observations } from './observations.ts';
import type { PatientKeys } from './patientKeys.ts';
import type { MqttTransport } from './transports/mqtt.ts';
import type { SerialTransport } from './transports/serial.ts';
import { ACK_ALL, type KitTransport } from './transports/transport.ts';

/** Bounds the kit judges a device by (defaults: docs/PROTOCOL.md's reference values, widened). */
export interface ConformBounds {
  /** A reading not acknowledged must be resent within this time (§8.7: the reference firmware 5 s). Default 30 s. */
  readonly resendBoundMs: number;
  /** Longest wait for the device's next reading (default 30 s; a device measuring slower needs more). */
  readonly readingTimeoutMs: number;
  /** Longest wait for the device to come up (connection, status frame) after start or a reboot. Default 60 s. */
  readonly linkTimeoutMs: number;
  /** Tolerated difference between a reading's ts and the kit's clock (§10.4: 300 s). */
  readonly tsSkewMs: number;
  /** Largest reconnection delay (§8.7: 30 s), plus this tolerance. */
  readonly backoffCapMs: number;
}

export const DEFAULT_BOUNDS: ConformBounds = {
  resendBoundMs: 30_000,
  readingTimeoutMs: 30_000,
  linkTimeoutMs: 60_000,
  tsSkewMs: 300_000,
  backoffCapMs: 30_000,
};

/** A ticket the kit issued, with the patient key that opens what is sealed under it. */
export interface IssuedTicket {
  readonly bytes: Uint8Array;
  readonly fields: TicketFields;
  readonly kidHex: string;
}

/** Thrown by a helper when the device cannot be brought to the state a case needs: the case fails with this evidence. */
export class CaseFailure extends Error {
  override readonly name = 'CaseFailure';
  constructor(readonly evidence: Evidence) {
    super(`${evidence.expected} — ${evidence.received}`);
  }
}

export interface ContextOptions {
  readonly deviceId: string;
  readonly transport: KitTransport;
  readonly observations: Observations;
  readonly authority: TestAuthority;
  readonly patients: PatientKeys;
  readonly hpke: Hpke;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly bounds: ConformBounds;
  /** Power-cycles the device (kill and restart, --reboot-cmd, a person at the bench); undefined when the kit cannot. */
  readonly reboot?: () => Promise<void>;
  /** Why reboots are unavailable (for the N/A reason). */
  readonly rebootUnavailable?: string;
  /** Makes the device rotate its identity key (§3.6: --rotate-cmd, or a test's stop-rotate-start); undefined when the kit cannot. */
  readonly rotateIdentity?: () => Promise<void>;
  /** The sensor type the device is declared to measure (--profile), if any. */
  readonly expectedSensorType?: string;
}

export class ConformContext {
  readonly deviceId: string;
  readonly transport: KitTransport;
  readonly observations: Observations;
  readonly authority: TestAuthority;
  readonly bounds: ConformBounds;
  readonly clock: Clock;
  /** The current case's signal (the runner sets it). */
  signal: AbortSignal = new AbortController().signal;
  /** The ticket the gateway hands out. */
  current: IssuedTicket | undefined;
  /** Kids of the tickets a gateway would know (issued validly by the kit): readings under others are refused. */
  private readonly validKids = new Set<string>();
  private readonly issued = new Map<string, IssuedTicket>();
  /** Measured interval between a reading and its first resend (RTX-01), to size "no resend" waits. */
  observedResendMs: number | undefined;
  /** Results shared by cases that judge one observation (e.g. one reboot, one resend). */
  readonly scratch = new Map<string, unknown>();
  /** The firmware string, if the device reported one. */
  firmware: string | undefined;
  private ticketed: Promise<IssuedTicket> | undefined;
  private readonly o: ContextOptions;
  private nextIndex = 0;

  constructor(o: ContextOptions) {
    this.o = o;
    this.deviceId = o.deviceId;
    this.transport = o.transport;
    this.observations = o.observations;
    this.authority = o.authority;
    this.bounds = o.bounds;
    this.clock = o.clock;
  }

  get serial(): SerialTransport | undefined {
    return this.transport.kind === 'serial' ? (this.transport as SerialTransport) : undefined;
  }

  get mqtt(): MqttTransport | undefined {
    return this.transport.kind === 'mqtt' ? (this.transport as MqttTransport) : undefined;
  }

  get expectedSensorType(): string | undefined {
    return this.o.expectedSensorType;
  }

  get canReboot(): boolean {
    return this.o.reboot !== undefined;
  }

  get rebootUnavailable(): string {
    return this.o.rebootUnavailable ?? 'no --reboot-cmd and no terminal to ask for a power cycle';
  }

  get canRotateIdentity(): boolean {
    return this.o.rotateIdentity !== undefined;
  }

  now(): number {
    return this.clock.now();
  }

  /** `n` bytes of the kit's (injected) randomness: garbage for the line, and so on. */
  random(n: number): Uint8Array {
    return this.o.rng(n);
  }

  /** The transport's intake: inspects one envelope (never throws) and records it. */
  intake(bytes: Uint8Array, arrival: ArrivalInfo): InspectedReading {
    const r = inspectReading(bytes, {
      index: this.nextIndex++,
      at: this.now(),
      arrival,
      keys: (kid) => this.o.patients.secretKeyOf(kid),
      senders: (kid) => this.issued.get(kid)?.fields.idk,
      hpke: this.o.hpke,
      recordId: (b) => toHex(sha256(b)),
    });
    this.observations.add({ kind: 'reading', reading: r });
    return r;
  }

  knowsKid(kidHex: string): boolean {
    return this.validKids.has(kidHex);
  }

  /** The ticket the kit issued with this kid. */
  ticketOf(kidHex: string): IssuedTicket | undefined {
    return this.issued.get(kidHex);
  }

  /** The test patient's secret key of this kid (only for opening envelopes in the kit). */
  secretKeyOf(kidHex: string): Uint8Array | undefined {
    return this.o.patients.secretKeyOf(kidHex);
  }

  // ------------------------------------------------------------ tickets

  /**
   * Issues a ticket for a new test patient key; `valid: false` keeps its kid out of the gateway's known kids.
   * With `idk` it is a version 2 ticket certifying that device identity key (§3.6, §7.1): what is sealed under it opens only in Auth mode.
   */
  issue(over: Partial<Omit<TicketFields, 'kid' | 'pk'>> = {}, o: { signer?: TestAuthority; valid?: boolean } = {}): IssuedTicket {
    const key = this.o.patients.create();
    const nowS = Math.floor(this.now() / 1000);
    const fields: TicketFields = {
      dev: this.deviceId,
      kid: key.kid,
      pk: key.publicKey,
      patient: over.patient ?? `conform-kit-patient-${toHex(key.kid).slice(0, 8)}`,
      nbf: over.nbf ?? nowS - 3600,
      exp: over.exp ?? nowS + 24 * 3600,
      ...(over.dev !== undefined ? { dev: over.dev } : {}),
      ...(over.maxReadings !== undefined ? { maxReadings: over.maxReadings } : {}),
      ...(over.idk !== undefined ? { idk: over.idk } : {}),
    };
    const bytes = (o.signer ?? this.authority).sign(fields);
    const kidHex = toHex(key.kid);
    if (o.valid ?? true) this.validKids.add(kidHex);
    const t = { bytes, fields, kidHex };
    this.issued.set(kidHex, t);
    return t;
  }

  /** Makes `t` the ticket the gateway hands out, and hands it out now. */
  async useTicket(t: IssuedTicket): Promise<void> {
    this.current = t;
    await this.transport.setTicket(t.bytes);
  }

  /**
   * The device is up and sealing under a kit ticket (resolves to the ticket in use now): waits for
   * it to come online, hands it a ticket and waits for the first reading that opens with it. Memoised: the first case that needs
   * it pays; a failure fails every case that needs it with the same evidence.
   */
  async ticketedDevice(): Promise<IssuedTicket> {
    this.ticketed ??= this.bringUp();
    const first = await this.ticketed;
    return this.current ?? first;
  }

  private async bringUp(): Promise<IssuedTicket> {
    const signal = new AbortController().signal;
    const sign = (e: Observation): Observation | undefined =>
      e.kind === 'status' || (e.kind === 'connect' && e.accepted) || e.kind === 'reading' ? e : undefined;
    const t = this.issue();
    const mark = this.observations.mark;
    // a serial device that was up before the kit opened the line said "online" to nobody and waits for a
    // ticket: after a short wait the kit hands it one anyway (a ticket frame needs no request, §8.6)
    let up = await this.waitFor(sign, {
      since: 0,
      timeoutMs: this.serial ? Math.min(10_000, this.bounds.linkTimeoutMs) : this.bounds.linkTimeoutMs,
      signal,
    });
    if (!up && this.serial) {
      await this.useTicket(t);
      up = await this.waitFor(sign, { since: 0, timeoutMs: this.bounds.linkTimeoutMs, signal });
    }
    if (!up)
      throw new CaseFailure({
        expected: `the device comes online within ${this.bounds.linkTimeoutMs} ms (a status frame, an MQTT connection or a reading)`,
        received: this.silenceSummary(),
      });
    if (this.current !== t) await this.useTicket(t);
    const first = await this.waitFor((e) => (e.kind === 'reading' && e.reading.kidHex === t.kidHex ? e.reading : undefined), {
      since: mark,
      timeoutMs: this.bounds.readingTimeoutMs + this.bounds.linkTimeoutMs,
      signal: new AbortController().signal,
    });
    if (!first) {
      const codes = this.observations
        .statuses(mark)
        .map((s) => s.status.code)
        .filter((c) => c !== undefined);
      throw new CaseFailure({
        expected: `after the kit's ticket (kid ${t.kidHex}) a reading sealed under it within ${this.bounds.readingTimeoutMs + this.bounds.linkTimeoutMs} ms`,
        received: `${this.observations.readings(mark).length} readings, none under that kid; status codes: ${codes.join(', ') || 'none'}`,
      });
    }
    return t;
  }

  /** A summary of what the device sent (for a "nothing came" evidence). */
  silenceSummary(since = 0): string {
    const counts = new Map<string, number>();
    for (const e of this.observations.since(since)) counts.set(e.kind, (counts.get(e.kind) ?? 0) + 1);
    return counts.size === 0 ? 'nothing at all' : [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
  }

  // ------------------------------------------------------------ waiting

  /** Resolves with the first value `pick` returns for an event numbered `since` or later, or undefined at the timeout / abort. */
  waitFor<T>(
    pick: (e: Observation) => T | undefined,
    o: { since: number; timeoutMs: number; signal?: AbortSignal },
  ): Promise<T | undefined> {
    const signal = o.signal ?? this.signal;
    return new Promise((resolve) => {
      let seen = o.since;
      let done = false;
      const finish = (v: T | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        stop();
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const check = (): void => {
        for (const e of this.observations.since(seen)) {
          seen = e.n + 1;
          const v = pick(e);
          if (v !== undefined) return finish(v);
        }
      };
      const onAbort = (): void => finish(undefined);
      const timer = setTimeout(() => finish(undefined), Math.max(0, o.timeoutMs));
      const stop = this.observations.listen(check);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) return finish(undefined);
      check();
    });
  }

  /** The first `n` readings numbered `since` or later that satisfy `filter`, waiting up to `timeoutMs` for them. */
  async readings(
    n: number,
    o: { since: number; timeoutMs?: number; filter?: (r: InspectedReading) => boolean },
  ): Promise<InspectedReading[]> {
    const got: InspectedReading[] = [];
    const filter = o.filter ?? (() => true);
    await this.waitFor(
      (e) => {
        if (e.kind === 'reading' && filter(e.reading)) got.push(e.reading);
        return got.length >= n ? true : undefined;
      },
      { since: o.since, timeoutMs: o.timeoutMs ?? this.bounds.readingTimeoutMs * Math.max(1, n) },
    );
    return got.slice(0, n);
  }

  /** At least `n` readings under the current ticket that opened (waiting for more when fewer came so far). */
  async sample(n: number): Promise<InspectedReading[]> {
    const t = await this.ticketedDevice();
    const ok = (r: InspectedReading): boolean => r.kidHex === t.kidHex;
    const have = this.observations.readings(0).filter(ok);
    if (have.length >= n) return have;
    const more = await this.readings(n - have.length, { since: this.observations.mark, filter: ok });
    const all = [...have, ...more];
    if (all.length < n)
      throw new CaseFailure({
        expected: `${n} readings under the kit's ticket`,
        received: `${all.length} within ${this.bounds.readingTimeoutMs * n} ms`,
      });
    return all;
  }

  /** Sleeps `ms` (returns early on abort). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const signal = this.signal;
      function done(): void {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** How long to watch to be confident an acknowledged reading would have been resent by now. */
  quietWaitMs(): number {
    const observed = this.observedResendMs;
    return observed === undefined ? this.bounds.resendBoundMs : Math.min(this.bounds.resendBoundMs, Math.ceil(observed * 2.5) + 1000);
  }

  // ------------------------------------------------------------ the gateway between cases

  /** Back to a plain gateway: every reading acknowledged (the withheld ones too), the current ticket handed out. */
  async resetGateway(): Promise<void> {
    this.transport.ackPolicy = ACK_ALL;
    this.transport.releaseWithheld();
    if (this.current) await this.transport.setTicket(this.current.bytes);
  }

  // ------------------------------------------------------------ reboots

  /** Power-cycles the device and waits for it to come back (a status, a connection or a reading). */
  async reboot(): Promise<void> {
    if (!this.o.reboot) throw new CaseFailure({ expected: 'a way to reboot the device', received: this.rebootUnavailable });
    await this.deviceAction('reboot', this.o.reboot);
  }

  /**
   * Makes the device rotate its identity key (§3.6) and waits for it to be up afterwards (a status, a
   * connection or a reading: a device rotated while off comes back as from a reboot, a running one
   * reports its new key in a status).
   */
  async rotateIdentity(): Promise<void> {
    if (!this.o.rotateIdentity)
      throw new CaseFailure({ expected: 'a way to make the device rotate its identity key', received: 'no --rotate-cmd' });
    await this.deviceAction('rotate-identity', this.o.rotateIdentity);
  }

  /** Runs `act` (recorded in the observations as a kit action) and waits up to linkTimeoutMs for the device to show it is up. */
  private async deviceAction(action: string, act: () => Promise<void>): Promise<void> {
    const mark = this.observations.mark;
    this.observations.add({ kind: 'kit', action });
    await act();
    const back = await this.waitFor((e) => (e.kind === 'status' || (e.kind === 'connect' && e.accepted) ? true : undefined), {
      since: mark,
      timeoutMs: this.bounds.linkTimeoutMs,
    });
    if (!back)
      throw new CaseFailure({
        expected: `the device back online within ${this.bounds.linkTimeoutMs} ms of the ${action}`,
        received: this.silenceSummary(mark),
      });
  }
}

export { hexOf };
