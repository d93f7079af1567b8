// A clock and timers that move only when a test says so (src/shared/clock.ts, src/shared/timers.ts):
// heartbeat checks, firings, retries and timeouts are driven to the millisecond without sleeping.
//
// advance(ms) fires every timer that comes due on the way, in order of due time (then of creation),
// with the clock at that timer's own due time; a callback that returns a promise (the product's
// callbacks return the work they start) is awaited before the next timer fires. Timers a callback
// sets that come due within the same advance fire in it too. Like Node, a delay under 1 ms is 1 ms.
//
// jump(ms) moves the clock without firing anything on the way, as when the process did not run (the
// machine slept, the event loop was blocked): the timers now overdue fire at the next advance, at the
// clock's new time.
import type { Clock } from '../../src/shared/clock.ts';
import type { TimerHandle, Timers } from '../../src/shared/timers.ts';

class ManualTimer implements TimerHandle {
  constructor(
    readonly id: number,
    public at: number,
    readonly every: number | null,
    readonly callback: () => unknown,
  ) {}

  unref(): this {
    return this;
  }
}

export class ManualTime implements Clock, Timers {
  private current: number;
  private nextId = 1;
  private readonly pending = new Map<number, ManualTimer>();

  constructor(start: Date | string) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  /** The clock in milliseconds since the epoch. */
  get ms(): number {
    return this.current;
  }

  setTimeout(callback: () => unknown, ms: number): TimerHandle {
    return this.add(callback, ms, null);
  }

  setInterval(callback: () => unknown, ms: number): TimerHandle {
    return this.add(callback, ms, Math.max(1, ms));
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle instanceof ManualTimer) this.pending.delete(handle.id);
  }

  clearInterval(handle: TimerHandle | undefined): void {
    this.clearTimeout(handle);
  }

  /** When each pending timer comes due (ms since the epoch), earliest first. */
  dueTimes(): number[] {
    return [...this.pending.values()].map((t) => t.at).sort((a, b) => a - b);
  }

  /** Moves the clock forward by `ms`, firing what comes due on the way (see the top of the file). */
  advance(ms: number): Promise<void> {
    if (ms < 0) throw new Error(`time does not go back (advance ${ms})`);
    return this.advanceTo(this.current + ms);
  }

  /** Moves the clock forward to `target` (a date or ms since the epoch), firing what comes due on the way. */
  async advanceTo(target: Date | number): Promise<void> {
    const until = typeof target === 'number' ? target : target.getTime();
    if (until < this.current) throw new Error(`time does not go back (to ${new Date(until).toISOString()} from ${this.now().toISOString()})`);
    for (;;) {
      const next = this.earliestDueBy(until);
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      if (next.every === null) this.pending.delete(next.id);
      else next.at += next.every;
      await next.callback();
    }
    this.current = until;
  }

  /** Moves the clock forward by `ms` without firing any timer on the way (see the top of the file). */
  jump(ms: number): void {
    if (ms < 0) throw new Error(`time does not go back (jump ${ms})`);
    this.current += ms;
  }

  private add(callback: () => unknown, ms: number, every: number | null): ManualTimer {
    const timer = new ManualTimer(this.nextId++, this.current + Math.max(1, ms), every, callback);
    this.pending.set(timer.id, timer);
    return timer;
  }

  private earliestDueBy(until: number): ManualTimer | undefined {
    let earliest: ManualTimer | undefined;
    for (const timer of this.pending.values()) {
      if (timer.at > until) continue;
      if (!earliest || timer.at < earliest.at || (timer.at === earliest.at && timer.id < earliest.id)) earliest = timer;
    }
    return earliest;
  }
}

/**
 * Resolves with the first value `probe` returns that is not undefined, null or false, asking again
 * each time something may have changed (after every turn of real I/O); fails after `timeoutMs` of real
 * time. For the end of work the test's own call did not wait for (an event handled on a lane), never to
 * let time pass: time is the ManualTime's.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
