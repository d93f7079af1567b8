import type { Knex } from 'knex';

// Tokens are stored as sha256 hashes: they are 256-bit random secrets, so a slow password hash
// would add nothing but latency to every request.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tokens', (t) => {
    t.string('id', 64).primary();
    t.string('kind', 16).notNullable(); // admin | join | agent
    t.string('name', 200).notNullable();
    t.string('hash', 64).notNullable().unique();
    t.string('agent_id', 64).nullable();
    t.string('created_at', 32).notNullable();
  });

  await knex.schema.createTable('agents', (t) => {
    t.string('id', 64).primary();
    t.string('hostname', 255).notNullable();
    t.text('resources').notNullable();
    t.text('attributes').notNullable();
    t.string('state', 16).notNullable();
    t.boolean('embedded').notNullable().defaultTo(false);
    t.text('drivers').notNullable();
    t.string('registered_at', 32).notNullable();
    t.string('last_heartbeat_at', 32).notNullable();
    t.integer('version').notNullable().defaultTo(1);
  });

  await knex.schema.createTable('tasks', (t) => {
    // seq orders the queue (first come, first placed); id is what people and APIs use.
    t.increments('seq').primary();
    t.string('id', 64).notNullable().unique();
    t.string('name', 255).notNullable();
    t.string('owner', 255).notNullable();
    t.string('group_name', 255).notNullable();
    t.text('spec').notNullable();
    t.string('state', 16).notNullable();
    t.string('agent_id', 64).nullable();
    t.text('allocation').nullable();
    t.integer('exit_code').nullable();
    t.text('reason').nullable();
    t.text('waiting_reason').nullable();
    t.text('limits').nullable();
    t.boolean('kill_requested').notNullable().defaultTo(false);
    t.string('created_at', 32).notNullable();
    t.string('staged_at', 32).nullable();
    t.string('started_at', 32).nullable();
    t.string('finished_at', 32).nullable();
    t.integer('version').notNullable().defaultTo(1);
    t.index(['state']);
    t.index(['owner']);
    t.index(['agent_id', 'state']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tasks');
  await knex.schema.dropTable('agents');
  await knex.schema.dropTable('tokens');
}
