import type { Scheduler, TimerHandle } from './scheduler.ts';

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * Virtual time: `now()` only moves when the owner runs timers. Timers due at the same
 * instant run in the order they were set, so a run is repeatable. A binary heap keeps
 * thousands of devices' timers cheap.
 */
export class VirtualScheduler implements Scheduler {
  private current: number;
  private seq = 0;
  private heap: Timer[] = [];
  private live = 0;

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  after(delayMs: number, fn: () => void): TimerHandle {
    const timer: Timer = { at: this.current + Math.max(0, delayMs), order: this.seq++, fn, cancelled: false };
    this.push(timer);
    this.live++;
    return {
      cancel: () => {
        if (!timer.cancelled) {
          timer.cancelled = true;
          this.live--;
        }
      },
    };
  }

  /** Timers set and not yet run or cancelled. */
  get pending(): number {
    return this.live;
  }

  /** When the next live timer is due (undefined: none). */
  nextAt(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.at;
  }

  /**
   * Runs, in time order, every timer due at or before `untilMs` (including those the
   * timers themselves set), then leaves the clock at `untilMs`. Returns how many ran.
   */
  runUntil(untilMs: number): number {
    let ran = 0;
    for (;;) {
      this.dropCancelled();
      const top = this.heap[0];
      if (top === undefined || top.at > untilMs) break;
      this.pop();
      top.cancelled = true;
      this.live--;
      this.current = Math.max(this.current, top.at);
      top.fn();
      ran++;
    }
    this.current = Math.max(this.current, untilMs);
    return ran;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
