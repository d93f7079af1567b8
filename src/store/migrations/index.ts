// Versioned migrations as imported modules (no file-glob loader), so they run the same from src/
// under tsx and from a build. Append new migrations to the list; never edit a released one.
import type { Knex } from 'knex';
import * as initial from './001-initial.ts';
import * as registry from './002-registry.ts';
import * as registryAuth from './003-registry-auth.ts';
import * as batch from './004-batch.ts';
import * as ci from './005-ci.ts';
import * as agentDiskUsage from './006-agent-disk-usage.ts';
import * as taskRestarts from './007-task-restarts.ts';
import * as agentImages from './008-agent-images.ts';
import * as registryGc from './009-registry-gc.ts';
import * as registryRetention from './010-registry-retention.ts';
import * as registryQuotas from './011-registry-quotas.ts';
import * as taskLogRetention from './012-task-log-retention.ts';
import * as agentTaskUsers from './013-agent-task-users.ts';
import * as taskProbes from './014-task-probes.ts';
import * as apps from './015-apps.ts';
import * as buildResults from './016-build-results.ts';
import * as ciDeploySteps from './017-ci-deploy-steps.ts';
import * as ciPullRequests from './018-ci-pull-requests.ts';
import * as appSwitches from './019-app-switches.ts';
import * as taskAddresses from './020-task-addresses.ts';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const MIGRATIONS: ReadonlyArray<readonly [string, Migration]> = [
  ['001-initial', initial],
  ['002-registry', registry],
  ['003-registry-auth', registryAuth],
  ['004-batch', batch],
  ['005-ci', ci],
  ['006-agent-disk-usage', agentDiskUsage],
  ['007-task-restarts', taskRestarts],
  ['008-agent-images', agentImages],
  ['009-registry-gc', registryGc],
  ['010-registry-retention', registryRetention],
  ['011-registry-quotas', registryQuotas],
  ['012-task-log-retention', taskLogRetention],
  ['013-agent-task-users', agentTaskUsers],
  ['014-task-probes', taskProbes],
  ['015-apps', apps],
  ['016-build-results', buildResults],
  ['017-ci-deploy-steps', ciDeploySteps],
  ['018-ci-pull-requests', ciPullRequests],
  ['019-app-switches', appSwitches],
  ['020-task-addresses', taskAddresses],
];

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return MIGRATIONS.map(([name]) => name);
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};

export async function migrateToLatest(knex: Knex): Promise<void> {
  await knex.migrate.latest({ migrationSource, tableName: 'gantry_migrations' });
}
