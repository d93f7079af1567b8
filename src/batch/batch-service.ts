// The batch scheduler as the rest of Gantry sees it (the platform API, the Chronos API): job
// definitions validated against the whole dependency graph before anything is stored, the scheduler
// that fires them, and read models for listings, runs and statistics.
import type { Logger } from 'pino';
import type { ClusterClient } from '../cluster/index.ts';
import type { Clock } from '../shared/clock.ts';
import { Invalid, NotFound } from '../shared/errors.ts';
import { JobGraph, lastStateOf, parseJobDefinition, type ChildChange, type JobDefinition, type JobRunStatus } from './jobs/index.ts';
import { describeSchedule } from './schedule/index.ts';
import { BatchScheduler } from './scheduler/batch-scheduler.ts';
import { jobView } from './scheduler/job-view.ts';
import { ACTIVE_RUN_STATES, BatchStore, type JobStats, type RunRecord } from './store/batch-store.ts';
import type { Knex } from 'knex';

export interface BatchServiceOptions {
  knex: Knex;
  cluster: ClusterClient;
  clock: Clock;
  logger: Logger;
}

export interface JobDetails {
  name: string;
  /** The definition exactly as given. */
  definition: Record<string, unknown>;
  kind: 'scheduled' | 'dependent';
  /** The schedule in words, or the parents. */
  schedule: string | null;
  parents: string[];
  disabled: boolean;
  nextDueAt: string | null;
  stats: JobStats;
  /** Runs pending, running or waiting for a retry. */
  activeRuns: number;
}

export interface JobStatistics extends JobStats {
  /** Over the newest finished runs that executed (at most 1,000). */
  durations: { count: number; p50Ms: number | null; p90Ms: number | null; p99Ms: number | null; maxMs: number | null };
}

export interface SavedJob {
  job: JobDetails;
  created: boolean;
}

export class BatchService {
  readonly store: BatchStore;
  private readonly scheduler: BatchScheduler;
  private graph = JobGraph.of([]);

  constructor(private readonly options: BatchServiceOptions) {
    this.store = new BatchStore(options.knex);
    this.scheduler = new BatchScheduler({ store: this.store, cluster: options.cluster, clock: options.clock, logger: options.logger });
  }

  async start(): Promise<void> {
    const definitions: JobDefinition[] = [];
    for (const stored of await this.store.listJobs()) {
      try {
        definitions.push(parseJobDefinition(stored.definition, { definedAt: new Date(stored.definedAt) }));
      } catch (err) {
        this.options.logger.error({ job: stored.name, err: (err as Error).message }, 'a stored job definition is no longer valid; it is not scheduled');
      }
    }
    this.graph = JobGraph.of(definitions);
    await this.scheduler.start(definitions.map(jobView));
  }

  stop(): Promise<void> {
    return this.scheduler.stop();
  }

  /**
   * Creates or replaces a job from its JSON (Chronos job JSON or native). `kind` is what the endpoint
   * expects (Chronos has one for scheduled and one for dependent jobs).
   */
  async putJob(json: unknown, kind?: 'scheduled' | 'dependent'): Promise<SavedJob> {
    const definition = parseJobDefinition(json, { definedAt: this.options.clock.now() });
    if (kind && definition.timing.kind !== kind) {
      throw new Invalid(
        kind === 'scheduled'
          ? `job "${definition.name}" has parents: post dependent jobs to /scheduler/dependency`
          : `job "${definition.name}" has a schedule: post scheduled jobs to /scheduler/iso8601`,
      );
    }
    const existing = this.graph.get(definition.name);
    const created = !existing;
    // Posting the same definition again changes nothing (and keeps an empty ISO start's anchor).
    if (existing && JSON.stringify(existing.source) === JSON.stringify(definition.source)) {
      return { job: await this.details(definition.name), created };
    }
    const keptAnchor = existing && sameSchedule(existing, definition) ? existing.definedAt : undefined;
    const toStore = keptAnchor ? parseJobDefinition(definition.source, { definedAt: keptAnchor }) : definition;
    this.graph.checkPut(toStore);
    await this.scheduler.saveJobs([jobView(toStore)]);
    this.graph.put(toStore);
    this.options.logger.info({ job: toStore.name, created }, created ? 'job created' : 'job updated');
    return { job: await this.details(toStore.name), created };
  }

