import { fromHex, toHex } from '../../protocol/bytes.ts';
import { decodeTicket } from '../../protocol/ticket/index.ts';
import type { Rng } from '../../protocol/rng.ts';
import type { X25519KeyPair } from '../../protocol/hpke/types.ts';
import { createReadingSealer, type ReadingSealer, type SealBackend, type SealMode } from '../crypto/sealer.ts';
import { errorCodeOf, SimError, simFail } from '../errors.ts';
import { NO_FAULTS, tickFault, type FaultRates } from '../faults/faultPlan.ts';
import { FaultyTransmitter } from '../faults/faultyTransmitter.ts';
import type { DeviceNvmState } from '../nvm/deviceState.ts';
import { Outbox, type OutboxPolicy } from '../nvm/outbox.ts';
import type { NvmStorage } from '../nvm/storage.ts';
import { ScenarioTimeline, type DeviceProfile, type ReadingGenerator } from '../profiles/index.ts';
import { createPrng, type Prng } from '../random/prng.ts';
import { decisionUnit, deviceStream } from '../random/streams.ts';
import { DeviceStats } from '../report/deviceStats.ts';
import type { Scheduler, TimerHandle } from '../time/scheduler.ts';
import type { DeviceLink, DeviceStatus, LinkEvents } from '../transport/link.ts';
import type { BackoffOptions } from './backoff.ts';
import type { FirmwareBugName } from './bugs.ts';
import { LinkSupervisor } from './linkSupervisor.ts';
import { SendWindow, type NetworkGauge } from './sendWindow.ts';
import { linkOf, ticketOf, withLink, type ActiveTicket, type DeviceState, type LinkState } from './state.ts';
import { checkTicket, sameTicket, ticketUsable } from './ticketCheck.ts';
import { FIRMWARE_ID } from './version.ts';
import { identityOf, identityRefusal, rotatedIdentityState, type IdentityRotation } from './identityKey.ts';

/** What a device is given at provisioning (written to its NVM at first boot). */
export interface DeviceProvisioning {
  readonly id: string;
  readonly profile: DeviceProfile;
  /** Measurement interval (default: the profile's). */
  readonly periodMs?: number;
  /** MQTT password. */
  readonly secret?: string;
  /** Ward authority's Ed25519 public key, pinned. */
  readonly authorityPublicKey?: Uint8Array;
  /** A session ticket loaded at provisioning. */
  readonly ticket?: Uint8Array;
}

export type LinkFactory = (device: { readonly id: string; readonly secret: string | undefined }, events: LinkEvents) => DeviceLink;

export interface FirmwareOptions {
  readonly provisioning: DeviceProvisioning;
  readonly scheduler: Scheduler;
  readonly storage: NvmStorage;
  readonly link: LinkFactory;
  /** Run seed: readings, ephemeral keys, jitter and faults derive from it. */
  readonly seed: string;
  /** When the run started (measurement grid and scenario times are relative to it). */
  readonly runStartMs: number;
  readonly backend?: SealBackend;
  readonly mode?: SealMode;
  readonly outboxCapacity?: number;
  readonly outboxPolicy?: OutboxPolicy;
  readonly faults?: FaultRates;
  readonly scenarios?: ScenarioTimeline;
  /** Readings in flight at once (default 8). */
  readonly window?: number;
  /** Resend a reading not acknowledged after this long (default 5 s). */
  readonly ackTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
  /** Real monotonic ms, for latency (default performance.now). */
  readonly monotonic?: () => number;
  /**
   * Timers for acknowledgement timeouts (default: `scheduler`). In virtual time the fleet
   * runner passes the real scheduler for network links: whether an agent answers in time
   * is a wall-clock matter even when the readings' clock is simulated.
   */
  readonly ackTimers?: Scheduler;
  /** Shared count of network waits (connections being set up, copies on the wire): virtual time waits on it. */
  readonly network?: NetworkGauge;
  readonly onEvent?: (event: FirmwareEvent) => void;
  /** A deliberately broken variant (firmware/bugs.ts): tests of the conformance kit only. */
  readonly bug?: FirmwareBugName;
}

