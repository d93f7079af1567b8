// The scheduler's view of a job: what it needs to fire, launch, retry and chain runs, read once from
// the definition as stored (which itself is never rewritten).
import type { TaskSubmission } from '../../cluster/index.ts';
import { taskForRun, type JobDefinition } from '../jobs/index.ts';
import type { Schedule } from '../schedule/index.ts';

export type ConcurrencyPolicy = 'Allow' | 'Forbid' | 'Replace';
export type TriggerRule = 'all_success' | 'all_done' | 'one_failed' | 'one_success';

export interface RunContext {
  runId: string;
  scheduledAt: Date;
  attempt: number;
}

export interface JobView {
  name: string;
  /** The definition exactly as accepted. */
  definition: Record<string, unknown>;
  /** When it was defined (ISO), stored with it. */
  definedAt: string;
  /** null for a dependent job (it has parents instead). */
  schedule: Schedule | null;
  /** What the firing state was computed from; a change restarts the count from now. */
  scheduleKey: string | null;
  epsilonMs: number;
  parents: string[];
  disabled: boolean;
  /** Attempts after the first. */
  retries: number;
  backoff: { initialMs: number; factor: number; maxMs: number };
  concurrency: ConcurrencyPolicy;
  triggerRule: TriggerRule;
  /** Chronos: a failure still counts as done for the children. */
  softError: boolean;
  maxCompletionMs: number | null;
  history: { successful: number; failed: number };
  toTask(run: RunContext): TaskSubmission;
}

/** The delay before retry number `attempt` (1 for the first retry): initial × factor^(attempt−1), capped. */
export function retryDelayMs(backoff: JobView['backoff'], attempt: number): number {
  return Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** Math.max(0, attempt - 1));
}

/** The scheduler's view of a validated definition. */
export function jobView(job: JobDefinition): JobView {
  const schedule = job.timing.kind === 'scheduled' ? job.timing.schedule : null;
  return {
    name: job.name,
    definition: job.source as Record<string, unknown>,
    definedAt: (job.definedAt ?? new Date()).toISOString(),
    schedule,
    scheduleKey: schedule ? scheduleKeyOf(schedule) : null,
    epsilonMs: job.epsilonMs,
    parents: job.timing.kind === 'dependent' ? job.timing.parents : [],
    disabled: job.disabled,
    retries: job.retries,
    backoff: job.retryBackoff,
    concurrency: job.concurrencyPolicy,
    triggerRule: job.triggerRule,
    softError: job.softError,
    maxCompletionMs: job.maxCompletionTimeMs,
    history: job.history,
    toTask: (run) => taskForRun(job, run).submission,
  };
}

/** What the firing state depends on: the schedule as written, its zone and where it starts. */
function scheduleKeyOf(schedule: Schedule): string {
  return schedule.kind === 'iso8601'
    ? JSON.stringify(['iso8601', schedule.text, schedule.zone, schedule.start.toISOString()])
    : JSON.stringify(['cron', schedule.text, schedule.zone]);
}
