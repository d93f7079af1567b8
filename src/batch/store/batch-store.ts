// The batch scheduler's tables (store migration 004-batch) behind one repository. Every claim is a
// compare-and-set in the store: a run is created only by inserting its unique (job, run key), a job's
// next due time moves only from the value the caller read, and a run changes state only from the state
// the caller expects. That is what makes firing exactly-once across crashes and restarts.
import type { Knex } from 'knex';
import { Conflict, NotFound } from '../../shared/errors.ts';

export type RunTrigger = 'schedule' | 'manual' | 'dependency';
export type RunState = 'pending' | 'running' | 'retrying' | 'succeeded' | 'failed' | 'skipped' | 'killed';
export const ACTIVE_RUN_STATES: readonly RunState[] = ['pending', 'running', 'retrying'];

export interface StoredJob {
  name: string;
  /** The definition exactly as accepted. */
  definition: Record<string, unknown>;
  definedAt: string;
  createdAt: string;
  updatedAt: string;
}

export interface JobState {
  jobName: string;
  scheduleKey: string;
  nextDueAt: string | null;
  nextIndex: number | null;
}

/** One occurrence being fired: its run (pending, or skipped), older skipped ones, and the move of the job's next due time. */
export interface Firing {
  run: RunRecord;
  skipped: RunRecord[];
  move: { expectedDueAt: string; nextDueAt: string | null; nextIndex: number | null };
}

export interface RunRecord {
  id: string;
  jobName: string;
  runKey: string;
  trigger: RunTrigger;
  scheduledAt: string;
  state: RunState;
  attempt: number;
  taskId: string | null;
  taskIds: string[];
  retryAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  reason: string | null;
}

export interface JobStats {
  successCount: number;
  errorCount: number;
  errorsSinceLastSuccess: number;
  lastSuccessAt: string | null;
  lastErrorAt: string | null;
}

export interface ParentCompletion {
  child: string;
  parent: string;
  runId: string;
  outcome: 'success' | 'failure';
  completedAt: string;
}

interface RunRow {
  id: string;
  job_name: string;
  run_key: string;
  trigger: string;
  scheduled_at: string;
  state: string;
  attempt: number;
  task_id: string | null;
  task_ids: string;
  retry_at: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  reason: string | null;
}

export class BatchStore {
  constructor(private readonly knex: Knex) {}

  // ---- jobs ----------------------------------------------------------------------------------------

  async listJobs(): Promise<StoredJob[]> {
    const rows = await this.knex('batch_jobs').select('*').orderBy('name');
    return rows.map(toJob);
  }

  async findJob(name: string): Promise<StoredJob | null> {
    const row = await this.knex('batch_jobs').where({ name }).first();
    return row ? toJob(row) : null;
  }

  /**
   * Writes job definitions and removals in one transaction (a change to one job can change others:
   * deleting a parent re-attaches its children). A job whose schedule changed gets `state`.
   */
  async saveJobs(change: { upsert: Array<{ name: string; definition: Record<string, unknown>; definedAt: string; state?: JobState | null }>; remove: string[] }, now: string): Promise<void> {
    await this.knex.transaction(async (trx) => {
      for (const name of change.remove) {
        await trx('batch_parent_completions').where({ parent: name }).delete();
        await trx('batch_jobs').where({ name }).delete();
      }
      for (const job of change.upsert) {
        const definition = JSON.stringify(job.definition);
        await trx('batch_jobs')
          .insert({ name: job.name, definition, defined_at: job.definedAt, created_at: now, updated_at: now })
          .onConflict('name')
          .merge(['definition', 'defined_at', 'updated_at']);
        if (job.state === null) {
          await trx('batch_job_state').where({ job_name: job.name }).delete();
        } else if (job.state) {
          await trx('batch_job_state')
            .insert(stateRow(job.state))
            .onConflict('job_name')
            .merge(['schedule_key', 'next_due_at', 'next_index']);
        }
      }
    });
  }

  // ---- firing state --------------------------------------------------------------------------------

