// One task's supervisor on its own, with runs played by the test and time moved by hand: restarts wait
// their backoff to the ms and number their output on, a kill between two runs or while the next one
// starts ends the task as killed, the next run reports its own address on its container network, a
// drain's kill is reported lost, and a task left running by a stop is neither reported nor touched.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import type { OutputChunk, TaskExit, TaskHandle } from '../../../src/cluster/drivers/driver.ts';
import { DRAIN_REASON, type LaunchOrder, type OutputBatch, type StatusReport } from '../../../src/cluster/protocol.ts';
import { RESTART_DEFAULTS, RestartCounter } from '../../../src/cluster/restart-policy.ts';
import type { RestartPolicy } from '../../../src/cluster/types.ts';
import { saveRedactValues } from '../../../src/cluster/agent/redact-values.ts';
import { saveRestartState, type RestartState } from '../../../src/cluster/agent/restart-state.ts';
import { NO_OUTPUT, TaskSupervisor, type SupervisorDeps } from '../../../src/cluster/agent/task-supervisor.ts';
import { eventually, ManualTime } from '../../helpers/manual-time.ts';
import { minimalSpec } from '../../helpers/task-spec.ts';
import { tempDir } from '../../helpers/temp-dirs.ts';

/** A run of a task as a driver would hand it over, ended by the test. */
class PlayedRun implements TaskHandle {
  readonly limits = 'none';
  readonly output = new PassThrough({ objectMode: true });
  destroyed = false;
  killedWithGrace: number | undefined;
  private readonly exited: Promise<TaskExit>;
  private resolveExit!: (exit: TaskExit) => void;

  constructor(readonly taskId: string) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  logs(): PassThrough {
    return this.output;
  }

  wait(): Promise<TaskExit> {
    return this.exited;
  }

  kill(graceMs: number): Promise<TaskExit> {
    this.killedWithGrace = graceMs;
    this.exit({ exitCode: null, signal: 'SIGTERM', killed: true });
    return this.exited;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }

  write(stream: OutputChunk['stream'], text: string): void {
    this.output.write({ stream, data: Buffer.from(text) });
  }

  exit(exit: Partial<TaskExit>): void {
    if (!this.output.writableEnded) this.output.end();
    this.resolveExit({ exitCode: 0, signal: null, oomKilled: false, killed: false, ...exit });
  }
}

const POLICY: RestartPolicy = { policy: 'on-failure', ...RESTART_DEFAULTS, backoffMs: 1000 };

