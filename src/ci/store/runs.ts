// CI runs and their steps in the store. State changes are compare-and-set on the state the caller
// read, so a cancel racing a step's end, or two processes, never both win.
import type { Knex } from 'knex';
import { NotFound } from '../../shared/errors.ts';

export type RunEvent = 'push' | 'tag' | 'pull_request' | 'manual';
export type CiRunState = 'queued' | 'running' | 'success' | 'failure' | 'canceled' | 'timeout';
/** `waiting`: ready, but held until a person approves it (a step with `approval: true`). */
export type StepState = 'pending' | 'waiting' | 'running' | 'success' | 'failure' | 'skipped' | 'canceled' | 'timeout';
export const ACTIVE_RUN_STATES: readonly CiRunState[] = ['queued', 'running'];
export const ACTIVE_STEP_STATES: readonly StepState[] = ['pending', 'waiting', 'running'];

/** The pull request a run builds (event `pull_request`). */
export interface PullRequestInfo {
  number: number;
  /** The branch it merges into (also the run's `branch`). */
  baseBranch: string;
  /** The branch it comes from, and its repository (`owner/name`). */
  headBranch: string;
  headRepository: string;
  /** From a fork (another repository than the run's): no secrets, no image pushed, no deploy. */
  fork: boolean;
}

export interface CiRun {
  id: string;
  pipeline: string;
  repository: string;
  number: number;
  event: RunEvent;
  ref: string;
  branch: string | null;
  tag: string | null;
  commit: string | null;
  before: string | null;
  cloneUrl: string;
  deliveryId: string | null;
  state: CiRunState;
  reason: string | null;
  concurrencyGroup: string | null;
  /** The pipeline as resolved for this run (JSON-able). */
  definition: unknown;
  changedPaths: string[] | null;
  workspaceHost: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Set for a run of a pull request. */
  pullRequest: PullRequestInfo | null;
}

export interface CiStep {
  runId: string;
  name: string;
  position: number;
  state: StepState;
  attempt: number;
  taskId: string | null;
  taskIds: string[];
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  reason: string | null;
  /** A build step's pushed image, pinned by digest (`host:port/team/web@sha256:…`). */
  image: string | null;
  /** A build step's pushed manifest digest. */
  digest: string | null;
  /** A deploy step's deployment of the app. */
  deploymentId: string | null;
  /** Who approved a step that waits for approval, and when. */
  approvedBy: string | null;
  approvedAt: string | null;
}

/** A line a step running on the server itself (a deploy) wrote; `seq` counts from 1 within the step. */
export interface StepLine {
  seq: number;
  at: string;
  text: string;
}

export type NewRun = Omit<CiRun, 'number'>;

