import type { Knex } from 'knex';

// What each agent last reported of its disk use (sandboxes, containers' writable layers), as JSON:
// shown by `gantry agents`, so an operator sees a disk filling before it is full.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.text('disk_usage').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('disk_usage');
  });
}
