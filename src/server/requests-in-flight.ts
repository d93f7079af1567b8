// The requests a listener is still working on, so that a stop waits for them before it closes what
// they use. Closing a listener's connections ends its sockets, not its handlers: a long poll woken by
// its closed connection still reads the store, and without this wait it did so after the store had
// closed ("Acquire connection error: aborted" with a stack, in the log of a clean stop).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

export interface TrackedListener {
  listener: RequestListener;
  /** Resolves once no request is being handled, or after `timeoutMs` at the latest. */
  settled(timeoutMs: number): Promise<void>;
}

/** Wraps `handle` (whose promise, when it returns one, is the end of its work: koa's callback does). */
export function trackRequestsInFlight(handle: (req: IncomingMessage, res: ServerResponse) => unknown): TrackedListener {
  let inFlight = 0;
  let idle: Array<() => void> = [];
  const finished = (): void => {
    if (--inFlight > 0) return;
    for (const resolve of idle) resolve();
    idle = [];
  };
  return {
    listener(req, res) {
      inFlight++;
      let work: unknown;
      try {
        work = handle(req, res);
      } catch (err) {
        finished();
        throw err;
      }
      Promise.resolve(work).then(finished, finished);
    },
    settled(timeoutMs) {
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
