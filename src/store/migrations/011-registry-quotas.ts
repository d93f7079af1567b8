import type { Knex } from 'knex';

// Storage quotas of the bundled registry per repository glob (src/registry/quota/): a push that would
// take a repository over its quota is refused with 403 DENIED.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registry_quotas', (t) => {
    t.string('repository_glob', 255).primary();
    t.bigInteger('max_bytes').notNullable();
    t.string('created_at', 32).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('registry_quotas');
}