describe('a task supervisor', () => {
  let time: ManualTime;
  let workDir: string;
  let statuses: StatusReport[];
  let batches: OutputBatch[];
  let started: PlayedRun[];
  let ended: string[];
  let stopping: boolean;
  /** What startRun waits for before it hands over a run (the next run being started). */
  let startGate: Promise<void>;
  let deps: SupervisorDeps;

  beforeEach(() => {
    time = new ManualTime('2030-01-01T00:00:00Z');
    workDir = tempDir('supervisor');
    statuses = [];
    batches = [];
    started = [];
    ended = [];
    stopping = false;
    startGate = Promise.resolve();
    deps = {
      workDir,
      logger: pino({ level: 'silent' }),
      sendOutput: async (batch) => void batches.push(batch),
      reportStatus: async (report) => void statuses.push(report),
      reportProbe: async () => undefined,
      startRun: async (order) => {
        await startGate;
        const run = new PlayedRun(order.taskId);
        started.push(run);
        return run;
      },
      isStopping: () => stopping,
      ended: async (task) => void ended.push(task.taskId),
      clock: time,
      timers: time,
    };
  });

  const order = (policy?: RestartPolicy): LaunchOrder => ({
    type: 'launch',
    taskId: 't-1',
    spec: minimalSpec({ killGraceMs: 700, ...(policy ? { restart: policy } : {}) }),
    allocation: { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [], scalars: {}, ranges: {}, sets: {} },
  });

  /** A task with a restart policy, as Agent.launch hands it over. */
  async function supervise(first: PlayedRun, policy = POLICY): Promise<TaskSupervisor> {
    const state: RestartState = { order: order(policy), total: 0, inRow: 0, runStartedAt: time.ms, outputBase: NO_OUTPUT };
    await saveRestartState(workDir, state);
    return new TaskSupervisor(deps, { handle: first, killGraceMs: 700, redact: [], restarting: { state, counter: new RestartCounter(policy) } });
  }

  const restartFile = path.join('restart', 't-1.json');
  const text = (batch: OutputBatch | undefined): string => (batch?.chunks ?? []).map((c) => c.data.toString()).join('');

  it('restarts a failed run when its backoff is over, to the ms, and numbers the next run\'s output on', async () => {
    const first = new PlayedRun('t-1');
    const task = await supervise(first);
    first.write('stdout', 'hello\n');
    first.exit({ exitCode: 1 });

    const restarting = await eventually('the restart reported', () => statuses.find((s) => s.state === 'restarting'));
    assert.equal(restarting.restarts, 1);
    assert.equal(restarting.restartAt, new Date(time.ms + 1000).toISOString());
    const line = await eventually('the restart line', () => batches.find((b) => text(b).startsWith('[gantry]')));
    assert.deepEqual([line.from, text(line)], [1, '[gantry] exited with code 1; restart 1 in 1s\n'], 'after the run\'s one chunk');
    assert.ok(first.destroyed, 'the ended run was freed before the wait');
    const due = time.ms + 1000;
    assert.deepEqual(time.dueTimes(), [due], 'the next run waits its backoff');
    assert.equal(task.currentRun, undefined, 'no process to sample between two runs');

    await time.advance(999);
    assert.deepEqual(time.dueTimes(), [due], 'still waiting 1 ms before');
    await time.advance(1);
    const second = await eventually('the next run', () => started[0]);
    assert.equal(task.currentRun, second);
    second.write('stderr', 'again\n');
    second.exit({ exitCode: 0 });
    await task.done;

    const again = batches.find((b) => text(b) === 'again\n');
    assert.equal(again?.from, 2, 'numbered after the restart line');
    assert.deepEqual(
      statuses.map((s) => s.state),
      ['restarting', 'finished'],
      'an on-failure task ends with its clean exit',
    );
    assert.deepEqual(ended, ['t-1']);
    assert.ok(second.destroyed);
    assert.ok(!existsSync(path.join(workDir, restartFile)), 'its restart state removed');
  });

  it('ends as killed, with the kill\'s reason, when killed between two runs', async () => {
    const first = new PlayedRun('t-1');
    const task = await supervise(first);
    first.exit({ exitCode: 3 });
    await eventually('the restart reported', () => statuses.find((s) => s.state === 'restarting'));

    await task.kill(500, 'killed by user');
    await task.done;
    assert.deepEqual(statuses.at(-1), { taskId: 't-1', state: 'killed', exitCode: 3, reason: 'killed by user' });
    assert.deepEqual(time.dueTimes(), [], 'the wait for the next run was given up');
    assert.equal(started.length, 0, 'no further run');
  });

  it('kills the next run when a kill comes while it is being started', async () => {
    const first = new PlayedRun('t-1');
    const task = await supervise(first);
    let open!: () => void;
    startGate = new Promise((resolve) => (open = resolve));
    first.exit({ exitCode: 1 });
    await eventually('the restart reported', () => statuses.find((s) => s.state === 'restarting'));
    await time.advance(1000);

    await task.kill(500, 'killed by user');
    open();
    await task.done;
    assert.equal(started[0]?.killedWithGrace, 700, 'the new run, with the spec\'s grace');
    assert.deepEqual(
      [statuses.at(-1)?.state, statuses.at(-1)?.reason],
      ['killed', 'killed by user'],
    );
  });

  it('reports the next run\'s own address on its container network once it started', async () => {
    deps.startRun = async (order) => {
      const run = Object.assign(new PlayedRun(order.taskId), { address: '172.18.0.3' });
      started.push(run);
      return run;
    };
    const first = Object.assign(new PlayedRun('t-1'), { address: '172.18.0.2' });
    const task = await supervise(first);
    first.exit({ exitCode: 1 });
    await eventually('the restart reported', () => statuses.find((s) => s.state === 'restarting'));
    await time.advance(1000);
    const running = await eventually('the next run reported with its address', () => statuses.find((s) => s.state === 'running'));
    assert.deepEqual(running, { taskId: 't-1', state: 'running', address: '172.18.0.3' });
    assert.deepEqual(statuses.map((s) => s.state), ['restarting', 'running'], 'after the restart, which cleared the last one');
    await task.kill(0, 'killed by user');
    await task.done;
  });

  it('reports a task a drain killed as lost, so that its owner replaces it', async () => {
    const run = new PlayedRun('t-1');
    const task = new TaskSupervisor(deps, { handle: run, killGraceMs: 700, redact: [] });
    stopping = true;
    await task.kill(700, DRAIN_REASON);
    await task.done;
    assert.equal(run.killedWithGrace, 700);
    assert.deepEqual([statuses.at(-1)?.state, statuses.at(-1)?.reason], ['lost', DRAIN_REASON]);
    assert.deepEqual(ended, ['t-1']);
  });

  it('a kill with a shutdown delay sends its SIGTERM only when the delay is over, and no second kill order is wanted meanwhile', async () => {
    const run = new PlayedRun('t-1');
    const task = new TaskSupervisor(deps, { handle: run, killGraceMs: 700, redact: [] });
    const killing = task.kill(700, 'scaled down', 3000);
    assert.ok(task.killing, 'the agent tells the master it is stopping the task');
    await time.advance(2999);
    assert.equal(run.killedWithGrace, undefined, 'still serving what was sent before it left discovery');
    await time.advance(1);
    await killing;
    await task.done;
    assert.equal(run.killedWithGrace, 700);
    assert.deepEqual([statuses.at(-1)?.state, statuses.at(-1)?.reason], ['killed', 'scaled down']);
  });

  it('an agent that stops during a shutdown delay leaves the task running, unkilled, for the next agent', async () => {
    const run = new PlayedRun('t-1');
    const task = new TaskSupervisor(deps, { handle: run, killGraceMs: 700, redact: [] });
    const killing = task.kill(700, 'scaled down', 3000);
    stopping = true;
    task.leaveRunning();
    await killing;
    assert.deepEqual(time.dueTimes(), [], 'the delay\'s timer is gone');
    assert.equal(run.killedWithGrace, undefined);
    run.exit({ exitCode: 0 });
    await task.done;
    assert.deepEqual(statuses, []);
  });

  it('left running between two runs: the wait ends, and nothing more is started or reported', async () => {
    const first = new PlayedRun('t-1');
    const task = await supervise(first);
    first.exit({ exitCode: 1 });
    await eventually('the restart reported', () => statuses.find((s) => s.state === 'restarting'));

    stopping = true;
    task.leaveRunning();
    await task.done;
    assert.deepEqual(statuses.map((s) => s.state), ['restarting']);
    assert.deepEqual(time.dueTimes(), []);
    assert.equal(started.length, 0);
    assert.deepEqual(ended, []);
    assert.ok(existsSync(path.join(workDir, restartFile)), 'its files are the next agent\'s to judge');
  });

  it('left running: its output is no longer followed, and its end is neither reported nor cleaned up', async () => {
    const run = new PlayedRun('t-1');
    await saveRedactValues(workDir, 't-1', ['secret']);
    const task = new TaskSupervisor(deps, { handle: run, killGraceMs: 700, redact: ['secret'] });
    stopping = true;
    task.leaveRunning();
    assert.ok(run.output.destroyed, 'the output stream let go');
    run.exit({ exitCode: 0 }); // as if it ended before this process exited
    await task.done;
    assert.deepEqual(statuses, []);
    assert.ok(!run.destroyed, 'the run is the next agent\'s to recover');
    assert.deepEqual(ended, []);
    assert.ok(existsSync(path.join(workDir, 'redact', 't-1.json')));
  });
});
