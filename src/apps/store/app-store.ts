// Apps, their versions and their deployments in the store (migration 015-apps). Every change of an app
// is a new version row, written with the app's row and its deployment in one transaction, and only if
// the app is still at the version the caller read (compare-and-set): two changes racing, or a change
// racing a rollback, never both win. Instances are not here: they are the pool's tasks.
import type { Knex } from 'knex';
import { Conflict, NotFound } from '../../shared/errors.ts';
import type { AppDefinition, AppSource } from '../definition/index.ts';

export interface AppRecord {
  id: string;
  /** The version it runs, or is being deployed to. */
  version: string;
  lastHealthyVersion: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AppVersion {
  appId: string;
  version: string;
  definition: AppDefinition;
  source: AppSource;
  lastConfigChangeAt: string;
  createdAt: string;
}

export const DEPLOYMENT_STATES = ['running', 'succeeded', 'failed', 'canceled', 'superseded'] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

export interface DeploymentRecord<Plan = unknown> {
  id: string;
  affectedApps: string[];
  plan: Plan;
  currentStep: number;
  state: DeploymentState;
  reason: string | null;
  rollbackOf: string | null;
  createdAt: string;
  deadlineAt: string | null;
  finishedAt: string | null;
}

/** One app's new version, as a change writes it. */
export interface VersionWrite {
  definition: AppDefinition;
  source: AppSource;
  version: string;
  lastConfigChangeAt: string;
  /** The version the caller read (null: the app must not exist yet). */
  expected: string | null;
}

export class AppStore {
  constructor(private readonly knex: Knex) {}

  async getApp(id: string): Promise<AppRecord | null> {
    const row = await this.knex('apps').where({ id }).first();
    return row ? toApp(row) : null;
  }

  /** Every app, by id; with `prefix`, those whose id starts with it. */
  async listApps(prefix?: string): Promise<AppRecord[]> {
    const query = this.knex('apps').orderBy('id');
    if (prefix !== undefined) query.whereRaw("id like ? escape '\\'", [`${escapeLike(prefix)}%`]);
    return (await query).map(toApp);
  }

  /** The current version of every app (one query: GET /v2/apps with 1,000 apps). */
  async currentVersions(prefix?: string): Promise<AppVersion[]> {
    const query = this.knex('apps')
      .join('app_versions', (on) => on.on('app_versions.app_id', '=', 'apps.id').andOn('app_versions.version', '=', 'apps.version'))
      .select('app_versions.*')
      .orderBy('apps.id');
    if (prefix !== undefined) query.whereRaw("apps.id like ? escape '\\'", [`${escapeLike(prefix)}%`]);
    return (await query).map(toVersion);
  }

  async getVersion(appId: string, version: string): Promise<AppVersion | null> {
    const row = await this.knex('app_versions').where({ app_id: appId, version }).first();
    return row ? toVersion(row) : null;
  }

  /** The app's versions, newest first. */
  async listVersions(appId: string): Promise<string[]> {
    const rows: Array<{ version: string }> = await this.knex('app_versions').where({ app_id: appId }).orderBy('version', 'desc').select('version');
    return rows.map((r) => r.version);
  }

  /**
   * Writes new versions of apps (and removes `removals`) with the deployment that rolls them out, all or nothing. Each app must
   * still be at the version its write expected (Conflict otherwise, naming the app); `superseding`:
   * running deployments to mark superseded in the same transaction (a forced change).
   */
  async writeChange(writes: ReadonlyArray<{ appId: string } & VersionWrite>, deployment: DeploymentRecord, now: string, superseding: readonly string[] = [], removals: readonly string[] = []): Promise<void> {
    await this.knex.transaction(async (trx) => {
      for (const appId of removals) {
        if ((await trx('apps').where({ id: appId }).delete()) === 0) throw new NotFound(`app ${appId} does not exist`);
        await trx('app_versions').where({ app_id: appId }).delete();
      }
      for (const write of writes) {
        const current = await trx('apps').where({ id: write.appId }).first('version');
        const at = current?.version ?? null;
        if (at !== write.expected) {
          throw new Conflict(at === null ? `app ${write.appId} does not exist (any more)` : `app ${write.appId} changed meanwhile (now at version ${at})`);
        }
        if (current) await trx('apps').where({ id: write.appId }).update({ version: write.version, updated_at: now });
        else await trx('apps').insert({ id: write.appId, version: write.version, last_healthy_version: null, created_at: now, updated_at: now });
        await trx('app_versions').insert({
          app_id: write.appId,
          version: write.version,
          definition: JSON.stringify(write.definition),
          source: JSON.stringify(write.source),
          last_config_change_at: write.lastConfigChangeAt,
          created_at: now,
        });
      }
      if (superseding.length > 0) {
        await trx('app_deployments').whereIn('id', superseding).where({ state: 'running' }).update({ state: 'superseded', reason: `superseded by deployment ${deployment.id}`, finished_at: now });
      }
      await trx('app_deployments').insert(deploymentRow(deployment));
    });
  }

