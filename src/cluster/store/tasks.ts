// The tasks table. Every state change is a compare-and-set on the current state (and agent), so a
// late or repeated report can never move a task backwards or resurrect a finished one.
import type { Knex } from 'knex';
import type { Allocation, TaskRecord, TaskResult, TaskSpec, TaskState } from '../types.ts';
import { NotFound } from '../../shared/errors.ts';
import { fromJson, toBool, toJson } from './json.ts';

export interface TaskQuery {
  states?: readonly TaskState[];
  owner?: string;
  /** Tasks whose owner starts with this (exactly: `app:web:` is not `app:Web:`). */
  ownerPrefix?: string;
  agentId?: string;
  /** Newest first when listing for people; the queue reads oldest first. */
  order?: 'newest' | 'oldest';
  limit?: number;
}

export interface Staging {
  id: string;
  agentId: string;
  allocation: Allocation;
}

/** How a restarted task's last run ended, and when it runs again (TaskSpec.restart). */
export interface Restart {
  exitCode: number | null;
  reason: string;
  restarts: number;
  restartAt: string;
}

/** What a task's probes say, as its agent reports a change: either or both verdicts, and why. */
export interface ProbeVerdicts {
  health?: 'healthy' | 'unhealthy';
  ready?: boolean;
  message: string;
}

/** When and why a task's log files were removed (log retention, master/log-retention.ts). */
export interface LogRemoval {
  /** When the files were removed (ISO 8601). */
  at: string;
  /** Why, as it reads after "removed": e.g. "by retention 7d after the task ended". */
  reason: string;
}

export interface Finish {
  state: Extract<TaskState, 'finished' | 'failed' | 'killed' | 'lost'>;
  exitCode: number | null;
  reason: string;
  /** What the task produced (TaskRecord.result), when its driver said. */
  result?: TaskResult;
}

const ACTIVE: readonly TaskState[] = ['staging', 'running'];
const ENDED: readonly TaskState[] = ['finished', 'failed', 'killed', 'lost'];
const STAGE_BATCH = 200;

export class TaskRepository {
  constructor(private readonly knex: Knex) {}

  async insert(record: TaskRecord): Promise<void> {
    await this.knex('tasks').insert(toRow(record));
  }

  /** Bulk insert in one transaction (chunks keep each statement under SQLite's variable limit). */
  async insertMany(records: readonly TaskRecord[]): Promise<void> {
    await this.knex.batchInsert('tasks', records.map(toRow), 200);
  }

  async get(id: string): Promise<TaskRecord> {
    const row = await this.knex('tasks').where({ id }).first();
    if (!row) throw new NotFound(`no task with id "${id}"`);
    return fromRow(row);
  }

  async find(id: string): Promise<TaskRecord | null> {
    const row = await this.knex('tasks').where({ id }).first();
    return row ? fromRow(row) : null;
  }

  async list(query: TaskQuery = {}): Promise<TaskRecord[]> {
    const q = this.knex('tasks').orderBy('seq', query.order === 'oldest' ? 'asc' : 'desc');
    if (query.states) q.whereIn('state', query.states);
    if (query.owner) q.where({ owner: query.owner });
    // substr, not LIKE: SQLite's LIKE ignores case, and _ and % would need escaping.
    if (query.ownerPrefix) q.whereRaw('substr(owner, 1, ?) = ?', [[...query.ownerPrefix].length, query.ownerPrefix]);
    if (query.agentId) q.where({ agent_id: query.agentId });
    if (query.limit) q.limit(query.limit);
    return (await q).map(fromRow);
  }

  /** queued → staging on an agent. False when the task was no longer queued (killed meanwhile). */
  async stage(item: Staging, now: string): Promise<boolean> {
    return (await this.stageWith(this.knex, item, now)) === 1;
  }

  /**
   * Many placements at once, in one transaction; returns the staged tasks as they are now, in `items`
   * order (a task no longer queued is left out). One UPDATE per 200 tasks, still a compare-and-set on
   * `state = 'queued'`: a statement per task costs ~200 µs on SQLite, this ~26 µs a task (bench/README.md).
   */
  async stageMany(items: readonly Staging[], now: string): Promise<TaskRecord[]> {
    const staged: TaskRecord[] = [];
    await this.knex.transaction(async (trx) => {
      for (let i = 0; i < items.length; i += STAGE_BATCH) {
        const batch = items.slice(i, i + STAGE_BATCH);
        const agentCase = batch.map(() => 'WHEN ? THEN ?').join(' ');
        const ids = batch.map(() => '?').join(', ');
        // `state || ''` keeps SQLite from driving this update through the state index, which holds every
        // queued task under one key: measured 90 µs a task at 100,000 queued instead of 30 µs.
        const rows: Array<{ id: string } & Record<string, unknown>> = await trx.raw(
          `UPDATE tasks SET state = 'staging', agent_id = CASE id ${agentCase} END, allocation = CASE id ${agentCase} END,
             waiting_reason = NULL, staged_at = ?, version = version + 1
           WHERE id IN (${ids}) AND state || '' = 'queued' RETURNING *`,
          [
            ...batch.flatMap((item) => [item.id, item.agentId]),
            ...batch.flatMap((item) => [item.id, toJson(item.allocation)]),
            now,
            ...batch.map((item) => item.id),
          ],
        ).then((result: unknown) => (Array.isArray(result) ? result : (result as { rows: Array<{ id: string }> }).rows));
        const done = new Map(rows.map((row) => [row.id, row]));
        for (const item of batch) {
          const row = done.get(item.id);
          if (row) staged.push(fromRow(row));
        }
      }
    });
    return staged;
  }

