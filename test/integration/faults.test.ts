// What survives which failure (issue 6): real `gantry server` and `gantry agent` processes killed with
// SIGKILL at the worst moment.
// - An agent dies: its batch task is lost within the heartbeat timeout and replaced on another agent
//   (without using the job's retries); when the agent comes back it still runs the lost copy, and is
//   told to kill it: never two copies of one run.
// - An agent dies and is restarted (within the heartbeat timeout) while a task prints: the new agent
//   finds the task, goes on sending its output after what the master already holds (each line once)
//   and reports its real exit code.
// - The master dies with tasks running on two agents: they keep running; a task that ends meanwhile
//   is reported when the master is back (the agent buffers the report), with its output; after the
//   restart the same processes run (same pids) and nothing was launched twice.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, freePort, isAlive as alive, killAll, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

interface Run {
  id: string;
  state: string;
  taskId: string | null;
  taskIds: string[];
  attempt: number;
}

const tokens = { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN };

function pidsIn(file: string): number[] {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [];
}

/** The pid the exec driver recorded for a task on an agent (its sandbox's task.json). */
function recordedPid(agentDir: string, taskId: string): number {
  return (JSON.parse(readFileSync(path.join(agentDir, 'sandboxes', taskId, 'task.json'), 'utf8')) as { pid: number }).pid;
}

