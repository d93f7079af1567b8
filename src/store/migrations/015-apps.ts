import type { Knex } from 'knex';

// The apps' tables (src/apps/, issue 18): apps, each version of each (immutable, Marathon's
// /v2/apps/ID/versions) and deployments (a plan that resumes after a restart). Instances are not
// stored here: they are the pool's tasks (owner `app:<id>:<instance>`), listed and watched from it, so
// that a crash between deciding a launch and making it can never leave an instance twice. Rows, not
// blobs: a definition is a JSON column of its version's row, an app a row (Marathon's 1 MB ZooKeeper
// node, marathon#2101, held every app of a group in one).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('apps', (t) => {
    t.string('id', 255).primary();
    /** The version the app runs, or is being deployed to (an ISO timestamp, as Marathon's). */
    t.string('version', 32).notNullable();
    /** The last version all of whose instances were healthy at once: what a failed deployment rolls back to. */
    t.string('last_healthy_version', 32).nullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
  });

  await knex.schema.createTable('app_versions', (t) => {
    t.string('app_id', 255).notNullable().references('id').inTable('apps').onDelete('CASCADE');
    t.string('version', 32).notNullable();
    /** JSON: the AppDefinition, normalized with its defaults. */
    t.text('definition').notNullable();
    /** JSON: what was posted (Marathon's read-only fields dropped), returned as given. */
    t.text('source').notNullable();
    /** When the configuration last changed: a version that only scaled keeps its predecessor's (Marathon's versionInfo). */
    t.string('last_config_change_at', 32).notNullable();
    t.string('created_at', 32).notNullable();
    t.primary(['app_id', 'version']);
  });

  await knex.schema.createTable('app_deployments', (t) => {
    t.string('id', 40).primary();
    /** JSON array of the app ids it changes (Marathon's affectedApps). */
    t.text('affected_apps').notNullable();
    /** JSON: the plan, steps of actions (start, scale, restart, stop) per app, and where it is. */
    t.text('plan').notNullable();
    t.integer('current_step').notNullable().defaultTo(0);
    /** running | succeeded | failed | canceled | superseded */
    t.string('state', 16).notNullable();
    t.text('reason').nullable();
    /** The deployment this one rolls back, if it is a rollback. */
    t.string('rollback_of', 40).nullable();
    t.string('created_at', 32).notNullable();
    /** When a deployment that has not completed is rolled back (its progress deadline). */
    t.string('deadline_at', 32).nullable();
    t.string('finished_at', 32).nullable();
    t.index(['state']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('app_deployments');
  await knex.schema.dropTable('app_versions');
  await knex.schema.dropTable('apps');
}
