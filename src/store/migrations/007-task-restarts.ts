import type { Knex } from 'knex';

// Tasks restarted in place by their agent (TaskSpec.restart): how many times, and while one waits for
// its next run, when that is.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.integer('restarts').notNullable().defaultTo(0);
    t.text('restart_at').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.dropColumn('restarts');
    t.dropColumn('restart_at');
  });
}
