import type { Knex } from 'knex';

// Log retention (src/cluster/master/log-retention.ts): when a finished task's log files were removed
// and why, so that its readers are told instead of reading an empty log. Indexed for the sweep, which
// looks for tasks ended before a cutoff whose logs are still there.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.string('log_removed_at', 32).nullable();
    t.text('log_removed_reason').nullable();
    t.index(['log_removed_at', 'finished_at'], 'tasks_log_retention');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.dropIndex(['log_removed_at', 'finished_at'], 'tasks_log_retention');
    t.dropColumn('log_removed_at');
    t.dropColumn('log_removed_reason');
  });
}
