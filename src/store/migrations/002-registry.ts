import type { Knex } from 'knex';

// The bundled registry's metadata (src/registry/metadata/). Blobs themselves are flat files in the blob
// store; everything else about them lives here, not in link files: which repository may see which
// blob, manifests and what they reference, tags, and who pushed what when.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registry_repositories', (t) => {
    t.increments('id').primary();
    t.string('name', 255).notNullable().unique();
    t.string('created_at', 32).notNullable();
  });

  // A blob a repository may read: pushed into it, mounted into it, or referenced by its manifests.
  await knex.schema.createTable('registry_repository_blobs', (t) => {
    t.integer('repository_id').notNullable().references('registry_repositories.id').onDelete('CASCADE');
    t.string('digest', 140).notNullable();
    t.bigInteger('size').notNullable();
    t.string('pushed_at', 32).notNullable();
    t.string('pushed_by', 200).nullable();
    t.primary(['repository_id', 'digest']);
    t.index(['digest']);
  });

  await knex.schema.createTable('registry_manifests', (t) => {
    t.integer('repository_id').notNullable().references('registry_repositories.id').onDelete('CASCADE');
    t.string('digest', 140).notNullable();
    t.string('media_type', 255).notNullable();
    t.bigInteger('size').notNullable();
    t.string('artifact_type', 255).nullable();
    /** The manifest this one refers to (OCI `subject`), for the referrers API. */
    t.string('subject_digest', 140).nullable();
    t.text('annotations').nullable();
    t.string('pushed_at', 32).notNullable();
    t.string('pushed_by', 200).nullable();
    t.string('last_pulled_at', 32).nullable();
    t.primary(['repository_id', 'digest']);
    t.index(['repository_id', 'subject_digest']);
  });

  // Every blob or manifest a manifest points to: what makes a blob live for garbage collection.
  await knex.schema.createTable('registry_manifest_references', (t) => {
    t.integer('repository_id').notNullable();
    t.string('manifest_digest', 140).notNullable();
    t.string('target_digest', 140).notNullable();
    t.string('kind', 16).notNullable(); // blob | manifest
    t.primary(['repository_id', 'manifest_digest', 'target_digest']);
    t.foreign(['repository_id', 'manifest_digest']).references(['repository_id', 'digest']).inTable('registry_manifests').onDelete('CASCADE');
    t.index(['target_digest']);
  });

  await knex.schema.createTable('registry_tags', (t) => {
    t.integer('repository_id').notNullable().references('registry_repositories.id').onDelete('CASCADE');
    t.string('name', 128).notNullable();
    t.string('manifest_digest', 140).notNullable();
    t.string('pushed_at', 32).notNullable();
    t.string('pushed_by', 200).nullable();
    t.primary(['repository_id', 'name']);
    t.foreign(['repository_id', 'manifest_digest']).references(['repository_id', 'digest']).inTable('registry_manifests').onDelete('CASCADE');
  });

  await knex.schema.createTable('registry_uploads', (t) => {
    t.string('id', 64).primary();
    t.integer('repository_id').notNullable().references('registry_repositories.id').onDelete('CASCADE');
    t.string('started_at', 32).notNullable();
    t.string('started_by', 200).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['registry_uploads', 'registry_tags', 'registry_manifest_references', 'registry_manifests', 'registry_repository_blobs', 'registry_repositories']) {
    await knex.schema.dropTable(table);
  }
}
