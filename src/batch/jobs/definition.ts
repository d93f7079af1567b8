// A batch job's definition: Chronos job JSON accepted unchanged (a job exported from Chronos and posted
// back included), plus Gantry's additions. `parseJobDefinition` validates everything at once and names
// every field at fault; it returns the definition as given (`source`, what the store keeps and the API
// returns; never rewritten) next to a parsed view with Chronos's defaults filled in.
import { Invalid } from '../../shared/errors.ts';
import type { TaskConstraint } from '../../cluster/index.ts';
import { JOB_DEFAULTS } from './defaults.ts';
import {
  CHRONOS_OUTPUT_FIELDS,
  jobDefinitionSchema,
  type CONCURRENCY_POLICIES,
  type CONTAINER_TYPES,
  type JobDefinitionInput,
  type NETWORK_MODES,
  type TRIGGER_RULES,
  type VOLUME_MODES,
} from './definition-schema.ts';
import { isoDurationField } from './durations.ts';
import { checkConcurrency, checkEnvironmentNames, checkExecutor, constraintsOf, retryBackoffOf } from './field-rules.ts';
import { jobNameProblem } from './job-name.ts';
import { describeProblem, problemsFromIssues, type Problem } from './problems.ts';
import { fieldNamesOf } from './schema-fields.ts';
import { timingOf, type JobTiming } from './timing.ts';

export { JOB_DEFAULTS } from './defaults.ts';
export type { JobTiming, Schedule } from './timing.ts';
export type { TaskConstraint } from '../../cluster/index.ts';

export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/** A definition as JSON: what was posted, minus Chronos's statistics fields. */
export type JobSource = Record<string, unknown>;

export interface EnvironmentVariable {
  name: string;
  value: string;
}

export interface ContainerVolume {
  containerPath: string;
  hostPath?: string;
  mode?: (typeof VOLUME_MODES)[number];
}

export interface ContainerSpec {
  type: (typeof CONTAINER_TYPES)[number];
  image: string;
  forcePullImage: boolean;
  network: (typeof NETWORK_MODES)[number];
  volumes: ContainerVolume[];
  parameters: Array<{ key: string; value: string }>;
}

/** A file Mesos would download into the sandbox (`fetch`, and the deprecated `uris`). Not fetched yet. */
export interface FetchItem {
  uri: string;
  executable: boolean;
  cache: boolean;
  extract: boolean;
}

export interface RetryBackoff {
  /** Delay before the first retry. */
  initialMs: number;
  /** Each further retry waits this many times longer than the one before... */
  factor: number;
  /** ...up to this. */
  maxMs: number;
}

export interface JobDefinition {
  name: string;
  /** The definition as given (Chronos's statistics fields dropped): store and return this, as is. */
  source: JobSource;
  /** When the definition was made (ParseOptions.definedAt): the anchor of an empty ISO start. */
  definedAt: Date | null;
  command: string;
  /** true: `command` runs through `/bin/sh -c` and `arguments` are ignored (Chronos). */
  shell: boolean;
  arguments: string[];
  environmentVariables: EnvironmentVariable[];
  timing: JobTiming;
  /** A run missed by more than this (downtime) is skipped rather than run late. */
  epsilonMs: number;
  /** Retries after a failed run; Chronos retries while `attempt < retries`. */
  retries: number;
  retryBackoff: RetryBackoff;
  disabled: boolean;
  /** What to do when a run is due while the previous one still runs. */
  concurrencyPolicy: ConcurrencyPolicy;
  /**
   * Chronos's meaning: when this job fails for good (retries spent), its children still run, as if it had
   * succeeded (JobScheduler.handleFailedTask: `if (job.softError) processDependencies(...)`).
   */
  softError: boolean;
  /** For a dependent job: which outcomes of its parents' runs let it run. */
  triggerRule: TriggerRule;
  /** A run still going after this long is killed and fails; null for no limit. */
  maxCompletionTimeMs: number | null;
  /** Chronos: the email address(es) told about failures, comma-separated. */
  owner: string;
  ownerName: string;
  description: string;
  cpus: number;
  /** MiB */
  mem: number;
  /** MiB */
  disk: number;
  container: ContainerSpec | null;
  /** In the pool's form; Chronos's EQUALS is already IS here. */
  constraints: TaskConstraint[];
  runAsUser: string | null;
  fetch: FetchItem[];
  /** Finished runs kept, by outcome. */
  history: { successful: number; failed: number };
}


const KNOWN_FIELDS = fieldNamesOf(jobDefinitionSchema);

export interface ParseOptions {
  /**
   * When the job was defined (at creation: now; from the store: when it was stored). An ISO schedule with
   * an empty start (`R//PT1H`, Chronos's "from now") starts then, and is refused without it.
   */
  definedAt?: Date;
}