  private stageWith(db: Knex | Knex.Transaction, item: Staging, now: string): Promise<number> {
    return db('tasks')
      .where({ id: item.id, state: 'queued' })
      .update({
        state: 'staging',
        agent_id: item.agentId,
        allocation: toJson(item.allocation),
        waiting_reason: null,
        staged_at: now,
        version: db.raw('version + 1'),
      });
  }

  /** Records why a queued task waits; a no-op when the reason did not change (no write per loop). */
  async setWaitingReason(id: string, reason: string): Promise<void> {
    await this.knex('tasks')
      .where({ id, state: 'queued' })
      .where((q) => q.whereNull('waiting_reason').orWhereNot('waiting_reason', reason))
      .update({ waiting_reason: reason });
  }

  /**
   * staging → running, reported by the task's agent, with its address on its container network when it
   * has one; the task as it is now, or null when it was not staging on that agent.
   */
  async markRunning(id: string, agentId: string, limits: string | null, now: string, address: string | null = null): Promise<TaskRecord | null> {
    const rows: Array<Record<string, unknown>> = await this.knex('tasks')
      .where({ id, agent_id: agentId, state: 'staging' })
      .update({ state: 'running', started_at: now, limits, address, version: this.knex.raw('version + 1') })
      .returning('*');
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * A running task's new address on its container network (a restarted task's next run, a recovered
   * container): the task as it is now, or null when it was not running on that agent or had that address.
   */
  async recordAddress(id: string, agentId: string, address: string): Promise<TaskRecord | null> {
    const rows: Array<Record<string, unknown>> = await this.knex('tasks')
      .where({ id, agent_id: agentId, state: 'running' })
      .where((q) => q.whereNull('address').orWhereNot('address', address))
      .update({ address, version: this.knex.raw('version + 1') })
      .returning('*');
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * staging/running → a terminal state, reported by the task's agent (or decided by the master); the
   * task as it is now, or null when it was not active on that agent (a repeated or stale report).
   */
  async finish(id: string, agentId: string, finish: Finish, now: string, limits?: string | null): Promise<TaskRecord | null> {
    const update: Record<string, unknown> = {
      state: finish.state,
      exit_code: finish.exitCode,
      reason: finish.reason,
      ...(finish.result !== undefined ? { result: toJson(finish.result) } : {}),
      finished_at: now,
      restart_at: null,
      version: this.knex.raw('version + 1'),
    };
    if (limits !== undefined) update.limits = limits;
    const rows: Array<Record<string, unknown>> = await this.knex('tasks').where({ id, agent_id: agentId }).whereIn('state', ACTIVE).update(update).returning('*');
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * A running task its agent is restarting: records the run's end and the next start, staying
   * `running` on that agent. The one store write per restart. Null when it was not running there.
   */
  async recordRestart(id: string, agentId: string, restart: Restart, limits?: string | null): Promise<TaskRecord | null> {
    const update: Record<string, unknown> = {
      exit_code: restart.exitCode,
      reason: restart.reason,
      restarts: restart.restarts,
      restart_at: restart.restartAt,
      // The ended run's container had it; the next run's gets its own.
      address: null,
      version: this.knex.raw('version + 1'),
    };
    if (limits !== undefined) update.limits = limits;
    const rows: Array<Record<string, unknown>> = await this.knex('tasks').where({ id, agent_id: agentId, state: 'running' }).update(update).returning('*');
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * A running task's probe verdicts as its agent reports them (each only when it changed): the task as
   * it is now, or null when it was not running on that agent.
   */
  async recordProbe(id: string, agentId: string, probe: ProbeVerdicts): Promise<TaskRecord | null> {
    const update: Record<string, unknown> = { probe_message: probe.message, version: this.knex.raw('version + 1') };
    if (probe.health !== undefined) update.health = probe.health;
    if (probe.ready !== undefined) update.ready = probe.ready;
    const rows: Array<Record<string, unknown>> = await this.knex('tasks').where({ id, agent_id: agentId, state: 'running' }).update(update).returning('*');
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** queued → killed, for a task that never reached an agent. */
  async killQueued(id: string, reason: string, now: string): Promise<boolean> {
    const n = await this.knex('tasks')
      .where({ id, state: 'queued' })
      .update({ state: 'killed', reason, waiting_reason: null, finished_at: now, version: this.knex.raw('version + 1') });
    return n === 1;
  }

  /**
   * Ids of tasks that ended before `cutoff` and whose logs were not removed yet, longest ended first
   * (log retention; `skip`: ones it could not remove this time).
   */
  async endedWithLogsBefore(cutoff: string, limit: number, skip: readonly string[] = []): Promise<string[]> {
    const q = this.knex('tasks').select('id').whereNull('log_removed_at').where('finished_at', '<', cutoff).whereIn('state', ENDED);
    if (skip.length > 0) q.whereNotIn('id', skip);
    const rows: Array<{ id: string }> = await q.orderBy('finished_at', 'asc').limit(limit);
    return rows.map((row) => row.id);
  }

  /** Records that the tasks' log files were removed, so that their readers are told so. */
  async markLogsRemoved(ids: readonly string[], removal: LogRemoval): Promise<void> {
    for (let i = 0; i < ids.length; i += STAGE_BATCH) {
      await this.knex('tasks')
        .whereIn('id', ids.slice(i, i + STAGE_BATCH))
        .update({ log_removed_at: removal.at, log_removed_reason: removal.reason });
    }
  }

  /** When and why the task's log files were removed; null when they were not (or there is no such task). */
  async logRemoval(id: string): Promise<LogRemoval | null> {
    const row: { log_removed_at: string | null; log_removed_reason: string | null } | undefined = await this.knex('tasks')
      .select('log_removed_at', 'log_removed_reason')
      .where({ id })
      .first();
    return row?.log_removed_at ? { at: row.log_removed_at, reason: row.log_removed_reason ?? '' } : null;
  }

  /** Marks an active task to be killed by its agent; `reason` becomes the task's reason once it ends. */
  async requestKill(id: string, reason: string): Promise<boolean> {
    const n = await this.knex('tasks')
      .where({ id })
      .whereIn('state', ACTIVE)
      .update({ kill_requested: true, reason, version: this.knex.raw('version + 1') });
    return n === 1;
  }
}

function toRow(record: TaskRecord): Record<string, unknown> {
  return {
    id: record.id,
    name: record.spec.name,
    owner: record.spec.owner,
    group_name: record.spec.group,
    spec: toJson(record.spec),
    state: record.state,
    agent_id: record.agentId,
    allocation: record.allocation ? toJson(record.allocation) : null,
    exit_code: record.exitCode,
    reason: record.reason,
    waiting_reason: record.waitingReason,
    limits: record.limits,
    kill_requested: record.killRequested,
    created_at: record.createdAt,
    staged_at: record.stagedAt,
    started_at: record.startedAt,
    finished_at: record.finishedAt,
    restarts: record.restarts,
    restart_at: record.restartAt,
    health: record.health,
    ready: record.ready,
    probe_message: record.probeMessage,
    result: record.result ? toJson(record.result) : null,
    address: record.address,
    version: record.version,
  };
}

function fromRow(row: Record<string, unknown>): TaskRecord {
  return {
    id: String(row.id),
    spec: fromJson<TaskSpec>(row.spec),
    state: row.state as TaskState,
    agentId: (row.agent_id as string | null) ?? null,
    allocation: row.allocation == null ? null : fromJson<Allocation>(row.allocation),
    exitCode: row.exit_code == null ? null : Number(row.exit_code),
    reason: (row.reason as string | null) ?? null,
    waitingReason: (row.waiting_reason as string | null) ?? null,
    limits: (row.limits as string | null) ?? null,
    killRequested: toBool(row.kill_requested),
    createdAt: String(row.created_at),
    stagedAt: (row.staged_at as string | null) ?? null,
    startedAt: (row.started_at as string | null) ?? null,
    finishedAt: (row.finished_at as string | null) ?? null,
    restarts: Number(row.restarts ?? 0),
    restartAt: (row.restart_at as string | null) ?? null,
    health: (row.health as 'healthy' | 'unhealthy' | null) ?? null,
    ready: row.ready == null ? null : toBool(row.ready),
    probeMessage: (row.probe_message as string | null) ?? null,
    result: row.result == null ? null : fromJson<TaskResult>(row.result),
    address: (row.address as string | null | undefined) ?? null,
    version: Number(row.version),
  };
}
