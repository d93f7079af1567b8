// The CI run engine with time in the test's hands (ManualTime as its clock and timers, a real SQLite
// store, a real master whose agent the test plays through pollOrders / reportStatus): a step past its
// timeout has its task killed at the timeout and ends `timeout`, the steps after it are skipped and the
// run fails saying why; a run past its own timeout ends `timeout`; a canceled run stops its running
// step, cancels the pending ones and ends canceled, and leaves none of its timeouts pending.
import assert from 'node:assert/strict';
import { parsePipeline, type Pipeline } from '../../../src/ci/pipeline/index.ts';
import { RunEngine } from '../../../src/ci/runs/run-engine.ts';
import { CLONE_STEP } from '../../../src/ci/runs/step-plan.ts';
import { RunStore, type CiRun, type CiStep } from '../../../src/ci/store/runs.ts';
import { SecretStore } from '../../../src/ci/store/secrets.ts';
import type { TaskRecord } from '../../../src/cluster/types.ts';
import { newId } from '../../../src/shared/ids.ts';
import { SILENT, ScriptedAgent, startTestMaster, taskWhere, type TestMaster } from '../../helpers/in-process-master.ts';
import { ManualTime, eventually } from '../../helpers/manual-time.ts';

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const MINUTE = 60_000;

describe('RunEngine, timed by the test', function () {
  this.timeout(20_000);
  let time: ManualTime;
  let pool: TestMaster;
  let agent: ScriptedAgent;
  let runs: RunStore;
  let engine: RunEngine;
  let changes: CiRun[];

  beforeEach(async () => {
    time = new ManualTime(new Date(T0));
    pool = await startTestMaster(time, { heartbeatTimeoutMs: 24 * 60 * MINUTE });
    agent = await ScriptedAgent.register(pool.master, 'builder-1');
    runs = new RunStore(pool.store.knex);
    changes = [];
    engine = new RunEngine({ runs, secrets: new SecretStore(pool.store.knex), cluster: pool.cluster, clock: time, timers: time, logger: SILENT, onChange: (run) => changes.push(run) });
    await engine.start();
  });
  afterEach(async () => {
    await engine.stop();
    await pool.close();
  });

  /** Records a queued run of the pipeline (as the planner does for a push) and hands it to the engine. */
  async function startRun(yaml: string): Promise<CiRun> {
    const pipeline: Pipeline = parsePipeline(yaml, '.gantry.yml');
    const created = await runs.create(
      {
        id: newId('cr', time.ms),
        pipeline: pipeline.name,
        repository: 'acme/web',
        event: 'push',
        ref: 'refs/heads/main',
        branch: 'main',
        tag: null,
        commit: 'a'.repeat(40),
        before: null,
        cloneUrl: 'https://github.com/acme/web.git',
        deliveryId: null,
        state: 'queued',
        reason: null,
        concurrencyGroup: null,
        definition: pipeline,
        changedPaths: null,
        workspaceHost: null,
        createdAt: iso(time.ms),
        startedAt: null,
        finishedAt: null, pullRequest: null,
      },
      [{ name: CLONE_STEP, position: 0 }, ...pipeline.steps.map((s, i) => ({ name: s.name, position: i + 1 }))],
    );
    await engine.enqueue(created!.id);
    return runs.get(created!.id);
  }

  const step = async (run: CiRun, name: string): Promise<CiStep> => (await runs.steps(run.id)).find((s) => s.name === name)!;
  const stepStates = async (run: CiRun): Promise<Array<[string, string, string | null]>> => (await runs.steps(run.id)).map((s) => [s.name, s.state, s.reason]);

  /** Waits until the step runs a task of the attempt, takes it on the agent and starts it. */
  async function startStepTask(run: CiRun, name: string): Promise<TaskRecord> {
    const running = await eventually(`step ${name} submitted`, async () => {
      const s = await step(run, name);
      return s.state === 'running' && s.taskId ? s : undefined;
    });
    await taskWhere(pool.master, running.taskId!, (t) => t.state === 'staging');
    await agent.pollAndStart();
    return pool.master.getTask(running.taskId!);
  }

  async function cloneThenStart(run: CiRun, name: string): Promise<TaskRecord> {
    const clone = await startStepTask(run, CLONE_STEP);
    await agent.finish(clone.id);
    return startStepTask(run, name);
  }

  const runWhere = (run: CiRun, holds: (r: CiRun) => boolean) => eventually(`run ${run.id}`, async () => {
    const now = await runs.get(run.id);
    return holds(now) ? now : undefined;
  });

  it('kills a step at its timeout, ends it `timeout`, skips the steps after it and fails the run', async () => {
    const run = await startRun(['steps:', '  - name: build', '    commands: [make]', '    timeout: 2m', '  - name: test', '    commands: [make test]'].join('\n'));
    const build = await cloneThenStart(run, 'build');
    const submittedAt = Date.parse(build.createdAt);
    // The step's timeout is armed once its task is recorded on the step: a third timer, beside the
    // master's heartbeat checker and the run's own timeout.
    await eventually('the step timer', () => time.dueTimes().length === 3);

    await time.advanceTo(submittedAt + 2 * MINUTE - 1);
    assert.equal((await pool.master.getTask(build.id)).killRequested, false, 'a millisecond before its timeout it runs on');
    assert.equal((await step(run, 'build')).state, 'running');
    await time.advance(1);
    const killing = await pool.master.getTask(build.id);
    assert.equal(killing.killRequested, true, 'killed at its timeout');
    assert.equal(killing.reason, 'step "build" took longer than its timeout (120 s)');
    assert.deepEqual(await agent.poll(), [{ type: 'kill', taskId: build.id, graceMs: build.spec.killGraceMs, reason: killing.reason }]);
    await agent.report({ taskId: build.id, state: 'killed', reason: killing.reason! });

    const ended = await runWhere(run, (r) => r.finishedAt !== null);
    assert.equal(ended.state, 'failure');
    assert.equal(ended.reason, 'step "build" failed: step "build" took longer than its timeout (120 s)');
    assert.equal(ended.finishedAt, iso(submittedAt + 2 * MINUTE));
    assert.deepEqual(await stepStates(run), [
      [CLONE_STEP, 'success', null],
      ['build', 'timeout', 'step "build" took longer than its timeout (120 s)'],
      ['test', 'skipped', 'an earlier step failed'],
    ]);
    // The workspace goes with the run, on the agent that holds it.
    const [cleanup] = await pool.cluster.findByOwner(`ci:${run.id}:cleanup`);
    assert.ok(cleanup, 'a cleanup task removes the workspace');
    assert.deepEqual(cleanup.spec.constraints, [{ field: 'hostname', operator: 'IS', value: 'builder-1' }]);
  });

  it('ends a run that takes longer than its own timeout as `timeout`, stopping its running step', async () => {
    const run = await startRun(['timeout: 10m', 'steps:', '  - name: long', '    commands: [sleep 3600]'].join('\n'));
    const long = await cloneThenStart(run, 'long');
    const startedAt = Date.parse(run.startedAt!);

    await time.advanceTo(startedAt + 10 * MINUTE - 1);
    assert.equal((await runs.get(run.id)).state, 'running');
    await time.advance(1);
    const timedOut = await runs.get(run.id);
    assert.equal(timedOut.state, 'timeout');
    assert.equal(timedOut.reason, 'the run took longer than its timeout (600 s)');
    assert.equal(timedOut.finishedAt, null, 'its step is still stopping');
    assert.equal((await pool.master.getTask(long.id)).killRequested, true);

    await agent.poll();
    await time.advance(3_000);
    await agent.report({ taskId: long.id, state: 'killed' });
    const ended = await runWhere(run, (r) => r.finishedAt !== null);
    assert.equal(ended.state, 'timeout');
    assert.equal(ended.finishedAt, iso(startedAt + 10 * MINUTE + 3_000), 'finished once its step stopped');
    assert.deepEqual((await step(run, 'long')).state, 'timeout');
  });

  it('cancels a run: its running step is killed and ends canceled, the pending ones are canceled, and none of its timeouts is left to fire', async () => {
    const run = await startRun(['timeout: 30m', 'steps:', '  - name: deploy', '    commands: [./deploy]', '    timeout: 5m', '  - name: notify', '    commands: [./notify]'].join('\n'));
    const deploy = await cloneThenStart(run, 'deploy');
    await time.advance(MINUTE);

    const canceled = await engine.cancel(run.id, 'canceled by alice');
    assert.equal(canceled.state, 'canceled');
    assert.equal(canceled.reason, 'canceled by alice');
    assert.equal(changes.at(-1)?.state, 'canceled', 'followers hear of it at once, before the step has stopped');
    const killing = await pool.master.getTask(deploy.id);
    assert.equal(killing.killRequested, true);
    assert.equal(killing.reason, 'canceled by alice');
    assert.deepEqual(await stepStates(run), [
      [CLONE_STEP, 'success', null],
      ['deploy', 'running', null],
      ['notify', 'canceled', 'canceled by alice'],
    ]);

    await agent.poll();
    await time.advance(2_000);
    await agent.report({ taskId: deploy.id, state: 'killed' });
    const ended = await runWhere(run, (r) => r.finishedAt !== null);
    assert.equal(ended.state, 'canceled');
    assert.equal(ended.finishedAt, iso(time.ms));
    assert.deepEqual((await step(run, 'deploy')).state, 'canceled');

    assert.deepEqual(time.dueTimes().length, 1, 'no timeout of the run is left pending, only the master\'s heartbeat checker');
    // Past the step's and the run's timeouts: nothing turns the canceled run into a timed-out one.
    await time.advance(60 * MINUTE);
    const later = await runs.get(run.id);
    assert.equal(later.state, 'canceled');
    assert.equal(later.reason, 'canceled by alice');
    assert.deepEqual(await stepStates(run), [
      [CLONE_STEP, 'success', null],
      ['deploy', 'canceled', 'canceled by alice'],
      ['notify', 'canceled', 'canceled by alice'],
    ]);
  });
});
