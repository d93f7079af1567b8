// Whether a push starts a run of a pipeline (`on.push`). The rules, as GitHub Actions words them for the
// same keys and as Woodpecker and Drone behave without filters:
// - no branches and no tags filter: every branch push and every tag push runs;
// - only a branches filter: matching branches run, tags do not; only a tags filter: the reverse;
// - paths (branch pushes only; tags carry no diff): at least one changed path passes include minus
//   exclude. Unknown changed paths (a new branch, a force push) and an empty list (an empty commit) do
//   not block, as in Woodpecker, where a build it cannot judge is built rather than silently skipped.
import { anyPathMatches, describeFilter, filterMatches } from './globs.ts';
import type { Pipeline, PushEvent } from './types.ts';

export interface PushDecision {
  run: boolean;
  /** One sentence for logs and the API: why the pipeline runs or not. */
  reason: string;
}

export function matchesPush(pipeline: Pipeline, event: PushEvent): PushDecision {
  if (!pipeline.pushes) return { run: false, reason: `${event.kind} "${event.name}": the pipeline runs on pull requests only (on has no push)` };
  return event.kind === 'tag' ? matchesTag(pipeline, event.name) : matchesBranch(pipeline, event.name, event.changedPaths);
}

function matchesTag(pipeline: Pipeline, tag: string): PushDecision {
  const { branches, tags } = pipeline.on;
  if (tags === null) {
    if (branches !== null) return { run: false, reason: `tag "${tag}": on.push filters branches only (add on.push.tags to build tags)` };
    return { run: true, reason: `tag "${tag}": on.push has no branch or tag filter` };
  }
  if (!filterMatches(tags, tag)) return { run: false, reason: `tag "${tag}" does not match on.push.tags (${describeFilter(tags)})` };
  return { run: true, reason: `tag "${tag}" matches on.push.tags (${describeFilter(tags)})` };
}

function matchesBranch(pipeline: Pipeline, branch: string, changedPaths: string[] | null): PushDecision {
  const { branches, tags, paths } = pipeline.on;
  let reason: string;
  if (branches === null) {
    if (tags !== null) return { run: false, reason: `branch "${branch}": on.push filters tags only (add on.push.branches to build branches)` };
    reason = `branch "${branch}": on.push has no branch filter`;
  } else if (!filterMatches(branches, branch)) {
    return { run: false, reason: `branch "${branch}" does not match on.push.branches (${describeFilter(branches)})` };
  } else {
    reason = `branch "${branch}" matches on.push.branches (${describeFilter(branches)})`;
  }
  if (paths === null) return { run: true, reason };
  if (changedPaths === null) return { run: true, reason: `${reason}; changed paths unknown, on.push.paths not applied` };
  if (changedPaths.length === 0) return { run: true, reason: `${reason}; no changed paths (empty commit), on.push.paths not applied` };
  if (!anyPathMatches(paths, changedPaths)) {
    return { run: false, reason: `branch "${branch}": ${noPathMatches(changedPaths)} on.push.paths (${describeFilter(paths)})` };
  }
  return { run: true, reason: `${reason}; a changed path matches on.push.paths (${describeFilter(paths)})` };
}

/**
 * Whether a pull request (opened, pushed to, reopened) starts a run: `on.pull_request` written, its base
 * branch passing `branches`, a changed path passing `paths` (unknown paths do not block, as for pushes).
 */
export function matchesPullRequest(pipeline: Pipeline, pull: { number: number; baseBranch: string; changedPaths: string[] | null }): PushDecision {
  const triggers = pipeline.pullRequest;
  const what = `pull request #${pull.number} into "${pull.baseBranch}"`;
  if (triggers === null) return { run: false, reason: `${what}: on.pull_request is not set` };
  if (triggers.branches !== null && !filterMatches(triggers.branches, pull.baseBranch)) {
    return { run: false, reason: `${what}: the base branch does not match on.pull_request.branches (${describeFilter(triggers.branches)})` };
  }
  if (triggers.paths !== null && pull.changedPaths !== null && pull.changedPaths.length > 0 && !anyPathMatches(triggers.paths, pull.changedPaths)) {
    return { run: false, reason: `${what}: ${noPathMatches(pull.changedPaths)} on.pull_request.paths (${describeFilter(triggers.paths)})` };
  }
  return { run: true, reason: `${what} matches on.pull_request` };
}

function noPathMatches(paths: string[]): string {
  return paths.length === 1 ? `the changed path "${paths[0]}" does not match` : `none of the ${paths.length} changed paths matches`;
}
