// Runs on the pool: launches a run's attempt as a task owned by `job:NAME:RUN`, follows it to its end,
// retries with backoff (the retry time is in the store, so it survives a restart), enforces
// maxCompletionTime, applies the concurrency policy, and passes finished runs to the children.
//
// Crash safety: a run is in the store (pending or retrying) before its task is submitted. After a
// restart, a pending run whose task exists (found by its owner) is attached to it, otherwise launched;
// a running one is checked against its task. So each attempt is submitted once.
import type { Logger } from 'pino';
import { TERMINAL_STATES, type ClusterClient, type TaskRecord } from '../../cluster/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { GantryError, NotFound } from '../../shared/errors.ts';
import { failpoint } from '../../shared/failpoints.ts';
import type { BatchStore, RunRecord, RunState } from '../store/batch-store.ts';
import { DependencyTracker, type ParentOutcome } from './dependencies.ts';
import { retryDelayMs, type JobView } from './job-view.ts';

/** How many lost tasks of one run are replaced (not counted as retries) before the run fails. */
const MAX_LOSS_REPLACEMENTS = 3;
const FAILED_FOR_GOOD: readonly RunState[] = ['failed', 'killed', 'skipped'];

export interface RunExecutorOptions {
  store: BatchStore;
  cluster: ClusterClient;
  clock: Clock;
  logger: Logger;
  job(name: string): JobView | undefined;
  jobs(): Iterable<JobView>;
  children(parent: string): JobView[];
  /** Puts a key (`retry:RUN`, `deadline:RUN`) in the firing index. */
  schedule(key: string, dueAt: number): void;
  unschedule(key: string): void;
}

export function taskOwner(jobName: string, runId: string): string {
  return `job:${jobName}:${runId}`;
}

export function runIdOfOwner(owner: string): string {
  return owner.slice(owner.lastIndexOf(':') + 1);
}

export class RunExecutor {
  private readonly dependencies: DependencyTracker;

  constructor(private readonly options: RunExecutorOptions) {
    this.dependencies = new DependencyTracker(options.store, options.clock, (parent) => options.children(parent));
  }

  private get now(): Date {
    return this.options.clock.now();
  }

  /**
   * Applies the job's concurrency policy before a new run: Allow lets it run beside the others, Forbid
   * refuses it while another is active, Replace cancels the active ones.
   */
  async admit(job: JobView, run: RunRecord): Promise<boolean> {
    const active = (await this.options.store.activeRuns(job.name)).filter((r) => r.id !== run.id);
    if (active.length === 0 || job.concurrency === 'Allow') return true;
    if (job.concurrency === 'Forbid') return false;
    for (const other of active) await this.cancel(other, `replaced by run ${run.id} (concurrencyPolicy Replace)`);
    return true;
  }

  /**
   * Submits the next attempt of a pending or retrying run (already in the store), or with `replacing`
   * a new task for the same attempt of a running run whose task was lost.
   */
  async launch(job: JobView, run: RunRecord, replacing = false): Promise<void> {
    const attempt = replacing ? run.attempt : run.state === 'retrying' ? run.attempt + 1 : 0;
    const from: RunState[] = replacing ? ['running'] : ['pending', 'retrying'];
    let task: TaskRecord;
    try {
      failpoint('batch-before-submit');
      const submission = job.toTask({ runId: run.id, scheduledAt: new Date(run.scheduledAt), attempt });
      // Fired ahead of its occurrence: the task is prepared now and its command starts at the occurrence.
      if (run.trigger === 'schedule' && attempt === 0 && !replacing && Date.parse(run.scheduledAt) > this.now.getTime()) submission.startAt = run.scheduledAt;
      task = await this.options.cluster.submit(taskOwner(job.name, run.id), submission);
      failpoint('batch-after-submit');
    } catch (err) {
      // The pool refused the task outright (bad resources, no agent could ever take it): retrying
      // the same definition cannot help.
      if (!(err instanceof GantryError)) throw err;
      await this.finish(run, from, { state: 'failed', reason: `cannot launch: ${err.message}` }, 'failure');
      return;
    }
    await this.attach(job, run, task, attempt, from);
  }