describe('faults: agent loss and master restart', function () {
  this.timeout(120_000);
  const dir = tempDir('faults');
  const started: Started[] = [];

  const startServer = async (dataDir: string, listen: string, heartbeat: string) => {
    const server = await startGantry(
      ['server', '--data-dir', dataDir, '--listen', listen, '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--heartbeat-timeout', heartbeat, '--log-level', 'warn'],
      tokens,
      /listening on (http:\/\/\S+)/,
    );
    started.push(server);
    return { server, url: server.match[1]! };
  };
  const startAgent = async (url: string, name: string) => {
    const agent = await startGantry(
      ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', name, '--data-dir', path.join(dir, name), '--log-level', 'warn'],
      {},
      /Agent \S+ joined/,
    );
    started.push(agent);
    return agent;
  };

  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
  });
  after(() => killAll());

  it('replaces the batch task of a killed agent on another agent, and kills the lost copy when the agent returns', async () => {
    const { url } = await startServer(path.join(dir, 'server-a'), '127.0.0.1:0', '2s');
    const client = api(url);
    const alpha = await startAgent(url, 'alpha');
    const pids = path.join(dir, 'job-pids');
    const created = await client.post('/api/v1/jobs', {
      name: 'long-job',
      command: `echo $$ >> ${pids}; exec sleep 60`,
      schedule: 'R/2030-01-01T00:00:00Z/P1D',
      retries: 0,
      cpus: 0.1,
      mem: 64,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await client.post('/api/v1/jobs/long-job/run')).status, 201);
    const first = await waitFor('the run running on alpha', async () => {
      const [run] = (await client.get<{ runs: Run[] }>('/api/v1/jobs/long-job/runs')).body.runs;
      if (run?.state !== 'running' || !run.taskId) return undefined;
      const task = (await client.get<TaskRecord>(`/api/v1/tasks/${run.taskId}`)).body;
      return task.state === 'running' && pidsIn(pids).length === 1 ? task : undefined;
    });
    const [firstPid] = pidsIn(pids);
    await startAgent(url, 'beta');

    const killedAt = Date.now();
    alpha.child.kill('SIGKILL');
    const lost = await waitFor('the task lost', async () => {
      const task = (await client.get<TaskRecord>(`/api/v1/tasks/${first.id}`)).body;
      return task.state === 'lost' ? task : undefined;
    });
    const replaced = await waitFor('a replacement running', async () => {
      const [run] = (await client.get<{ runs: Run[] }>('/api/v1/jobs/long-job/runs')).body.runs;
      if (!run || run.taskId === first.id || !run.taskId) return undefined;
      const task = (await client.get<TaskRecord>(`/api/v1/tasks/${run.taskId}`)).body;
      return task.state === 'running' && pidsIn(pids).length === 2 ? { run, task } : undefined;
    });
    const replacedAfterMs = Date.now() - killedAt;
    assert.match(lost.reason ?? '', /unreachable \(no heartbeat for 2s\)/);
    assert.ok(replacedAfterMs < 6000, `replaced ${replacedAfterMs} ms after the kill (heartbeat timeout 2 s)`);
    assert.equal(replaced.run.state, 'running');
    assert.equal(replaced.run.attempt, 0, 'a lost task is replaced without using a retry (retries: 0)');
    assert.deepEqual(replaced.run.taskIds, [first.id, replaced.task.id]);
    const agents = (await client.get<{ agents: Array<{ id: string; hostname: string }> }>('/api/v1/agents')).body.agents;
    assert.equal(replaced.task.agentId, agents.find((a) => a.hostname === 'beta')?.id, 'the replacement runs on beta');
    assert.ok(alive(firstPid!), 'the lost copy still runs on the dead agent’s machine');

    // alpha comes back: it finds the lost copy still running and is told to kill it.
    await startAgent(url, 'alpha');
    await waitFor('the lost copy killed', async () => !alive(firstPid!), 15_000);
    const [, secondPid] = pidsIn(pids);
    assert.ok(alive(secondPid!), 'the replacement keeps running');
    assert.equal(pidsIn(pids).length, 2, 'nothing started a third copy');
    assert.equal((await client.get<TaskRecord>(`/api/v1/tasks/${first.id}`)).body.state, 'lost', 'the lost task stays lost');
    await client.post('/api/v1/jobs/long-job/kill');
    await waitFor('the replacement killed', async () => !alive(secondPid!));
  });

  it('an agent restarted mid-task goes on with its output (each line once) and reports its exit code', async () => {
    const { url } = await startServer(path.join(dir, 'server-c'), '127.0.0.1:0', '30s');
    const client = api(url);
    let epsilon = await startAgent(url, 'epsilon');
    const go = path.join(dir, 'go');
    const { body: task } = await client.post<TaskRecord>('/api/v1/tasks', {
      // Three lines apart (three chunks at the master), which the restarted agent reads back as one.
      cmd: `for i in 1 2 3; do echo line-$i; sleep 0.3; done; while [ ! -f ${go} ]; do sleep 0.05; done; for i in 4 5 6; do echo line-$i; echo err-$i >&2; sleep 0.2; done; exit 3`,
    });
    const logsOf = async (): Promise<string> =>
      (await fetch(`${url}/api/v1/tasks/${task.id}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text()));
    await waitFor('the first lines at the master', async () => /line-3/.test(await logsOf()));
    const pid = recordedPid(path.join(dir, 'epsilon'), task.id);

    epsilon.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    epsilon = await startAgent(url, 'epsilon');
    await writeFile(go, '');
    const ended = await waitFor('the task ended', async () => {
      const now = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
      return now.state === 'failed' ? now : undefined;
    });
    assert.equal(ended.exitCode, 3, 'the real exit code (from the launcher helper), not unknown');
    assert.ok(!alive(pid));
    const text = await logsOf();
    for (const line of ['line-1', 'line-2', 'line-3', 'line-4', 'line-5', 'line-6', 'err-4', 'err-5', 'err-6']) {
      assert.equal(text.split('\n').filter((l) => l === line).length, 1, `${line} exactly once in:\n${text}`);
    }
  });

  it('an agent restarted during a restarted task\'s run keeps restarting it, with its counts, each line once', async () => {
    const { url } = await startServer(path.join(dir, 'server-e'), '127.0.0.1:0', '30s');
    const client = api(url);
    let zeta = await startAgent(url, 'zeta');
    const runs = path.join(dir, 'zeta-runs');
    const { body: task } = await client.post<TaskRecord>('/api/v1/tasks', {
      // Each run numbers itself from the file, prints twice apart, and fails.
      cmd: `echo x >> ${runs}; n=$(wc -l < ${runs}); echo run-$n-a; sleep 0.8; echo run-$n-b; exit 5`,
      restart: { policy: 'on-failure', backoffMs: 200, factor: 2 },
    });
    assert.ok(task.id, JSON.stringify(task));
    const logsOf = async (): Promise<string> =>
      (await fetch(`${url}/api/v1/tasks/${task.id}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text()));
    // In the middle of the second run (after the first restart).
    await waitFor('run 2 printing', async () => /run-2-a/.test(await logsOf()));

    zeta.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    zeta = await startAgent(url, 'zeta');
    const looping = await waitFor('3 restarts', async () => {
      const now = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
      return now.restarts >= 3 ? now : undefined;
    }, 20_000);
    assert.equal(looping.state, 'running');
    await client.post(`/api/v1/tasks/${task.id}/kill`);
    await waitFor('killed', async () => (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body.state === 'killed');

    const text = await logsOf();
    for (const line of ['run-1-a', 'run-1-b', 'run-2-a', 'run-2-b', 'run-3-a', 'run-3-b']) {
      assert.equal(text.split('\n').filter((l) => l === line).length, 1, `${line} exactly once in:\n${text}`);
    }
    // The counts went on through the agent's restart: restart 3 waited 0.8 s (0.2 × 2²).
    const restarts = text.split('\n').filter((l) => l.startsWith('[gantry] '));
    assert.deepEqual(restarts.slice(0, 3), [
      '[gantry] exited with code 5; restart 1 in 0.2s',
      '[gantry] exited with code 5; restart 2 in 0.4s',
      '[gantry] exited with code 5; restart 3 in 0.8s',
    ]);
  });

  it('keeps tasks running through a master kill -9; after the restart the same processes run and a task that ended meanwhile has its status and output', async () => {
    const port = await freePort();
    const dataDir = path.join(dir, 'server-b');
    let { server, url } = await startServer(dataDir, `127.0.0.1:${port}`, '30s');
    let client = api(url);
    await startAgent(url, 'gamma');
    await startAgent(url, 'delta');
    const submit = async (cmd: string, host: string) =>
      (await client.post<TaskRecord>('/api/v1/tasks', { cmd, constraints: [['hostname', 'IS', host]], killGraceMs: 500 })).body;
    const onGamma = await submit('sleep 60', 'gamma');
    const onDelta = await submit('sleep 60', 'delta');
    const endsMeanwhile = await submit('sleep 3; echo finished while the master was down; exit 4', 'delta');
    for (const task of [onGamma, onDelta, endsMeanwhile]) {
      await waitFor(`${task.id} running`, async () => (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body.state === 'running');
    }
    const pidGamma = recordedPid(path.join(dir, 'gamma'), onGamma.id);
    const pidDelta = recordedPid(path.join(dir, 'delta'), onDelta.id);
    const pidEnding = recordedPid(path.join(dir, 'delta'), endsMeanwhile.id);

    server.child.kill('SIGKILL');
    await waitFor('the short task ended with no master', async () => !alive(pidEnding), 15_000);
    assert.ok(alive(pidGamma) && alive(pidDelta), 'the agents keep their tasks running');

    ({ server, url } = await startServer(dataDir, `127.0.0.1:${port}`, '30s'));
    client = api(url);
    const ended = await waitFor('the buffered report delivered', async () => {
      const task = (await client.get<TaskRecord>(`/api/v1/tasks/${endsMeanwhile.id}`)).body;
      return task.state === 'failed' ? task : undefined;
    });
    assert.equal(ended.exitCode, 4);
    const logs = await fetch(`${url}/api/v1/tasks/${endsMeanwhile.id}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.match(await logs.text(), /finished while the master was down/);
    for (const [task, pid, agent] of [[onGamma, pidGamma, 'gamma'], [onDelta, pidDelta, 'delta']] as const) {
      const now = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
      assert.equal(now.state, 'running', `${task.id} still running`);
      assert.equal(recordedPid(path.join(dir, agent), task.id), pid, 'the same process, not a new launch');
      assert.ok(alive(pid));
    }
    const all = (await client.get<{ tasks: TaskRecord[] }>('/api/v1/tasks?limit=100')).body.tasks;
    assert.equal(all.length, 3, 'no task was launched twice');
    for (const task of [onGamma, onDelta]) await client.post(`/api/v1/tasks/${task.id}/kill`);
    await waitFor('the tasks killed', async () => !alive(pidGamma) && !alive(pidDelta));
  });
});
