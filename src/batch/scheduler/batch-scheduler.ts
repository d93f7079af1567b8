// The batch scheduler: keeps every job's next due time in an in-memory index (rebuilt from the store at
// start), fires occurrences as they come due, and hands runs to the run executor. Firing is a
// compare-and-set in the store (the run's unique key and the job's next due time move together), so a
// crash at any point neither loses nor repeats an occurrence.
import type { Logger } from 'pino';
import type { ClusterClient } from '../../cluster/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { systemTimers, type TimerHandle, type Timers } from '../../shared/timers.ts';
import { Conflict, NotFound } from '../../shared/errors.ts';
import { newId } from '../../shared/ids.ts';
import { DueIndex } from '../firing/due-index.ts';
import { nextOccurrence, type Occurrence } from '../schedule/index.ts';
import type { BatchStore, Firing, JobState, RunRecord } from '../store/batch-store.ts';
import { planFiring } from './firing-plan.ts';
import type { JobView } from './job-view.ts';
import { RunExecutor } from './run-executor.ts';
import { newRun, scheduleKey } from './new-run.ts';
import { SerialLane } from '../../shared/serial-lane.ts';

/** The index is re-checked at least this often, so a jump of the wall clock is noticed. */
const MAX_SLEEP_MS = 30_000;

/**
 * A job with no run in progress is fired this long before its occurrence: the run is recorded and its
 * task placed and prepared ahead, and the task's command starts at the occurrence (TaskSpec.startAt).
 * Twenty jobs due at one instant then start within milliseconds of it instead of one after the other.
 * A job with a run in progress is decided at the occurrence itself, so that Forbid and Replace see the
 * state of that instant.
 */
export const LAUNCH_LEAD_MS = 1000;

export interface BatchSchedulerOptions {
  store: BatchStore;
  cluster: ClusterClient;
  clock: Clock;
  logger: Logger;
  /** What wakes the firing loop (Node's timers by default). */
  timers?: Timers;
}

type IndexKey = `job:${string}` | `retry:${string}` | `deadline:${string}`;

/** One job's due occurrence, planned and ready to be recorded (see recordFirings). */
interface FiringPlanOfJob {
  job: JobView;
  /** The job's state once the firing is recorded. */
  next: JobState;
  firing: Firing;
}

export class BatchScheduler {
  private readonly jobs = new Map<string, JobView>();
  /** parent → the names of the jobs that run after it, kept with `jobs` (setJob, dropJob). */
  private readonly childrenIndex = new Map<string, Set<string>>();
  private readonly states = new Map<string, JobState>();
  private readonly index = new DueIndex();
  private readonly lane = new SerialLane();
  private readonly executor: RunExecutor;
  private timer: TimerHandle | undefined;
  private readonly timers: Timers;
  private unwatch: (() => void) | undefined;
  private stopped = true;

  constructor(private readonly options: BatchSchedulerOptions) {
    this.timers = options.timers ?? systemTimers;
    this.executor = new RunExecutor({
      store: options.store,
      cluster: options.cluster,
      clock: options.clock,
      logger: options.logger,
      job: (name) => this.jobs.get(name),
      jobs: () => this.jobs.values(),
      children: (parent) => [...(this.childrenIndex.get(parent) ?? [])].flatMap((name) => this.jobs.get(name) ?? []),
      schedule: (key, dueAt) => this.setDue(key as IndexKey, dueAt),
      unschedule: (key) => this.index.delete(key),
    });
  }

  // ---- lifecycle -----------------------------------------------------------------------------------

  /**
   * Takes the stored jobs, catches up on what came due while down, recovers active runs, and starts
   * firing.
   */
  async start(jobs: readonly JobView[]): Promise<void> {
    this.stopped = false;
    await this.lane.run(async () => {
      for (const job of jobs) this.setJob(job);
      for (const state of await this.options.store.listStates()) this.states.set(state.jobName, state);
      for (const job of this.jobs.values()) await this.syncState(job);
      this.unwatch = this.options.cluster.watch('job:', (task) => {
        void this.lane.run(() => this.executor.onTask(task)).catch((err: Error) => this.options.logger.error({ err: err.message, task: task.id }, 'handling a job task event failed'));
      });
      await this.executor.recover();
    });
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.unwatch?.();
    await this.lane.idle();
  }

  // ---- jobs ----------------------------------------------------------------------------------------