  /** A task event for a `job:` owner. */
  async onTask(task: TaskRecord): Promise<void> {
    if (!TERMINAL_STATES.has(task.state)) return;
    const run = await this.findRun(runIdOfOwner(task.spec.owner));
    if (!run || run.state !== 'running' || run.taskId !== task.id) return; // an old attempt, or cancelled
    await this.taskEnded(run, task);
  }

  async retryDue(runId: string): Promise<void> {
    const run = await this.findRun(runId);
    if (!run || run.state !== 'retrying') return;
    const job = this.options.job(run.jobName);
    if (!job) return void (await this.cancel(run, `job "${run.jobName}" no longer exists`));
    if (!(await this.admit(job, run))) {
      this.options.schedule(`retry:${run.id}`, this.now.getTime() + retryDelayMs(job.backoff, run.attempt + 1));
      return;
    }
    await this.launch(job, run);
  }

  async deadlineDue(runId: string): Promise<void> {
    const run = await this.findRun(runId);
    const job = run ? this.options.job(run.jobName) : undefined;
    if (!run || run.state !== 'running' || !run.taskId) return;
    const limit = job?.maxCompletionMs ?? 0;
    this.options.logger.warn({ job: run.jobName, run: run.id }, 'run exceeded maxCompletionTime; killing it');
    await this.options.cluster.kill(run.taskId, `maxCompletionTime exceeded (${limit} ms)`).catch(() => undefined);
  }

  /** Ends a run at once (killed): no retry, no children. */
  async cancel(run: RunRecord, reason: string): Promise<void> {
    this.options.unschedule(`retry:${run.id}`);
    this.options.unschedule(`deadline:${run.id}`);
    const ended = await this.options.store.finishRun(run.id, run.jobName, ['pending', 'running', 'retrying'], { state: 'killed', finishedAt: this.now.toISOString(), reason }, null);
    if (ended && run.taskId) await this.options.cluster.kill(run.taskId, reason).catch(() => undefined);
    if (ended) this.options.logger.info({ job: run.jobName, run: run.id, reason }, 'run cancelled');
  }

  /**
   * Chronos's "mark as successful": a run that did not execute is recorded as a success, counted, and
   * its children are handled as if it had run (the run is already in the store, pending).
   */
  async markSucceeded(run: RunRecord, reason: string): Promise<void> {
    await this.finish(run, ['pending'], { state: 'succeeded', reason }, 'success');
  }

  /** After a restart: every active run is reattached, relaunched, rescheduled or finished. */
  async recover(): Promise<void> {
    for (const run of await this.options.store.activeRuns()) {
      const job = this.options.job(run.jobName);
      if (!job) {
        await this.cancel(run, `job "${run.jobName}" cannot be loaded`);
        continue;
      }
      // Was an attempt (or a lost task's replacement) submitted just before the crash, not attached?
      const submitted = (await this.options.cluster.findByOwner(taskOwner(run.jobName, run.id))).filter((t) => !run.taskIds.includes(t.id));
      const latest = submitted[submitted.length - 1];
      if (run.state === 'running' && run.taskId) {
        const task = await this.options.cluster.get(run.taskId).catch(() => null);
        if (task && !TERMINAL_STATES.has(task.state)) this.scheduleDeadline(job, run);
        else if (latest && task?.state === 'lost') await this.attach(job, run, latest, run.attempt, ['running']);
        else await this.taskEnded(run, task);
        continue;
      }
      if (latest) await this.attach(job, run, latest, run.state === 'retrying' ? run.attempt + 1 : 0, ['pending', 'retrying']);
      else if (run.state === 'pending') await this.launch(job, run);
      else this.options.schedule(`retry:${run.id}`, Date.parse(run.retryAt ?? this.now.toISOString()));
    }
    // A crash between recording a parent's completion and deciding its child leaves the child due.
    for (const job of this.options.jobs()) {
      const run = await this.dependencies.evaluate(job);
      if (run) await this.launchIfAdmitted(job, run);
    }
  }

  // ---- internals -----------------------------------------------------------------------------------

