// The store: one knex connection, migrations, and one repository per aggregate. Other folders use
// the repositories, never the tables.
import type { Knex } from 'knex';
import { AgentRepository } from './agents.ts';
import { connectDatabase, databaseKind, sqliteFile, type DatabaseKind, type DatabaseOptions } from './db.ts';
import { startWalCheckpointer } from './wal-checkpointer.ts';
import { migrateToLatest } from './migrations/index.ts';
import { TaskRepository } from './tasks.ts';
import { TokenRepository } from './tokens.ts';

export interface Store {
  readonly kind: DatabaseKind;
  readonly knex: Knex;
  readonly tokens: TokenRepository;
  readonly agents: AgentRepository;
  readonly tasks: TaskRepository;
  close(): Promise<void>;
}

/** Connects and brings the schema to the latest migration. */
export async function openStore(options: DatabaseOptions): Promise<Store> {
  const knex = connectDatabase(options);
  try {
    await migrateToLatest(knex);
  } catch (err) {
    await knex.destroy();
    throw err;
  }
  const file = sqliteFile(knex);
  const checkpointer = file ? startWalCheckpointer(file) : null;
  return {
    kind: databaseKind(knex),
    knex,
    tokens: new TokenRepository(knex),
    agents: new AgentRepository(knex),
    tasks: new TaskRepository(knex),
    close: async () => {
      await checkpointer?.stop();
      await knex.destroy();
    },
  };
}

export type { DatabaseOptions } from './db.ts';
export type { TaskQuery, Staging, Finish, Restart } from './tasks.ts';
export type { TokenKind, TokenRecord } from './tokens.ts';
export { hashToken } from './tokens.ts';
