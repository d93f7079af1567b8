// Pure decisions of a run in progress: which steps may start, whether the run has failed so far, how
// it ends, and the shell script a step runs. The run engine applies them; tests check them as tables.
import { Invalid } from '../../shared/errors.ts';
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
 * becomes the workspace's alternate object store (Jenkins' "reference repository"), and the commit is
 * checked out straight from it: no fetch, so the step neither asks the origin again (with GitHub, a
 * network round trip) nor copies an object; a commit's hash is its content, so nothing is trusted that
 * a fetch would have checked. The step runs as an unprivileged task user, to whom the server's data
 * directory is closed: it reaches the mirror through `<data>/ci/mirrors`, which it may pass through but
 * not list, under a name it could not have guessed (an HMAC of the URL under the server's key), and the
 * mirror's files are readable by all (src/ci/workspace/git-mirror.ts). A commit the mirror lacks (a
 * remote agent, where the path does not exist, or a later push) is fetched as usual, borrowing what the
 * mirror has. The mirror only ever gains objects while a run needs them: it is fetched into, never
 * pruned by Gantry, and git's own automatic gc keeps unreachable objects for two weeks.
 *
 * Each git process costs 4–15 ms here (more when the disk is busy: creating files is what git init and
 * checkout do), so on the mirror's path the script runs three: `git init` without the template
 * directory (a CI workspace has no use for sample hooks, and each is a file to create), the checkout,
 * and the log line. The origin remote is appended to `.git/config` as text, exactly what
 * `git remote add` writes (tests read it back with `git remote get-url`).
 */
export function cloneScript(cloneUrl: string, ref: string, commit: string | null): string {
  const mirrorHere = `[ -n "\${${MIRROR_VARIABLE}:-}" ] && [ -d "\$${MIRROR_VARIABLE}/objects" ]`;
  const lines = [
    'set -e',
    'git init -q --template= .',
    `printf '%s' ${shellQuote(originRemoteConfig(cloneUrl))} >> .git/config`,
    `if ${mirrorHere}; then`,
    `  printf '%s\\n' "\$${MIRROR_VARIABLE}/objects" > .git/objects/info/alternates`,
    `  printf '%s\\n' '+ objects shared with the server mirror of the repository'`,
    'fi',
  ];
  const fetchThenCheckout = [
    `printf '%s\\n' ${shellQuote(`+ git fetch origin ${ref}`)}`,
    `git -c protocol.ext.allow=never fetch -q --no-tags origin ${shellQuote(`+${ref}:refs/remotes/origin/build`)}`,
    `git checkout -q --detach ${commit ? shellQuote(commit) : 'refs/remotes/origin/build'}`,
  ];
  if (commit) {
    // A checkout of a commit nobody has fails at once ("reference is not a tree"), writing nothing.
    lines.push(
      `if ${mirrorHere} && git checkout -q --detach ${shellQuote(commit)} 2>/dev/null; then`,
      `  printf '%s\\n' ${shellQuote(`+ ${ref} at ${commit} is in the server mirror: nothing to fetch`)}`,
      'else',
      ...fetchThenCheckout.map((line) => `  ${line}`),
      'fi',
    );
  } else {
    lines.push(...fetchThenCheckout);
  }
  lines.push("git log -1 --format='%H %s'");
  return lines.join('\n');
}

/**
 * The `[remote "origin"]` section `git remote add origin URL` writes. The URL is a config value in
 * double quotes (backslash and quote escaped); it has no whitespace or control characters
 * (checkCloneUrl refused them before any run was recorded), checked again here because the text
 * goes into a file git parses (a run with such a URL fails its clone step, saying so).
 */
export function originRemoteConfig(cloneUrl: string): string {
  if (/[\s\x00-\x1f\x7f]/.test(cloneUrl)) throw new Invalid(`clone URL has whitespace or control characters: ${JSON.stringify(cloneUrl.slice(0, 200))}`);
  const quoted = `"${cloneUrl.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return `[remote "origin"]\n\turl = ${quoted}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n`;
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