  listJobs(): JobView[] {
    return [...this.jobs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  getJob(name: string): JobView {
    const job = this.jobs.get(name);
    if (!job) throw new NotFound(`no job named "${name}"`);
    return job;
  }

  nextDue(name: string): string | null {
    return this.states.get(name)?.nextDueAt ?? null;
  }

  /**
   * Stores job definitions (new or changed) and removals at once, after the caller validated the
   * resulting graph. A job whose schedule changed starts counting again from now.
   */
  async saveJobs(upsert: JobView[], remove: string[] = []): Promise<void> {
    await this.lane.run(async () => {
      const now = this.options.clock.now();
      const changes = upsert.map((job) => ({ name: job.name, definition: job.definition, definedAt: job.definedAt, state: this.freshState(job, now) }));
      // Kill a deleted job's runs first: deleting it deletes their records too.
      for (const name of remove) {
        for (const run of await this.options.store.activeRuns(name)) await this.executor.cancel(run, `job "${name}" was deleted`);
      }
      await this.options.store.saveJobs({ upsert: changes, remove }, now.toISOString());
      for (const name of remove) {
        this.dropJob(name);
        this.states.delete(name);
        this.index.delete(`job:${name}`);
      }
      for (const [i, job] of upsert.entries()) {
        this.setJob(job);
        const state = changes[i]!.state;
        if (state === null) this.states.delete(job.name);
        else if (state) this.states.set(job.name, state);
        this.indexJob(job);
      }
    });
    this.arm();
  }

  /** Runs the job now, without touching its schedule (no repetition used, the anchor stays). */
  async trigger(name: string): Promise<RunRecord> {
    return this.lane.run(async () => {
      const job = this.getJob(name);
      const now = this.options.clock.now();
      const id = newId('r', now.getTime());
      const run = newRun(id, job.name, `manual:${id}`, 'manual', now, now);
      if (!(await this.executor.admit(job, run))) {
        throw new Conflict(`job "${name}" has a run in progress and its concurrencyPolicy is Forbid`);
      }
      await this.options.store.insertRun(run);
      await this.executor.launch(job, run);
      return this.options.store.getRun(id);
    });
  }

  /** Records a success without running (Chronos job/success): counts it and starts the children. */
  async markSucceeded(name: string): Promise<RunRecord> {
    return this.lane.run(async () => {
      const job = this.getJob(name);
      const now = this.options.clock.now();
      const id = newId('r', now.getTime());
      const run = newRun(id, job.name, `manual:${id}`, 'manual', now, now);
      await this.options.store.insertRun(run);
      await this.executor.markSucceeded(run, 'marked successful by user');
      return this.options.store.getRun(id);
    });
  }

  /** Kills every active run of the job (no retry, no children). Returns how many. */
  async kill(name: string): Promise<number> {
    this.getJob(name);
    return this.lane.run(async () => {
      const runs = await this.options.store.activeRuns(name);
      for (const run of runs) await this.executor.cancel(run, 'killed by user');
      return runs.length;
    });
  }

  private setJob(job: JobView): void {
    this.dropJob(job.name);
    this.jobs.set(job.name, job);
    for (const parent of job.parents) {
      let children = this.childrenIndex.get(parent);
      if (!children) this.childrenIndex.set(parent, (children = new Set()));
      children.add(job.name);
    }
  }

  private dropJob(name: string): void {
    for (const parent of this.jobs.get(name)?.parents ?? []) this.childrenIndex.get(parent)?.delete(name);
    this.jobs.delete(name);
  }

  // ---- firing --------------------------------------------------------------------------------------

  /** The state a saved job gets: undefined keeps the stored one, null removes it. */
  private freshState(job: JobView, now: Date): JobState | null | undefined {
    if (!job.schedule || !job.scheduleKey) return null;
    const current = this.states.get(job.name);
    if (current && current.scheduleKey === job.scheduleKey) return undefined;
    // A new schedule: an occurrence within epsilon before now still runs (a job posted with its start
    // "now" must not miss it by the time the request took).
    const first = nextOccurrence(job.schedule, new Date(now.getTime() - job.epsilonMs - 1));
    return { jobName: job.name, scheduleKey: job.scheduleKey, nextDueAt: first ? first.at.toISOString() : null, nextIndex: first?.index ?? null };
  }

  /** At start: a job whose stored state does not match its schedule gets a fresh one. */
  private async syncState(job: JobView): Promise<void> {
    const state = this.freshState(job, this.options.clock.now());
    if (state !== undefined) {
      await this.options.store.saveState(job.name, state);
      if (state === null) this.states.delete(job.name);
      else this.states.set(job.name, state);
    }
    this.indexJob(job);
  }

  private indexJob(job: JobView): void {
    const due = this.states.get(job.name)?.nextDueAt;
    if (job.disabled || !due) this.index.delete(`job:${job.name}`);
    else this.setDue(`job:${job.name}`, Date.parse(due) - LAUNCH_LEAD_MS);
  }

  private setDue(key: IndexKey, dueAt: number): void {
    this.index.set(key, dueAt);
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer) this.timers.clearTimeout(this.timer);
    const first = this.index.peek();
    if (!first) return;
    const wait = Math.max(0, Math.min(MAX_SLEEP_MS, first.dueAt - this.options.clock.now().getTime()));
    this.timer = this.timers.setTimeout(() => this.tick(), wait);
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    await this.lane
      .run(async () => {
        // Every job occurrence due now is recorded in one transaction (each a compare-and-set), then
        // all are launched at once: jobs due at the same instant must not wait for each other.
        const plans: FiringPlanOfJob[] = [];
        for (const entry of this.index.popDue(this.options.clock.now().getTime())) {
          const key = entry.key as IndexKey;
          try {
            if (key.startsWith('job:')) {
              const plan = await this.planJob(key.slice('job:'.length));
              if (plan) plans.push(plan);
            } else if (key.startsWith('retry:')) {
              await this.executor.retryDue(key.slice('retry:'.length));
            } else {
              await this.executor.deadlineDue(key.slice('deadline:'.length));
            }
          } catch (err) {
            this.retryEntryLater(key, err as Error);
          }
        }
        const launches = await this.recordFirings(plans);
        // A launch that fails leaves its run pending: recovery at the next start launches it.
        await Promise.all(launches.map((launch) => launch().catch((err: Error) => this.options.logger.error({ err: err.message }, 'launching a run failed'))));
      })
      .finally(() => this.arm());
  }

  private retryEntryLater(key: IndexKey, err: Error): void {
    this.options.logger.error({ key, err: err.message }, 'firing failed; retrying in 1 s');
    this.index.set(key, this.options.clock.now().getTime() + 1000);
  }

  /** What firing the job's due occurrence means (the run, the skipped ones, the next due time); null when nothing is due. */
  private async planJob(name: string): Promise<FiringPlanOfJob | null> {
    const job = this.jobs.get(name);
    const state = this.states.get(name);
    if (!job?.schedule || !state?.nextDueAt || job.disabled) return null;
    const now = this.options.clock.now();
    const due: Occurrence = { at: new Date(state.nextDueAt), index: state.nextIndex };
    const ahead = now < due.at;
    if (ahead && job.concurrency !== 'Allow' && (await this.options.store.activeRuns(name)).length > 0) {
      this.setDue(`job:${name}`, due.at.getTime()); // a run in progress: decide at the occurrence
      return null;
    }
    // Fired ahead (LAUNCH_LEAD_MS), the occurrence is planned as of its own time.
    const plan = planFiring(job.schedule, due, job.epsilonMs, ahead ? due.at : now);
    const next: JobState = { ...state, nextDueAt: plan.next ? plan.next.at.toISOString() : null, nextIndex: plan.next?.index ?? null };

    const skipped = plan.skipped.map(({ occurrence, reason }) => ({
      ...newRun(newId('r', now.getTime()), name, scheduleKey(occurrence), 'schedule', occurrence.at, now),
      state: 'skipped' as const,
      finishedAt: now.toISOString(),
      reason,
    }));
    let run: RunRecord | null = null;
    if (plan.run) {
      run = newRun(newId('r', now.getTime()), name, scheduleKey(plan.run), 'schedule', plan.run.at, now);
      // Fired ahead, it is admitted: no run is in progress, or the policy is Allow (checked above).
      if (!ahead && !(await this.executor.admit(job, run))) {
        run = { ...run, state: 'skipped', finishedAt: now.toISOString(), reason: 'the previous run is still in progress (concurrencyPolicy Forbid)' };
      }
    }
    const record = run ?? skipped.pop()!;
    return { job, next, firing: { run: record, skipped, move: { expectedDueAt: state.nextDueAt, nextDueAt: next.nextDueAt, nextIndex: next.nextIndex } } };
  }

  /** Records the planned firings in one transaction; returns how to launch the runs that are due. */
  private async recordFirings(plans: FiringPlanOfJob[]): Promise<Array<() => Promise<void>>> {
    if (plans.length === 0) return [];
    let claimed: boolean[];
    try {
      claimed = await this.options.store.fireOccurrences(plans.map((p) => p.firing));
    } catch (err) {
      for (const plan of plans) this.retryEntryLater(`job:${plan.job.name}`, err as Error);
      return [];
    }
    const launches: Array<() => Promise<void>> = [];
    for (const [i, { job, next, firing }] of plans.entries()) {
      const name = job.name;
      if (!claimed[i]) {
        // Someone else moved this job (another process on the same store): take the store's word.
        const stored = await this.options.store.findState(name);
        if (stored) this.states.set(name, stored);
        this.indexJob(job);
        continue;
      }
      this.states.set(name, next);
      this.indexJob(job);
      if (firing.skipped.length > 0 || firing.run.state === 'skipped') {
        this.options.logger.warn({ job: name, skipped: firing.skipped.length + (firing.run.state === 'skipped' ? 1 : 0) }, 'occurrences skipped (older than epsilon, superseded, or Forbid)');
      }
      const run = firing.run;
      if (run.state === 'pending') launches.push(() => this.executor.launch(job, run));
    }
    return launches;
  }

}