/** Firmware-bug hook `wrong-units`: a unit other than the registered one of each profile's sensor type. */
const WRONG_UNIT: Readonly<Record<string, string>> = {
  '%,bpm': 'bpm,%',
  uV: 'mV',
  'mmHg,bpm': 'kPa,bpm',
  'mg/dL': 'mmol/L',
  '°C': '°F',
};

export type FirmwareEvent =
  | { readonly kind: 'state'; readonly state: DeviceState['kind'] }
  | { readonly kind: 'status'; readonly status: DeviceStatus }
  | { readonly kind: 'sealed'; readonly seq: number; readonly ts: number; readonly envelope: Uint8Array };

export type { NetworkGauge } from './sendWindow.ts';

/**
 * The firmware model of one device. It boots from NVM, waits for (or uses) a session
 * ticket it verifies against the pinned authority key, measures on a fixed grid, seals
 * every reading (fresh ephemeral key, or session mode), writes it to the outbox ring in
 * NVM before sending it, and sends the outbox in order over its link with a window,
 * acknowledgement timeouts, and reconnection with exponential backoff and full jitter.
 */
export class DeviceFirmware {
  readonly id: string;
  readonly stats = new DeviceStats();
  readonly periodMs: number;
  private readonly o: FirmwareOptions;
  private readonly faults: FaultRates;
  private readonly phaseMs: number;
  /** The send window (sendWindow.ts) and link supervision (linkSupervisor.ts). */
  private readonly sending: SendWindow;
  private readonly supervisor: LinkSupervisor;

  private stateValue: DeviceState = { kind: 'off', reason: 'not-started' };
  /** Incremented at every boot and power-down: callbacks of an older boot are ignored. */
  private generation = 0;
  private readonly timers = new Set<TimerHandle>();
  private nvm: DeviceNvmState | undefined;
  private outboxValue: Outbox | undefined;
  private link: DeviceLink | undefined;
  private sealer: ReadingSealer | undefined;
  private generator: ReadingGenerator | undefined;
  private ephemeralRng: Rng | undefined;
  private jitter: Prng | undefined;
  private transmitter: FaultyTransmitter | undefined;
  private authorityKey: Uint8Array | undefined;
  /** The identity key pair (§3.6): the secret from NVM, its public key reported in the online status. */
  private identity: X25519KeyPair | undefined;
  private nextSeq = 0;
  private readonly refused = new Set<string>();
  private pendingStatusCode: string | undefined;
  private measuringEnabled = true;
  /** The last reading's values (RAM): only the `plaintext-in-status` bug ever sends them. */
  private lastReading: { readonly v: readonly number[]; readonly u: string } | undefined;

  constructor(options: FirmwareOptions) {
    this.o = options;
    this.id = options.provisioning.id;
    this.periodMs = options.provisioning.periodMs ?? options.provisioning.profile.periodMs;
    if (!(this.periodMs > 0)) throw new SimError('SIM_CONFIG_INVALID', 'period must be positive');
    this.faults = options.faults ?? NO_FAULTS;
    this.phaseMs = Math.floor(decisionUnit(options.seed, this.id, 'phase') * this.periodMs);
    this.sending = new SendWindow(
      {
        window: options.window ?? 8,
        ackTimeoutMs: options.ackTimeoutMs ?? 5000,
        monotonic: options.monotonic ?? (() => performance.now()),
        ackTimers: options.ackTimers,
        network: options.network,
        bug: options.bug,
      },
      {
        stats: this.stats,
        timers: this.timers,
        outbox: () => this.outboxValue,
        transmitter: () => this.transmitter,
        link: () => this.link,
        linkUp: () => linkOf(this.stateValue)?.kind === 'up',
        bootCount: () => this.nvm?.bootCount ?? 0,
        after: (ms, fn, timers) => this.after(ms, fn, timers),
      },
    );
    this.supervisor = new LinkSupervisor(
      {
        stats: this.stats,
        scheduler: options.scheduler,
        link: () => this.link,
        linkState: () => linkOf(this.stateValue),
        setLink: (link) => this.setState(withLink(this.stateValue, link)),
        generation: () => this.generation,
        jitter: () => this.jitter!,
        after: (ms, fn) => this.after(ms, fn),
        onUp: () => this.onLinkUp(),
        onLost: () => {
          this.sending.clear();
          this.transmitter?.reset();
        },
      },
      options.backoff,
      options.network,
    );
  }

