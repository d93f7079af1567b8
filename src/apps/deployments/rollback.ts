// Where a failed deployment goes back to (beyond Marathon, which only reverts on a cancel: its
// DeploymentPlanReverter): the newest earlier version whose instances were once all healthy and
// ready together, i.e. a version known to have worked. A version that never got there (an earlier
// failed deployment, or one superseded before it finished) is skipped: rolling back onto it would
// likely fail again.

export interface VersionRecord {
  version: string;
  /** At some moment all of its instances (its instance count of them) were healthy and ready. */
  reachedFullHealth: boolean;
}

/**
 * The version to roll back to from `failing` (by default the newest in `history`), `history` being the
 * app's versions oldest first; null when no earlier version ever reached full health (nothing known to
 * work: the engine stops where it is and says so).
 */
export function rollbackTarget(history: readonly VersionRecord[], failing: string = history.at(-1)?.version ?? ''): string | null {
  const at = history.findIndex((record) => record.version === failing);
  const earlier = at === -1 ? history : history.slice(0, at);
  for (let i = earlier.length - 1; i >= 0; i--) {
    const record = earlier[i]!;
    if (record.reachedFullHealth) return record.version;
  }
  return null;
}
