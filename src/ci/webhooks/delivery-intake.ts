// What every forge's receiver (GitHubReceiver, GitLabReceiver) shares: counting the deliveries being
// received so that planning can wait for a burst to be answered first, and the shape of a refusal.
import type { WebhookAnswer } from './github-receiver.ts';

export class DeliveriesInFlight {
  private count = 0;
  private waiters: Array<() => void> = [];

  /**
   * Resolves once no delivery is being received, or after `maxWaitMs`: the planner waits for it so
   * that a burst of deliveries is answered before their git work competes with it for the CPU
   * (bench/README.md, CI: a burst's p99 71 → 54 ms). A lone push does not wait: it is answered first.
   */
  idle(maxWaitMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve();
      };
      const timer = setTimeout(wake, maxWaitMs);
      this.waiters.push(wake);
    });
  }

  /** Runs the receipt of one delivery, counted while it lasts. */
  async around<T>(receive: () => Promise<T>): Promise<T> {
    this.count++;
    try {
      return await receive();
    } finally {
      // Woken on the next turn, once the caller has written the answer (a later delivery may have come).
      if (--this.count === 0) setImmediate(() => this.wakeIfIdle());
    }
  }

  private wakeIfIdle(): void {
    if (this.count > 0) return;
    for (const wake of [...this.waiters]) wake();
  }
}

/** A refusal in the API's error shape. */
export function refusal(status: number, error: string, message: string): WebhookAnswer {
  return { status, body: { error, message } };
}
