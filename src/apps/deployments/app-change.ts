// What a change of one app asks of its running instances: nothing, a scale, or a restart (a rolling
// replacement). Marathon's rules (src/main/scala/mesosphere/marathon/state/AppDefinition.scala and
// core/deployment/DeploymentPlan.scala, dependencyOrderedSteps):
//   - isUpgrade: any field other than the instance count differs (labels, upgradeStrategy, killSelection,
//     backoff, dependencies included: Marathon lists them all, and labels reach the tasks as
//     MARATHON_APP_LABELS);
//   - a scale when only the instance count changed, or when the app goes to 0 instances whatever else
//     changed (nothing is left to restart; the next scale up starts the new definition);
//   - a restart on any other difference, or when asked (POST /v2/apps/ID/restart: needsRestart's
//     "forced restart", a new version with the same definition).
// Compared on the canonical definition, not on what was posted: a field spelled the deprecated way,
// or health checks, constraints and dependencies listed in another order (Sets in Marathon), change nothing.
import type { AppDefinition } from '../definition/index.ts';

export type AppChange = 'none' | 'start' | 'scale' | 'restart' | 'stop';

/** Not part of what an instance runs: the id (the same by construction), the posted text, the count. */
const NOT_COMPARED: ReadonlySet<string> = new Set(['id', 'source', 'instances']);

/** Lists whose order means nothing. */
const SET_FIELDS: ReadonlySet<string> = new Set(['healthChecks', 'constraints', 'dependencies']);

/** A stable text of a value: object keys sorted. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function fieldText(field: string, value: unknown): string {
  if (SET_FIELDS.has(field) && Array.isArray(value)) return `[${value.map(canonical).sort().join(',')}]`;
  return canonical(value);
}

/** The fields, other than the instance count, whose canonical values differ: why a change restarts. */
export function changedFields(before: AppDefinition, after: AppDefinition): string[] {
  const fields = new Set([...Object.keys(before), ...Object.keys(after)]);
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  return [...fields].filter((field) => !NOT_COMPARED.has(field) && fieldText(field, a[field]) !== fieldText(field, b[field])).sort();
}

/** Marathon's isUpgrade: the running instances no longer match the definition. */
export function isUpgrade(before: AppDefinition, after: AppDefinition): boolean {
  return changedFields(before, after).length > 0;
}

/**
 * What going from `before` to `after` (either absent: the app is new, or removed) asks of the app.
 * `restart`: a restart was asked for, with or without a change.
 */
export function appChange(before: AppDefinition | undefined, after: AppDefinition | undefined, options: { restart?: boolean } = {}): AppChange {
  if (before === undefined) return after === undefined ? 'none' : 'start';
  if (after === undefined) return 'stop';
  const restart = isUpgrade(before, after) || options.restart === true;
  if (!restart) return before.instances === after.instances ? 'none' : 'scale';
  return after.instances === 0 ? 'scale' : 'restart';
}
