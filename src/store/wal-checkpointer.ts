// SQLite WAL checkpoints off the request path.
//
// SQLite's automatic checkpoint runs inside the commit that makes the write-ahead log reach its
// threshold (1,000 pages): that commit's caller, and with the store's one connection every query queued
// behind it, waits while the pages are copied into the database file and the file is fsynced. A burst
// of webhook deliveries (7.7 KB each) crossed it every ~500 deliveries, a stall of all the in-flight
// answers (bench/README.md, CI). So the store's connection checkpoints itself only as a safety net
// (SAFETY_NET_PAGES), and this second connection checkpoints every second, once the log has grown, in
// PASSIVE mode: it copies what is committed without taking the writer's lock, so transactions go on
// appending meanwhile, and the next one starts the log from its beginning again once all of it is in.
import { stat } from 'node:fs/promises';
import sqlite3 from 'sqlite3';

/** The store connection's own automatic checkpoint threshold (pages of 4 KiB): only if this falls behind. */
export const SAFETY_NET_PAGES = 10_000;

export interface WalCheckpointerOptions {
  intervalMs?: number;
  /** The log is left alone below this size. */
  minWalBytes?: number;
  log?: (message: string) => void;
}

export interface WalCheckpointer {
  /** Checkpoints now if the log has grown (what the timer does); for tests. */
  tick(): Promise<void>;
  /** Stops the timer and closes the connection. */
  stop(): Promise<void>;
}

export function startWalCheckpointer(filename: string, options: WalCheckpointerOptions = {}): WalCheckpointer {
  const minWalBytes = options.minWalBytes ?? 1024 * 1024;
  let db: sqlite3.Database | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const open = (): Promise<sqlite3.Database> =>
    new Promise((resolve, reject) => {
      const opened = new sqlite3.Database(filename, sqlite3.OPEN_READWRITE, (err) => (err ? reject(err) : resolve(opened)));
    });
  const run = (connection: sqlite3.Database, sql: string): Promise<void> =>
    new Promise((resolve, reject) => connection.run(sql, (err) => (err ? reject(err) : resolve())));

  const checkpoint = async (): Promise<void> => {
    const walBytes = await stat(`${filename}-wal`).then((s) => s.size, () => 0);
    if (walBytes < minWalBytes || stopped) return;
    if (!db) {
      db = await open();
      await run(db, 'PRAGMA busy_timeout = 5000');
    }
    await run(db, 'PRAGMA wal_checkpoint(PASSIVE)');
  };
  const tick = (): Promise<void> => {
    running ??= checkpoint()
      .catch((err: Error) => options.log?.(`WAL checkpoint failed (the store's own checkpoint takes over at ${SAFETY_NET_PAGES} pages): ${err.message}`))
      .finally(() => (running = null));
    return running;
  };

  const timer = setInterval(() => void tick(), options.intervalMs ?? 1000);
  timer.unref();
  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      const connection = db;
      db = null;
      if (connection) await new Promise<void>((resolve) => connection.close(() => resolve()));
    },
  };
}
