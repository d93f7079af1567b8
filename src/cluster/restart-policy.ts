// Restarting a task in place on its agent (TaskSpec.restart): when to, and after how long. The agent
// applies it (agent/task-supervisor.ts); the master only records each restart, once. A task failing at
// once therefore costs one store write per backoff period, and the delay grows to maxBackoffMs.
import type { RestartPolicy } from './types.ts';

export const RESTART_DEFAULTS = { backoffMs: 1000, factor: 2, maxBackoffMs: 5 * 60_000, resetAfterMs: 60_000 } as const;

/** How a run ended, as the agent reports it. */
export type RunEnd = 'finished' | 'failed' | 'killed';

/** The delay before restart `n` since the last reset (n = 1 for the first): backoff × factor^(n−1), capped. */
export function backoffDelayMs(policy: RestartPolicy, n: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * policy.factor ** Math.max(0, n - 1));
}

/**
 * Counts one task's restarts: in a row (what the delay grows with; a run that lasted resetAfterMs
 * resets it) and in total (what the task record shows).
 */
export class RestartCounter {
  constructor(
    private readonly policy: RestartPolicy,
    public total = 0,
    public inRow = 0,
  ) {}

  /**
   * After a run that ended as `end` having run `ranForMs`: the delay before the next run, or null when
   * the task ends here (a kill, a clean exit under on-failure, maxRestarts reached). Counts the restart.
   */
  next(end: RunEnd, ranForMs: number): number | null {
    if (end === 'killed') return null;
    if (end === 'finished' && this.policy.policy === 'on-failure') return null;
    if (ranForMs >= this.policy.resetAfterMs) this.inRow = 0;
    if (this.policy.maxRestarts !== undefined && this.inRow >= this.policy.maxRestarts) return null;
    this.inRow++;
    this.total++;
    return backoffDelayMs(this.policy, this.inRow);
  }
}
