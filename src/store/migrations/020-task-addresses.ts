import type { Knex } from 'knex';

// A task's own IP address on its container network (TaskSpec.network naming one; TaskRecord.address):
// reported by its agent with the run's `running` status, cleared while a restarted task waits for its
// next run. DNS records and load balancers reach such a task there rather than at its agent's host.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.string('address', 64).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.dropColumn('address');
  });
}
