// The whole server on PostgreSQL: the same code path as on SQLite, through GANTRY_DATABASE_URL.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, runCli, startGantry, tempDir, type Started } from '../helpers/processes.ts';

describe('server on PostgreSQL', function () {
  this.timeout(60_000);
  const url = process.env.GANTRY_TEST_DATABASE_URL;
  let server: Started | undefined;

  before(function () {
    if (!url && process.env.GANTRY_REQUIRE_POSTGRES === '1') throw new Error('GANTRY_REQUIRE_POSTGRES=1 but GANTRY_TEST_DATABASE_URL is not set');
    if (!url) this.skip();
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('runs a task and keeps its record in PostgreSQL', async () => {
    const started = await startGantry(
      ['server', '--data-dir', path.join(tempDir('pg'), 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--log-level', 'warn'],
      { GANTRY_DATABASE_URL: url!, GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+) .*store: (\w+)/,
    );
    server = started;
    assert.equal(started.match[2], 'postgres');
    const env = { GANTRY_URL: started.match[1]!, GANTRY_TOKEN: ADMIN_TOKEN };
    const result = await runCli(['run', '--', 'echo', 'hello from postgres'], env);
    assert.equal(result.stdout, 'hello from postgres\n');
    assert.equal(result.code, 0);
    const [task] = JSON.parse((await runCli(['tasks', '--json', '--limit', '1'], env)).stdout) as Array<{ state: string; exitCode: number }>;
    assert.equal(task?.state, 'finished');
    assert.equal(task?.exitCode, 0);
  });
});
