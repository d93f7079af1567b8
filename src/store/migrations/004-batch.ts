import type { Knex } from 'knex';

// The batch scheduler's tables (src/batch/): job definitions as given, the firing state kept apart
// from them (so the stored schedule is never rewritten), runs with a unique key per (job, occurrence)
// written before anything is launched, and the parents' completions that dependent jobs wait for.
// Times are ISO 8601 UTC strings of fixed width, so that string order is time order.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('batch_jobs', (t) => {
    t.string('name', 255).primary();
    /** The definition exactly as accepted (Chronos JSON plus native fields). */
    t.text('definition').notNullable();
    /** When the definition was made: the anchor of an ISO schedule with an empty start (`R//PT1H`). */
    t.string('defined_at', 32).notNullable();
    t.string('created_at', 32).notNullable();
    t.string('updated_at', 32).notNullable();
  });

  await knex.schema.createTable('batch_job_state', (t) => {
    t.string('job_name', 255).primary().references('name').inTable('batch_jobs').onDelete('CASCADE');
    /** What the next due time was computed from (schedule, zone); a change of it restarts the count. */
    t.text('schedule_key').notNullable();
    /** The next occurrence to fire; null when the schedule is exhausted or the job has parents instead. */
    t.string('next_due_at', 32).nullable();
    /** Its index k (start + k·period) for ISO 8601 schedules; null for cron. */
    t.integer('next_index').nullable();
    t.index(['next_due_at']);
  });

  await knex.schema.createTable('batch_runs', (t) => {
    t.string('id', 40).primary();
    t.string('job_name', 255).notNullable().references('name').inTable('batch_jobs').onDelete('CASCADE');
    /** Unique per job: `schedule:<time>`, `manual:<id>`, `after:<parent runs>`: the exactly-once key. */
    t.string('run_key', 255).notNullable();
    t.string('trigger', 16).notNullable(); // schedule | manual | dependency
    t.string('scheduled_at', 32).notNullable();
    t.string('state', 16).notNullable(); // pending | running | retrying | succeeded | failed | skipped | killed
    t.integer('attempt').notNullable().defaultTo(0);
    /** The current attempt's task; null until it was submitted. */
    t.string('task_id', 40).nullable();
    /** JSON array of every attempt's task id, oldest first. */
    t.text('task_ids').notNullable().defaultTo('[]');
    t.string('retry_at', 32).nullable();
    t.string('created_at', 32).notNullable();
    t.string('started_at', 32).nullable();
    t.string('finished_at', 32).nullable();
    t.integer('exit_code').nullable();
    t.text('reason').nullable();
    t.unique(['job_name', 'run_key']);
    t.index(['job_name', 'created_at']);
    t.index(['state']);
  });

  // Counters kept apart from the runs, which history limits prune (Chronos's successCount etc.).
  await knex.schema.createTable('batch_job_stats', (t) => {
    t.string('job_name', 255).primary().references('name').inTable('batch_jobs').onDelete('CASCADE');
    t.integer('success_count').notNullable().defaultTo(0);
    t.integer('error_count').notNullable().defaultTo(0);
    t.integer('errors_since_last_success').notNullable().defaultTo(0);
    t.string('last_success_at', 32).nullable();
    t.string('last_error_at', 32).nullable();
  });

  await knex.schema.createTable('batch_parent_completions', (t) => {
    t.string('child', 255).notNullable().references('name').inTable('batch_jobs').onDelete('CASCADE');
    t.string('parent', 255).notNullable();
    t.string('run_id', 40).notNullable();
    t.string('outcome', 16).notNullable(); // success | failure
    t.string('completed_at', 32).notNullable();
    t.primary(['child', 'parent']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('batch_parent_completions');
  await knex.schema.dropTableIfExists('batch_job_stats');
  await knex.schema.dropTableIfExists('batch_runs');
  await knex.schema.dropTableIfExists('batch_job_state');
  await knex.schema.dropTableIfExists('batch_jobs');
}