  get state(): DeviceState {
    return this.stateValue;
  }

  /** Readings sealed and not yet acknowledged (in NVM). */
  get pending(): number {
    return this.outboxValue?.size ?? 0;
  }

  get outbox(): Outbox | undefined {
    return this.outboxValue;
  }

  /** The next seq this device will use. */
  get seq(): number {
    return this.nextSeq;
  }

  /** Waiting on the network: connecting, or a transmitted reading not yet acknowledged. */
  get awaitingNetwork(): boolean {
    const link = linkOf(this.stateValue);
    if (link?.kind === 'connecting') return true;
    if (link?.kind !== 'up' || this.link?.inProcess) return false;
    return this.sending.onWire;
  }

  get linkUp(): boolean {
    return linkOf(this.stateValue)?.kind === 'up';
  }

  /** Powers the device on. */
  start(): void {
    if (this.stateValue.kind !== 'off') return;
    this.boot();
  }

  /** Stops taking measurements (end of a run); sending, retries and acknowledgements go on. */
  stopMeasuring(): void {
    this.measuringEnabled = false;
  }

  /** An on-demand measurement (e.g. an NIBP cuff started by a nurse). */
  measureNow(): void {
    this.measure();
  }

  /** A simulated reboot: RAM is lost, the link drops without DISCONNECT, NVM stays. */
  reboot(offMs = 500): void {
    if (this.stateValue.kind === 'off' || this.stateValue.kind === 'error') return;
    this.stats.reboots++;
    void this.powerDown('reboot', 'abrupt').catch(() => undefined);
    const gen = this.generation;
    this.o.scheduler.after(offMs, () => {
      if (gen === this.generation) this.boot();
    });
  }

  /** Powers off cleanly: DISCONNECT (no last will), NVM closed. */
  async shutdown(): Promise<void> {
    await this.powerDown('shutdown', 'graceful');
    this.o.storage.close();
  }

  /** The link fails for `ms` (cable pulled, radio out of range); reconnection backs off meanwhile. */
  linkOutage(ms: number): void {
    this.supervisor.outage(ms);
  }

  // ---------------------------------------------------------------- boot

  private boot(): void {
    this.generation++;
    const { provisioning: p, storage, seed } = this.o;
    let state: DeviceNvmState;
    try {
      const stored = storage.loadState();
      state = stored ? this.reprovisioned(stored) : this.provision();
      // the identity key is generated on the device, once (first boot, or the first boot of a firmware that has one)
      let identityKey = state.identityKey ?? toHex(deviceStream(seed, p.id, 'identity-key')(32));
      // firmware-bug hook `idk-not-persisted`: a new identity key at every boot
      if (this.o.bug === 'idk-not-persisted') identityKey = toHex(deviceStream(seed, p.id, 'identity-key', state.bootCount + 1)(32));
      state = { ...state, bootCount: state.bootCount + 1, identityKey };
      storage.saveState(state);
      this.setState({ kind: 'boot', bootCount: state.bootCount });
      const outbox = new Outbox(storage, this.o.outboxCapacity ?? 1024, this.o.outboxPolicy ?? 'drop-oldest', this.o.bug);
      const restored = outbox.restore();
      this.outboxValue = outbox;
      // firmware-bug hooks: a seq counter in RAM only; an outbox that is not replayed
      this.nextSeq = this.o.bug === 'seq-reuse-after-reboot' ? 0 : restored.maxSeq + 1;
      const replayed = this.o.bug === 'skip-outbox-replay' ? restored.pending - outbox.skipReplay() : restored.pending;
      this.stats.replayedAtBoot += replayed;
      this.stats.tornNvmBytes += restored.tornBytes;
      this.nvm = state;
      this.authorityKey = state.authorityPublicKey ? fromHex(state.authorityPublicKey) : undefined;
      this.identity = identityOf(fromHex(identityKey), this.o.backend);
      this.link = this.o.link({ id: this.id, secret: state.secret }, this.linkEvents(this.generation));
    } catch (e) {
      this.setState({ kind: 'error', code: errorCodeOf(e), since: this.o.scheduler.now() });
      return;
    }
    const boot = state.bootCount;
    this.ephemeralRng = deviceStream(seed, this.id, 'ephemeral', boot);
    this.jitter = createPrng(deviceStream(seed, this.id, 'jitter', boot));
    this.generator = p.profile.createGenerator({
      rng: deviceStream(seed, this.id, 'signal', boot),
      scenarios: this.o.scenarios ?? new ScenarioTimeline(),
      runStartMs: this.o.runStartMs,
    });
    this.transmitter = new FaultyTransmitter({
      rates: this.faults,
      seed,
      device: this.id,
      after: (ms, fn) => this.after(ms, fn),
      stats: this.stats,
      link: () => this.link,
      onWire: (seq) => this.sending.markOnWire(seq),
    });
    const down: LinkState = { kind: 'down', since: this.o.scheduler.now(), attempt: 0, retryAt: this.o.scheduler.now(), reason: 'boot' };
    const ticket = this.ticketFromNvm(state);
    this.setState(ticket ? { kind: 'ticketed', ticket, link: down } : { kind: 'provisioned', link: down });
    this.scheduleTick();
    this.supervisor.connect();
  }

