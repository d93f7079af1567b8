// The server going away in the middle of a run, then a new server on the same data directory: a run
// must never stay "running" (or stopping) forever.
// - A draining stop (SIGTERM with --drain-on-stop, here through GANTRY_DRAIN_ON_STOP=1) drains the
//   embedded agent, so the step it runs is interrupted: that step fails saying why, its dependents are
//   skipped, and the run has ended before the server exits. (A plain SIGTERM leaves the step running,
//   as the crash below does: test/integration/stop-keeps-tasks.test.ts.)
// - A crash (SIGKILL) leaves the step's process running (the exec driver starts it detached); the new
//   server's agent finds it again, the run engine follows the same task (never a second one) and the
//   run ends when it does.
// - A run canceled just before a crash, whose step was still stopping, ends as canceled.
import assert from 'node:assert/strict';
import { CiServer, GitRepo, step, stepStates, succeeded, type RunView } from '../helpers/ci.ts';
import { killAll, runCli, tempDir, waitFor } from '../helpers/processes.ts';

describe('CI: a server restart during a run', function () {
  this.timeout(60_000);
  let server: CiServer;
  let repo: GitRepo;

  const pushPipeline = (branch: string, pipeline: string): Promise<RunView> => server.pushPipeline(repo, branch, pipeline);

  before(async () => {
    server = await CiServer.start('ci-restart');
    repo = new GitRepo(tempDir('ci-restart-git'));
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('SIGTERM with drain: the interrupted step fails, the run ends, and the restarted server builds again', async () => {
    const run = await pushPipeline('graceful', `steps:
  - name: first
    commands: [echo one]
  - name: slow
    commands: [echo sleeping, sleep 20, echo slept]
  - name: after
    commands: [echo after]
`);
    await server.stepIn(run.id, 'slow', 'running');

    const stopping = Date.now();
    await server.stop();
    assert.ok(Date.now() - stopping < 10_000, 'the server stopped within the grace period');
    await server.launch();

    const ended = await server.finished(run.id, 10_000);
    assert.equal(ended.state, 'failure');
    assert.deepEqual(stepStates(ended), { clone: 'success', first: 'success', slow: 'failure', after: 'skipped' });
    assert.equal(step(ended, 'slow').reason, 'the agent was drained');
    assert.equal(ended.reason, 'step "slow" failed: the agent was drained');
    assert.ok(Date.parse(ended.finishedAt!) - stopping < 10_000, 'it ended while the server stopped, not after a run timeout');
    assert.equal(await server.stepLog(ended, 'slow'), '+ echo sleeping\nsleeping\n+ sleep 20\n', 'its log survived the restart');

    // The restarted server takes new pushes.
    const next = await pushPipeline('after-restart', 'steps:\n  - name: ok\n    commands: [echo fine]\n');
    assert.equal((await server.finished(next.id)).state, 'success');
  });

  it('SIGKILL: the step keeps running on the agent and the run ends when it does, without a second task', async () => {
    const run = await pushPipeline('crash', `steps:
  - name: slow
    commands: [echo sleeping, sleep 3, echo slept]
  - name: after
    commands: [echo after]
`);
    const running = await server.stepIn(run.id, 'slow', 'running');
    // Crash once the step's process runs (before, its launch order would die with the server).
    await waitFor('the step to print', async () => (await server.stepLog(await server.run(run.id), 'slow')).includes('sleeping\n'));
    await server.crash();
    await server.launch();

    const ended = await server.finished(run.id, 15_000);
    const slow = step(ended, 'slow');
    assert.deepEqual(slow.taskIds, [running.taskId], 'the same task was followed, not submitted again');
    assert.match(await server.stepLog(ended, 'slow'), /\+ sleep 3\n\+ echo slept\nslept\n$/, 'the step ran to its end across the crash');
    // The agent that recovers a process is not its parent and cannot read its exit code (a known
    // limit of the exec driver), so the step may be reported failed although it printed "slept".
    if (slow.state === 'success') assert.deepEqual([ended.state, step(ended, 'after').state], ['success', 'success']);
    else assert.deepEqual([ended.state, slow.state, step(ended, 'after').state], ['failure', 'failure', 'skipped']);
  });

  it('a run canceled just before a crash, with its step still stopping, ends canceled after the restart', async () => {
    const run = await pushPipeline('cancel-crash', `steps:
  - name: stubborn
    commands:
      - trap 'trap "" TERM; echo stopping; sleep 2; echo stopped; exit 143' TERM; sleep 30 & wait
  - name: after
    commands: [echo after]
`);
    await server.stepIn(run.id, 'stubborn', 'running');
    succeeded(await runCli(['ci', 'cancel', run.id], server.cliEnv));
    await waitFor('the step to start stopping', async () => (await server.stepLog(await server.run(run.id), 'stubborn')).includes('stopping'));
    await server.crash();
    await server.launch();

    const ended = await server.finished(run.id, 15_000);
    assert.equal(ended.state, 'canceled');
    assert.equal(ended.reason, 'canceled by user');
    assert.deepEqual(stepStates(ended), { clone: 'success', stubborn: 'canceled', after: 'canceled' });
  });
});
