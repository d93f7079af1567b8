// The compiler from a run's steps to the pool's tasks (Woodpecker's pipeline/frontend/yaml/compiler):
// pure, given the run, its pipeline and what the engine looked up (the step's secrets, the bundled
// registry's robot, the server's mirror of the repository), it says which owner submits what task.
// The run engine only schedules what this produced.
import { taskOwner, type TaskSubmission } from '../../cluster/index.ts';
import { Invalid } from '../../shared/errors.ts';
import type { Pipeline, Step, StepBuild } from '../pipeline/index.ts';
import type { CiRun } from '../store/runs.ts';
import { MIRROR_VARIABLE, cloneScript, stepScript } from './step-plan.ts';

/**
 * What a step gets when its pipeline does not say: builds want whole CPUs (the pool's task default of
 * 0.1 CPU is a hard cgroup quota when the agent runs as root) and some memory (npm, compilers).
 */
export const STEP_DEFAULTS = { cpus: 1, mem: 1024 } as const;

/** The owner of a step's task: `ci:RUN:POSITION`, 0 being the clone step. */
export function stepOwner(runId: string, position: number): string {
  return taskOwner('ci', runId, position);
}

/** The bundled registry as steps reach it, with the platform's robot account. */
export interface StepRegistry {
  url: string;
  username: string;
  password: string;
}

/** The clone step's task: the repository at the run's commit into the run's workspace. */
export function cloneTask(run: CiRun, pipeline: Pipeline, mirrorPath?: string): TaskSubmission {
  return {
    name: `${pipeline.name} #${run.number} clone`,
    group: taskOwner('ci', pipeline.name),
    cmd: cloneScript(run.cloneUrl, run.ref, run.commit),
    env: { GIT_TERMINAL_PROMPT: '0', ...(mirrorPath !== undefined ? { [MIRROR_VARIABLE]: mirrorPath } : {}) },
    // A whole CPU: the pool's 0.1 default is a hard quota as root, and a clone under it took ~1 s
    // instead of ~0.1 s (bench/README.md, CI).
    cpus: STEP_DEFAULTS.cpus,
    mem: 256,
    workspace: run.id,
    ...runAs(pipeline),
  };
}

/**
 * A step's task: its script in the run's workspace on the workspace's agent, with the pipeline's and
 * the step's environment, the CI variables, the registry's and the secrets' (both masked in its output).
 */
export function stepTask(run: CiRun, pipeline: Pipeline, step: Step, secretEnv: Record<string, string>, registry?: StepRegistry, commitTime?: number | null): TaskSubmission {
  if (step.build) return buildTask(run, pipeline, step, step.build, commitTime ?? null);
  const registryEnv: Record<string, string> = registry
    ? { GANTRY_REGISTRY: new URL(registry.url).host, GANTRY_REGISTRY_USERNAME: registry.username, GANTRY_REGISTRY_PASSWORD: registry.password }
    : {};
  const env = { ...registryEnv, ...pipeline.env, ...step.env, ...ciVariables(run, pipeline, step), ...secretEnv };
  const constraints = [...step.constraints];
  if (run.workspaceHost) constraints.push(`hostname:IS:${run.workspaceHost}`);
  const redact = [...Object.values(secretEnv), ...(registry ? [registry.password] : [])].filter((v) => v.length > 0);
  return {
    name: `${pipeline.name} #${run.number} ${step.name}`,
    group: taskOwner('ci', pipeline.name),
    cmd: stepScript(step),
    env,
    constraints,
    workspace: run.id,
    ...(redact.length > 0 ? { redact } : {}),
    cpus: step.resources.cpus ?? STEP_DEFAULTS.cpus,
    mem: step.resources.mem ?? STEP_DEFAULTS.mem,
    ...(step.resources.disk !== undefined ? { disk: step.resources.disk } : {}),
    ...(step.image ? { image: step.image } : {}),
    ...runAs(pipeline),
  };
}

/**
 * A build step's task: the agent's Docker engine builds the image from the workspace and pushes it to
 * the bundled registry with the platform robot (the agent has its account; the step's environment
 * and secrets take no part: nothing of the pipeline's runs on the agent).
 */