/** Validates a job definition (parsed JSON); throws Invalid naming every field at fault. */
export function parseJobDefinition(json: unknown, options: ParseOptions = {}): JobDefinition {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Invalid(`invalid job: a job definition is a JSON object (got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json})`);
  }
  const source: JobSource = Object.fromEntries(Object.entries(json).filter(([field]) => !CHRONOS_OUTPUT_FIELDS.has(field)));
  // A null field is an absent field: some clients write every field they know.
  const raw = withoutNulls(source) as Record<string, unknown>;

  const parsed = jobDefinitionSchema.safeParse(raw);
  const problems: Problem[] = parsed.success ? [] : problemsFromIssues(parsed.error.issues, KNOWN_FIELDS);
  // Rules between fields run on the raw object too, so that one answer lists every problem.
  if (typeof raw.name === 'string') {
    const problem = jobNameProblem(raw.name);
    if (problem !== null) problems.push({ path: 'name', problem });
  }
  const timing = timingOf(raw, problems, options.definedAt);
  const epsilonMs = typeof raw.epsilon === 'string' ? isoDurationField(raw.epsilon, 'epsilon', problems) : JOB_DEFAULTS.epsilonMs;
  const retryBackoff = retryBackoffOf(raw.retryBackoff, problems);
  const constraints = constraintsOf(raw.constraints, problems);
  checkEnvironmentNames(raw.environmentVariables, problems);
  checkConcurrency(raw, problems);
  checkExecutor(raw.executor, problems);

  if (!parsed.success || problems.length > 0 || timing === undefined || epsilonMs === undefined || retryBackoff === undefined) {
    const name = typeof raw.name === 'string' && raw.name !== '' ? ` "${raw.name}"` : '';
    throw new Invalid(`invalid job${name}: ${problems.map(describeProblem).join('; ')}`, { problems });
  }
  const definedAt = options.definedAt ?? null;
  return definitionFrom(parsed.data, { source, definedAt, timing, epsilonMs, retryBackoff, constraints });
}

interface CheckedParts {
  source: JobSource;
  definedAt: Date | null;
  timing: JobTiming;
  epsilonMs: number;
  retryBackoff: RetryBackoff;
  constraints: TaskConstraint[];
}

function definitionFrom(input: JobDefinitionInput, parts: CheckedParts): JobDefinition {
  return {
    name: input.name,
    ...parts,
    command: input.command,
    shell: input.shell ?? JOB_DEFAULTS.shell,
    arguments: input.arguments ?? [],
    environmentVariables: input.environmentVariables ?? [],
    retries: input.retries ?? JOB_DEFAULTS.retries,
    disabled: input.disabled ?? false,
    concurrencyPolicy: input.concurrencyPolicy ?? (input.concurrent === true ? 'Allow' : 'Forbid'),
    softError: input.softError ?? false,
    triggerRule: input.triggerRule ?? JOB_DEFAULTS.triggerRule,
    maxCompletionTimeMs: input.maxCompletionTime ? input.maxCompletionTime : null,
    owner: input.owner ?? '',
    ownerName: input.ownerName ?? '',
    description: input.description ?? '',
    // Chronos reads 0 as "the default" (MesosJobFramework.Resources).
    cpus: input.cpus || JOB_DEFAULTS.cpus,
    mem: input.mem || JOB_DEFAULTS.mem,
    disk: input.disk || JOB_DEFAULTS.disk,
    container: input.container ? containerFrom(input.container) : null,
    runAsUser: input.runAsUser ? input.runAsUser : null,
    fetch: [
      ...(input.fetch ?? []).map((f) => ({ uri: f.uri, executable: f.executable ?? false, cache: f.cache ?? false, extract: f.extract ?? true })),
      ...(input.uris ?? []).map((uri) => ({ uri, executable: false, cache: false, extract: true })),
    ],
    history: {
      successful: input.history?.successful ?? JOB_DEFAULTS.history.successful,
      failed: input.history?.failed ?? JOB_DEFAULTS.history.failed,
    },
  };
}

function containerFrom(c: NonNullable<JobDefinitionInput['container']>): ContainerSpec {
  return {
    // Chronos: a container without a type is DOCKER, without a network HOST (JobDeserializer).
    type: c.type ?? 'DOCKER',
    image: c.image,
    forcePullImage: c.forcePullImage ?? false,
    network: c.network ?? 'HOST',
    volumes: (c.volumes ?? []).map((v) => ({
      containerPath: v.containerPath,
      ...(v.hostPath !== undefined ? { hostPath: v.hostPath } : {}),
      ...(v.mode !== undefined ? { mode: v.mode } : {}),
    })),
    parameters: c.parameters ?? [],
  };
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}
