import type { Knex } from 'knex';

// Deploy steps and approvals (CI): the deployment a deploy step follows (so that a restarted server
// follows it again instead of deploying twice), who approved a step and when, and the lines a step
// that runs on the server itself writes (a deploy's progress), since it has no task whose log holds them.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ci_steps', (t) => {
    t.string('deployment_id', 64).nullable();
    t.string('approved_by', 200).nullable();
    t.string('approved_at', 32).nullable();
  });
  await knex.schema.createTable('ci_step_lines', (t) => {
    t.string('run_id', 64).notNullable();
    t.string('step', 100).notNullable();
    t.integer('seq').notNullable();
    t.string('at', 32).notNullable();
    t.text('text').notNullable();
    t.primary(['run_id', 'step', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ci_step_lines');
  await knex.schema.alterTable('ci_steps', (t) => {
    t.dropColumn('deployment_id');
    t.dropColumn('approved_by');
    t.dropColumn('approved_at');
  });
}
