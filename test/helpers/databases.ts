// The databases the store is tested on: always a SQLite file; PostgreSQL when
// GANTRY_TEST_DATABASE_URL names a server. With GANTRY_REQUIRE_POSTGRES=1 (CI) a missing server fails
// the run instead of skipping those tests.
import knexFactory from 'knex';
import type { DatabaseOptions } from '../../src/store/index.ts';
import { tempDir } from './temp-dirs.ts';

export interface TestDatabase {
  name: string;
  /** Options for openStore on a clean database. */
  prepare(): Promise<DatabaseOptions>;
}

export function testDatabases(): TestDatabase[] {
  const databases: TestDatabase[] = [
    {
      name: 'sqlite',
      async prepare() {
        return { dataDir: tempDir('store') };
      },
    },
  ];
  const url = process.env.GANTRY_TEST_DATABASE_URL;
  if (url) {
    databases.push({
      name: 'postgres',
      async prepare() {
        await resetPostgres(url);
        return { dataDir: tempDir('store'), databaseUrl: url };
      },
    });
  } else if (process.env.GANTRY_REQUIRE_POSTGRES === '1') {
    databases.push({
      name: 'postgres',
      async prepare() {
        throw new Error('GANTRY_REQUIRE_POSTGRES=1 but GANTRY_TEST_DATABASE_URL is not set');
      },
    });
  }
  return databases;
}

/** Drops everything in the public schema so each run starts from an empty database. */
async function resetPostgres(url: string): Promise<void> {
  const knex = knexFactory({ client: 'pg', connection: url });
  try {
    await knex.raw('DROP SCHEMA IF EXISTS public CASCADE');
    await knex.raw('CREATE SCHEMA public');
  } finally {
    await knex.destroy();
  }
}
