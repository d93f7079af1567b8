// List-then-watch over the API (issue 17), as a client outside the server uses it: GET /api/v1/tasks
// with an owner prefix gives the tasks and a cursor; GET /api/v1/tasks/changes long-polls for the
// changes after a cursor, so a client that stops and comes back with its last cursor misses nothing;
// after a restart of the server, an old cursor is 410 and the client lists again.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, freePort, killAll, startGantry, submitTask, tempDir, type Started } from '../helpers/processes.ts';

interface Changes {
  changes: Array<{ cursor: string; task: TaskRecord }>;
  cursor: string;
}

describe('tasks: list, then watch from the cursor', function () {
  this.timeout(60_000);
  const dir = tempDir('task-watch');
  let server: Started | undefined;
  let url = '';

  const start = async (): Promise<void> => {
    server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', url.replace('http://', ''), '--registry-listen', '127.0.0.1:0', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Local agent \S+ registered/,
    );
  };

  before(async () => {
    url = `http://127.0.0.1:${await freePort()}`;
    await start();
  });
  after(async () => {
    await server?.stop();
    killAll();
  });

  it('a client that stops and resumes from its last cursor gets every change it missed; a long poll wakes on the first one', async () => {
    const client = api(url);
    // The owner kinds the domains submit under are theirs: an app: task of no app would be killed at once.
    for (const owner of ['app:web:0', 'job:nightly:1', 'ci:r-1:0']) {
      const refused = await client.post<{ error: string; message: string }>('/api/v1/tasks', { owner, cmd: 'true' });
      assert.equal(refused.status, 400, owner);
      assert.match(refused.body.message, new RegExp(`^invalid task: the owner kind "${owner.split(':')[0]}:" belongs to `));
    }
    const listed = await client.get<{ tasks: TaskRecord[]; cursor: string }>('/api/v1/tasks?ownerPrefix=svc:web:');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.tasks, []);

    // A long poll from the list's cursor answers as soon as a task of the prefix changes.
    const polling = client.get<Changes>(`/api/v1/tasks/changes?ownerPrefix=svc:web:&cursor=${listed.body.cursor}&waitMs=30000`);
    const started = Date.now();
    const web = await submitTask(client, { owner: 'svc:web:0', cmd: 'echo hi', ports: [0] });
    await submitTask(client, { owner: 'svc:webhooks:0', cmd: 'true' });
    const first = await polling;
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.ok(Date.now() - started < 10_000, 'the poll answered on the change, not at its timeout');
    assert.ok(first.body.changes.length >= 1 && first.body.changes.every((c) => c.task.spec.owner === 'svc:web:0'), JSON.stringify(first.body.changes.map((c) => c.task.spec.owner)));

    // The client stops here, with its last cursor; meanwhile the task runs and ends.
    const last = first.body.cursor;
    // Asked again from that cursor until the task's end is among the changes (each answer comes at once
    // while there are changes since the cursor: a count of asks ran out before a loaded machine ended it).
    let seen: TaskRecord[] = [];
    const deadline = Date.now() + 60_000;
    while (!seen.some((t) => t.state === 'finished') && Date.now() < deadline) {
      const more = await client.get<Changes>(`/api/v1/tasks/changes?ownerPrefix=svc:web:&cursor=${last}&waitMs=1000`);
      seen = more.body.changes.map((c) => c.task);
      if (!seen.some((t) => t.state === 'finished')) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const states = [...first.body.changes.map((c) => c.task), ...seen].map((t) => t.state).filter((s, i, all) => s !== all[i - 1]);
    assert.deepEqual(states, ['queued', 'staging', 'running', 'finished'], 'every state once, none missed between the two clients');
    const running = seen.find((t) => t.state === 'running')!;
    assert.ok(running.allocation?.host, 'a running task says its host');
    assert.equal(running.allocation?.ports.length, 1, 'and its ports');
    assert.equal(running.id, web.id);

    // A wrong cursor is 400; after a restart of the server the old one is 410 with what to do.
    const bad = await client.get<{ error: string; message: string }>('/api/v1/tasks/changes?cursor=nonsense');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /not a watch cursor/);
    await server!.stop();
    await start();
    const stale = await client.get<{ error: string; message: string }>(`/api/v1/tasks/changes?ownerPrefix=svc:web:&cursor=${last}`);
    assert.equal(stale.status, 410);
    assert.equal(stale.body.error, 'gone');
    assert.match(stale.body.message, /list the tasks again/);
    const relisted = await client.get<{ tasks: TaskRecord[]; cursor: string }>('/api/v1/tasks?ownerPrefix=svc:web:');
    assert.deepEqual(relisted.body.tasks.map((t) => [t.id, t.state]), [[web.id, 'finished']]);
    assert.notEqual(relisted.body.cursor, last);
  });
});
