// The store's SQLite write-ahead log is checkpointed by a second connection, not inside the commits.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { connectDatabase } from '../../src/store/db.ts';
import { startWalCheckpointer } from '../../src/store/wal-checkpointer.ts';
import { tempDir } from '../helpers/processes.ts';

const size = (file: string) => statSync(file, { throwIfNoEntry: false })?.size ?? 0;

/** A store connection (the store's pragmas) and a checkpointer that only runs when the test ticks it. */
function openWithCheckpointer() {
  const file = path.join(tempDir('wal'), 'gantry.sqlite');
  const knex = connectDatabase({ databaseUrl: `sqlite://${file}`, dataDir: path.dirname(file) });
  const checkpointer = startWalCheckpointer(file, { intervalMs: 3_600_000 });
  const close = async () => {
    await checkpointer.stop();
    await knex.destroy();
  };
  return { file, knex, checkpointer, close };
}

describe('SQLite WAL checkpointer', () => {
  it('leaves checkpoints out of the commits and copies the log into the database file itself', async () => {
    const { file, knex, checkpointer, close } = openWithCheckpointer();
    try {
      await knex.schema.createTable('payloads', (t) => t.text('body'));
      const body = 'x'.repeat(7_700); // a webhook delivery's payload
      for (let i = 0; i < 100; i++) await knex('payloads').insert(Array.from({ length: 10 }, () => ({ body })));
      // 7.7 MB committed, ~1,900 pages: SQLite's default would have checkpointed inside a commit by now.
      assert.ok(size(`${file}-wal`) > 7_000_000, `the log holds the commits (${size(`${file}-wal`)} bytes)`);
      assert.ok(size(file) < 1_000_000, `nothing copied into the database yet (${size(file)} bytes)`);

      await checkpointer.tick();
      assert.ok(size(file) > 7_000_000, `the checkpointer copied the log into the database (${size(file)} bytes)`);
      const walBefore = size(`${file}-wal`);
      await knex('payloads').insert({ body });
      assert.equal(size(`${file}-wal`), walBefore, 'the next commit starts the log over instead of growing it');
      assert.equal((await knex('payloads').count({ n: '*' }))[0]!.n, 1001);
    } finally {
      await close();
    }
  });

  it('does nothing while the log is small', async () => {
    const { file, knex, checkpointer, close } = openWithCheckpointer();
    try {
      await knex.schema.createTable('t', (t) => t.text('v'));
      await knex('t').insert({ v: 'small' });
      const before = size(file);
      await checkpointer.tick();
      assert.equal(size(file), before);
    } finally {
      await close();
    }
  });
});
