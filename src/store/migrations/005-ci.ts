import type { Knex } from 'knex';

// The CI's tables (src/ci/): webhook deliveries (unique by GitHub's delivery id: a redelivery starts
// nothing), runs (unique per delivery and pipeline; the pipeline as it was resolved is kept with the
// run, so editing the file later does not change a run in progress), their steps, and CI secrets.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ci_deliveries', (t) => {
    t.string('delivery_id', 100).primary();
    t.string('event', 50).notNullable();
    t.string('repository', 255).nullable();
    t.string('ref', 255).nullable();
    t.string('received_at', 32).notNullable();
    /** received | ignored | processed | failed */
    t.string('outcome', 16).notNullable();
    t.text('detail').nullable();
    /** The JSON payload as received, until it is processed (then kept for inspection). */
    t.text('payload').notNullable();
    t.index(['outcome']);
  });

  await knex.schema.createTable('ci_runs', (t) => {
    t.string('id', 40).primary();
    t.string('pipeline', 255).notNullable();
    t.string('repository', 255).notNullable();
    /** 1, 2, 3... per pipeline, for people. */
    t.integer('number').notNullable();
    t.string('event', 16).notNullable(); // push | tag | manual
    t.string('ref', 255).notNullable();
    t.string('branch', 255).nullable();
    t.string('tag', 255).nullable();
    t.string('commit', 64).nullable();
    t.string('before', 64).nullable();
    t.text('clone_url').notNullable();
    t.string('delivery_id', 100).nullable();
    /** queued | running | success | failure | canceled | timeout */
    t.string('state', 16).notNullable();
    t.text('reason').nullable();
    t.string('concurrency_group', 255).nullable();
    /** JSON: the pipeline as resolved for this run. */
    t.text('definition').nullable();
    /** JSON array of changed paths, or null when unknown. */
    t.text('changed_paths').nullable();
    /** The agent holding the run's workspace, once cloned. */
    t.string('workspace_host', 255).nullable();
    t.string('created_at', 32).notNullable();
    t.string('started_at', 32).nullable();
    t.string('finished_at', 32).nullable();
    t.unique(['delivery_id', 'pipeline']);
    t.unique(['pipeline', 'number']);
    t.index(['state']);
    t.index(['pipeline', 'created_at']);
  });

  await knex.schema.createTable('ci_steps', (t) => {
    t.string('run_id', 40).notNullable().references('id').inTable('ci_runs').onDelete('CASCADE');
    t.string('name', 255).notNullable();
    t.integer('position').notNullable();
    /** pending | running | success | failure | skipped | canceled | timeout */
    t.string('state', 16).notNullable();
    t.integer('attempt').notNullable().defaultTo(0);
    t.string('task_id', 40).nullable();
    t.text('task_ids').notNullable().defaultTo('[]');
    t.string('started_at', 32).nullable();
    t.string('finished_at', 32).nullable();
    t.integer('exit_code').nullable();
    t.text('reason').nullable();
    t.primary(['run_id', 'name']);
  });

  await knex.schema.createTable('ci_secrets', (t) => {
    t.string('name', 100).primary();
    t.text('value').notNullable();
    t.string('updated_at', 32).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ci_secrets');
  await knex.schema.dropTableIfExists('ci_steps');
  await knex.schema.dropTableIfExists('ci_runs');
  await knex.schema.dropTableIfExists('ci_deliveries');
}
