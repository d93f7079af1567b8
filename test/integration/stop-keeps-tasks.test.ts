// A stop is not an outage (issue 17): SIGTERM to `gantry server` (with its embedded agent) and to a
// remote `gantry agent` stops the process and leaves its tasks running, exactly as a crash does; the
// restarted processes take them back and their output goes on with no gap and no duplicate. Stopping
// tasks is explicit: `gantry agent drain` kills an agent's tasks (reported lost, for their owners to
// replace) and the agent leaves.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TaskRecord } from '../../src/cluster/types.ts';
import { docker, ensureBusyboxImage, requireDocker } from '../helpers/docker.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, api, freePort, isAlive, killAll, runCli, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

/** Prints tick-1, tick-2, ... five times a second, for ever. */
const TICKER = 'i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done';
const KEEP_TASKS = { GANTRY_DRAIN_ON_STOP: '0' };

/** The ticks in a task's log: each number from 1 to the last exactly once, in order, or the assertion says what is wrong. */
function assertTicksWhole(log: string, what: string): number {
  const ticks = log.split('\n').filter((l) => l.startsWith('tick-')).map((l) => Number(l.slice(5)));
  const expected = Array.from({ length: ticks.length }, (_, i) => i + 1);
  assert.deepEqual(ticks, expected, `${what}: the ticks are not 1..${ticks.length} each once`);
  return ticks.length;
}

function hasStackTrace(output: string): boolean {
  return /^\s+at .+\(.+:\d+:\d+\)$/m.test(output) || /^\s+at .+:\d+:\d+$/m.test(output);
}