function buildTask(run: CiRun, pipeline: Pipeline, step: Step, build: StepBuild, commitTime: number | null): TaskSubmission {
  const tags = buildTags(build.tags, run);
  if (tags.length === 0) throw new Invalid(`step "${step.name}": none of its tags (${build.tags.join(', ')}) has a value in this run; add one that always has, such as \${commit} or \${run}`);
  const constraints = [...step.constraints];
  if (run.workspaceHost) constraints.push(`hostname:IS:${run.workspaceHost}`);
  const common = {
    name: `${pipeline.name} #${run.number} ${step.name}`,
    group: taskOwner('ci', pipeline.name),
    constraints,
    workspace: run.id,
    cpus: step.resources.cpus ?? STEP_DEFAULTS.cpus,
    mem: step.resources.mem ?? STEP_DEFAULTS.mem,
    ...runAs(pipeline),
  };
  if (build.from !== null) {
    return {
      ...common,
      // The commit's time for every time in the image: a rebuild of the commit gives the same digest.
      assemble: {
        from: build.from,
        files: build.files,
        ...(build.entrypoint ? { entrypoint: build.entrypoint } : {}),
        ...(build.cmd ? { cmd: build.cmd } : {}),
        ...(Object.keys(build.env).length > 0 ? { env: build.env } : {}),
        ...(build.workdir ? { workdir: build.workdir } : {}),
        repository: build.image,
        tags,
        labels: imageLabels(run),
        sourceDateEpoch: commitTime ?? 0,
      },
    };
  }
  return {
    ...common,
    build: {
      context: build.context,
      dockerfile: build.dockerfile,
      repository: build.image,
      tags,
      args: build.args,
      ...(build.target !== null ? { target: build.target } : {}),
      labels: imageLabels(run),
    },
  };
}

/** The OCI annotations of what a run built: its commit and where it came from (credentials left out). */
function imageLabels(run: CiRun): Record<string, string> {
  return {
    ...(run.commit ? { 'org.opencontainers.image.revision': run.commit } : {}),
    'org.opencontainers.image.source': run.cloneUrl.replace(/\/\/[^/@\s]+@/, '//'),
  };
}

/**
 * A build's tags for a run: placeholders filled in, what a tag may not hold turned into "-" (a branch
 * `feature/x` tags `feature-x`, as docker/metadata-action does); a tag whose placeholder has no value
 * in this run (`\${tag}` on a branch push) is left out.
 */
export function buildTags(templates: readonly string[], run: Pick<CiRun, 'commit' | 'branch' | 'tag' | 'number'>): string[] {
  const values: Record<string, string> = {
    commit: run.commit ?? '',
    short_commit: run.commit?.slice(0, 8) ?? '',
    branch: run.branch ?? '',
    tag: run.tag ?? '',
    run: String(run.number),
  };
  const tags: string[] = [];
  for (const template of templates) {
    let missing = false;
    const filled = template.replace(/\$\{([a-z_]+)\}/g, (_, word: string) => {
      const value = values[word] ?? '';
      if (value === '') missing = true;
      return value;
    });
    if (missing) continue;
    const tag = filled.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]+/, '').slice(0, 128);
    if (tag !== '' && !tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

/**
 * The task that empties a finished run's workspace on its agent (an ephemeral build agent leaves
 * nothing behind); the agent removes the empty directory, which the task's user may not.
 */
export function cleanupTask(run: CiRun & { workspaceHost: string }, pipeline: Pipeline): { owner: string; submission: TaskSubmission } {
  return {
    owner: taskOwner('ci', run.id, 'cleanup'),
    submission: {
      name: `remove workspace of ${run.id}`,
      cmd: 'cd / && find "$GANTRY_WORKSPACE" -mindepth 1 -delete',
      workspace: run.id,
      cpus: 0.01,
      mem: 16,
      constraints: [`hostname:IS:${run.workspaceHost}`],
      ...runAs(pipeline),
    },
  };
}

/**
 * The pipeline's user for every task of the run: the workspace is its user's (0700), so the clone,
 * the steps and the cleanup run as the same one. A run recorded before pipelines had `user` has none.
 */
function runAs(pipeline: Pipeline): { user?: string } {
  return pipeline.user ? { user: pipeline.user } : {};
}

/** What every step sees about its run, in the names Woodpecker and Drone use. */
function ciVariables(run: CiRun, pipeline: Pipeline, step: Step): Record<string, string> {
  return {
    CI: 'true',
    CI_PIPELINE: pipeline.name,
    CI_RUN_ID: run.id,
    CI_RUN_NUMBER: String(run.number),
    CI_REPO: run.repository,
    CI_COMMIT_SHA: run.commit ?? '',
    CI_COMMIT_REF: run.ref,
    CI_COMMIT_BRANCH: run.branch ?? '',
    CI_COMMIT_TAG: run.tag ?? '',
    CI_STEP_NAME: step.name,
    CI_EVENT: run.event,
    ...(run.pullRequest
      ? { CI_PULL_REQUEST: String(run.pullRequest.number), CI_COMMIT_SOURCE_BRANCH: run.pullRequest.headBranch, CI_COMMIT_SOURCE_REPO: run.pullRequest.headRepository }
      : {}),
  };
}
