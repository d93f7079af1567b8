// The store: one knex connection, every migration (the one ordered list, each domain's tables
// included), and the tokens repository. Each domain keeps its own tables' code and gets the knex
// handle from main.ts (the cluster's agents and tasks: cluster/store/); nothing here knows a domain.
import type { Knex } from 'knex';
import { connectDatabase, databaseKind, sqliteFile, type DatabaseKind, type DatabaseOptions } from './db.ts';
import { startWalCheckpointer } from './wal-checkpointer.ts';
import { migrateToLatest } from './migrations/index.ts';
import { TokenRepository } from './tokens.ts';

export interface Store {
  readonly kind: DatabaseKind;
  readonly knex: Knex;
  readonly tokens: TokenRepository;
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
    close: async () => {
      await checkpointer?.stop();
      await knex.destroy();
    },
  };
}

export type { DatabaseOptions } from './db.ts';
export type { TokenKind, TokenRecord } from './tokens.ts';
export { hashToken } from './tokens.ts';
