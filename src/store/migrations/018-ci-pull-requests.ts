import type { Knex } from 'knex';

// Runs of pull requests (CI): the pull request a run builds (JSON: number, head branch and repository,
// whether it comes from a fork), so that a new push to it cancels its older runs and a fork's run gets
// no secrets. Run numbers are counted per repository and pipeline from here on (two repositories'
// unnamed .gantry.yml files are both "gantry"): the number is unique within both.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ci_runs', (t) => {
    t.text('pull_request').nullable();
    t.integer('pull_number').nullable();
    t.dropUnique(['pipeline', 'number']);
    t.unique(['repository', 'pipeline', 'number']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('ci_runs', (t) => {
    t.dropUnique(['repository', 'pipeline', 'number']);
    t.unique(['pipeline', 'number']);
    t.dropColumn('pull_request');
    t.dropColumn('pull_number');
  });
}