  private async attach(job: JobView, run: RunRecord, task: TaskRecord, attempt: number, from: readonly RunState[]): Promise<void> {
    const now = this.now.toISOString();
    const attached = await this.options.store.updateRun(run.id, from, {
      state: 'running',
      attempt,
      taskId: task.id,
      taskIds: [...run.taskIds, task.id],
      retryAt: null,
      startedAt: run.startedAt ?? now,
    });
    if (!attached) {
      // Cancelled while the task was being submitted.
      await this.options.cluster.kill(task.id, 'its run was cancelled').catch(() => undefined);
      return;
    }
    const running: RunRecord = { ...run, state: 'running', attempt, taskId: task.id, taskIds: [...run.taskIds, task.id], startedAt: run.startedAt ?? now };
    this.scheduleDeadline(job, running);
    // The task may have ended before it was attached; its event was ignored then.
    const current = await this.options.cluster.get(task.id);
    if (TERMINAL_STATES.has(current.state)) await this.taskEnded(running, current);
  }

  private scheduleDeadline(job: JobView, run: RunRecord): void {
    if (!job.maxCompletionMs || !run.startedAt) return;
    this.options.schedule(`deadline:${run.id}`, Date.parse(run.startedAt) + job.maxCompletionMs);
  }

  /** The current attempt's task ended (null: the pool has no record of it). */
  private async taskEnded(run: RunRecord, task: TaskRecord | null): Promise<void> {
    this.options.unschedule(`deadline:${run.id}`);
    const job = this.options.job(run.jobName);
    const exitCode = task?.exitCode ?? null;
    if (task?.state === 'finished') {
      await this.finish(run, ['running'], { state: 'succeeded', exitCode }, 'success');
      return;
    }
    const reason = task ? (task.reason ?? `task ${task.state}`) : 'the task is unknown to the pool';
    // A lost task (its agent vanished) is not the job's failure: it is replaced at once, elsewhere,
    // without using a retry; a few times at most, so that a job that brings agents down stops.
    const replacements = run.taskIds.length - 1 - run.attempt;
    if (job && task?.state === 'lost' && replacements < MAX_LOSS_REPLACEMENTS) {
      this.options.logger.warn({ job: job.name, run: run.id, task: task.id }, `task lost (${reason}); launching a replacement`);
      await this.launch(job, run, true);
      return;
    }
    if (job && run.attempt < job.retries) {
      const retryAt = this.now.getTime() + retryDelayMs(job.backoff, run.attempt + 1);
      const moved = await this.options.store.updateRun(run.id, ['running'], { state: 'retrying', retryAt: new Date(retryAt).toISOString(), exitCode, reason });
      if (moved) this.options.schedule(`retry:${run.id}`, retryAt);
      return;
    }
    await this.finish(run, ['running'], { state: 'failed', exitCode, reason }, 'failure');
  }

  /** Ends a run for good, counts it, trims history and starts the children it completes. */
  private async finish(run: RunRecord, from: readonly RunState[], end: { state: RunState; exitCode?: number | null; reason?: string | null }, outcome: ParentOutcome): Promise<void> {
    const ended = await this.options.store.finishRun(run.id, run.jobName, from, { ...end, finishedAt: this.now.toISOString() }, outcome === 'success' ? 'success' : 'error');
    if (!ended) return;
    const job = this.options.job(run.jobName);
    if (job) {
      await this.options.store.pruneRuns(job.name, ['succeeded'], job.history.successful);
      await this.options.store.pruneRuns(job.name, FAILED_FOR_GOOD, job.history.failed);
    }
    // A soft error (Chronos softError) lets the children go on as if the parent had succeeded.
    const asSeenByChildren: ParentOutcome = outcome === 'failure' && job?.softError ? 'success' : outcome;
    for (const { job: child, run: childRun } of await this.dependencies.parentFinished(run.jobName, run.id, asSeenByChildren)) {
      await this.launchIfAdmitted(child, childRun);
    }
  }

  private async launchIfAdmitted(job: JobView, run: RunRecord): Promise<void> {
    if (await this.admit(job, run)) return this.launch(job, run);
    await this.options.store.finishRun(run.id, run.jobName, ['pending'], { state: 'skipped', finishedAt: this.now.toISOString(), reason: 'the previous run is still in progress (concurrencyPolicy Forbid)' }, null);
  }

  private async findRun(id: string): Promise<RunRecord | null> {
    try {
      return await this.options.store.getRun(id);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }
}
