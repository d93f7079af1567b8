// Blue-green switches in the store (migration 019): one row per switch, its phase and step changed only
// from the phase and step the writer read (compare-and-set), so two servers' ticks, or a tick racing a
// promote, never both move it.
import type { Knex } from 'knex';
import type { SwitchPhase, SwitchSettings, SwitchState } from './switch-plan.ts';
import { ACTIVE_PHASES } from './switch-plan.ts';

export interface SwitchRecord extends SwitchState {
  id: string;
  /** The deployment group: the app id the user deploys (`/prod/web`). */
  group: string;
  blue: string;
  green: string;
  settings: SwitchSettings;
  /** The deployment that started the green. */
  greenDeployment: string | null;
  reason: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export class SwitchStore {
  constructor(private readonly knex: Knex) {}

  async insert(record: SwitchRecord): Promise<void> {
    await this.knex('app_switches').insert(toRow(record));
  }

  async active(): Promise<SwitchRecord[]> {
    return (await this.knex('app_switches').whereIn('phase', ACTIVE_PHASES as SwitchPhase[]).orderBy('created_at')).map(toRecord);
  }

  async recent(limit = 50): Promise<SwitchRecord[]> {
    return (await this.knex('app_switches').orderBy('created_at', 'desc').limit(limit)).map(toRecord);
  }

  async get(id: string): Promise<SwitchRecord | null> {
    const row = await this.knex('app_switches').where({ id }).first();
    return row ? toRecord(row) : null;
  }

  /** Moves the switch on if it still stands where `from` says; false when someone moved it first. */
  async move(id: string, from: Pick<SwitchState, 'phase' | 'step'>, to: Partial<Pick<SwitchRecord, 'phase' | 'step' | 'since' | 'reason' | 'finishedAt' | 'greenDeployment'>>): Promise<boolean> {
    const changes: Record<string, unknown> = {};
    if (to.phase !== undefined) changes.phase = to.phase;
    if (to.step !== undefined) changes.step = to.step;
    if (to.since !== undefined) changes.since_ms = to.since;
    if (to.reason !== undefined) changes.reason = to.reason;
    if (to.finishedAt !== undefined) changes.finished_at = to.finishedAt;
    if (to.greenDeployment !== undefined) changes.green_deployment = to.greenDeployment;
    const updated = await this.knex('app_switches').where({ id, phase: from.phase, step: from.step }).update(changes);
    return updated === 1;
  }
}

function toRow(r: SwitchRecord): Record<string, unknown> {
  return {
    id: r.id,
    group_id: r.group,
    blue_app: r.blue,
    green_app: r.green,
    settings: JSON.stringify(r.settings),
    phase: r.phase,
    step: r.step,
    since_ms: r.since,
    green_deployment: r.greenDeployment,
    reason: r.reason,
    created_at: r.createdAt,
    finished_at: r.finishedAt,
  };
}

function toRecord(row: Record<string, unknown>): SwitchRecord {
  return {
    id: String(row.id),
    group: String(row.group_id),
    blue: String(row.blue_app),
    green: String(row.green_app),
    settings: JSON.parse(String(row.settings)) as SwitchSettings,
    phase: row.phase as SwitchPhase,
    step: Number(row.step),
    since: Number(row.since_ms),
    greenDeployment: (row.green_deployment as string | null) ?? null,
    reason: (row.reason as string | null) ?? null,
    createdAt: String(row.created_at),
    finishedAt: (row.finished_at as string | null) ?? null,
  };
}
