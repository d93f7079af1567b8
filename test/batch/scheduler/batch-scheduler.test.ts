// The batch scheduler's firing loop with time in the test's hands (ManualTime as its clock and timers,
// a real SQLite store, a real master whose agent the test plays through pollOrders / reportStatus): an
// occurrence is fired once, LAUNCH_LEAD_MS ahead with its command starting at the occurrence, and not a
// millisecond earlier; a failed run's retry waits its backoff to the millisecond; occurrences missed
// while the process did not run are recorded as skipped and only the latest runs, and only if it is
// within epsilon; a run past maxCompletionTime is killed at its deadline.
import assert from 'node:assert/strict';
import { parseJobDefinition } from '../../../src/batch/jobs/index.ts';
import { BatchScheduler, LAUNCH_LEAD_MS } from '../../../src/batch/scheduler/batch-scheduler.ts';
import { jobView, type JobView } from '../../../src/batch/scheduler/job-view.ts';
import { BatchStore, type RunRecord } from '../../../src/batch/store/batch-store.ts';
import { SILENT, ScriptedAgent, startTestMaster, taskWhere, type TestMaster } from '../../helpers/in-process-master.ts';
import { ManualTime, eventually } from '../../helpers/manual-time.ts';

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('BatchScheduler, timed by the test', function () {
  this.timeout(20_000);
  let time: ManualTime;
  let pool: TestMaster;
  let agent: ScriptedAgent;
  let store: BatchStore;
  let scheduler: BatchScheduler;

  beforeEach(async () => {
    time = new ManualTime(new Date(T0 - 10 * MINUTE));
    // Heartbeats are not under test here: hours go by without the test's agent polling.
    pool = await startTestMaster(time, { heartbeatTimeoutMs: 7 * 24 * HOUR });
    agent = await ScriptedAgent.register(pool.master, 'worker-1');
    store = new BatchStore(pool.store.knex);
    scheduler = new BatchScheduler({ store, cluster: pool.cluster, clock: time, timers: time, logger: SILENT });
    await scheduler.start([]);
  });
  afterEach(async () => {
    await scheduler.stop();
    await pool.close();
  });

  const job = (definition: Record<string, unknown>): JobView =>
    jobView(parseJobDefinition({ command: 'true', cpus: 1, mem: 128, retries: 0, ...definition }, { definedAt: time.now() }));
  const runsOf = async (name: string): Promise<RunRecord[]> => (await store.listRuns({ jobName: name })).sort((a, b) => a.scheduledAt.localeCompare(b.scheduledAt) || a.createdAt.localeCompare(b.createdAt));
  const runState = (name: string, id: string, state: RunRecord['state']) => eventually(`run ${id} ${state}`, async () => (await runsOf(name)).find((r) => r.id === id && r.state === state));
  /** The agent takes the run's current task and starts it. */
  const start = async (run: RunRecord): Promise<string> => {
    await taskWhere(pool.master, run.taskId!, (t) => t.state === 'staging');
    await agent.pollAndStart();
    return run.taskId!;
  };

  it('fires an occurrence once: its task is prepared LAUNCH_LEAD_MS ahead, starts at the occurrence, and nothing fires earlier', async () => {
    await scheduler.saveJobs([job({ name: 'hourly', schedule: `R/${iso(T0)}/PT1H` })]);
    assert.equal(scheduler.nextDue('hourly'), iso(T0));

    await time.advanceTo(T0 - LAUNCH_LEAD_MS - 1);
    assert.deepEqual(await runsOf('hourly'), [], 'nothing before the lead time');
    await time.advance(1);
    const [run, ...others] = await runsOf('hourly');
    assert.deepEqual(others, []);
    assert.equal(run!.scheduledAt, iso(T0));
    assert.equal(run!.trigger, 'schedule');
    assert.equal(run!.state, 'running');
    const task = await pool.master.getTask(run!.taskId!);
    assert.equal(task.spec.startAt, iso(T0), 'the agent starts the command at the occurrence, not at the lead');
    assert.equal(task.spec.env.GANTRY_SCHEDULED_TIME, iso(T0));
    assert.equal(scheduler.nextDue('hourly'), iso(T0 + HOUR));

    await start(run!);
    await time.advanceTo(T0 + 30 * MINUTE);
    await agent.finish(task.id);
    await runState('hourly', run!.id, 'succeeded');
    assert.equal((await pool.cluster.findByOwner(`job:hourly:${run!.id}`)).length, 1, 'one task for the occurrence');

    await time.advanceTo(T0 + HOUR - LAUNCH_LEAD_MS - 1);
    assert.equal((await runsOf('hourly')).length, 1, 'still one run, a millisecond before the next lead time');
    await time.advance(1);
    assert.deepEqual((await runsOf('hourly')).map((r) => r.scheduledAt), [iso(T0), iso(T0 + HOUR)]);
  });

  it('retries a failed run once its backoff has passed, not a millisecond before', async () => {
    await scheduler.saveJobs([job({ name: 'flaky', schedule: `R/${iso(T0)}/PT1H`, retries: 1, retryBackoff: { initial: 'PT45S' } })]);
    await time.advanceTo(T0 - LAUNCH_LEAD_MS);
    const [run] = await runsOf('flaky');
    const firstTask = await start(run!);
    await time.advanceTo(T0 + 5_000);
    await agent.finish(firstTask, 3);

    const retrying = await runState('flaky', run!.id, 'retrying');
    assert.equal(retrying.retryAt, iso(T0 + 5_000 + 45_000));
    assert.equal(retrying.exitCode, 3);
    assert.equal(retrying.reason, 'exited with code 3');

    await time.advanceTo(T0 + 5_000 + 45_000 - 1);
    assert.equal((await pool.cluster.findByOwner(`job:flaky:${run!.id}`)).length, 1, 'no second attempt during the backoff');
    await time.advance(1);
    const tasks = await pool.cluster.findByOwner(`job:flaky:${run!.id}`);
    assert.equal(tasks.length, 2, 'the retry is submitted when the backoff ends');
    assert.equal(tasks[1]!.spec.env.GANTRY_RUN_ATTEMPT, '1');
    assert.equal(tasks[1]!.spec.startAt, undefined, 'a retry starts at once');
    const again = (await runsOf('flaky')).find((r) => r.id === run!.id)!;
    assert.equal(again.state, 'running');
    assert.equal(again.attempt, 1);
    assert.equal(again.taskId, tasks[1]!.id);

    await start(again);
    await agent.finish(tasks[1]!.id, 0);
    const succeeded = await runState('flaky', run!.id, 'succeeded');
    assert.equal(succeeded.exitCode, 0);
    assert.equal((await runsOf('flaky')).length, 1, 'a retry is the same run, not a new one');
  });

  it('after a jump, records the missed occurrences as skipped and runs only the latest, and only when it is within epsilon', async () => {
    const schedule = `R/${iso(T0)}/PT1M`;
    await scheduler.saveJobs([
      job({ name: 'tight', schedule, epsilon: 'PT30S' }),
      job({ name: 'lenient', schedule, epsilon: 'PT10M' }),
      job({ name: 'strict', schedule, epsilon: 'PT5S' }),
    ]);
    await time.advanceTo(T0 - 10_000);
    // The process does not run for 4 min 20 s (the machine slept): T0 .. T0+4m all came due meanwhile.
    time.jump(4 * MINUTE + 20_000);
    const now = time.ms;
    await time.advance(0);

    const missed = (name: string) => runsOf(name).then((runs) => runs.map((r) => [r.scheduledAt, r.state, r.reason]));
    const tooOld = (at: number, epsilon: number) => `missed: due ${iso(at)}, more than epsilon (${epsilon} s) before ${iso(now)}`;
    assert.deepEqual(await missed('tight'), [
      [iso(T0), 'skipped', tooOld(T0, 30)],
      [iso(T0 + MINUTE), 'skipped', tooOld(T0 + MINUTE, 30)],
      [iso(T0 + 2 * MINUTE), 'skipped', tooOld(T0 + 2 * MINUTE, 30)],
      [iso(T0 + 3 * MINUTE), 'skipped', tooOld(T0 + 3 * MINUTE, 30)],
      [iso(T0 + 4 * MINUTE), 'running', null],
    ]);
    const superseded = (at: number) => [iso(at), 'skipped', `superseded by the occurrence of ${iso(T0 + 4 * MINUTE)}, due by ${iso(now)}`];
    assert.deepEqual(await missed('lenient'), [superseded(T0), superseded(T0 + MINUTE), superseded(T0 + 2 * MINUTE), superseded(T0 + 3 * MINUTE), [iso(T0 + 4 * MINUTE), 'running', null]]);
    assert.deepEqual(
      (await missed('strict')).map(([at, state]) => [at, state]),
      [0, 1, 2, 3, 4].map((m) => [iso(T0 + m * MINUTE), 'skipped']),
      'the latest is 20 s old, more than its 5 s epsilon: nothing runs',
    );
    for (const name of ['tight', 'lenient', 'strict']) {
      assert.equal(scheduler.nextDue(name), iso(T0 + 5 * MINUTE), `${name} goes on with the next occurrence`);
    }
    const tasks = await pool.master.listTasks({});
    assert.equal(tasks.length, 2, 'one task for each job that ran: the latest occurrence, once');
  });

  it('kills a run that exceeds maxCompletionTime at its deadline', async () => {
    await scheduler.saveJobs([job({ name: 'bounded', schedule: `R/${iso(T0)}/PT1H`, maxCompletionTime: 60_000 })]);
    await time.advanceTo(T0 - LAUNCH_LEAD_MS);
    const [run] = await runsOf('bounded');
    const taskId = await start(run!);
    const deadline = Date.parse(run!.startedAt!) + 60_000;

    await time.advanceTo(deadline - 1);
    assert.equal((await pool.master.getTask(taskId)).killRequested, false);
    await time.advance(1);
    const killing = await pool.master.getTask(taskId);
    assert.equal(killing.killRequested, true);
    assert.equal(killing.reason, 'maxCompletionTime exceeded (60000 ms)');
    const orders = await agent.poll();
    assert.deepEqual(orders.map((o) => o.type), ['kill']);
    await agent.report({ taskId, state: 'killed', reason: killing.reason! });
    const failed = await runState('bounded', run!.id, 'failed');
    assert.equal(failed.reason, 'maxCompletionTime exceeded (60000 ms)');
  });
});
