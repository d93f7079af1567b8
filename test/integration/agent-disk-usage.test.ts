// An agent reports the disk its sandboxes use after each garbage collection round; `gantry agents`
// shows it.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { AgentRecord, TaskRecord } from '../../src/cluster/types.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, runCli, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

describe('agent disk usage', function () {
  this.timeout(60_000);
  const dir = tempDir('disk-usage');
  const started: Started[] = [];

  after(async () => {
    await Promise.all(started.map((p) => p.stop()));
    killAll();
  });

  it('is measured after each GC round, reported to the master and listed by `gantry agents`', async () => {
    const server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    started.push(server);
    const url = server.match[1]!;
    started.push(
      await startGantry(
        ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', 'disky', '--data-dir', path.join(dir, 'agent'), '--gc-interval', '300ms', '--log-level', 'warn'],
        {},
        /Agent \S+ joined/,
      ),
    );
    const client = api(url);
    const { body: task } = await client.post<TaskRecord>('/api/v1/tasks', { cmd: 'head -c 3000000 /dev/zero > big' });
    await waitFor('finished', async () => (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body.state === 'finished');
    const agent = await waitFor('the usage reported', async () => {
      const [a] = (await client.get<{ agents: AgentRecord[] }>('/api/v1/agents')).body.agents;
      return a?.diskUsage && a.diskUsage.sandboxesBytes >= 3_000_000 ? a : undefined;
    });
    assert.ok(agent.diskUsage!.sandboxesBytes < 3_500_000, `${agent.diskUsage!.sandboxesBytes} bytes`);
    assert.ok(Date.now() - Date.parse(agent.diskUsage!.measuredAt) < 10_000);
    const listed = await runCli(['agents'], { GANTRY_URL: url, GANTRY_TOKEN: ADMIN_TOKEN });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /DISK SANDBOXES\/CONTAINERS/);
    assert.match(listed.stdout, /disky .* 2\.9 MiB\/(-|[\d.]+ (B|KiB|MiB))/);
  });
});
