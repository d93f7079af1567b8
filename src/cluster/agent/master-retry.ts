// How long the agent waits before trying its master again, the same for a failed poll, a failed
// status report and an undelivered probe verdict, so that all come back quickly after a master restart.

/**
 * 100 ms doubling to 1 s. Short on purpose: after a master restart, reconciliation waits for every
 * agent's next poll (a 5 s cap made it take 5 s).
 */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_CAP_MS, 100 * 2 ** Math.min(failures, 4));
}

const RETRY_CAP_MS = 1000;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
