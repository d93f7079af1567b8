// The surface batch, CI and apps use: submit with an owner, watch its status events, kill.
// In-process server with the real embedded agent and exec driver.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { clusterClient, TERMINAL_STATES as TERMINAL, type ClusterClient } from '../../src/cluster/index.ts';
import type { TaskRecord, TaskState } from '../../src/cluster/types.ts';
import { loadServerConfig } from '../../src/config/server-config.ts';
import { startServer, type RunningServer } from '../../src/main.ts';
import { pino } from 'pino';
import { tempDir, waitFor } from '../helpers/processes.ts';

describe('cluster client (TaskSource contract)', function () {
  this.timeout(30_000);
  let server: RunningServer;
  let cluster: ClusterClient;

  before(async () => {
    const config = loadServerConfig({
      env: {},
      flags: { dataDir: path.join(tempDir('client'), 'data'), listen: '127.0.0.1:0', registryListen: '127.0.0.1:0', discovery: { dnsListen: '127.0.0.1:0' }, logLevel: 'silent', agent: { resources: 'cpus:2;mem:512', usageIntervalMs: 200 } },
    });
    server = await startServer(config, pino({ level: 'silent' }));
    cluster = clusterClient(server.master);
  });
  after(async () => server?.close({ drain: true }));

  it('reports every state of an owner\'s task, in order, and nothing of other owners', async () => {
    const seen: Array<[string, TaskState]> = [];
    const stop = cluster.watch('job:nightly:', (task) => seen.push([task.spec.owner, task.state]));
    const other = cluster.watch('ci:', () => assert.fail('a ci watcher saw a job task'));
    try {
      const task = await cluster.submit('job:nightly:1', { cmd: 'exit 4' });
      assert.equal(task.spec.owner, 'job:nightly:1');
      await waitFor('failed', async () => seen.some(([, state]) => state === 'failed'));
      const states = seen.map(([, state]) => state).filter((s, i, all) => s !== all[i - 1]);
      assert.deepEqual(states, ['queued', 'staging', 'running', 'failed']);
      const final = await cluster.get(task.id);
      assert.equal(final.exitCode, 4);
    } finally {
      stop();
      other();
    }
  });

  it('kills a running task with the owner\'s reason', async () => {
    const task = await cluster.submit('svc:web:0', { args: ['sleep', '30'], killGraceMs: 200 });
    await waitFor('running', async () => (await cluster.get(task.id)).state === 'running');
    await cluster.kill(task.id, 'replaced by a newer version');
    const ended = await waitFor('killed', async () => {
      const now: TaskRecord = await cluster.get(task.id);
      return now.state === 'killed' ? now : undefined;
    });
    assert.equal(ended.reason, 'replaced by a newer version');
  });

  it('finds an owner\'s tasks by exact owner, oldest first', async () => {
    const first = await cluster.submit('job:find:r1', { cmd: 'true' });
    const second = await cluster.submit('job:find:r1', { cmd: 'true' });
    await cluster.submit('job:find:r10', { cmd: 'true' });
    assert.deepEqual((await cluster.findByOwner('job:find:r1')).map((t) => t.id), [first.id, second.id]);
    assert.deepEqual(await cluster.findByOwner('job:find:none'), []);
  });

  it('runs tasks naming one workspace in the same directory, GANTRY_WORKSPACE', async () => {
    const finished = async (id: string) => waitFor('finished', async () => {
      const t = await cluster.get(id);
      return ['finished', 'failed'].includes(t.state) ? t : undefined;
    });
    const writer = await cluster.submit('ci:ws:1', { cmd: 'echo from-the-first-task > shared.txt', workspace: 'run-1' });
    assert.equal((await finished(writer.id)).state, 'finished');
    const reader = await cluster.submit('ci:ws:2', { cmd: 'test "$(cat shared.txt)" = from-the-first-task && test "$GANTRY_WORKSPACE" = "$PWD" && case "$PWD" in */workspaces/run-1) ;; *) exit 3;; esac', workspace: 'run-1' });
    const read = await finished(reader.id);
    assert.equal(read.exitCode, 0, `${read.reason}`);
    const other = await cluster.submit('ci:ws:3', { cmd: 'test ! -e shared.txt', workspace: 'run-2' });
    assert.equal((await finished(other.id)).exitCode, 0, 'another workspace is another directory');
    for (const bad of ['../escape', '.hidden', 'a/b', '']) {
      await assert.rejects(cluster.submit('ci:ws:4', { cmd: 'true', workspace: bad }), /workspace/, bad);
    }
  });

  it('lists an owner prefix\'s tasks (exactly) with a cursor; a watch resumed from its last cursor misses no change made while it was away', async () => {
    const a = await cluster.submit('svc:shop:0', { args: ['sleep', '30'], killGraceMs: 200, ports: [0] });
    await cluster.submit('svc:shopping:0', { cmd: 'true' });
    await cluster.submit('svc:Shop:0', { cmd: 'true' });
    const listed = await cluster.list('svc:shop:');
    assert.deepEqual(listed.tasks.map((t) => t.id), [a.id], 'only owners starting with svc:shop:, case and all');

    // A client watches from the list's cursor, keeping the cursor of each change, until it stops.
    let cursor = listed.cursor;
    const before: Array<[string, TaskState]> = [];
    const first = cluster.watch('svc:shop:', (task, at) => {
      before.push([task.id, task.state]);
      cursor = at;
    }, { since: cursor });
    await waitFor('a running', async () => before.some(([id, state]) => id === a.id && state === 'running'));
    first();

    // While it is away: a is killed, b comes and fails.
    const b = await cluster.submit('svc:shop:1', { cmd: 'exit 3' });
    await cluster.kill(a.id, 'scaled down');
    const ended = (id: string) => waitFor(`${id} ended`, async () => ['killed', 'failed'].includes((await cluster.get(id)).state));
    await ended(a.id);
    await ended(b.id);

    // Back with its last cursor: every change it missed, before watch() returns, then live ones.
    const after: Array<[string, TaskState]> = [];
    const second = cluster.watch('svc:shop:', (task) => after.push([task.id, task.state]), { since: cursor });
    second();
    const statesOf = (id: string) => after.filter(([task]) => task === id).map(([, state]) => state);
    // a: only what changed after the cursor: the kill request (still running), then its end.
    assert.deepEqual(statesOf(a.id), ['running', 'killed']);
    assert.deepEqual(statesOf(b.id).filter((s, i, all) => s !== all[i - 1]), ['queued', 'staging', 'running', 'failed']);
    assert.equal(after.length, statesOf(a.id).length + statesOf(b.id).length, 'nothing of other owners');

    // Its address and ports are on its record.
    const placed = await cluster.get(a.id);
    assert.equal(placed.allocation?.host, os.hostname());
    assert.equal(placed.allocation?.ports.length, 1);

    // A cursor from another run of the master is refused (410): the client lists again.
    assert.throws(() => cluster.watch('svc:', () => undefined, { since: 'w-0-old.3' }), (err: Error & { status?: number }) => err.status === 410 && /earlier run of the master/.test(err.message));
    assert.throws(() => cluster.watch('svc:', () => undefined, { since: 'garbage' }), /not a watch cursor/);
  });

  it('reads a task\'s output: all of it once ended, followed live while it runs, resumed after a chunk read before', async () => {
    const text = async (chunks: AsyncIterable<{ stream: string; data: Buffer; endOffset: number }>): Promise<{ out: string; last: number }> => {
      let out = '';
      let last = 0;
      for await (const chunk of chunks) {
        out += `${chunk.stream}:${chunk.data.toString()}`;
        last = chunk.endOffset;
      }
      return { out, last };
    };
    // Followed from before its first line: the reader waits for each line and ends with the task.
    const task = await cluster.submit('svc:logs:0', { cmd: 'echo one; sleep 0.3; echo two >&2; sleep 0.3; echo three' });
    const followed = await text(cluster.logs(task.id, { follow: true }));
    assert.equal(followed.out, 'stdout:one\nstderr:two\nstdout:three\n');
    assert.ok(TERMINAL.has((await cluster.get(task.id)).state), 'the follow ended with the task');
    const whole = await text(cluster.logs(task.id));
    assert.equal(whole.out, followed.out, 'read again once ended: the same output');
    let firstEnd = 0;
    for await (const chunk of cluster.logs(task.id)) {
      firstEnd = chunk.endOffset;
      break;
    }
    assert.equal((await text(cluster.logs(task.id, { fromOffset: firstEnd }))).out, 'stderr:two\nstdout:three\n', 'resumed after the first chunk');
  });

  it('gives what a running task uses, as its agent sampled it, and nothing once it ended', async () => {
    const task = await cluster.submit('svc:usage:0', { cmd: `node -e 'globalThis.keep = Buffer.alloc(30 * 1024 * 1024, 1); setInterval(() => {}, 1000)'`, mem: 256, killGraceMs: 200 });
    assert.equal(cluster.usage(task.id), null, 'not sampled yet');
    // Sampled every 200 ms: the figures grow to its 30 MiB buffer once node has started and filled it.
    const figures = await waitFor('its memory in a sample', async () => {
      const now = cluster.usage(task.id);
      return now && now.cpus !== null && now.memBytes > 30 * 1024 * 1024 ? now : undefined;
    }, 15_000);
    assert.ok(figures.cpuSeconds > 0 && Date.parse(figures.at) <= Date.now());
    await cluster.kill(task.id);
    await waitFor('no figures once it ended', async () => TERMINAL.has((await cluster.get(task.id)).state) && cluster.usage(task.id) === null);
  });

  it('rejects an invalid submission before anything is stored', async () => {
    await assert.rejects(cluster.submit('job:x:1', { cmd: 'true', constraints: ['rack:NEAR:r1'] }), /NEAR/);
  });
});