export class RunStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Inserts a run with the next number of its pipeline and its steps, in one transaction. Null when
   * the (delivery, pipeline) pair already has a run: a delivery never starts a pipeline twice.
   */
  async create(run: NewRun, steps: Array<{ name: string; position: number }>): Promise<CiRun | null> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.knex.transaction(async (trx) => {
          if (run.deliveryId !== null) {
            const existing = await trx('ci_runs').where({ delivery_id: run.deliveryId, pipeline: run.pipeline }).first('id');
            if (existing) return null;
          }
          // Numbered per repository and pipeline: two repositories' unnamed .gantry.yml are both "gantry".
          const last = await trx('ci_runs').where({ repository: run.repository, pipeline: run.pipeline }).max({ n: 'number' }).first();
          const number = Number(last?.n ?? 0) + 1;
          const created: CiRun = { ...run, number };
          await trx('ci_runs').insert(runRow(created));
          if (steps.length > 0) {
            await trx('ci_steps').insert(steps.map((s) => ({ run_id: run.id, name: s.name, position: s.position, state: 'pending', attempt: 0, task_ids: '[]' })));
          }
          return created;
        });
      } catch (err) {
        // Two runs created at once can pick the same number, or race for one delivery: try again; the
        // delivery check at the top then answers the second case.
        if (attempt < 5 && /unique|duplicate/i.test((err as Error).message)) continue;
        throw err;
      }
    }
  }

  async get(id: string): Promise<CiRun> {
    const row = await this.knex('ci_runs').where({ id }).first();
    if (!row) throw new NotFound(`no CI run with id "${id}"`);
    return toRun(row);
  }

  async find(id: string): Promise<CiRun | null> {
    const row = await this.knex('ci_runs').where({ id }).first();
    return row ? toRun(row) : null;
  }

  async list(query: { pipeline?: string; repository?: string; pullRequest?: number; states?: readonly CiRunState[]; branch?: string; limit?: number; before?: string }): Promise<CiRun[]> {
    const q = this.knex('ci_runs').orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
    if (query.pipeline !== undefined) q.where({ pipeline: query.pipeline });
    if (query.repository !== undefined) q.where({ repository: query.repository });
    if (query.pullRequest !== undefined) q.where({ pull_number: query.pullRequest });
    if (query.branch !== undefined) q.where({ branch: query.branch });
    if (query.states) q.whereIn('state', query.states);
    if (query.before !== undefined) q.where('created_at', '<', query.before);
    if (query.limit !== undefined) q.limit(query.limit);
    return (await q).map(toRun);
  }

  /** Runs of a concurrency group that hold a place in it: running, or canceled/timed out but not yet stopped. */
  async countActiveInGroup(group: string): Promise<number> {
    const row = await this.knex('ci_runs')
      .where({ concurrency_group: group })
      .andWhere((q) => q.where({ state: 'running' }).orWhere((stopping) => stopping.whereIn('state', ['canceled', 'timeout']).whereNull('finished_at')))
      .count({ n: '*' })
      .first();
    return Number(row?.n ?? 0);
  }

  /** Moves a run from one of `from`; false when it was in another state. */
  async updateRun(id: string, from: readonly CiRunState[], changes: Partial<Pick<CiRun, 'state' | 'reason' | 'startedAt' | 'finishedAt' | 'definition' | 'changedPaths' | 'workspaceHost' | 'commit'>>): Promise<boolean> {
    const row: Record<string, unknown> = {};
    if (changes.state !== undefined) row.state = changes.state;
    if (changes.reason !== undefined) row.reason = changes.reason;
    if (changes.startedAt !== undefined) row.started_at = changes.startedAt;
    if (changes.finishedAt !== undefined) row.finished_at = changes.finishedAt;
    if (changes.definition !== undefined) row.definition = JSON.stringify(changes.definition);
    if (changes.changedPaths !== undefined) row.changed_paths = changes.changedPaths === null ? null : JSON.stringify(changes.changedPaths);
    if (changes.workspaceHost !== undefined) row.workspace_host = changes.workspaceHost;
    if (changes.commit !== undefined) row.commit = changes.commit;
    return (await this.knex('ci_runs').where({ id }).whereIn('state', from).update(row)) === 1;
  }

  /** The clone URL of the repository's newest run (for manual runs that give none). */
  async lastCloneUrl(repository: string): Promise<string | null> {
    const latest: { clone_url: string } | undefined = await this.knex('ci_runs').where({ repository }).orderBy('created_at', 'desc').first('clone_url');
    return latest?.clone_url ?? null;
  }

  async steps(runId: string): Promise<CiStep[]> {
    const rows = await this.knex('ci_steps').where({ run_id: runId }).orderBy('position');
    return rows.map(toStep);
  }

  /** Adds steps to a run (the pipeline is known only after the workspace was cloned). */
  async addSteps(runId: string, steps: Array<{ name: string; position: number }>): Promise<void> {
    if (steps.length === 0) return;
    await this.knex('ci_steps')
      .insert(steps.map((s) => ({ run_id: runId, name: s.name, position: s.position, state: 'pending', attempt: 0, task_ids: '[]' })))
      .onConflict(['run_id', 'name'])
      .ignore();
  }

  /** Appends a line to a server-side step's log (one writer per step: the run engine's lane). */
  async appendLine(runId: string, step: string, at: string, text: string): Promise<void> {
    const last = await this.knex('ci_step_lines').where({ run_id: runId, step }).max({ n: 'seq' }).first();
    await this.knex('ci_step_lines').insert({ run_id: runId, step, seq: Number(last?.n ?? 0) + 1, at, text });
  }

  /** A server-side step's lines after `afterSeq`, in order. */
  async lines(runId: string, step: string, afterSeq = 0): Promise<StepLine[]> {
    const rows: Array<{ seq: number; at: string; text: string }> = await this.knex('ci_step_lines').where({ run_id: runId, step }).where('seq', '>', afterSeq).orderBy('seq');
    return rows.map((r) => ({ seq: Number(r.seq), at: r.at, text: r.text }));
  }

  async updateStep(runId: string, name: string, from: readonly StepState[], changes: Partial<Omit<CiStep, 'runId' | 'name' | 'position'>>): Promise<boolean> {
    const row: Record<string, unknown> = {};
    if (changes.state !== undefined) row.state = changes.state;
    if (changes.attempt !== undefined) row.attempt = changes.attempt;
    if (changes.taskId !== undefined) row.task_id = changes.taskId;
    if (changes.taskIds !== undefined) row.task_ids = JSON.stringify(changes.taskIds);
    if (changes.startedAt !== undefined) row.started_at = changes.startedAt;
    if (changes.finishedAt !== undefined) row.finished_at = changes.finishedAt;
    if (changes.exitCode !== undefined) row.exit_code = changes.exitCode;
    if (changes.reason !== undefined) row.reason = changes.reason;
    if (changes.image !== undefined) row.image = changes.image;
    if (changes.digest !== undefined) row.digest = changes.digest;
    if (changes.deploymentId !== undefined) row.deployment_id = changes.deploymentId;
    if (changes.approvedBy !== undefined) row.approved_by = changes.approvedBy;
    if (changes.approvedAt !== undefined) row.approved_at = changes.approvedAt;
    return (await this.knex('ci_steps').where({ run_id: runId, name }).whereIn('state', from).update(row)) === 1;
  }
}

