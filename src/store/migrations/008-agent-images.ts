import type { Knex } from 'knex';

// The images each agent last reported holding (JSON list of names as its engine lists them): for
// placement (a tie goes to an agent holding the task's image), `gantry images ls` and pre-warming.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.text('images').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('agents', (t) => {
    t.dropColumn('images');
  });
}
