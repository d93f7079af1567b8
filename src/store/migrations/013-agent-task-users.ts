import type { Knex } from 'knex';

// The users each agent's tasks may run as (JSON list, its default first), as it registered them: kept
// with the agent so that placement (TaskSpec.user) and the submission check know them after a master
// restart, before the agents register again.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.text('task_users').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('task_users');
  });
}
