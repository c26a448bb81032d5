import { systemClock, type Clock } from '../../protocol/rng.ts';
import type { Scheduler, TimerHandle } from './scheduler.ts';

/** Wall-clock time and Node timers. */
export function realScheduler(clock: Clock = systemClock): Scheduler {
  return {
    now: () => clock.now(),
    after(delayMs: number, fn: () => void): TimerHandle {
      const t = setTimeout(fn, Math.max(0, delayMs));
      return { cancel: () => clearTimeout(t) };
    },
  };
}
