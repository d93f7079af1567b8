// Opens the database through knex: a SQLite file in the data directory by default, PostgreSQL when
// the URL says so. Everything above this file is written once for both.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { Invalid } from '../shared/errors.ts';
import { SAFETY_NET_PAGES } from './wal-checkpointer.ts';

export interface DatabaseOptions {
  /** `postgres://...` / `postgresql://...` or `sqlite:///abs/path.db`; absent → SQLite under dataDir. */
  databaseUrl?: string | undefined;
  dataDir: string;
}

export type DatabaseKind = 'sqlite' | 'postgres';

export function databaseKind(knex: Knex): DatabaseKind {
  return knex.client.config.client === 'pg' ? 'postgres' : 'sqlite';
}

export function connectDatabase(options: DatabaseOptions): Knex {
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    return knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 10 } });
  }
  let filename: string;
  if (url) {
    if (!url.startsWith('sqlite://')) {
      throw new Invalid(`database URL must start with postgres://, postgresql:// or sqlite:// (got "${url.split(':')[0]}:...")`);
    }
    filename = url.slice('sqlite://'.length);
  } else {
    filename = path.join(options.dataDir, 'gantry.sqlite');
  }
  mkdirSync(path.dirname(path.resolve(filename)), { recursive: true });
  return knexFactory({
    client: 'sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    // One connection: SQLite serialises writers anyway, and one connection keeps transactions simple.
    pool: {
      min: 1,
      max: 1,
      afterCreate(conn: SqliteConnection, done: (err: Error | null, conn: unknown) => void) {
        runPragmas(conn, SQLITE_PRAGMAS).then(() => done(null, conn), (err: Error) => done(err, conn));
      },
    },
  });
}

// WAL lets readers go on while one writer writes; NORMAL is durable across process crashes in WAL mode;
// foreign keys make ON DELETE CASCADE work (SQLite leaves them off by default); checkpoints are the
// WAL checkpointer's (wal-checkpointer.ts), this connection's own only a safety net.
const SQLITE_PRAGMAS = [
  'PRAGMA journal_mode = WAL',
  'PRAGMA synchronous = NORMAL',
  'PRAGMA busy_timeout = 5000',
  'PRAGMA foreign_keys = ON',
  `PRAGMA wal_autocheckpoint = ${SAFETY_NET_PAGES}`,
];

/** The SQLite file behind a knex made by connectDatabase, null for PostgreSQL. */
export function sqliteFile(knex: Knex): string | null {
  if (databaseKind(knex) !== 'sqlite') return null;
  return (knex.client.config.connection as { filename: string }).filename;
}

interface SqliteConnection {
  run(sql: string, cb: (err: Error | null) => void): void;
}

async function runPragmas(conn: SqliteConnection, pragmas: readonly string[]): Promise<void> {
  for (const pragma of pragmas) {
    await new Promise<void>((resolve, reject) => conn.run(pragma, (err) => (err ? reject(err) : resolve())));
  }
}