  /**
   * Re-provisioning of the pinned authority key (after a ward authority rotation, docs/PROTOCOL.md §7.7):
   * a provisioning that names another key than the NVM's replaces it at boot (the simulator's
   * --authority-key / fleet file is the provisioning tool). The ticket in use stays: it was verified
   * when adopted; the next ticket must carry the new key's signature.
   */
  private reprovisioned(stored: DeviceNvmState): DeviceNvmState {
    const key = this.o.provisioning.authorityPublicKey;
    if (key === undefined || stored.authorityPublicKey === toHex(key)) return stored;
    return { ...stored, authorityPublicKey: toHex(key) };
  }

  /**
   * The operator's provisioning tool on a running device: pins a new ward authority key (written to
   * NVM first, kept across reboots). Tickets are verified against it from now on.
   */
  reprovisionAuthority(key: Uint8Array): void {
    if (this.nvm === undefined) simFail('SIM_CONFIG_INVALID', 'the device has not booted');
    const state = { ...this.nvm, authorityPublicKey: toHex(key) };
    this.o.storage.saveState(state);
    this.nvm = state;
    this.authorityKey = key;
  }

  /** First boot: the provisioning data becomes the NVM state. */
  private provision(): DeviceNvmState {
    const p = this.o.provisioning;
    let ticket: { ticket?: string; ticketStartSeq?: number } = {};
    if (p.ticket) {
      const v = checkTicket(p.ticket, {
        deviceId: p.id,
        authorityPublicKey: p.authorityPublicKey,
        clock: this.o.scheduler,
        trusted: true,
        bug: this.o.bug,
      });
      if (v.ok) ticket = { ticket: toHex(p.ticket), ticketStartSeq: 0 };
      else this.refuse(p.ticket, v.code);
    }
    return {
      v: 1,
      dev: p.id,
      ...(p.secret !== undefined ? { secret: p.secret } : {}),
      ...(p.authorityPublicKey ? { authorityPublicKey: toHex(p.authorityPublicKey) } : {}),
      ...ticket,
      bootCount: 0,
    };
  }

  private ticketFromNvm(state: DeviceNvmState): ActiveTicket | undefined {
    if (state.ticket === undefined) return undefined;
    const bytes = fromHex(state.ticket);
    const startSeq = state.ticketStartSeq ?? this.nextSeq;
    let code: string | undefined;
    try {
      code = ticketUsable(decodeTicket(bytes), this.o.scheduler.now(), this.nextSeq - startSeq, this.o.bug);
    } catch (e) {
      code = errorCodeOf(e);
    }
    code ??= this.identityMismatch(decodeTicket(bytes));
    if (code === undefined) {
      this.sealer = this.newSealer(decodeTicket(bytes));
      return { ticket: decodeTicket(bytes), bytes, startSeq };
    }
    this.forgetTicket(bytes, code);
    return undefined;
  }