  async listStates(): Promise<JobState[]> {
    const rows = await this.knex('batch_job_state').select('*');
    return rows.map(toState);
  }

  /** Sets (or with null removes) a job's firing state, leaving its definition alone. */
  async saveState(jobName: string, state: JobState | null): Promise<void> {
    if (state === null) {
      await this.knex('batch_job_state').where({ job_name: jobName }).delete();
      return;
    }
    await this.knex('batch_job_state').insert(stateRow(state)).onConflict('job_name').merge(['schedule_key', 'next_due_at', 'next_index']);
  }

  async findState(jobName: string): Promise<JobState | null> {
    const row = await this.knex('batch_job_state').where({ job_name: jobName }).first();
    return row ? toState(row) : null;
  }

  /**
   * Fires occurrences (those of one instant) in one transaction. For each: inserts its runs (unique
   * per job and run key) and moves the job's next due time from `expectedDueAt` to the next one, both
   * or neither. False for a firing another process already did (the state moved, or the run key
   * exists): the caller must not launch it.
   */
  async fireOccurrences(firings: readonly Firing[]): Promise<boolean[]> {
    return this.knex.transaction(async (trx) => {
      const claimed: boolean[] = [];
      for (const { run, skipped, move } of firings) {
        const moved = await trx('batch_job_state')
          .where({ job_name: run.jobName, next_due_at: move.expectedDueAt })
          .update({ next_due_at: move.nextDueAt, next_index: move.nextIndex });
        if (moved !== 1) {
          claimed.push(false);
          continue;
        }
        for (const skip of skipped) await trx('batch_runs').insert(runRow(skip)).onConflict(['job_name', 'run_key']).ignore();
        const inserted = await trx('batch_runs').insert(runRow(run)).onConflict(['job_name', 'run_key']).ignore().returning('id');
        claimed.push(inserted.length === 1);
      }
      return claimed;
    });
  }

  /** Inserts a run unless its (job, run key) exists; false when it existed. */
  async insertRun(run: RunRecord): Promise<boolean> {
    const inserted = await this.knex('batch_runs').insert(runRow(run)).onConflict(['job_name', 'run_key']).ignore().returning('id');
    return inserted.length === 1;
  }

  // ---- runs ----------------------------------------------------------------------------------------

  async getRun(id: string): Promise<RunRecord> {
    const row: RunRow | undefined = await this.knex('batch_runs').where({ id }).first();
    if (!row) throw new NotFound(`no run with id "${id}"`);
    return toRun(row);
  }

  async listRuns(query: { jobName?: string; states?: readonly RunState[]; limit?: number; before?: string }): Promise<RunRecord[]> {
    const q = this.knex('batch_runs').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
    if (query.jobName !== undefined) q.where({ job_name: query.jobName });
    if (query.states) q.whereIn('state', query.states);
    if (query.before !== undefined) q.where('created_at', '<', query.before);
    if (query.limit !== undefined) q.limit(query.limit);
    return ((await q) as RunRow[]).map(toRun);
  }

  /** Runs not finished yet: pending (not launched or launching), running, or waiting for a retry. */
  activeRuns(jobName?: string): Promise<RunRecord[]> {
    return this.listRuns({ ...(jobName !== undefined ? { jobName } : {}), states: ACTIVE_RUN_STATES });
  }

  /**
   * Moves a run from one of `from` to the changes given; false when it was in another state (someone
   * else moved it first).
   */
  async updateRun(id: string, from: readonly RunState[], changes: Partial<Omit<RunRecord, 'id' | 'jobName' | 'runKey' | 'trigger' | 'scheduledAt' | 'createdAt'>>): Promise<boolean> {
    const row: Record<string, unknown> = {};
    if (changes.state !== undefined) row.state = changes.state;
    if (changes.attempt !== undefined) row.attempt = changes.attempt;
    if (changes.taskId !== undefined) row.task_id = changes.taskId;
    if (changes.taskIds !== undefined) row.task_ids = JSON.stringify(changes.taskIds);
    if (changes.retryAt !== undefined) row.retry_at = changes.retryAt;
    if (changes.startedAt !== undefined) row.started_at = changes.startedAt;
    if (changes.finishedAt !== undefined) row.finished_at = changes.finishedAt;
    if (changes.exitCode !== undefined) row.exit_code = changes.exitCode;
    if (changes.reason !== undefined) row.reason = changes.reason;
    const updated = await this.knex('batch_runs').where({ id }).whereIn('state', from).update(row);
    return updated === 1;
  }

