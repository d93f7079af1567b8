// The cluster's tables (agents, tasks) on each database the store runs on (SQLite always, PostgreSQL
// when GANTRY_TEST_DATABASE_URL is set): exact round trips, and state changes that are compare-and-sets
// on the state the task must be in, so a second claim or a late report changes nothing.
import assert from 'node:assert/strict';
import { newQueuedTask } from '../../../src/cluster/new-task.ts';
import type { TaskRecord, TaskSpec } from '../../../src/cluster/types.ts';
import { ClusterStore } from '../../../src/cluster/store/cluster-store.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { testDatabases } from '../../helpers/databases.ts';

function queuedTask(id: string, createdAt = '2026-11-24T10:00:00.000Z'): TaskRecord {
  const spec: TaskSpec = {
    name: `echo ${id}`,
    owner: 'user:admin',
    group: 'default',
    args: ['echo', id],
    env: {},
    cpus: 0.5,
    mem: 128,
    disk: 0,
    gpus: 0,
    ports: [0],
    resources: {},
    constraints: [{ field: 'hostname', operator: 'UNIQUE' }],
    killGraceMs: 1000,
  };
  return newQueuedTask(spec, new Date(createdAt), id);
}

const allocation = { cpus: 0.5, mem: 128, disk: 0, gpus: 0, ports: [31000], scalars: {}, ranges: {}, sets: {} };
const now = '2026-11-24T10:00:01.000Z';