  /** Records that every instance of `version` was healthy at once (a rollback's target from now on). */
  async markHealthy(appId: string, version: string): Promise<void> {
    await this.knex('apps').where({ id: appId }).update({ last_healthy_version: version });
  }

  async getDeployment(id: string): Promise<DeploymentRecord | null> {
    const row = await this.knex('app_deployments').where({ id }).first();
    return row ? toDeployment(row) : null;
  }

  /** Deployments in the given states (all by default), oldest first. */
  async listDeployments(states?: readonly DeploymentState[]): Promise<DeploymentRecord[]> {
    const query = this.knex('app_deployments').orderBy([{ column: 'created_at' }, { column: 'id' }]);
    if (states) query.whereIn('state', states);
    return (await query).map(toDeployment);
  }

  /** Moves a running deployment on (its step) or ends it; false when it was no longer running. */
  async updateDeployment(id: string, changes: Partial<Pick<DeploymentRecord, 'currentStep' | 'state' | 'reason' | 'finishedAt' | 'plan'>>): Promise<boolean> {
    const row: Record<string, unknown> = {};
    if (changes.currentStep !== undefined) row.current_step = changes.currentStep;
    if (changes.state !== undefined) row.state = changes.state;
    if (changes.reason !== undefined) row.reason = changes.reason;
    if (changes.finishedAt !== undefined) row.finished_at = changes.finishedAt;
    if (changes.plan !== undefined) row.plan = JSON.stringify(changes.plan);
    return (await this.knex('app_deployments').where({ id, state: 'running' }).update(row)) === 1;
  }
}

/** A prefix as a LIKE pattern's start (with `escape '\'`, the same in SQLite and PostgreSQL). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

type Row = Record<string, unknown>;

function toApp(row: Row): AppRecord {
  return {
    id: String(row.id),
    version: String(row.version),
    lastHealthyVersion: (row.last_healthy_version as string | null) ?? null,
    createdAt: String(row.created_at),
    updatedAt: String(row.updated_at),
  };
}

function toVersion(row: Row): AppVersion {
  return {
    appId: String(row.app_id),
    version: String(row.version),
    definition: JSON.parse(String(row.definition)) as AppDefinition,
    source: JSON.parse(String(row.source)) as AppSource,
    lastConfigChangeAt: String(row.last_config_change_at),
    createdAt: String(row.created_at),
  };
}

function deploymentRow(d: DeploymentRecord): Row {
  return {
    id: d.id,
    affected_apps: JSON.stringify(d.affectedApps),
    plan: JSON.stringify(d.plan),
    current_step: d.currentStep,
    state: d.state,
    reason: d.reason,
    rollback_of: d.rollbackOf,
    created_at: d.createdAt,
    deadline_at: d.deadlineAt,
    finished_at: d.finishedAt,
  };
}

function toDeployment(row: Row): DeploymentRecord {
  return {
    id: String(row.id),
    affectedApps: JSON.parse(String(row.affected_apps)) as string[],
    plan: JSON.parse(String(row.plan)) as unknown,
    currentStep: Number(row.current_step),
    state: row.state as DeploymentState,
    reason: (row.reason as string | null) ?? null,
    rollbackOf: (row.rollback_of as string | null) ?? null,
    createdAt: String(row.created_at),
    deadlineAt: (row.deadline_at as string | null) ?? null,
    finishedAt: (row.finished_at as string | null) ?? null,
  };
}
