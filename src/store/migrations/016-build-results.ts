import type { Knex } from 'knex';

// Image builds (a CI build step): what a task produced beside its output (tasks.result, JSON: the
// pushed image and digest), written once with the task's end, and the image a CI step pushed
// (ci_steps.image, pinned by digest, and ci_steps.digest), which a later step deploys.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.text('result').nullable();
  });
  await knex.schema.alterTable('ci_steps', (t) => {
    t.text('image').nullable();
    t.string('digest', 100).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => {
    t.dropColumn('result');
  });
  await knex.schema.alterTable('ci_steps', (t) => {
    t.dropColumn('image');
    t.dropColumn('digest');
  });
}
