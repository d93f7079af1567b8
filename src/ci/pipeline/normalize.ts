// From the validated file to the Pipeline every other part of CI reads: defaults applied, filters as
// include/exclude lists, durations in milliseconds, env split into values and secrets, and each
// step's dependencies resolved.
import { resolveDependsOn } from './dag.ts';
import { durationMs } from './durations.ts';
import type { ConditionFile, PipelineFile, StepFile } from './schema.ts';
import type { GlobFilter, Pipeline, Step, StepBuild, StepCondition } from './types.ts';

type FilterFile = string | string[] | { include?: string[] | undefined; exclude?: string[] | undefined };
type EnvFile = Record<string, string | number | boolean | { from_secret: string }>;

export function normalizePipeline(file: PipelineFile, context: { file: string; name: string }): Pipeline {
  const steps = file.steps;
  const names = steps.map((step) => step.name);
  const dependsOn = resolveDependsOn(
    names,
    steps.map((step) => (step.depends_on === undefined ? null : typeof step.depends_on === 'string' ? [step.depends_on] : step.depends_on)),
  );
  const env = splitEnv(file.env);
  const concurrency = file.concurrency;
  return {
    file: context.file,
    name: context.name,
    repository: file.repository ?? null,
    on: {
      branches: filterOrNull(file.on?.push?.branches),
      tags: filterOrNull(file.on?.push?.tags),
      paths: filterOrNull(file.on?.push?.paths),
    },
    pushes: file.on === undefined || file.on.push !== undefined || file.on.pull_request === undefined,
    pullRequest:
      file.on?.pull_request === undefined ? null : { branches: filterOrNull(file.on.pull_request?.branches), paths: filterOrNull(file.on.pull_request?.paths) },
    env: env.values,
    secrets: { ...env.secrets, ...Object.fromEntries(Object.entries(file.secrets ?? {}).map(([key, ref]) => [key, ref.from_secret])) },
    steps: steps.map((step, index) => normalizeStep(step, dependsOn[index] ?? [])),
    concurrency:
      concurrency === undefined
        ? null
        : { group: concurrency.group ?? '${repository}/${pipeline}', limit: concurrency.limit ?? 1, cancelPrevious: concurrency.cancel_previous ?? false },
    timeoutMs: file.timeout === undefined ? null : durationMs(file.timeout),
    user: file.user ?? null,
  };
}

function normalizeStep(step: StepFile, dependsOn: string[]): Step {
  const env = splitEnv(step.env);
  const conditions = step.when === undefined ? [] : Array.isArray(step.when) ? step.when : [step.when];
  return {
    name: step.name,
    commands: step.commands === undefined ? [] : typeof step.commands === 'string' ? [step.commands] : step.commands.map(String),
    build: step.build === undefined ? null : normalizeBuild(step.build),
    deploy: step.deploy === undefined ? null : { app: step.deploy.app.startsWith('/') ? step.deploy.app : `/${step.deploy.app}`, image: step.deploy.image },
    approval: step.approval ?? false,
    image: step.image ?? null,
    env: env.values,
    secrets: env.secrets,
    when: conditions.map(normalizeCondition),
    dependsOn,
    timeoutMs: step.timeout === undefined ? null : durationMs(step.timeout),
    retry: step.retry ?? 0,
    failure: step.failure ?? 'fail',
    resources: { ...step.resources },
    constraints: (step.constraints ?? []).map((c) => (Array.isArray(c) ? [...c] : c)),
  };
}

function normalizeBuild(build: NonNullable<StepFile['build']>): StepBuild {
  const tags = build.tags === undefined ? ['${commit}'] : typeof build.tags === 'string' ? [build.tags] : build.tags;
  return {
    context: build.context ?? '.',
    dockerfile: build.dockerfile ?? 'Dockerfile',
    image: build.image,
    tags: [...new Set(tags)],
    args: Object.fromEntries(Object.entries(build.args ?? {}).map(([key, value]) => [key, String(value)])),
    target: build.target ?? null,
    from: build.from ?? null,
    files: (build.files ?? []).map((f) => ({ src: f.src, dest: f.dest })),
    entrypoint: build.entrypoint ?? null,
    cmd: build.cmd ?? null,
    env: Object.fromEntries(Object.entries(build.env ?? {}).map(([key, value]) => [key, String(value)])),
    workdir: build.workdir ?? null,
  };
}

function normalizeCondition(condition: ConditionFile): StepCondition {
  return {
    branch: filterOrNull(condition.branch),
    event: condition.event === undefined ? null : [...new Set(condition.event)],
    path: filterOrNull(condition.path),
    status: condition.status === undefined ? null : [...new Set(condition.status)],
  };
}

/** A written list is the include list; `{exclude}` alone includes everything else. */
export function normalizeFilter(filter: FilterFile): GlobFilter {
  if (typeof filter === 'string') return { include: [filter], exclude: [] };
  if (Array.isArray(filter)) return { include: [...filter], exclude: [] };
  return { include: filter.include ?? ['**'], exclude: filter.exclude ?? [] };
}

function filterOrNull(filter: FilterFile | undefined): GlobFilter | null {
  return filter === undefined ? null : normalizeFilter(filter);
}

/** Plain values (numbers and booleans written unquoted become strings, as Woodpecker does) and secrets. */
function splitEnv(env: EnvFile | undefined): { values: Record<string, string>; secrets: Record<string, string> } {
  const values: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [key, value] of Object.entries(env ?? {})) {
    if (typeof value === 'object') secrets[key] = value.from_secret;
    else values[key] = String(value);
  }
  return { values, secrets };
}
