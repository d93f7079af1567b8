// What an agent may say about a task over the agent API: only about a task the master gave it. The
// master takes a report of a task staged on another agent as unknown (404) and changes nothing; a
// repeated or stale report changes nothing either.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { JOIN_TOKEN, ADMIN_TOKEN, api, killAll, startGantry, submitTask, tempDir, waitFor, type Started } from '../helpers/processes.ts';

describe('agent status reports', function () {
  this.timeout(60_000);
  const dir = tempDir('agent-reports');
  let server: Started | undefined;

  after(async () => {
    await server?.stop();
    killAll();
  });

  /** Registers an agent as `gantry agent` does; its id and a client holding its own token. */
  async function register(url: string, hostname: string): Promise<{ id: string; client: ReturnType<typeof api> }> {
    const { status, body } = await api(url, JOIN_TOKEN).post<{ agentId: string; agentToken: string }>('/api/v1/agent/register', {
      hostname,
      resources: { scalars: { cpus: 1, mem: 256 }, ranges: {}, sets: {} },
      attributes: {},
      drivers: ['exec'],
      runningTaskIds: [],
    });
    assert.equal(status, 200, JSON.stringify(body));
    return { id: body.agentId, client: api(url, body.agentToken) };
  }

  it("refuses a report on another agent's task and ignores repeated ones", async () => {
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    server = started;
    const url = started.match[1]!;
    const admin = api(url);
    const owner = await register(url, 'owner-host');
    const other = await register(url, 'other-host');
    const submitted = await submitTask(admin, { cmd: 'true', constraints: ['hostname:IS:owner-host'] });
    const staged = await waitFor('the task staged on its agent', async () => {
      const { body } = await admin.get<TaskRecord>(`/api/v1/tasks/${submitted.id}`);
      return body.state === 'staging' ? body : undefined;
    });
    assert.equal(staged.agentId, owner.id);
    const report = (agent: typeof owner, body: Record<string, unknown>) => agent.client.post(`/api/v1/agent/${agent.id}/status`, { taskId: submitted.id, ...body });
    const task = async () => (await admin.get<TaskRecord>(`/api/v1/tasks/${submitted.id}`)).body;

    assert.equal((await report(other, { state: 'running' })).status, 404, 'not its task');
    assert.equal((await task()).state, 'staging');

    assert.equal((await report(owner, { state: 'running', limits: 'none requested' })).status, 204);
    const running = await task();
    assert.equal(running.state, 'running');
    assert.ok(running.startedAt);

    assert.equal((await report(other, { state: 'running' })).status, 404, 'still not its task');
    assert.equal((await report(owner, { state: 'running' })).status, 204, 'a repeated report is accepted');
    assert.equal((await task()).startedAt, running.startedAt, 'and changes nothing');

    assert.equal((await report(other, { state: 'finished', exitCode: 0 })).status, 404);
    assert.equal((await task()).state, 'running');
    assert.equal((await report(owner, { state: 'finished', exitCode: 0 })).status, 204);
    const finished = await task();
    assert.equal(finished.state, 'finished');
    assert.equal((await report(owner, { state: 'running' })).status, 204, 'a stale report after the end is accepted');
    assert.equal((await task()).state, 'finished', 'and changes nothing');
  });
});
