/**
 * Timers come in like the clock (clock.ts), so that heartbeat checks, firing, retries and timeouts are
 * testable without sleeping: a test passes timers that fire when it moves its clock.
 */
export interface TimerHandle {
  unref(): unknown;
}

export interface Timers {
  /** A callback may return the work it started (a promise): the system timers ignore it, a test's timers may wait for it. */
  setTimeout(callback: () => unknown, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(callback: () => unknown, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** Node's own timers. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout | undefined),
};
