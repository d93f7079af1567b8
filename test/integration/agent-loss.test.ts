// Heartbeats and restarts: an agent that stops polling becomes unreachable and its tasks lost; a
// restarted server keeps its tasks, agents and tokens.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, runCli, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

describe('agent loss and server restart', function () {
  this.timeout(120_000);
  const dir = tempDir('loss');
  const tokens = { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN };
  let server: Started | undefined;

  const startServer = async (): Promise<string> => {
    server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--heartbeat-timeout', '2s', '--log-level', 'warn'],
      tokens,
      /listening on (http:\/\/\S+)/,
    );
    return (server as Started & { match: RegExpMatchArray }).match[1]!;
  };

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('queues with "no agents registered" when the pool is empty', async () => {
    const url = await startServer();
    const client = api(url);
    const { body: task } = await client.post<TaskRecord>('/api/v1/tasks', { args: ['true'] });
    const waiting = await waitFor('a waiting reason', async () => (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body.waitingReason);
    assert.equal(waiting, 'no agents registered');
    await client.post(`/api/v1/tasks/${task.id}/kill`);
    assert.equal((await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body.state, 'killed');
  });

  it('marks a silent agent unreachable and its tasks lost', async () => {
    const url = (server as Started & { match: RegExpMatchArray }).match[1]!;
    const client = api(url);
    const agent = await startGantry(
      ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', 'doomed', '--data-dir', path.join(dir, 'doomed'), '--log-level', 'warn'],
      {},
      /joined/,
    );
    const { body: task } = await client.post<TaskRecord>('/api/v1/tasks', { args: ['sleep', '4'] });
    await waitFor('running', async () => (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body.state === 'running');
    agent.child.kill('SIGKILL');
    const lost = await waitFor('lost', async () => {
      const now = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
      return now.state === 'lost' ? now : undefined;
    });
    assert.match(lost.reason ?? '', /unreachable \(no heartbeat for 2s\)/);
    const agents = (await client.get<{ agents: Array<{ hostname: string; state: string }> }>('/api/v1/agents')).body.agents;
    assert.equal(agents.find((a) => a.hostname === 'doomed')?.state, 'unreachable');
  });

  it('keeps tasks, agents and the admin token across a restart', async () => {
    const url = (server as Started & { match: RegExpMatchArray }).match[1]!;
    const before = (await api(url).get<{ tasks: TaskRecord[] }>('/api/v1/tasks')).body.tasks;
    await server!.stop();
    const again = await startServer();
    const result = await runCli(['tasks', '--json'], { GANTRY_URL: again, GANTRY_TOKEN: ADMIN_TOKEN });
    assert.equal(result.code, 0, result.stderr);
    const after = JSON.parse(result.stdout) as TaskRecord[];
    assert.deepEqual(after.map((t) => [t.id, t.state]), before.map((t) => [t.id, t.state]));
  });

  it('after a restart, places nothing on an agent that has not come back', async () => {
    let url = (server as Started & { match: RegExpMatchArray }).match[1]!;
    const agent = await startGantry(
      ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', 'gone-for-good', '--data-dir', path.join(dir, 'gone'), '--log-level', 'warn'],
      {},
      /joined/,
    );
    await server!.stop();
    agent.child.kill('SIGKILL');
    url = await startServer();
    const client = api(url);
    const { body: task } = await client.post<TaskRecord>('/api/v1/tasks', { args: ['true'] });
    const waiting = await waitFor('a waiting reason', async () => (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body.waitingReason);
    assert.equal(waiting, 'no agents registered');
    assert.equal((await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body.state, 'queued');
    await client.post(`/api/v1/tasks/${task.id}/kill`);
  });

  it('prints a generated admin token once; it works and is not printed again', async () => {
    const dataDir = path.join(dir, 'fresh');
    const args = ['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'];
    const first = await startGantry(args, {}, /Join token.*: (\S+)/);
    try {
      const url = /listening on (http:\/\/\S+)/.exec(first.output())![1]!;
      const token = /Admin token \(shown once, stored hashed\): (\S+)/.exec(first.output())?.[1];
      assert.ok(token, first.output());
      assert.equal((await api(url, token).get('/api/v1/agents')).status, 200);
    } finally {
      await first.stop();
    }
    const second = await startGantry(args, {}, /listening on/);
    await second.stop();
    assert.doesNotMatch(second.output(), /Admin token|Join token/);
  });
});
