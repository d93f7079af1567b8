// The agents table: who is in the pool, what each offers, and when it was last heard from.
import type { Knex } from 'knex';
import type { AgentRecord, AgentState, DiskUsage } from '../types.ts';
import { NotFound } from '../../shared/errors.ts';
import { fromJson, toBool, toJson } from './json.ts';

export class AgentRepository {
  constructor(private readonly knex: Knex) {}

  /** Inserts or replaces an agent's registration (an agent re-registering keeps its id). */
  async upsert(agent: AgentRecord): Promise<void> {
    const row = toRow(agent);
    await this.knex('agents').insert(row).onConflict('id').merge();
  }

  async get(id: string): Promise<AgentRecord> {
    const row = await this.knex('agents').where({ id }).first();
    if (!row) throw new NotFound(`no agent with id "${id}"`);
    return fromRow(row);
  }

  async find(id: string): Promise<AgentRecord | null> {
    const row = await this.knex('agents').where({ id }).first();
    return row ? fromRow(row) : null;
  }

  async list(states?: readonly AgentState[]): Promise<AgentRecord[]> {
    const query = this.knex('agents').orderBy('registered_at');
    if (states) query.whereIn('state', states);
    return (await query).map(fromRow);
  }

  async touchHeartbeat(id: string, at: string): Promise<void> {
    await this.knex('agents').where({ id }).update({ last_heartbeat_at: at });
  }

  async setDiskUsage(id: string, usage: DiskUsage): Promise<void> {
    await this.knex('agents').where({ id }).update({ disk_usage: toJson(usage) });
  }

  /** The images the agent holds, as it reported them. */
  async setImages(id: string, images: readonly string[]): Promise<void> {
    await this.knex('agents').where({ id }).update({ images: toJson(images) });
  }

  async setState(id: string, state: AgentState): Promise<void> {
    await this.knex('agents').where({ id }).update({ state, version: this.knex.raw('version + 1') });
  }
}

function toRow(agent: AgentRecord): Record<string, unknown> {
  return {
    id: agent.id,
    hostname: agent.hostname,
    resources: toJson(agent.resources),
    attributes: toJson(agent.attributes),
    state: agent.state,
    embedded: agent.embedded,
    drivers: toJson(agent.drivers),
    task_users: toJson(agent.taskUsers ?? []),
    registered_at: agent.registeredAt,
    last_heartbeat_at: agent.lastHeartbeatAt,
    version: agent.version,
  };
}

function fromRow(row: Record<string, unknown>): AgentRecord {
  return {
    id: String(row.id),
    hostname: String(row.hostname),
    resources: fromJson(row.resources),
    attributes: fromJson(row.attributes),
    state: row.state as AgentState,
    embedded: toBool(row.embedded),
    drivers: fromJson(row.drivers),
    registeredAt: String(row.registered_at),
    lastHeartbeatAt: String(row.last_heartbeat_at),
    version: Number(row.version),
    diskUsage: row.disk_usage ? fromJson<DiskUsage>(row.disk_usage) : null,
    images: row.images ? fromJson<string[]>(row.images) : null,
    taskUsers: row.task_users ? fromJson<string[]>(row.task_users) : [],
  };
}