  /** Deletes a job; its children are re-attached (Chronos's rules), never orphaned: they are returned. */
  async deleteJob(name: string): Promise<ChildChange[]> {
    const removal = this.graph.planRemoval(name);
    await this.scheduler.saveJobs(removal.children.map((c) => jobView(c.definition)), [name]);
    this.graph.remove(name);
    for (const child of removal.children) this.options.logger.info({ job: child.name, deleted: name }, child.summary);
    return removal.children;
  }

  has(name: string): boolean {
    return this.graph.has(name);
  }

  async details(name: string): Promise<JobDetails> {
    this.require(name);
    const [stats, active] = await Promise.all([this.store.stats(name), this.store.listRuns({ jobName: name, states: ACTIVE_RUN_STATES })]);
    return this.describe(name, stats, active.length);
  }

  /** Every job, with three queries however many there are. */
  async listJobs(): Promise<JobDetails[]> {
    const [stats, active] = await Promise.all([this.store.allStats(), this.store.activeRunCounts()]);
    return this.graph
      .names()
      .sort()
      .map((name) => this.describe(name, stats.get(name) ?? NO_STATS, active.get(name) ?? 0));
  }

  private describe(name: string, stats: JobStats, activeRuns: number): JobDetails {
    const definition = this.require(name);
    return {
      name,
      definition: definition.source as Record<string, unknown>,
      kind: definition.timing.kind,
      schedule: definition.timing.kind === 'scheduled' ? describeSchedule(definition.timing.schedule) : null,
      parents: definition.timing.kind === 'dependent' ? definition.timing.parents : [],
      disabled: definition.disabled,
      nextDueAt: this.scheduler.nextDue(name),
      stats,
      activeRuns,
    };
  }

  definitions(): JobDefinition[] {
    return this.graph.names().sort().map((name) => this.graph.get(name)!);
  }

  trigger(name: string): Promise<RunRecord> {
    this.require(name);
    return this.scheduler.trigger(name);
  }

  markSucceeded(name: string): Promise<RunRecord> {
    this.require(name);
    return this.scheduler.markSucceeded(name);
  }

  kill(name: string): Promise<number> {
    this.require(name);
    return this.scheduler.kill(name);
  }

  runs(name: string, limit = 50, before?: string): Promise<RunRecord[]> {
    this.require(name);
    return this.store.listRuns({ jobName: name, limit, ...(before !== undefined ? { before } : {}) });
  }

  run(id: string): Promise<RunRecord> {
    return this.store.getRun(id);
  }

  async statistics(name: string): Promise<JobStatistics> {
    this.require(name);
    const [stats, durations] = await Promise.all([this.store.stats(name), this.store.recentDurations(name, 1000)]);
    const sorted = [...durations].sort((a, b) => a - b);
    const pick = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : null);
    return { ...stats, durations: { count: sorted.length, p50Ms: pick(0.5), p90Ms: pick(0.9), p99Ms: pick(0.99), maxMs: sorted.length ? sorted[sorted.length - 1]! : null } };
  }

  graphDot(): string {
    return this.graph.toDot();
  }

  async graphCsv(): Promise<string> {
    const status = new Map<string, JobRunStatus>();
    const running = new Set((await this.store.listRuns({ states: ['running'] })).map((r) => r.jobName));
    const [stats, active] = await Promise.all([this.store.allStats(), this.store.activeRunCounts()]);
    for (const name of this.graph.names()) {
      const s = stats.get(name) ?? NO_STATS;
      status.set(name, {
        lastState: lastStateOf(date(s.lastSuccessAt), date(s.lastErrorAt)),
        currentState: running.has(name) ? 'running' : (active.get(name) ?? 0) > 0 ? 'queued' : 'idle',
      });
    }
    return this.graph.toCsv((name) => status.get(name));
  }

  private require(name: string): JobDefinition {
    const job = this.graph.get(name);
    if (!job) throw new NotFound(`no job named "${name}"`);
    return job;
  }
}

const NO_STATS: JobStats = { successCount: 0, errorCount: 0, errorsSinceLastSuccess: 0, lastSuccessAt: null, lastErrorAt: null };

function sameSchedule(a: JobDefinition, b: JobDefinition): boolean {
  const fields = (d: JobDefinition) => JSON.stringify([d.source.schedule, d.source.cron, d.source.scheduleTimeZone]);
  return fields(a) === fields(b);
}

function date(iso: string | null): Date | null {
  return iso ? new Date(iso) : null;
}
