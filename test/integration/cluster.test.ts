// The pool as a user meets it: a server with its embedded agent and two remote agent processes with
// different attributes, driven through the `gantry` CLI and the HTTP API.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { spawn } from 'node:child_process';
import { ADMIN_TOKEN, GANTRY, JOIN_TOKEN, api, isAlive, killAll, runCli, startGantry, submitTask, tempDir, waitFor, type Started } from '../helpers/processes.ts';

describe('cluster: server + embedded agent + two remote agents', function () {
  this.timeout(120_000);
  const dir = tempDir('cluster');
  let server: Started;
  const agents: Started[] = [];
  let url = '';
  let env: Record<string, string> = {};
  let client: ReturnType<typeof api>;

  before(async () => {
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--agent-hostname', 'node-a',
        '--agent-attributes', 'rack:r1;zone:west', '--agent-resources', 'cpus:2;mem:1024;disk:1024;ports:[31000-31009]', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    server = started;
    url = started.match[1]!;
    env = { GANTRY_URL: url, GANTRY_TOKEN: ADMIN_TOKEN };
    client = api(url);
    for (const [name, attributes, ports] of [['node-b', 'rack:r2;zone:east', '[31010-31019]'], ['node-c', 'rack:r3;zone:east', '[31020-31029]']] as const) {
      agents.push(
        await startGantry(
          ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', name, '--attributes', attributes,
            '--resources', `cpus:2;mem:1024;disk:1024;ports:${ports}${name === 'node-b' ? ';bugs(debug_role):{a,b,c}' : ''}`, '--data-dir', path.join(dir, name), '--log-level', 'warn'],
          {},
          /joined/,
        ),
      );
    }
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await server?.stop();
    killAll();
  });

  const submit = (body: Record<string, unknown>): Promise<TaskRecord> => submitTask(client, body);

  async function task(id: string): Promise<TaskRecord> {
    return (await client.get<TaskRecord>(`/api/v1/tasks/${id}`)).body;
  }

  async function killAndWait(ids: string[]): Promise<void> {
    for (const id of ids) await client.post(`/api/v1/tasks/${id}/kill`);
    await waitFor('tasks to end', async () => {
      const states = await Promise.all(ids.map(async (id) => (await task(id)).state));
      return states.every((s) => ['killed', 'finished', 'failed', 'lost'].includes(s));
    });
  }

  it('lists the three agents with their attributes', async () => {
    const result = await runCli(['agents', '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    const listed = JSON.parse(result.stdout) as Array<{ hostname: string; state: string; attributes: Record<string, { value: string }> }>;
    assert.deepEqual(listed.map((a) => a.hostname).sort(), ['node-a', 'node-b', 'node-c']);
    assert.ok(listed.every((a) => a.state === 'ready'));
    assert.deepEqual(listed.map((a) => a.attributes.rack?.value).sort(), ['r1', 'r2', 'r3']);
  });

  it('`gantry run -- echo hello` prints hello and exits 0', async () => {
    const result = await runCli(['run', '--', 'echo', 'hello'], env);
    assert.equal(result.stdout, 'hello\n');
    assert.equal(result.code, 0, result.stderr);
  });

  it('exits with the task\'s exit code and keeps stderr apart', async () => {
    const result = await runCli(['run', '--sh', 'echo to-out; echo to-err >&2; exit 3'], env);
    assert.equal(result.code, 3);
    assert.equal(result.stdout, 'to-out\n');
    assert.match(result.stderr, /to-err/);
  });

  it('streams output while the task runs', async () => {
    const result = await runCli(['run', '--sh', 'echo first; sleep 3; echo second'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'first\nsecond\n');
    const first = result.stdoutTimes.find((t) => t.text.includes('first'));
    assert.ok(first, 'first line arrived');
    assert.ok(result.durationMs - first.at >= 2000, `"first" arrived ${first.at} ms after start, the run took ${result.durationMs} ms`);
  });

  it('places a custom set resource on the agent that has it and tells the task which items it got', async () => {
    const result = await runCli(['run', '--resource', 'bugs=2', '--sh', 'echo $HOST $GANTRY_RESOURCE_BUGS $PORT0'], env);
    assert.equal(result.code, 0, result.stderr);
    const [host, bugs, port] = result.stdout.trim().split(' ');
    assert.equal(host, 'node-b');
    assert.equal(bugs?.split(',').length, 2);
    assert.ok(bugs!.split(',').every((b) => ['a', 'b', 'c'].includes(b)));
    assert.equal(port, undefined, 'no port asked, none given');
    const tooMany = await client.post('/api/v1/tasks', { args: ['true'], resources: { bugs: 4 } });
    assert.equal(tooMany.status, 422);
    assert.match(tooMany.body.message, /bugs/);
  });

  it('gives a task the host port it asks for', async () => {
    const result = await runCli(['run', '--port', '31015', '--sh', 'echo $HOST $PORT0 $PORTS'], env);
    assert.equal(result.stdout, 'node-b 31015 31015\n');
  });

  it('hostname:UNIQUE: six tasks, three run (one per agent) and three wait with the reason', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push((await submit({ args: ['sleep', '120'], group: 'unique-demo', constraints: ['hostname:UNIQUE'], killGraceMs: 500 })).id);
    }
    try {
      const running = await waitFor('three running', async () => {
        const tasks = await Promise.all(ids.map(task));
        const run = tasks.filter((t) => t.state === 'running');
        return run.length === 3 ? tasks : undefined;
      });
      const runningAgents = new Set(running.filter((t) => t.state === 'running').map((t) => t.agentId));
      assert.equal(runningAgents.size, 3, 'one per agent');
      const waiting = running.filter((t) => t.state === 'queued');
      assert.equal(waiting.length, 3);
      for (const t of waiting) assert.equal(t.waitingReason, '3 agents: 3 failed hostname:UNIQUE');
      const queue = await runCli(['queue', '--json'], env);
      const queued = JSON.parse(queue.stdout) as Array<{ id: string; waitingReason: string }>;
      assert.deepEqual(queued.map((q) => q.id).sort(), waiting.map((t) => t.id).sort());
    } finally {
      await killAndWait(ids);
    }
  });

  it('rack:GROUP_BY spreads a group over the racks', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await submit({ args: ['sleep', '120'], group: 'by-rack', constraints: [['rack', 'GROUP_BY']], cpus: 0.1, killGraceMs: 500 })).id);
    try {
      const tasks = await waitFor('six running', async () => {
        const all = await Promise.all(ids.map(task));
        return all.every((t) => t.state === 'running') ? all : undefined;
      });
      const perAgent = new Map<string, number>();
      for (const t of tasks) perAgent.set(t.agentId!, (perAgent.get(t.agentId!) ?? 0) + 1);
      assert.deepEqual([...perAgent.values()], [2, 2, 2], `two per rack, got ${JSON.stringify([...perAgent])}`);
    } finally {
      await killAndWait(ids);
    }
  });

  it('kill stops the whole process group, including a child that ignores SIGTERM', async () => {
    const pidFile = path.join(dir, 'pids');
    const t = await submit({
      cmd: `sh -c 'trap "" TERM; sleep 300' & echo $! > ${pidFile}; sleep 300 & echo $! >> ${pidFile}; wait`,
      killGraceMs: 1000,
    });
    const pids = await waitFor('two pids', async () => {
      if (!existsSync(pidFile)) return undefined;
      const lines = readFileSync(pidFile, 'utf8').trim().split('\n').filter(Boolean).map(Number);
      return lines.length === 2 ? lines : undefined;
    });
    assert.ok(pids.every(isAlive));
    const result = await runCli(['kill', t.id], env);
    assert.equal(result.code, 0, result.stderr);
    const ended = await waitFor('killed', async () => {
      const now = await task(t.id);
      return now.state === 'killed' ? now : undefined;
    });
    assert.equal(ended.reason, 'killed by user');
    await waitFor('processes gone', async () => pids.every((pid) => !isAlive(pid)), 5000);
  });

  it('a memory limit kills a task that allocates past it, and says so', async function () {
    // `tail` keeps a line in memory until its end: 300 MiB without a newline needs 300 MiB.
    const result = await runCli(['run', '--mem', '32', '--sh', 'head -c 300000000 /dev/zero | tail -n 1 > /dev/null && echo survived'], env);
    const id = /gantry: task (\S+) /.exec(result.stderr)?.[1];
    const list = JSON.parse((await runCli(['tasks', '--json', '--limit', '1'], env)).stdout) as TaskRecord[];
    const record = list[0]!;
    if (process.getuid?.() !== 0) {
      assert.match(record.limits ?? '', /^not enforced/);
      return;
    }
    assert.equal(id, record.id);
    assert.notEqual(result.code, 0);
    assert.doesNotMatch(result.stdout, /survived/);
    assert.equal(record.state, 'failed');
    assert.match(record.reason ?? '', /OOM killer: memory limit exceeded/);
    assert.match(record.limits ?? '', /memory 32 MiB/);

    const small = await runCli(['run', '--mem', '32', '--sh', 'head -c 1000000 /dev/zero | tail -n 1 > /dev/null && echo survived'], env);
    assert.equal(small.code, 0, 'within the limit the same command succeeds');
    assert.equal(small.stdout, 'survived\n');
  });

  it('`gantry run` says why a task waits, and Ctrl-C kills it', async () => {
    const child = spawn(GANTRY, ['run', '--constraint', 'zone:IS:north', '--', 'true'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor('the waiting reason', async () => stderr.includes('waiting for an agent'));
    assert.match(stderr, /gantry: (t-\S+) waiting for an agent: 3 agents: 3 failed zone:IS:north/);
    const id = /gantry: (t-\S+) waiting/.exec(stderr)![1]!;
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 137);
    const killed = await task(id);
    assert.equal(killed.state, 'killed');
  });

  it('shows a remote agent\'s task output with `gantry logs`', async () => {
    const t = await submit({ cmd: 'echo from-$HOST', constraints: ['hostname:IS:node-c'] });
    await waitFor('finished', async () => (await task(t.id)).state === 'finished');
    const result = await runCli(['logs', t.id], env);
    assert.equal(result.stdout, 'from-node-c\n');
    const follow = await runCli(['logs', '-f', t.id], env);
    assert.equal(follow.stdout, 'from-node-c\n', 'follow on an ended task prints all and returns');
  });

  describe('bad input', () => {
    it('rejects a wrong admin token with 401 and a clear CLI error', async () => {
      const response = await api(url, 'gat_wrong').get('/api/v1/tasks');
      assert.equal(response.status, 401);
      assert.deepEqual(Object.keys(response.body).sort(), ['error', 'message']);
      const result = await runCli(['tasks'], { ...env, GANTRY_TOKEN: 'gat_wrong' });
      assert.equal(result.code, 1);
      assert.equal(result.stderr, 'gantry: the token is not valid\n');
    });

    it('rejects a submission without a token', async () => {
      const response = await fetch(`${url}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"cmd":"true"}' });
      assert.equal(response.status, 401);
    });

    it('rejects an unknown constraint operator, naming the valid ones, and stores nothing', async () => {
      const before = (await client.get<{ tasks: TaskRecord[] }>('/api/v1/tasks?limit=10000')).body.tasks.length;
      const result = await runCli(['run', '--constraint', 'hostname:SOMETIMES', '--', 'true'], env);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /^gantry: .*SOMETIMES.*UNIQUE/);
      const response = await client.post('/api/v1/tasks', { args: ['true'], constraints: [['rack', 'NEAR', 'r1']] });
      assert.equal(response.status, 400);
      assert.equal(response.body.error, 'invalid');
      const after = (await client.get<{ tasks: TaskRecord[] }>('/api/v1/tasks?limit=10000')).body.tasks.length;
      assert.equal(after, before);
    });

    it('rejects more CPU than any agent has with 422', async () => {
      const result = await runCli(['run', '--cpus', '64', '--', 'true'], env);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /cpus/);
      const response = await client.post('/api/v1/tasks', { args: ['true'], mem: 999_999 });
      assert.equal(response.status, 422);
      assert.match(response.body.message, /mem/);
    });

    it('answers 404 for an unknown task', async () => {
      const result = await runCli(['tasks', 't-does-not-exist'], env);
      assert.equal(result.code, 1);
      assert.equal(result.stderr, 'gantry: no task with id "t-does-not-exist"\n');
      assert.equal((await client.post('/api/v1/tasks/t-nope/kill')).status, 404);
    });

    it('rejects malformed JSON and a body that is not a task', async () => {
      const response = await fetch(`${url}/api/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{"cmd": ',
      });
      assert.equal(response.status, 400);
      const bad = await client.post('/api/v1/tasks', { cmd: 'true', args: ['true'] });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /exactly one of "cmd"/);
    });

    it('refuses an agent with a wrong join token', async () => {
      const result = await runCli(['agent', '--master', url, '--join-token', 'gjt_wrong', '--data-dir', path.join(dir, 'bad-agent')], {});
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /gantry: cannot join .*token is not valid/);
    });

    it('refuses an agent with malformed resources or attributes', async () => {
      const resources = await runCli(['agent', '--master', url, '--join-token', JOIN_TOKEN, '--resources', 'cpus:lots', '--data-dir', path.join(dir, 'bad-agent')], {});
      assert.notEqual(resources.code, 0);
      assert.match(resources.stderr, /^gantry: .*cpus:lots/);
      const attributes = await runCli(['agent', '--master', url, '--join-token', JOIN_TOKEN, '--attributes', 'rack', '--data-dir', path.join(dir, 'bad-agent')], {});
      assert.notEqual(attributes.code, 0);
      assert.match(attributes.stderr, /^gantry: .*rack/);
      const listed = (await client.get<{ agents: unknown[] }>('/api/v1/agents')).body.agents;
      assert.equal(listed.length, 3, 'no agent was half-registered');
    });
  });
});