for (const database of testDatabases()) {
  describe(`cluster store on ${database.name}`, function () {
    this.timeout(30_000);
    let store: Store;
    let cluster: ClusterStore;

    before(async () => {
      store = await openStore(await database.prepare());
      cluster = new ClusterStore(store.knex);
    });
    after(async () => {
      await store?.close();
    });

    it('keeps a task round-trip exact, including its spec', async () => {
      const task = queuedTask('t-roundtrip');
      await cluster.tasks.insert(task);
      assert.deepEqual(await cluster.tasks.get('t-roundtrip'), task);
    });

    it('stages a queued task once: a second claim fails', async () => {
      await cluster.tasks.insert(queuedTask('t-claim'));
      assert.equal(await cluster.tasks.stage({ id: 't-claim', agentId: 'a-1', allocation }, now), true);
      assert.equal(await cluster.tasks.stage({ id: 't-claim', agentId: 'a-2', allocation }, now), false);
      const task = await cluster.tasks.get('t-claim');
      assert.equal(task.state, 'staging');
      assert.equal(task.agentId, 'a-1');
      assert.deepEqual(task.allocation, allocation);
    });

    it('moves through the lifecycle only forwards and only for the task\'s agent', async () => {
      await cluster.tasks.insert(queuedTask('t-life'));
      await cluster.tasks.stage({ id: 't-life', agentId: 'a-1', allocation }, now);
      assert.equal(await cluster.tasks.markRunning('t-life', 'a-other', null, now), null, 'another agent cannot report it');
      const running = await cluster.tasks.markRunning('t-life', 'a-1', 'cgroup v1: memory 128 MiB', now);
      assert.deepEqual(running, await cluster.tasks.get('t-life'), 'the task as stored now');
      assert.equal(running?.state, 'running');
      const failed = await cluster.tasks.finish('t-life', 'a-1', { state: 'failed', exitCode: 3, reason: 'exited with code 3' }, now);
      assert.deepEqual(failed, await cluster.tasks.get('t-life'));
      assert.equal(failed?.exitCode, 3);
      assert.equal(await cluster.tasks.finish('t-life', 'a-1', { state: 'finished', exitCode: 0, reason: 'late' }, now), null, 'a finished task stays finished');
      assert.equal(await cluster.tasks.markRunning('t-life', 'a-1', null, now), null);
      const task = await cluster.tasks.get('t-life');
      assert.equal(task.state, 'failed');
      assert.equal(task.exitCode, 3);
      assert.equal(task.limits, 'cgroup v1: memory 128 MiB');
    });

    it('kills a queued task and never stages it afterwards', async () => {
      await cluster.tasks.insert(queuedTask('t-kill'));
      assert.equal(await cluster.tasks.killQueued('t-kill', 'killed by user', now), true);
      assert.equal(await cluster.tasks.stage({ id: 't-kill', agentId: 'a-1', allocation }, now), false);
      assert.equal((await cluster.tasks.get('t-kill')).state, 'killed');
    });

    it('stages many in one transaction and reports which were staged', async () => {
      await cluster.tasks.insertMany([queuedTask('t-m1'), queuedTask('t-m2'), queuedTask('t-m3')]);
      await cluster.tasks.killQueued('t-m2', 'killed', now);
      const staged = await cluster.tasks.stageMany(
        ['t-m1', 't-m2', 't-m3'].map((id, i) => ({ id, agentId: `a-${i}`, allocation: { ...allocation, ports: [31000 + i] } })),
        now,
      );
      assert.deepEqual(staged.map((t) => t.id), ['t-m1', 't-m3']);
      const m3 = await cluster.tasks.get('t-m3');
      assert.deepEqual(staged[1], m3, 'each staged task as stored now');
      assert.equal(m3.state, 'staging');
      assert.equal(m3.agentId, 'a-2', 'each task gets its own agent');
      assert.deepEqual(m3.allocation?.ports, [31002]);
      assert.equal((await cluster.tasks.get('t-m2')).agentId, null, 'the killed one is untouched');
    });

    it('lists queued tasks oldest first and filters by state and owner', async () => {
      const queued = await cluster.tasks.list({ states: ['queued'], order: 'oldest' });
      assert.deepEqual(queued.map((t) => t.id), ['t-roundtrip']);
      const mine = await cluster.tasks.list({ owner: 'user:admin', limit: 2 });
      assert.equal(mine.length, 2);
    });

    it('finds tasks ended before a cutoff with their logs, longest ended first, and records their logs removed', async () => {
      const endAt = async (id: string, at: string | null): Promise<void> => {
        await cluster.tasks.insert(queuedTask(id));
        await cluster.tasks.stage({ id, agentId: 'a-1', allocation }, '2026-11-01T00:00:00.000Z');
        await cluster.tasks.markRunning(id, 'a-1', null, '2026-11-01T00:00:00.000Z');
        if (at) await cluster.tasks.finish(id, 'a-1', { state: 'finished', exitCode: 0, reason: 'exited with code 0' }, at);
      };
      await endAt('t-ret-late', '2026-11-09T00:00:00.000Z');
      await endAt('t-ret-early', '2026-11-02T00:00:00.000Z');
      await endAt('t-ret-recent', '2026-11-20T00:00:00.000Z');
      await endAt('t-ret-running', null);
      const cutoff = '2026-11-10T00:00:00.000Z';
      assert.deepEqual(await cluster.tasks.endedWithLogsBefore(cutoff, 10), ['t-ret-early', 't-ret-late']);
      assert.deepEqual(await cluster.tasks.endedWithLogsBefore(cutoff, 1), ['t-ret-early']);
      assert.deepEqual(await cluster.tasks.endedWithLogsBefore(cutoff, 10, ['t-ret-early']), ['t-ret-late']);
      assert.equal(await cluster.tasks.logRemoval('t-ret-early'), null);

      const removal = { at: '2026-11-17T00:00:00.000Z', reason: 'by retention 7d after the task ended' };
      await cluster.tasks.markLogsRemoved(['t-ret-early'], removal);
      assert.deepEqual(await cluster.tasks.logRemoval('t-ret-early'), removal);
      assert.deepEqual(await cluster.tasks.endedWithLogsBefore(cutoff, 10), ['t-ret-late'], 'a removed log is not looked for again');
      assert.equal((await cluster.tasks.get('t-ret-early')).exitCode, 0, 'the task itself stays');
      assert.equal(await cluster.tasks.logRemoval('t-missing'), null);
    });

    it('reports a missing task as NotFound', async () => {
      await assert.rejects(cluster.tasks.get('t-missing'), { code: 'not_found' });
    });

    it('upserts agents and reads them back', async () => {
      const agent = {
        id: 'a-1',
        hostname: 'node-1',
        resources: { scalars: { cpus: 4, mem: 4096 }, ranges: { ports: [[31000, 32000] as const] }, sets: { bugs: ['a', 'b'] } },
        attributes: { rack: { kind: 'text' as const, value: 'r1' } },
        state: 'ready' as const,
        embedded: false,
        drivers: ['exec'],
        taskUsers: ['gantry-task', 'ci'],
        registeredAt: now,
        lastHeartbeatAt: now,
        version: 1,
      };
      await cluster.agents.upsert(agent);
      await cluster.agents.upsert({ ...agent, hostname: 'node-1b', version: 2 });
      const [read] = await cluster.agents.list();
      assert.equal(read?.hostname, 'node-1b');
      assert.deepEqual(read?.resources, { scalars: { cpus: 4, mem: 4096 }, ranges: { ports: [[31000, 32000]] }, sets: { bugs: ['a', 'b'] } });
      assert.equal(read?.embedded, false);
      assert.deepEqual(read?.taskUsers, ['gantry-task', 'ci'], 'its task users, default first');
      assert.equal(read?.diskUsage, null, 'nothing reported yet');
      const usage = { sandboxesBytes: 12_345, containersBytes: null, measuredAt: now };
      await cluster.agents.setDiskUsage('a-1', usage);
      await cluster.agents.upsert({ ...agent, version: 3 }); // a re-registration keeps the last report
      assert.deepEqual((await cluster.agents.get('a-1')).diskUsage, usage);
    });
  });
}