  /**
   * Ends a run (CAS from `from`) and counts its outcome in the job's statistics, both or neither, so
   * that a crash can neither lose nor double a count.
   */
  async finishRun(id: string, jobName: string, from: readonly RunState[], changes: { state: RunState; finishedAt: string; exitCode?: number | null; reason?: string | null }, outcome: 'success' | 'error' | null): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      const updated = await trx('batch_runs')
        .where({ id })
        .whereIn('state', from)
        .update({ state: changes.state, finished_at: changes.finishedAt, exit_code: changes.exitCode ?? null, reason: changes.reason ?? null, retry_at: null });
      if (updated !== 1) return false;
      if (outcome === 'success') {
        await trx('batch_job_stats')
          .insert({ job_name: jobName, success_count: 1, last_success_at: changes.finishedAt })
          .onConflict('job_name')
          .merge({ success_count: trx.raw('batch_job_stats.success_count + 1'), errors_since_last_success: 0, last_success_at: changes.finishedAt });
      } else if (outcome === 'error') {
        await trx('batch_job_stats')
          .insert({ job_name: jobName, error_count: 1, errors_since_last_success: 1, last_error_at: changes.finishedAt })
          .onConflict('job_name')
          .merge({
            error_count: trx.raw('batch_job_stats.error_count + 1'),
            errors_since_last_success: trx.raw('batch_job_stats.errors_since_last_success + 1'),
            last_error_at: changes.finishedAt,
          });
      }
      return true;
    });
  }

  async stats(jobName: string): Promise<JobStats> {
    const row = await this.knex('batch_job_stats').where({ job_name: jobName }).first();
    return row ? toStats(row) : { successCount: 0, errorCount: 0, errorsSinceLastSuccess: 0, lastSuccessAt: null, lastErrorAt: null };
  }

  /** Every job's statistics in one query (listings of thousands of jobs). */
  async allStats(): Promise<Map<string, JobStats>> {
    const rows = await this.knex('batch_job_stats').select('*');
    return new Map(rows.map((row: { job_name: string } & Parameters<typeof toStats>[0]) => [row.job_name, toStats(row)]));
  }

  /** How many runs each job has pending, running or retrying, in one query. */
  async activeRunCounts(): Promise<Map<string, number>> {
    const rows: Array<{ job_name: string; count: number | string }> = await this.knex('batch_runs').whereIn('state', ACTIVE_RUN_STATES).groupBy('job_name').select('job_name').count({ count: '*' });
    return new Map(rows.map((row) => [row.job_name, Number(row.count)]));
  }

  /** Durations (ms) of the job's newest finished runs that ran, newest first, for percentiles. */
  async recentDurations(jobName: string, limit: number): Promise<number[]> {
    const rows: Array<{ started_at: string; finished_at: string }> = await this.knex('batch_runs')
      .where({ job_name: jobName })
      .whereNotNull('started_at')
      .whereNotNull('finished_at')
      .orderBy('created_at', 'desc')
      .limit(limit)
      .select('started_at', 'finished_at');
    return rows.map((r) => Date.parse(r.finished_at) - Date.parse(r.started_at));
  }

  /** Keeps the newest `keep` finished runs of the job in each outcome; deletes older ones. */
  async pruneRuns(jobName: string, states: readonly RunState[], keep: number): Promise<number> {
    const old = await this.knex('batch_runs')
      .where({ job_name: jobName })
      .whereIn('state', states)
      .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .offset(keep)
      .limit(10_000)
      .select('id');
    if (old.length === 0) return 0;
    return this.knex('batch_runs').whereIn('id', old.map((r: { id: string }) => r.id)).delete();
  }

  // ---- dependencies --------------------------------------------------------------------------------

  async listCompletions(child: string): Promise<ParentCompletion[]> {
    const rows = await this.knex('batch_parent_completions').where({ child }).select('*');
    return rows.map(toCompletion);
  }

  /** Records that `parent` finished a run, for each child waiting on it (the latest completion wins). */
  async recordCompletion(children: readonly string[], parent: string, runId: string, outcome: 'success' | 'failure', now: string): Promise<void> {
    if (children.length === 0) return;
    await this.knex('batch_parent_completions')
      .insert(children.map((child) => ({ child, parent, run_id: runId, outcome, completed_at: now })))
      .onConflict(['child', 'parent'])
      .merge(['run_id', 'outcome', 'completed_at']);
  }

  /**
   * When the child's completions are exactly `expected` (nobody consumed or changed them meanwhile):
   * consumes them and inserts the child's run, in one transaction. False when they changed.
   */
  async consumeCompletions(child: string, expected: readonly ParentCompletion[], run: RunRecord | null): Promise<boolean> {
    return this.knex.transaction(async (trx) => {
      for (const completion of expected) {
        const deleted = await trx('batch_parent_completions').where({ child, parent: completion.parent, run_id: completion.runId }).delete();
        if (deleted !== 1) throw new Conflict('the parents completions changed meanwhile');
      }
      if (run) await trx('batch_runs').insert(runRow(run)).onConflict(['job_name', 'run_key']).ignore();
      return true;
    }).catch((err: unknown) => {
      if (err instanceof Conflict) return false;
      throw err;
    });
  }
}