describe('a stop keeps tasks running; a drain stops them', function () {
  this.timeout(180_000);
  const dir = tempDir('stop-keeps-tasks');
  const started: Started[] = [];
  let url = '';
  let listen = '';
  const image = 'gantry-test/busybox:stop-keeps-tasks';

  const startServer = async () => {
    const server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', listen, '--registry-listen', '127.0.0.1:0', '--agent-hostname', 'embedded', '--heartbeat-timeout', '30s', '--log-level', 'info'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, ...KEEP_TASKS },
      /Local agent \S+ registered/,
    );
    started.push(server);
    return server;
  };
  const startAgent = async (env: Record<string, string> = KEEP_TASKS) => {
    const agent = await startGantry(
      ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--hostname', 'remote', '--data-dir', path.join(dir, 'remote'), '--log-level', 'info'],
      env,
      /Agent \S+ joined/,
    );
    started.push(agent);
    return agent;
  };
  /** SIGTERM, and the process's exit code once it has exited. */
  const terminate = (p: Started): Promise<number | null> =>
    new Promise((resolve) => {
      p.child.once('exit', (code) => resolve(code));
      p.child.kill('SIGTERM');
    });

  before(async function () {
    await requireDocker(this);
    await ensureBusyboxImage(image);
    listen = `127.0.0.1:${await freePort()}`;
    url = `http://${listen}`;
  });

  after(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
    killAll();
  });

  it('SIGTERM to the server and to a remote agent: the same processes run on and their output has no gap or duplicate; a drain stops them', async () => {
    let server = await startServer();
    let agent = await startAgent();
    const client = api(url);
    const submit = async (body: Record<string, unknown>): Promise<TaskRecord> => {
      const answer = await client.post<TaskRecord>('/api/v1/tasks', { cpus: 0.1, mem: 32, killGraceMs: 1000, ...body });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      return answer.body;
    };
    const local = await submit({ name: 'local-exec', cmd: TICKER, constraints: ['hostname:IS:embedded'] });
    const remote = await submit({ name: 'remote-exec', cmd: TICKER, constraints: ['hostname:IS:remote'] });
    const always = await submit({ name: 'remote-always', cmd: TICKER, constraints: ['hostname:IS:remote'], restart: { policy: 'always' } });
    const container = await submit({ name: 'remote-docker', image, cmd: TICKER, constraints: ['hostname:IS:remote'] });
    const tasks = [local, remote, always, container];
    const logOf = async (task: TaskRecord): Promise<string> =>
      fetch(`${url}/api/v1/tasks/${task.id}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
    const ticking = async (task: TaskRecord, atLeast: number): Promise<void> => {
      await waitFor(`${task.spec.name} at tick ${atLeast}`, async () => (await logOf(task)).includes(`tick-${atLeast}\n`), 60_000);
    };
    for (const task of tasks) await ticking(task, 3);

    const pidOf = (agentDir: string, task: TaskRecord): number =>
      (JSON.parse(readFileSync(path.join(dir, agentDir, 'sandboxes', task.id, 'task.json'), 'utf8')) as { pid: number }).pid;
    const containerOf = async (task: TaskRecord): Promise<string> =>
      (await docker(['ps', '-q', '--no-trunc', '--filter', `label=gantry.task=${task.id}`])).stdout.trim();
    const pids = { local: pidOf(path.join('server', 'agent'), local), remote: pidOf('remote', remote), always: pidOf('remote', always) };
    const containerId = await containerOf(container);
    assert.match(containerId, /^[0-9a-f]{64}$/, 'the docker task runs in one container');

    // The server (master and embedded agent) stops and comes back.
    assert.equal(await terminate(server), 0, 'the server exits cleanly');
    assert.ok(!hasStackTrace(server.output()), `no stack trace on a clean stop:\n${server.output()}`);
    assert.match(server.output(), /SIGTERM: stopping; running tasks keep running/);
    for (const pid of Object.values(pids)) assert.ok(isAlive(pid), `pid ${pid} survived the server's stop`);
    server = await startServer();

    // The remote agent stops and comes back.
    assert.equal(await terminate(agent), 0, 'the agent exits cleanly');
    assert.ok(!hasStackTrace(agent.output()), `no stack trace on a clean stop:\n${agent.output()}`);
    assert.ok(isAlive(pids.remote) && isAlive(pids.always), 'the remote tasks survived the agent\'s stop');
    assert.equal(await containerOf(container), containerId, 'the container survived the agent\'s stop');
    agent = await startAgent();

    // Both back: every task still running as the same process, its output going on from where it was.
    const marks: Record<string, number> = {};
    for (const task of tasks) marks[task.id] = assertTicksWhole(await logOf(task), task.spec.name);
    for (const task of tasks) await ticking(task, marks[task.id]! + 10);
    for (const task of tasks) {
      const now = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
      assert.equal(now.state, 'running', `${task.spec.name}: ${now.state} (${now.reason})`);
      assert.equal(now.restarts, 0, `${task.spec.name} was not restarted`);
      assertTicksWhole(await logOf(task), task.spec.name);
    }
    assert.equal(pidOf(path.join('server', 'agent'), local), pids.local);
    assert.equal(pidOf('remote', remote), pids.remote);
    assert.equal(pidOf('remote', always), pids.always);
    assert.equal(await containerOf(container), containerId);

    // A drain: the remote agent's tasks are stopped and reported lost, and the agent leaves (exit 0).
    const agentExit = new Promise<number | null>((resolve) => agent.child.once('exit', (code) => resolve(code)));
    const drained = await runCli(['agent', 'drain', 'remote'], { GANTRY_URL: url, GANTRY_TOKEN: ADMIN_TOKEN });
    assert.equal(drained.code, 0, drained.stderr);
    assert.match(drained.stdout, /draining: 3 task\(s\) to stop[\s\S]*drained/);
    assert.equal(await agentExit, 0, 'the drained agent exits');
    assert.match(agent.output(), /drained: its tasks were stopped/);
    for (const task of [remote, always, container]) {
      const now = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
      assert.equal(now.state, 'lost', `${task.spec.name}: ${now.state}`);
      assert.equal(now.reason, 'the agent was drained');
    }
    assert.ok(!isAlive(pids.remote) && !isAlive(pids.always), 'the drained tasks\' processes are gone');
    assert.equal(await containerOf(container), '', 'the drained container stopped');
    const agents = (await client.get<{ agents: Array<{ hostname: string; state: string }> }>('/api/v1/agents')).body.agents;
    assert.equal(agents.find((a) => a.hostname === 'remote')?.state, 'draining', 'nothing more is placed on it');

    // The server with --drain-on-stop kills the embedded agent's task as it stops; a plain stop did not.
    assert.equal(await terminate(server), 0);
    assert.ok(isAlive(pids.local), 'a plain stop left it running');
    const draining = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', listen, '--registry-listen', '127.0.0.1:0', '--agent-hostname', 'embedded', '--drain-on-stop', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, ...KEEP_TASKS },
      /Local agent \S+ registered/,
    );
    started.push(draining);
    await ticking(local, marks[local.id]! + 20);
    assert.equal(await terminate(draining), 0);
    assert.match(draining.output(), /SIGTERM: draining the local agent/);
    assert.ok(!isAlive(pids.local), 'the draining stop killed the embedded agent\'s task');
    server = await startServer();
    const ended = (await client.get<TaskRecord>(`/api/v1/tasks/${local.id}`)).body;
    assert.equal(ended.state, 'lost');
    assert.equal(ended.reason, 'the agent was drained');
    assertTicksWhole(await logOf(local), 'local-exec');
  });

  it('a task waiting between two runs when its agent stops runs again when the agent is back, its restarts counted on', async () => {
    // A server of its own: the one above is still running.
    const ownListen = `127.0.0.1:${await freePort()}`;
    const ownUrl = `http://${ownListen}`;
    const startOwn = async (): Promise<Started> => {
      const own = await startGantry(
        ['server', '--data-dir', path.join(dir, 'waiting'), '--listen', ownListen, '--registry-listen', '127.0.0.1:0', '--agent-hostname', 'embedded', '--log-level', 'info'],
        { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, ...KEEP_TASKS },
        /Local agent \S+ registered/,
      );
      started.push(own);
      return own;
    };
    let server = await startOwn();
    const client = api(ownUrl);
    const logOf = async (task: TaskRecord): Promise<string> =>
      fetch(`${ownUrl}/api/v1/tasks/${task.id}/logs`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.text());
    const answer = await client.post<TaskRecord>('/api/v1/tasks', {
      name: 'waiting', cmd: 'echo run; exit 3', cpus: 0.1, mem: 32, constraints: ['hostname:IS:embedded'],
      restart: { policy: 'always', backoffMs: 600_000 }, // ten minutes: only the agent's restart can start the next run
    });
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    const task = answer.body;
    const restarts = async (n: number): Promise<TaskRecord> =>
      waitFor(`${n} restart(s)`, async () => {
        const now = (await client.get<TaskRecord>(`/api/v1/tasks/${task.id}`)).body;
        return now.restarts === n ? now : undefined;
      }, 60_000);
    await restarts(1);
    assert.equal(await terminate(server), 0);
    server = await startOwn();
    const after = await restarts(2);
    assert.equal(after.state, 'running', `not lost: ${after.state} (${after.reason})`);
    const log = await logOf(task);
    assert.equal(log.split('\n').filter((l) => l === 'run').length, 2, `two runs in its log, one before the stop and one after:\n${log}`);
    assert.match(server.output(), /a task waiting to restart when the agent stopped runs again/);
    await client.post(`/api/v1/tasks/${task.id}/kill`);
  });
});
