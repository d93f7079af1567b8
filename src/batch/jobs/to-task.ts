// One run of a job as the pool's task submission (cluster/index.ts `clusterClient.submit(owner, ...)`):
// the command, the resources, the constraints, and the environment Chronos gives its tasks
// (MesosTaskBuilder.envs) next to Gantry's own run variables.
import { taskOwner, type TaskSubmission } from '../../cluster/index.ts';
import { Invalid } from '../../shared/errors.ts';
import type { JobDefinition } from './definition.ts';

export interface RunInfo {
  /** The run's id in the batch store; the task's owner is `job:NAME:RUN_ID`. */
  runId: string;
  /** The occurrence this run is for (now, for a manual run). */
  scheduledAt: Date;
  /** 0 for the first try, then 1, 2, ... for retries (Chronos's attempt). */
  attempt: number;
  /** Chronos `PUT /scheduler/job/NAME?arguments=...`: more argv for this run only. */
  extraArguments?: string[];
}

export interface TaskForRun {
  /** `job:NAME:RUN_ID`: pass it to `submit(owner, submission)`; completion events come back under it. */
  owner: string;
  submission: TaskSubmission;
  /**
   * Fields of the definition this run does not honour yet (`runAsUser`, `fetch`, container volumes, ...),
   * one readable line each, so the caller can say so instead of dropping them silently.
   */
  notApplied: string[];
}

/** Matches cluster/task-spec.ts: an owner longer than this is refused at submission. */
const MAX_OWNER_LENGTH = 200;

export function taskForRun(job: JobDefinition, run: RunInfo): TaskForRun {
  const owner = taskOwner('job', job.name, run.runId);
  if (owner.length > MAX_OWNER_LENGTH) {
    throw new Invalid(`task owner "${owner.slice(0, 40)}..." is longer than ${MAX_OWNER_LENGTH} characters: use a shorter run id`);
  }
  const extra = run.extraArguments ?? [];
  const submission: TaskSubmission = {
    name: job.name,
    // Constraints that count tasks (UNIQUE, MAX_PER, ...) count this job's runs.
    group: taskOwner('job', job.name),
    env: runEnvironment(job, run),
    cpus: job.cpus,
    mem: job.mem,
    disk: job.disk,
    constraints: job.constraints,
    // Chronos with shell=false: `command` is the program, `arguments` its arguments (Mesos CommandInfo).
    ...(job.shell ? { cmd: job.command } : { args: [job.command, ...job.arguments, ...extra] }),
    // Chronos's container settings the Docker driver applies (its network names in lower case).
    ...(job.container ? containerFields(job.container) : {}),
  };
  return { owner, submission, notApplied: notApplied(job, extra) };
}

/**
 * Chronos's variables first; a job's own variable never replaces one of them, and the first of two
 * variables with one name wins (MesosTaskBuilder.envs, and its spec "Should not allow job environment
 * variables to overwrite any default environment variables"). HOST is set by the agent that runs it.
 */
function runEnvironment(job: JobDefinition, run: RunInfo): Record<string, string> {
  const scheduledMs = run.scheduledAt.getTime();
  const env: Record<string, string> = {
    GANTRY_JOB_NAME: job.name,
    GANTRY_RUN_ID: run.runId,
    GANTRY_SCHEDULED_TIME: run.scheduledAt.toISOString(),
    GANTRY_RUN_ATTEMPT: String(run.attempt),
    // Chronos's task id (TaskUtils `ct:%d:%d:%s:%s`: due time, attempt, job name, arguments).
    mesos_task_id: `ct:${scheduledMs}:${run.attempt}:${job.name}:${(run.extraArguments ?? []).join(' ')}`,
    CHRONOS_JOB_OWNER: job.owner,
    CHRONOS_JOB_NAME: job.name,
    CHRONOS_RESOURCE_MEM: javaDouble(job.mem),
    CHRONOS_RESOURCE_CPU: javaDouble(job.cpus),
    CHRONOS_RESOURCE_DISK: javaDouble(job.disk),
    CHRONOS_JOB_RUN_TIME: String(scheduledMs),
    CHRONOS_JOB_RUN_ATTEMPT: String(run.attempt),
  };
  for (const { name, value } of job.environmentVariables) {
    if (!Object.hasOwn(env, name)) env[name] = value;
  }
  return env;
}

/** Chronos prints its resources with Scala's Double.toString: 128 is "128.0". */
function javaDouble(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

/** Chronos's container settings the Docker driver applies; its USER network has no equal here. */
function containerFields(c: NonNullable<JobDefinition['container']>): Pick<TaskSubmission, 'image' | 'network' | 'forcePull'> {
  const network = c.network === 'USER' ? undefined : (c.network.toLowerCase() as 'bridge' | 'host' | 'none');
  return { image: c.image, ...(network ? { network } : {}), ...(c.forcePullImage ? { forcePull: true } : {}) };
}

function notApplied(job: JobDefinition, extraArguments: string[]): string[] {
  const lines: string[] = [];
  if (job.runAsUser !== null) lines.push(`runAsUser "${job.runAsUser}": tasks run as the agent's user`);
  if (job.fetch.length > 0) lines.push(`fetch/uris: ${job.fetch.length} file(s) not downloaded; files are not fetched into the sandbox yet`);
  if (job.shell && extraArguments.length > 0) lines.push('arguments of this run: ignored for a shell command, as in Chronos');
  const c = job.container;
  if (c !== null) {
    if (c.volumes.length > 0) lines.push(`container.volumes: ${c.volumes.length} volume(s) not mounted`);
    if (c.parameters.length > 0) lines.push('container.parameters: docker options not passed');
    if (c.network === 'USER') lines.push('container.network USER: runs on the default bridge network');
  }
  return lines;
}
