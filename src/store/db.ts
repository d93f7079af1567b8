// Opens the database through knex: a SQLite file in the data directory by default, PostgreSQL when
// the URL says so. Everything above this file is written once for both.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { Invalid } from '../shared/errors.ts';

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
      afterCreate(conn: { run(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.run('PRAGMA journal_mode = WAL', (err) => {
          if (err) return done(err, conn);
          conn.run('PRAGMA synchronous = NORMAL', (err2) => {
            if (err2) return done(err2, conn);
            conn.run('PRAGMA busy_timeout = 5000', (err3) => {
              if (err3) return done(err3, conn);
              // 64 MiB of page cache instead of 2 MiB: the task table's hot pages stay in memory.
              conn.run('PRAGMA cache_size = -65536', (err4) => done(err4, conn));
            });
          });
        });
      },
    },
  });
}
