import type { Knex } from 'knex';

// Registry users and robots, per-repository ACL rules, and the key that signs registry tokens
// (src/registry/auth/).
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registry_users', (t) => {
    t.string('name', 64).primary();
    /** bcrypt; a robot's password is its generated token. */
    t.string('password_hash', 100).notNullable();
    t.string('kind', 8).notNullable(); // user | robot
    /** JSON array of group names. */
    t.text('groups').notNullable();
    t.string('created_at', 32).notNullable();
  });

  await knex.schema.createTable('registry_acl', (t) => {
    t.increments('id').primary();
    t.string('repository_glob', 255).notNullable();
    /** A user or robot name, `group:NAME`, `authenticated` or `anonymous`. */
    t.string('subject', 100).notNullable();
    /** JSON array, a subset of pull, push, delete. */
    t.text('actions').notNullable();
    t.string('created_at', 32).notNullable();
    t.unique(['repository_glob', 'subject']);
  });

  await knex.schema.createTable('registry_auth_keys', (t) => {
    t.string('name', 64).primary();
    t.text('secret').notNullable();
    t.string('created_at', 32).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('registry_auth_keys');
  await knex.schema.dropTableIfExists('registry_acl');
  await knex.schema.dropTableIfExists('registry_users');
}
