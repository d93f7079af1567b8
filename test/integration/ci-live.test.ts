// A run while it happens: its Server-Sent Events (snapshots, then `end`), a step's output resumed with
// Last-Event-ID, cancel from the CLI while a step sleeps, and a run superseded by a newer push of the
// same branch (`concurrency.cancel_previous`).
import assert from 'node:assert/strict';
import { CiServer, GitRepo, step, stepStates, succeeded, type RunView } from '../helpers/ci.ts';
import { isAlive as alive, killAll, runCli, tempDir, waitFor } from '../helpers/processes.ts';
import { eventBytes } from '../helpers/sse-client.ts';

const SUPERSEDED = (command: string) => `concurrency:
  group: "\${branch}"
  limit: 1
  cancel_previous: true
steps:
  - name: work
    commands:
      - ${command}
`;

describe('CI: live runs (events, log resume, cancel, superseded runs)', function () {
  this.timeout(60_000);
  let server: CiServer;
  let repo: GitRepo;

  const pushPipeline = (branch: string, pipeline: string): Promise<RunView> => server.pushPipeline(repo, branch, pipeline);

  before(async () => {
    server = await CiServer.start('ci-live');
    repo = new GitRepo(tempDir('ci-live-git'));
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('streams run snapshots as the run progresses, then `end`; a step log resumes with Last-Event-ID', async () => {
    const run = await pushPipeline('events', `steps:
  - name: count
    commands:
      - for i in 1 2 3 4; do echo "line $i"; sleep 0.2; done
  - name: done
    commands: [echo finished]
`);
    const events = await server.events(`/api/v1/runs/${run.id}/events`);
    const snapshots = events.filter((e) => e.event === 'run').map((e) => JSON.parse(e.data) as RunView);
    assert.equal(events.at(-1)?.event, 'end', 'the stream ends with `end` and is closed by the server');
    assert.deepEqual(JSON.parse(events.at(-1)!.data), { state: 'success', reason: null });
    assert.ok(snapshots.every((s) => s.id === run.id && Array.isArray(s.steps)), 'each snapshot is the whole run with its steps');
    const seen = (state: string, name: string) => snapshots.some((s) => s.state === 'running' && step(s, name).state === state);
    assert.ok(seen('running', 'count'), 'a snapshot showed count running');
    assert.ok(seen('success', 'count') || seen('running', 'done'), 'and then count done');
    assert.equal(snapshots.at(-1)!.state, 'success');
    assert.deepEqual(stepStates(snapshots.at(-1)!), { clone: 'success', count: 'success', done: 'success' });

    // A finished run: its snapshot and `end` at once.
    const again = await server.events(`/api/v1/runs/${run.id}/events`);
    assert.deepEqual(again.map((e) => e.event), ['run', 'end']);
    assert.equal((await fetch(`${server.url}/api/v1/runs/cr_nope/events`, { headers: { authorization: `Bearer ${server.cliEnv.GANTRY_TOKEN}` } })).status, 404);

    // The step's output: read the first event, drop the connection, resume from its id.
    const taskId = step(snapshots.at(-1)!, 'count').taskId!;
    const first = await server.events(`/api/v1/tasks/${taskId}/events`, {}, (e) => e.some((x) => x.event.startsWith('stdout')));
    const resumed = await server.events(`/api/v1/tasks/${taskId}/events`, { 'last-event-id': first.at(-1)!.lastEventId });
    assert.equal(resumed.at(-1)?.event, 'end');
    const output = Buffer.concat([...first, ...resumed].filter((e) => e.event !== 'end').map(eventBytes)).toString();
    assert.equal(output, await server.stepLog(snapshots.at(-1)!, 'count'), 'no gap, no duplicate');
    assert.match(output, /line 1\nline 2\nline 3\nline 4\n$/);

    // The same through the run's own address for a step (a redirect to its task).
    const viaRun = await server.events(`/api/v1/runs/${run.id}/steps/count/events`, { 'last-event-id': first.at(-1)!.lastEventId });
    assert.deepEqual(viaRun.map(eventBytes).join(''), resumed.map(eventBytes).join(''));
    const log = await fetch(`${server.url}/api/v1/runs/${run.id}/steps/count/logs`, { headers: { authorization: `Bearer ${server.cliEnv.GANTRY_TOKEN}` } });
    assert.equal(await log.text(), output);
    const missing = await fetch(`${server.url}/api/v1/runs/${run.id}/steps/nope/logs`, { headers: { authorization: `Bearer ${server.cliEnv.GANTRY_TOKEN}` } });
    assert.equal(missing.status, 404);
  });

  it('`gantry ci cancel RUN` stops a running `sleep 30` step within its grace period', async () => {
    const run = await pushPipeline('cancel', `steps:
  - name: warmup
    commands: [echo warm]
  - name: long
    commands:
      - sh -c 'echo "pid $$"; exec sleep 30'
  - name: never
    commands: [echo never]
`);
    const long = await server.stepIn(run.id, 'long', 'running');
    const pid = Number(await waitFor('the sleep to print its pid', async () => /pid (\d+)/.exec(await server.stepLog(await server.run(run.id), 'long'))?.[1]));
    assert.ok(alive(pid), 'the step is sleeping');

    const asked = Date.now();
    const cancel = succeeded(await runCli(['ci', 'cancel', run.id], server.cliEnv));
    assert.match(cancel.stdout, new RegExp(`gantry #${run.number}: canceled`));
    const ended = await server.finished(run.id, 15_000);
    const took = Date.now() - asked;
    assert.ok(took < 10_000, `canceled in ${took} ms (the grace period is 10 s)`);
    assert.equal(ended.state, 'canceled');
    assert.equal(ended.reason, 'canceled by user');
    assert.deepEqual(stepStates(ended), { clone: 'success', warmup: 'success', long: 'canceled', never: 'canceled' });
    const task = (await server.client.get(`/api/v1/tasks/${long.taskId}`)).body;
    assert.equal(task.state, 'killed');
    await waitFor('the sleep to be gone', async () => !alive(pid), 5_000);

    // Canceling again changes nothing; the CLI says what the run is.
    const twice = succeeded(await runCli(['ci', 'cancel', run.id], server.cliEnv));
    assert.match(twice.stdout, /: canceled/);
    assert.equal((await server.run(run.id)).finishedAt, ended.finishedAt);
  });

  it('a newer push of the same branch cancels the running run (`cancel_previous`), naming the new run', async () => {
    // The old run's step takes a second to stop (it cleans up on SIGTERM), as a deploy might.
    const first = await pushPipeline('busy', SUPERSEDED(`trap 'trap "" TERM; echo cleaning up; sleep 1; echo cleaned; exit 143' TERM; sleep 30 & wait`));
    await server.stepIn(first.id, 'work', 'running');
    assert.equal(first.concurrencyGroup, 'busy', '${branch} is the branch name');
    const followed = server.events(`/api/v1/runs/${first.id}/events`);

    const before = repo.head();
    repo.commit({ '.gantry.yml': SUPERSEDED('echo quick') }, 'second push');
    repo.push('busy');
    const delivery = await server.push(repo, 'acme/busy', 'refs/heads/busy', before);
    const second = await server.runOf(delivery.id);
    assert.equal(second.pipeline, first.pipeline);

    const canceled = await server.finished(first.id, 15_000);
    assert.equal(canceled.state, 'canceled');
    assert.equal(canceled.reason, `superseded by run #${second.number} (${repo.head().slice(0, 8)})`);
    assert.equal(step(canceled, 'work').state, 'canceled');
    assert.match(await server.stepLog(canceled, 'work'), /cleaning up\ncleaned\n/, 'the step had its grace period');
    // Someone following the run sees it canceled while its step stops, and `end` once it has stopped.
    const events = await followed;
    const snapshots = events.filter((e) => e.event === 'run').map((e) => JSON.parse(e.data) as RunView);
    assert.ok(snapshots.some((s) => s.state === 'canceled' && step(s, 'work').state === 'running'), 'a snapshot showed the step stopping');
    assert.equal(events.at(-1)?.event, 'end');
    assert.deepEqual([snapshots.at(-1)!.state, snapshots.at(-1)!.finishedAt, step(snapshots.at(-1)!, 'work').state], ['canceled', canceled.finishedAt, 'canceled']);

    const done = await server.finished(second.id);
    assert.equal(done.state, 'success', done.reason ?? '');
    // limit 1: the new run waited until the old one had really stopped, cleanup included.
    assert.ok(Date.parse(done.startedAt!) >= Date.parse(canceled.finishedAt!), `the new run started at ${done.startedAt}, the old one ended at ${canceled.finishedAt}`);
    assert.ok(Date.parse(canceled.finishedAt!) - Date.parse(step(canceled, 'work').startedAt!) >= 1000);
    assert.match(await server.stepLog(done, 'work'), /quick/);
  });
});