function runRow(run: CiRun): Record<string, unknown> {
  return {
    id: run.id,
    pipeline: run.pipeline,
    repository: run.repository,
    number: run.number,
    event: run.event,
    ref: run.ref,
    branch: run.branch,
    tag: run.tag,
    commit: run.commit,
    before: run.before,
    clone_url: run.cloneUrl,
    delivery_id: run.deliveryId,
    state: run.state,
    reason: run.reason,
    concurrency_group: run.concurrencyGroup,
    definition: run.definition === null || run.definition === undefined ? null : JSON.stringify(run.definition),
    changed_paths: run.changedPaths === null ? null : JSON.stringify(run.changedPaths),
    workspace_host: run.workspaceHost,
    created_at: run.createdAt,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    pull_request: run.pullRequest ? JSON.stringify(run.pullRequest) : null,
    pull_number: run.pullRequest?.number ?? null,
  };
}

function toRun(row: Record<string, unknown>): CiRun {
  return {
    id: row.id as string,
    pipeline: row.pipeline as string,
    repository: row.repository as string,
    number: Number(row.number),
    event: row.event as RunEvent,
    ref: row.ref as string,
    branch: (row.branch as string | null) ?? null,
    tag: (row.tag as string | null) ?? null,
    commit: (row.commit as string | null) ?? null,
    before: (row.before as string | null) ?? null,
    cloneUrl: row.clone_url as string,
    deliveryId: (row.delivery_id as string | null) ?? null,
    state: row.state as CiRunState,
    reason: (row.reason as string | null) ?? null,
    concurrencyGroup: (row.concurrency_group as string | null) ?? null,
    definition: row.definition ? (JSON.parse(row.definition as string) as unknown) : null,
    changedPaths: row.changed_paths ? (JSON.parse(row.changed_paths as string) as string[]) : null,
    workspaceHost: (row.workspace_host as string | null) ?? null,
    createdAt: row.created_at as string,
    startedAt: (row.started_at as string | null) ?? null,
    finishedAt: (row.finished_at as string | null) ?? null,
    pullRequest: row.pull_request ? (JSON.parse(row.pull_request as string) as PullRequestInfo) : null,
  };
}

function toStep(row: Record<string, unknown>): CiStep {
  return {
    runId: row.run_id as string,
    name: row.name as string,
    position: Number(row.position),
    state: row.state as StepState,
    attempt: Number(row.attempt),
    taskId: (row.task_id as string | null) ?? null,
    taskIds: JSON.parse(row.task_ids as string) as string[],
    startedAt: (row.started_at as string | null) ?? null,
    finishedAt: (row.finished_at as string | null) ?? null,
    exitCode: row.exit_code === null || row.exit_code === undefined ? null : Number(row.exit_code),
    reason: (row.reason as string | null) ?? null,
    image: (row.image as string | null) ?? null,
    digest: (row.digest as string | null) ?? null,
    deploymentId: (row.deployment_id as string | null) ?? null,
    approvedBy: (row.approved_by as string | null) ?? null,
    approvedAt: (row.approved_at as string | null) ?? null,
  };
}