  /**
   * SIM_IDENTITY_KEY_MISMATCH when the ticket certifies an identity key that is not this device's;
   * SIM_IDENTITY_KEY_ROTATED when that key is this device's previous one (it rotated, §3.6).
   */
  private identityMismatch(t: { idk?: Uint8Array }): string | undefined {
    if (this.o.bug === 'ignores-foreign-idk') return undefined; // firmware-bug hook
    const refusal = identityRefusal(t, this.identity?.publicKey, this.nvm?.previousIdentityPublicKey);
    // firmware-bug hook `rotation-keeps-ticket`: a ticket certifying the previous key is still used
    return this.o.bug === 'rotation-keeps-ticket' && refusal === 'SIM_IDENTITY_KEY_ROTATED' ? undefined : refusal;
  }

  /**
   * Rotates the device's identity key (docs/PROTOCOL.md §3.6 "Rotating the identity key", device
   * side): a new secret (CSPRNG, or `rng`) is written to NVM before anything else and the old one is
   * not kept (its RAM copy is zeroed); readings already in the outbox stay as sealed (resent byte for
   * byte: they verify against the idk of the ticket they were sealed under); the ticket in use, if it
   * certifies the old key, is dropped at once (nothing more is sealed under it; SIM_IDENTITY_KEY_ROTATED
   * reported) and the device waits for a ticket that certifies the new key; the new key is reported
   * at once in an online status ("idk") when the link is up, else at the next connection. A v1 ticket
   * (no idk: base mode) stays in use. Returns the new public key and the previous one (hex).
   */
  rotateIdentity(rng?: Rng): IdentityRotation {
    if (this.nvm === undefined || this.identity === undefined) simFail('SIM_CONFIG_INVALID', 'the device has not booted');
    const { state, rotation } = rotatedIdentityState(this.nvm, rng);
    this.o.storage.saveState(state);
    this.nvm = state;
    const old = this.identity;
    this.identity = identityOf(fromHex(state.identityKey!), this.o.backend);
    const t = ticketOf(this.stateValue);
    // firmware-bug hook `rotation-keeps-ticket`: the ticket certifying the old key stays in use, sealed to with the new key
    if (t?.ticket.idk !== undefined && this.o.bug === 'rotation-keeps-ticket') this.sealer = this.newSealer(t.ticket);
    else if (t?.ticket.idk !== undefined) this.forgetTicket(t.bytes, 'SIM_IDENTITY_KEY_ROTATED');
    if (linkOf(this.stateValue)?.kind === 'up') this.sendStatus(this.onlineStatus());
    // nothing seals with the old secret any more (its sealer went with the ticket; a v1 sealer never used it)
    old.secretKey.fill(0);
    return rotation;
  }

  private newSealer(t: { pk: Uint8Array; kid: Uint8Array; idk?: Uint8Array }): ReadingSealer {
    const bug = this.o.bug;
    // firmware-bug hooks: the kid from the key's bytes instead of its hash; one ephemeral secret for every reading;
    // Auth mode broken: base mode under a v2 ticket, Auth mode under a v1 one, another identity secret than the reported one
    const kid = bug === 'wrong-kid' ? t.pk.slice(0, 16) : t.kid;
    let rng = this.ephemeralRng!;
    if (bug === 'ephemeral-key-reuse') {
      const fixed = rng(32);
      rng = (n) => fixed.slice(0, n);
    }
    return createReadingSealer({
      backend: this.o.backend ?? 'noble',
      mode: this.o.mode ?? 'per-reading',
      recipient: { publicKey: t.pk, kid },
      rng,
      ...(bug ? { bug } : {}),
      // a ticket that certifies this device's identity key: HPKE Auth mode (docs/PROTOCOL.md §3.6)
      ...(this.identity && (t.idk !== undefined || bug === 'auth-mode-under-v1') && bug !== 'base-mode-under-v2'
        ? {
            senderSecretKey:
              bug === 'wrong-identity-key' ? deviceStream(this.o.seed, this.id, 'second-identity-key')(32) : this.identity.secretKey,
          }
        : {}),
    });
  }

  private async powerDown(reason: 'reboot' | 'shutdown', mode: 'graceful' | 'abrupt'): Promise<void> {
    this.generation++;
    for (const t of this.timers) t.cancel();
    this.sending.clear();
    this.timers.clear();
    this.transmitter?.reset();
    this.sealer = undefined;
    const link = this.link;
    this.link = undefined;
    this.setState({ kind: 'off', reason });
    await link?.close(mode);
  }

  // ---------------------------------------------------------------- timers

