import type { Knex } from 'knex';

// Blue-green and canary switches of apps (src/apps/blue-green/): which app is the blue and which the
// green of a deployment group, the steps of traffic and where the switch stands, so that a server that
// restarts in the middle carries it on from the same step.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('app_switches', (t) => {
    t.string('id', 64).primary();
    t.string('group_id', 512).notNullable().index();
    t.string('blue_app', 512).notNullable();
    t.string('green_app', 512).notNullable();
    t.text('settings').notNullable();
    t.string('phase', 16).notNullable();
    t.integer('step').notNullable();
    t.bigInteger('since_ms').notNullable();
    t.string('green_deployment', 64).nullable();
    t.text('reason').nullable();
    t.string('created_at', 32).notNullable();
    t.string('finished_at', 32).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('app_switches');
}
