import type { Knex } from 'knex';

// Retention policies of the bundled registry (src/registry/retention/) and the record of their runs:
// what each deleted (or would have, in a dry run), when, and the bytes and inodes freed.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registry_retention_policies', (t) => {
    t.string('name', 100).primary();
    t.text('spec').notNullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
  });
  await knex.schema.createTable('registry_retention_runs', (t) => {
    t.increments('id').primary();
    t.string('policy', 100).notNullable();
    t.string('trigger', 32).notNullable(); // api | schedule | prune
    t.boolean('dry_run').notNullable();
    t.string('started_at', 32).notNullable();
    t.string('finished_at', 32).notNullable();
    t.integer('manifests').notNullable();
    t.integer('blobs').notNullable();
    t.bigInteger('bytes_freed').notNullable();
    t.integer('inodes_freed').notNullable();
    t.text('details').notNullable();
    t.index(['policy', 'started_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('registry_retention_runs');
  await knex.schema.dropTable('registry_retention_policies');
}
