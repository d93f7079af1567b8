// Whether a step runs, from its `when`, as Woodpecker decides it:
// - status: without it a step runs only while nothing before it has failed; `[failure]` runs only
//   after a failure (notifications, cleanup); `[success, failure]` always runs;
// - branch is not applied to tag events (a tag has no branch), path only to push events with known
//   changed paths (a tag or a manual run has no diff to judge);
// - a list of conditions runs the step when any of them holds.
import { anyPathMatches, filterMatches } from './globs.ts';
import type { Step, StepCondition, StepContext } from './types.ts';

const DEFAULT_CONDITION: StepCondition = { branch: null, event: null, path: null, status: null };

export function stepRunsWhen(step: Step, context: StepContext): boolean {
  const conditions = step.when.length === 0 ? [DEFAULT_CONDITION] : step.when;
  return conditions.some((condition) => conditionHolds(condition, context));
}

function conditionHolds(condition: StepCondition, context: StepContext): boolean {
  const wantedStatus = context.failedSoFar ? 'failure' : 'success';
  if (!(condition.status ?? ['success']).includes(wantedStatus)) return false;
  if (condition.event !== null && !condition.event.includes(context.event)) return false;
  if (condition.branch !== null && context.event !== 'tag') {
    if (context.branch === null || !filterMatches(condition.branch, context.branch)) return false;
  }
  if (condition.path !== null && (context.event === 'push' || context.event === 'pull_request') && context.changedPaths !== null && context.changedPaths.length > 0) {
    if (!anyPathMatches(condition.path, context.changedPaths)) return false;
  }
  return true;
}
