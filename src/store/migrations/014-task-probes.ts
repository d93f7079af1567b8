import type { Knex } from 'knex';

// What a running task's probes last said (TaskSpec.health, TaskSpec.readiness): healthy or unhealthy,
// ready or not, and why. Written only when a verdict changes (the agent reports changes only).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.string('health', 16).nullable();
    t.boolean('ready').nullable();
    t.text('probe_message').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.dropColumn('health');
    t.dropColumn('ready');
    t.dropColumn('probe_message');
  });
}