  private after(ms: number, fn: () => void, timers: Scheduler = this.o.scheduler): TimerHandle {
    const gen = this.generation;
    const handle: TimerHandle = timers.after(ms, () => {
      this.timers.delete(handle);
      if (gen === this.generation) fn();
    });
    this.timers.add(handle);
    return handle;
  }

  /** Measurements happen at runStart + phase + k · period (the phase spreads a fleet). */
  private scheduleTick(): void {
    const now = this.o.scheduler.now();
    const k = Math.max(0, Math.ceil((now - this.o.runStartMs - this.phaseMs) / this.periodMs));
    const at = this.o.runStartMs + this.phaseMs + k * this.periodMs;
    this.after(at - now, () => this.tick(k));
  }

  private tick(k: number): void {
    if (!this.measuringEnabled) return;
    const fault = tickFault(this.faults, this.o.seed, this.id, k);
    if (fault.kind === 'reboot') {
      this.stats.faults.reboot++;
      this.reboot(fault.offMs);
      return;
    }
    this.after(Math.max(1, this.o.runStartMs + this.phaseMs + (k + 1) * this.periodMs - this.o.scheduler.now()), () => this.tick(k + 1));
    if (fault.kind === 'link-down') {
      this.stats.faults.linkDown++;
      this.linkOutage(fault.ms);
    }
    this.measure();
  }

  // ---------------------------------------------------------------- measuring

  private measure(): void {
    const s = this.stateValue;
    if (s.kind === 'provisioned') {
      this.stats.notMeasured.noTicket++;
      return;
    }
    if (s.kind !== 'ticketed' && s.kind !== 'sleeping') return;
    const now = this.o.scheduler.now();
    const code = ticketUsable(s.ticket.ticket, now, this.nextSeq - s.ticket.startSeq, this.o.bug);
    if (code !== undefined) {
      this.forgetTicket(s.ticket.bytes, code);
      this.stats.notMeasured.noTicket++;
      return;
    }
    const outbox = this.outboxValue!;
    if (!outbox.hasRoom()) {
      this.stats.notMeasured.outboxFull++;
      return;
    }
    const seq = this.nextSeq;
    this.setState({ kind: 'measuring', ticket: s.ticket, link: s.link, seq });
    let reading = this.generator!.next(Math.floor(now));
    // firmware-bug hooks: another unit; ts in seconds
    if (this.o.bug === 'wrong-units') reading = { ...reading, u: WRONG_UNIT[reading.u] ?? `x${reading.u}` };
    if (this.o.bug === 'ts-in-seconds') reading = { ...reading, ts: Math.floor(reading.ts / 1000) };
    this.lastReading = { v: reading.v, u: reading.u };
    const envelope = this.sealer!.seal(reading, { dev: this.id, seq, ts: reading.ts, st: reading.st });
    const dropped = outbox.add(seq, reading.ts, envelope);
    this.nextSeq = seq + (this.o.bug === 'seq-gap' ? 2 : 1); // firmware-bug hook: a gap after every reading
    this.stats.measured++;
    this.stats.firstSeq ??= seq;
    this.stats.lastSeq = seq;
    if (dropped) {
      this.stats.droppedSeqs.push(dropped.seq);
      if (dropped.wasSent) this.stats.droppedAfterSend++;
      this.sending.forget(dropped.seq);
    }
    this.o.onEvent?.({ kind: 'sealed', seq, ts: reading.ts, envelope });
    // firmware-bug hook `plaintext-in-status`: a status after each reading (which carries it in clear)
    if (this.o.bug === 'plaintext-in-status') this.sendStatus({ state: 'ticketed', kid: toHex(s.ticket.ticket.kid), seq: this.nextSeq });
    const cur = this.stateValue;
    if (cur.kind === 'measuring') this.setState({ kind: 'sleeping', ticket: cur.ticket, link: cur.link, wakeAt: now + this.periodMs });
    this.sending.pump();
  }

  // ---------------------------------------------------------------- tickets

