// An app instance as the deployment arithmetic sees it: a few facts the engine reads off the instance's
// task, whatever version it runs. Whether it counts toward the healthy minimum is decided here once,
// so that rolling replacement, scaling and their "done" agree.
import type { AppDefinition } from '../definition/index.ts';

/**
 * `unreachable`: its agent is silent (not yet given up on: an instance given up on is left out of the
 * views, being replaced); `staging`: asked of the pool, not running yet; `running`: its program runs.
 */
export type InstancePhase = 'unreachable' | 'staging' | 'running';

export interface InstanceView {
  id: string;
  phase: InstancePhase;
  /** Counts toward the healthy minimum: `isAvailable` with the checks of the instance's own version. */
  available: boolean;
  /** A kill was ordered and has not ended it yet: it still takes room, and no longer counts as healthy. */
  killing: boolean;
  /** Epoch ms: when it started running, or when it was staged while staging. Kill selection reads it. */
  since: number;
}

/** Which checks gate an instance of a version: Marathon's ReadinessBehavior hasHealthChecks / hasReadinessChecks. */
export interface VersionChecks {
  health: boolean;
  readiness: boolean;
}

export function checksOf(app: Pick<AppDefinition, 'healthChecks' | 'readinessChecks'>): VersionChecks {
  return { health: app.healthChecks.length > 0, readiness: app.readinessChecks.length > 0 };
}

/**
 * Running and, when its version has them, healthy and ready; a check with no verdict yet counts as
 * failing. Marathon counts old instances as healthy without looking at readiness or at whether they
 * run (Instance.consideredHealthy) and new ones with both (ReadinessBehavior); one rule for both is
 * stricter for old instances, so the minimum is never met by an instance that serves nothing.
 */
export function isAvailable(instance: { phase: InstancePhase; healthy: boolean | null; ready: boolean | null }, checks: VersionChecks): boolean {
  if (instance.phase !== 'running') return false;
  if (checks.health && instance.healthy !== true) return false;
  if (checks.readiness && instance.ready !== true) return false;
  return true;
}
