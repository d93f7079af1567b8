import type { Knex } from 'knex';

// Registry garbage collections (src/registry/gc/): when each ran, whether it was a dry run, what it
// deleted (or would have), bytes and inodes freed; `details` is the JSON list of what.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registry_gc_runs', (t) => {
    t.increments('id').primary();
    t.string('started_at', 32).notNullable();
    t.string('finished_at', 32).notNullable();
    t.boolean('dry_run').notNullable();
    t.boolean('untagged').notNullable();
    t.string('trigger', 32).notNullable(); // api | schedule
    t.integer('manifests').notNullable();
    t.integer('blobs').notNullable();
    t.integer('uploads').notNullable();
    t.bigInteger('bytes_freed').notNullable();
    t.integer('inodes_freed').notNullable();
    t.text('details').notNullable();
    t.index(['started_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('registry_gc_runs');
}
