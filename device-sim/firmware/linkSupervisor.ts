import type { Prng } from '../random/prng.ts';
import { errorCodeOf, SimError } from '../errors.ts';
import type { DeviceStats } from '../report/deviceStats.ts';
import type { Scheduler, TimerHandle } from '../time/scheduler.ts';
import type { DeviceLink } from '../transport/link.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import type { NetworkGauge } from './sendWindow.ts';
import type { LinkState } from './state.ts';

/** What link supervision needs from its device (read at call time: they change at every boot). */
export interface LinkSupervisorHost {
  readonly stats: DeviceStats;
  readonly scheduler: Scheduler;
  link(): DeviceLink | undefined;
  linkState(): LinkState | undefined;
  setLink(link: LinkState): void;
  /** Incremented at every boot and power-down: callbacks of an older boot are ignored. */
  generation(): number;
  jitter(): Prng;
  /** A timer of the current boot (ignored after a reboot). */
  after(ms: number, fn: () => void): TimerHandle;
  /** The link came up: say so and send what waits. */
  onUp(): void;
  /** The link was lost: forget what was in flight. */
  onLost(): void;
}

/**
 * Link supervision of one device: connects, and after a failure or a loss reconnects with
 * exponential backoff and full jitter (`backoffDelay`); a simulated outage makes every
 * attempt fail until it ends.
 */
export class LinkSupervisor {
  private linkDownUntil = 0;

  constructor(
    private readonly host: LinkSupervisorHost,
    private readonly backoff: BackoffOptions = DEFAULT_BACKOFF,
    private readonly network: NetworkGauge | undefined = undefined,
  ) {}

  /** The link fails for `ms` (cable pulled, radio out of range); reconnection backs off meanwhile. */
  outage(ms: number): void {
    const h = this.host;
    this.linkDownUntil = Math.max(this.linkDownUntil, h.scheduler.now() + ms);
    if (h.linkState()?.kind === 'up') {
      const link = h.link();
      void link?.close('abrupt');
      this.onLinkDown('link outage');
    }
  }

  connect(): void {
    const h = this.host;
    const link = h.linkState();
    const deviceLink = h.link();
    if (link?.kind !== 'down' || !deviceLink) return;
    const attempt = link.attempt;
    h.setLink({ kind: 'connecting', attempt });
    const gen = h.generation();
    const outage = h.scheduler.now() < this.linkDownUntil;
    const gauge = !outage && !deviceLink.inProcess ? this.network : undefined;
    if (gauge) gauge.awaiting++;
    const opened = outage ? Promise.reject(new SimError('SIM_LINK_DOWN', 'link outage')) : deviceLink.open();
    opened
      .finally(() => {
        if (gauge) gauge.awaiting--;
      })
      .then(
        () => {
          if (gen !== h.generation()) return;
          h.stats.connects++;
          h.setLink({ kind: 'up', since: h.scheduler.now() });
          h.onUp();
        },
        (e: unknown) => {
          if (gen !== h.generation()) return;
          h.stats.connectFailures++;
          h.stats.lastLinkError = errorCodeOf(e);
          this.retryLater(attempt + 1, errorCodeOf(e));
        },
      );
  }

  private retryLater(attempt: number, reason: string): void {
    const h = this.host;
    const now = h.scheduler.now();
    const delay = backoffDelay(attempt, this.backoff, h.jitter());
    h.setLink({ kind: 'down', since: now, attempt, retryAt: now + delay, reason });
    h.after(delay, () => this.connect());
  }

  onLinkDown(reason: string): void {
    const h = this.host;
    if (h.linkState()?.kind !== 'up') return;
    h.stats.linkLosses++;
    h.onLost();
    this.retryLater(0, reason);
  }
}
