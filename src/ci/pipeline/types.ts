// The pipeline as the rest of CI sees it once a file has been validated: every default applied, every
// filter normalized to include/exclude lists, every duration in milliseconds, every step's
// dependencies spelled out. Code that runs pipelines reads these types, never the YAML.

/** Glob lists (picomatch, `**` crosses `/`): a name matches when an include matches and no exclude does. */
export interface GlobFilter {
  include: string[];
  exclude: string[];
}

/**
 * `on.pull_request`: which pull requests (opened, pushed to, reopened) start a run: `branches` filters
 * their base branch (the branch they would merge into), `paths` what they change. `null` = not written.
 */
export interface PullRequestTriggers {
  branches: GlobFilter | null;
  paths: GlobFilter | null;
}

/** `on.push`: which pushes start a run. `null` = the filter was not written. */
export interface PushTriggers {
  branches: GlobFilter | null;
  tags: GlobFilter | null;
  paths: GlobFilter | null;
}

export const STEP_EVENTS = ['push', 'tag', 'pull_request', 'manual'] as const;
export type StepEvent = (typeof STEP_EVENTS)[number];

export const STEP_STATUSES = ['success', 'failure'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** One `when` condition of a step; every field given must hold. `null` = not written (no restriction). */
export interface StepCondition {
  branch: GlobFilter | null;
  event: StepEvent[] | null;
  path: GlobFilter | null;
  /** `null` behaves as `[success]`: the step runs only while nothing before it failed. */
  status: StepStatus[] | null;
}

/** What a step asks of the pool; an absent field takes the cluster's default. mem and disk in MiB. */
export interface StepResources {
  cpus?: number;
  mem?: number;
  disk?: number;
}

/** A step that builds an image (`build:`) and pushes it to the bundled registry. */
export interface StepBuild {
  /** Relative to the workspace. */
  context: string;
  /** Relative to the context. */
  dockerfile: string;
  /** The repository on the bundled registry (team/web). */
  image: string;
  /** Templates with `${commit}`, `${short_commit}`, `${branch}`, `${tag}`, `${run}`. */
  tags: string[];
  args: Record<string, string>;
  target: string | null;
  /**
   * Set: no Dockerfile: the daemonless builder puts `files` onto this base image of the bundled
   * registry (reproducible: the same commit gives the same digest) with the config changes below.
   */
  from: string | null;
  files: Array<{ src: string; dest: string }>;
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: Record<string, string>;
  workdir: string | null;
}

/** A step that rolls an image out to an app (`deploy:`), on the server, following its deployment. */
export interface StepDeploy {
  /** The app's id as written (`/prod/web`). */
  app: string;
  /** `${steps.NAME.image}`, `${steps.NAME.digest}` or an image pinned by digest. */
  image: string;
}

export interface Step {
  name: string;
  /** Run one after another by a shell in the workspace; the step fails at the first failing command. Empty for a build step. */
  commands: string[];
  /** Set: the step builds this image instead of running commands. */
  build: StepBuild | null;
  /** Set: the step deploys an image to an app instead of running commands. */
  deploy: StepDeploy | null;
  /** The step waits, once ready, until a person approves it (`gantry ci approve RUN STEP`). */
  approval: boolean;
  /** Set: the Docker driver runs the step in this image. Null: the exec driver runs it on the agent. */
  image: string | null;
  env: Record<string, string>;
  /** Environment variable name → secret name (`{from_secret: NAME}`). */
  secrets: Record<string, string>;
  /** The step runs when any condition holds; an empty list = the default (only after success). */
  when: StepCondition[];
  /** Resolved: the previous step when `depends_on` was not written, `[]` for the first step. */
  dependsOn: string[];
  timeoutMs: number | null;
  /** Extra attempts after a failure (0 = run once). */
  retry: number;
  /** `ignore`: a failure of this step does not fail the run nor skip its dependents. */
  failure: 'fail' | 'ignore';
  resources: StepResources;
  /** Marathon constraints, `field:OP[:value]` or `[field, OP, value?]`, handed to the pool unchanged. */
  constraints: Array<string | string[]>;
}

export interface Concurrency {
  /** May contain `${branch}`, `${pipeline}`, `${repository}`; see concurrencyGroupFor(). */
  group: string;
  /** How many runs of the group may be active at once. */
  limit: number;
  /** A new run of a branch cancels the older, still active runs of the same branch. */
  cancelPrevious: boolean;
}

export interface Pipeline {
  /** Where it was read from, as given to the parser (used in every message). */
  file: string;
  name: string;
  /** `owner/name` for server pipelines; null for a `.gantry.yml`, which belongs to its own repository. */
  repository: string | null;
  on: PushTriggers;
  /** False when `on` names pull_request but not push: pushes start nothing. */
  pushes: boolean;
  /** Null: pull requests start nothing (on.pull_request not written). */
  pullRequest: PullRequestTriggers | null;
  env: Record<string, string>;
  /** Environment variable name → secret name, for every step. */
  secrets: Record<string, string>;
  /** In file order. */
  steps: Step[];
  concurrency: Concurrency | null;
  /** For the whole run; null = the run engine's default. */
  timeoutMs: number | null;
  /**
   * The host user every task of a run (clone, steps, cleanup) runs as, one the agents allow (their
   * --task-users); null: the agent's default user. Server pipelines only: a `.gantry.yml` comes from
   * whoever can push, and a user is a grant (the Docker socket's group, say).
   */
  user: string | null;
}

/** A push as the pipeline filters see it. `changedPaths: null` = unknown (new branch, force push). */
export interface PushEvent {
  kind: 'branch' | 'tag';
  name: string;
  changedPaths: string[] | null;
}

/** What a step's `when` is evaluated against while a run progresses. */
export interface StepContext {
  branch: string | null;
  tag: string | null;
  event: StepEvent;
  changedPaths: string[] | null;
  /** Whether a step of this run has failed (a failure with `failure: ignore` does not count). */
  failedSoFar: boolean;
}
