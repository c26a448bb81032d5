import type { Clock } from '../../protocol/rng.ts';

/** A cancellable timer. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Time and timers, injected into every part of the simulator: the real clock
 * (`realScheduler`) or a virtual one (`VirtualScheduler`) that jumps from timer to
 * timer, so a day of readings can be simulated in seconds and repeated exactly.
 */
export interface Scheduler extends Clock {
  /** Milliseconds since the Unix epoch (virtual or real). */
  now(): number;
  /** Runs `fn` once, `delayMs` (≥ 0) from now. */
  after(delayMs: number, fn: () => void): TimerHandle;
}