  private onTicket(bytes: Uint8Array): void {
    const s = this.stateValue;
    if (!('link' in s)) return;
    if (sameTicket(ticketOf(s)?.bytes, bytes)) return;
    if (this.refused.has(toHex(bytes))) return;
    const checked = checkTicket(bytes, {
      deviceId: this.id,
      authorityPublicKey: this.authorityKey,
      clock: this.o.scheduler,
      bug: this.o.bug,
    });
    const mismatch = checked.ok ? this.identityMismatch(checked.ticket) : undefined;
    const v = mismatch === undefined ? checked : ({ ok: false, code: mismatch } as const);
    if (!v.ok) {
      // firmware-bug hook: every refusal reported as malformed
      const code = this.o.bug === 'wrong-refusal-code' ? 'TICKET_MALFORMED' : v.code;
      this.refuse(bytes, code);
      this.sendStatus({ state: 'error', code });
      return;
    }
    const startSeq = this.nextSeq;
    this.nvm = { ...this.nvm!, ticket: toHex(bytes), ticketStartSeq: startSeq };
    this.o.storage.saveState(this.nvm);
    this.sealer = this.newSealer(v.ticket);
    this.stats.ticketsAccepted++;
    this.setState({ kind: 'ticketed', ticket: { ticket: v.ticket, bytes, startSeq }, link: s.link });
    this.sendStatus({ state: 'ticketed', kid: toHex(v.ticket.kid), seq: this.nextSeq });
  }

  private refuse(bytes: Uint8Array, code: string): void {
    this.refused.add(toHex(bytes));
    this.stats.ticketRefusals[code] = (this.stats.ticketRefusals[code] ?? 0) + 1;
    this.pendingStatusCode = code;
  }

  /** The ticket in use became unusable (expired, exhausted): drop it and say why. */
  private forgetTicket(bytes: Uint8Array, code: string): void {
    this.refuse(bytes, code);
    if (this.nvm) {
      const { ticket: _t, ticketStartSeq: _s, ...rest } = this.nvm;
      this.nvm = rest;
      this.o.storage.saveState(rest);
    }
    this.sealer = undefined;
    const link = linkOf(this.stateValue);
    if (link) {
      this.setState({ kind: 'provisioned', link, refused: code });
      this.sendStatus({ state: 'error', code });
    }
  }

  // ---------------------------------------------------------------- link

  private linkEvents(gen: number): LinkEvents {
    const live = (): boolean => gen === this.generation;
    return {
      onDown: (reason) => live() && this.supervisor.onLinkDown(reason),
      onAck: (seq) => live() && this.sending.onAck(seq),
      onRejected: (seq, code) => live() && this.sending.onRejected(seq, code),
      onTicket: (t) => live() && this.onTicket(t),
    };
  }

  /** The link came up (linkSupervisor.ts): say so, repeat a pending refusal, send the outbox. */
  private onLinkUp(): void {
    this.sendStatus(this.onlineStatus());
    if (this.pendingStatusCode !== undefined) this.sendStatus({ state: 'error', code: this.pendingStatusCode });
    this.sending.pump();
  }

  /** The online status (§9.6): boot count, next seq, the ticket in use, firmware, the identity public key. */
  private onlineStatus(): DeviceStatus {
    const t = ticketOf(this.stateValue);
    return {
      state: 'online',
      boot: this.nvm?.bootCount ?? 0,
      seq: this.nextSeq,
      ...(t ? { kid: toHex(t.ticket.kid) } : {}),
      fw: FIRMWARE_ID,
      ...(this.identity ? { idk: toHex(this.identity.publicKey) } : {}),
    };
  }

  private sendStatus(original: DeviceStatus): void {
    if (linkOf(this.stateValue)?.kind !== 'up') return;
    // firmware-bug hook: the last reading in clear on the status
    const status = this.o.bug === 'plaintext-in-status' && this.lastReading ? { ...original, last: this.lastReading } : original;
    if (status.state === 'error' && status.code === this.pendingStatusCode) this.pendingStatusCode = undefined;
    // firmware-bug hook `rotation-silent`: a ticket dropped for certifying the previous key is not reported
    if (this.o.bug === 'rotation-silent' && status.state === 'error' && status.code === 'SIM_IDENTITY_KEY_ROTATED') return;
    this.link?.sendStatus(status);
    this.o.onEvent?.({ kind: 'status', status });
  }

  private setState(s: DeviceState): void {
    const changed = s.kind !== this.stateValue.kind;
    this.stateValue = s;
    if (changed) this.o.onEvent?.({ kind: 'state', state: s.kind });
  }
}