function toJob(row: { name: string; definition: string; defined_at: string; created_at: string; updated_at: string }): StoredJob {
  return { name: row.name, definition: JSON.parse(row.definition) as Record<string, unknown>, definedAt: row.defined_at, createdAt: row.created_at, updatedAt: row.updated_at };
}

function stateRow(state: JobState): Record<string, unknown> {
  return { job_name: state.jobName, schedule_key: state.scheduleKey, next_due_at: state.nextDueAt, next_index: state.nextIndex };
}

function toState(row: { job_name: string; schedule_key: string; next_due_at: string | null; next_index: number | null }): JobState {
  return { jobName: row.job_name, scheduleKey: row.schedule_key, nextDueAt: row.next_due_at, nextIndex: row.next_index === null ? null : Number(row.next_index) };
}

function runRow(run: RunRecord): RunRow {
  return {
    id: run.id,
    job_name: run.jobName,
    run_key: run.runKey,
    trigger: run.trigger,
    scheduled_at: run.scheduledAt,
    state: run.state,
    attempt: run.attempt,
    task_id: run.taskId,
    task_ids: JSON.stringify(run.taskIds),
    retry_at: run.retryAt,
    created_at: run.createdAt,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    exit_code: run.exitCode,
    reason: run.reason,
  };
}

function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    jobName: row.job_name,
    runKey: row.run_key,
    trigger: row.trigger as RunTrigger,
    scheduledAt: row.scheduled_at,
    state: row.state as RunState,
    attempt: Number(row.attempt),
    taskId: row.task_id,
    taskIds: JSON.parse(row.task_ids) as string[],
    retryAt: row.retry_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    exitCode: row.exit_code === null ? null : Number(row.exit_code),
    reason: row.reason,
  };
}

function toCompletion(row: { child: string; parent: string; run_id: string; outcome: string; completed_at: string }): ParentCompletion {
  return { child: row.child, parent: row.parent, runId: row.run_id, outcome: row.outcome === 'success' ? 'success' : 'failure', completedAt: row.completed_at };
}

function toStats(row: { success_count: number; error_count: number; errors_since_last_success: number; last_success_at: string | null; last_error_at: string | null }): JobStats {
  return {
    successCount: Number(row.success_count),
    errorCount: Number(row.error_count),
    errorsSinceLastSuccess: Number(row.errors_since_last_success),
    lastSuccessAt: row.last_success_at,
    lastErrorAt: row.last_error_at,
  };
}
