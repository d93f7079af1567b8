// Pure decisions of a run in progress: which steps may start, whether the run has failed so far, how
// it ends, and the shell script a step runs. The run engine applies them; tests check them as tables.
import type { Pipeline, Step } from '../pipeline/index.ts';
import type { CiRunState, StepState } from '../store/runs.ts';

/** The implicit first step: it clones the repository into the run's workspace. */
export const CLONE_STEP = 'clone';

const FINISHED: ReadonlySet<StepState> = new Set(['success', 'failure', 'skipped', 'canceled', 'timeout']);

export function isFinished(state: StepState): boolean {
  return FINISHED.has(state);
}

/** Pending steps whose dependencies have all finished (the clone step first of all). */
export function readySteps(pipeline: Pipeline, states: ReadonlyMap<string, StepState>): Step[] {
  if (states.get(CLONE_STEP) !== 'success') return [];
  return pipeline.steps.filter((step) => states.get(step.name) === 'pending' && step.dependsOn.every((dep) => isFinished(states.get(dep) ?? 'pending')));
}

/** Whether a step failed in a way that counts (a failure with `failure: ignore` does not). */
export function failedSoFar(pipeline: Pipeline, states: ReadonlyMap<string, StepState>): boolean {
  if (states.get(CLONE_STEP) === 'failure' || states.get(CLONE_STEP) === 'timeout') return true;
  return pipeline.steps.some((step) => step.failure !== 'ignore' && (states.get(step.name) === 'failure' || states.get(step.name) === 'timeout'));
}

/** The run's end once every step has finished; null while some have not. */
export function runOutcome(pipeline: Pipeline, states: ReadonlyMap<string, StepState>, ended: { canceled: boolean; timedOut: boolean }): CiRunState | null {
  const all = [CLONE_STEP, ...pipeline.steps.map((s) => s.name)];
  if (!all.every((name) => isFinished(states.get(name) ?? 'pending'))) return null;
  if (ended.timedOut) return 'timeout';
  if (ended.canceled) return 'canceled';
  return failedSoFar(pipeline, states) ? 'failure' : 'success';
}

/**
 * The shell script of a step: each command echoed before it runs (`+ command`, as Woodpecker and
 * Drone print them), the step failing at the first command that fails.
 */
export function stepScript(step: Pick<Step, 'commands'>): string {
  const lines = ['set -e'];
  for (const command of step.commands) {
    lines.push(`printf '%s\\n' ${shellQuote(`+ ${command}`)}`);
    lines.push(command);
  }
  return lines.join('\n');
}

/** The variable naming the server's mirror of the repository (see cloneScript). */
export const MIRROR_VARIABLE = 'GANTRY_GIT_MIRROR';

/**
 * The clone step's script: the repository at the pushed commit, in the (empty) workspace.
 *
 * When the step runs on the server's own host, the server's mirror of the repository (which fetched
 * the pushed commit moments before, to plan the run) lends its objects: `$GANTRY_GIT_MIRROR/objects`
 * becomes the workspace's alternate object store (Jenkins' "reference repository"), so the fetch only
 * negotiates refs instead of copying the repository again (32–41 → 18–19 ms for the benchmark's small
 * repository on a local disk; far more for a real repository over the network). When the mirror
 * already holds the pushed commit there is no fetch at all: the commit is its own proof of content
 * (git names objects by their hash), so the step neither asks the origin again nor waits on its
 * network (the whole script 42–51 → 30–43 ms here). Elsewhere the path does not exist and the fetch
 * copies everything as usual. The mirror only ever gains objects while a run needs them: it is fetched
 * into, never pruned by Gantry, and git's own automatic gc keeps unreachable objects for two weeks.
 */
export function cloneScript(cloneUrl: string, ref: string, commit: string | null): string {
  const lines = [
    'set -e',
    'git init -q .',
    `if [ -n "\${${MIRROR_VARIABLE}:-}" ] && [ -d "\$${MIRROR_VARIABLE}/objects" ]; then`,
    `  printf '%s\\n' "\$${MIRROR_VARIABLE}/objects" > .git/objects/info/alternates`,
    `  printf '%s\\n' '+ objects shared with the server mirror of the repository'`,
    'fi',
    `git remote add origin ${shellQuote(cloneUrl)}`,
    ...fetchLines(cloneUrl, ref, commit),
    `git checkout -q --detach ${commit ? shellQuote(commit) : 'refs/remotes/origin/build'}`,
    "git log -1 --format='%H %s'",
  ];
  return lines.join('\n');
}

/** The fetch of `ref`, skipped when the commit is known and its objects are already at hand (the mirror). */
function fetchLines(cloneUrl: string, ref: string, commit: string | null): string[] {
  const fetch = [
    `printf '%s\\n' ${shellQuote(`+ git fetch origin ${ref}`)}`,
    `git -c protocol.ext.allow=never fetch -q --no-tags origin ${shellQuote(`+${ref}:refs/remotes/origin/build`)}`,
  ];
  if (!commit) return fetch;
  return [
    `if git cat-file -e ${shellQuote(`${commit}^{commit}`)} 2>/dev/null; then`,
    `  printf '%s\\n' ${shellQuote(`+ ${ref} at ${commit} is in the server mirror: nothing to fetch`)}`,
    `  git update-ref refs/remotes/origin/build ${shellQuote(commit)}`,
    'else',
    ...fetch.map((line) => `  ${line}`),
    'fi',
  ];
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
