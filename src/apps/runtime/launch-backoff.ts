// Launch delays of crash-looping apps (Marathon's backoffSeconds, backoffFactor, maxLaunchDelaySeconds):
// after an instance ends without being asked to, the app's next launch waits backoffSeconds, then each
// further failure multiplies the wait by the factor, up to the maximum; an instance that had run for a
// minute before it ended starts the count over (a crash-looping instance reaches `running` for a moment
// each time, so running alone proves nothing; the pool's restart policy resets the same way). Kept in memory: a crash loop costs the store one task row per launch and
// nothing more, and a master restart forgets the delay (it starts again at backoffSeconds).
import type { AppDefinition } from '../definition/index.ts';

/** A run at least this long before its end counts as healthy: the next delay starts over. */
export const RESET_AFTER_MS = 60_000;

interface Delay {
  delayMs: number;
  /** Epoch ms before which the app launches nothing. */
  until: number;
}

export class LaunchBackoff {
  private readonly byApp = new Map<string, Delay>();

  /**
   * An instance of the app ended without being asked to (`ranMs`: how long it had run; 0 when it never
   * ran, or when the pool refused the launch): the next launch waits, longer than the last time unless
   * it ran long enough to count as healthy.
   */
  failed(appId: string, app: Pick<AppDefinition, 'backoffSeconds' | 'backoffFactor' | 'maxLaunchDelaySeconds'>, now: number, ranMs = 0): Delay {
    const previous = ranMs >= RESET_AFTER_MS ? undefined : this.byApp.get(appId);
    const maxMs = app.maxLaunchDelaySeconds * 1000;
    const delayMs = Math.min(maxMs, previous ? previous.delayMs * app.backoffFactor : app.backoffSeconds * 1000);
    const delay = { delayMs, until: now + delayMs };
    this.byApp.set(appId, delay);
    return delay;
  }

  /** How long the app must still wait before it launches; 0 when it may now. */
  waitMs(appId: string, now: number): number {
    const delay = this.byApp.get(appId);
    return delay ? Math.max(0, delay.until - now) : 0;
  }

  /** The current delay, for /v2/queue (`delay.timeLeftSeconds`, `overdue`). */
  delayOf(appId: string): Delay | null {
    return this.byApp.get(appId) ?? null;
  }

  forget(appId: string): void {
    this.byApp.delete(appId);
  }
}
