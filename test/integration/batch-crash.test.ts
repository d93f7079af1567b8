// Exactly once across crashes: the server is killed with SIGKILL at the worst moments of a firing
// (after the run was recorded but before its task was submitted; after the submit but before the run
// knew its task; while the task runs), and restarted on the same data directory. Every occurrence of
// the job must end up with exactly one run record, and no command may have executed twice. Then a
// clean downtime longer than epsilon: the occurrences missed are recorded as skipped, the latest one
// within epsilon runs once.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, api, killAll, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

interface Run {
  id: string;
  runKey: string;
  scheduledAt: string;
  state: string;
  reason: string | null;
}

describe('batch: exactly once across kill -9 and downtime', function () {
  this.timeout(120_000);
  const dir = tempDir('batch-crash');
  const dataDir = path.join(dir, 'server');
  let server: (Started & { match: RegExpMatchArray }) | undefined;
  let url = '';

  const start = async (failpoints = '') => {
    server = await startGantry(
      ['server', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--log-level', 'warn', '--agent-resources', 'cpus:4;mem:2048'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN, GANTRY_FAILPOINTS: failpoints },
      /listening on (http:\/\/\S+)/,
    );
    url = server.match[1]!;
  };
  const ensureRunning = async () => {
    if (!server || server.child.exitCode !== null || server.child.signalCode !== null) await start();
  };
  const died = () => new Promise<void>((resolve) => (server!.child.exitCode !== null || server!.child.signalCode !== null ? resolve() : server!.child.once('exit', () => resolve())));
  const runs = async (job: string): Promise<Run[]> => (await api(url).get<{ runs: Run[] }>(`/api/v1/jobs/${job}/runs?limit=1000`)).body.runs;
  const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);
  /** Waits until no task of the job is queued, staging or running (a task writes its line before it ends). */
  const everyTaskEnded = (job: string) =>
    waitFor(`every task of ${job} ended`, async () => {
      const { body } = await api(url).get<{ tasks: Array<{ state: string }> }>(`/api/v1/tasks?ownerPrefix=${encodeURIComponent(`job:${job}:`)}`);
      return body.tasks.length > 0 && body.tasks.every((t) => ['finished', 'failed', 'killed', 'lost'].includes(t.state));
    }, 30_000);

  after(async () => {
    await server?.stop();
    killAll();
  });

  /** Every scheduled time executed at most once; every run key unique. */
  const assertOnce = (all: Run[], executed: string[]) => {
    assert.equal(new Set(all.map((r) => r.runKey)).size, all.length, 'one run per (job, occurrence)');
    assert.equal(new Set(executed).size, executed.length, `no occurrence executed twice: ${executed.join(' ')}`);
  };

  it('survives a kill -9 before the submit and one after it, launching each occurrence once', async () => {
    const out = path.join(dir, 'ticks.txt');
    await start('batch-before-submit');
    const first = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
    const created = await api(url).post('/api/v1/jobs', {
      name: 'ticks',
      command: `echo "$GANTRY_SCHEDULED_TIME" >> ${out}`,
      schedule: `R/${first.toISOString().replace('.000Z', 'Z')}/PT1S`,
      epsilon: 'PT60S',
      retries: 0,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));

    await died(); // at the first firing: the run is recorded, its task not submitted
    assert.deepEqual(lines(out), [], 'nothing ran');
    // Recovery at start launches the recorded run: killed after its task was submitted, before the run
    // knew the task's id (so before the server was even ready).
    await assert.rejects(start('batch-after-submit'), /failpoint batch-after-submit/);
    await start();
    await waitFor('four ticks executed', async () => lines(out).length >= 4, 30_000);
    await server!.stop();
    await start();

    const all = (await runs('ticks')).filter((r) => r.scheduledAt >= first.toISOString());
    const executed = lines(out);
    assertOnce(all, executed);
    // What executed had a run that was launched (the last one may have been stopped with the server);
    // no skipped occurrence executed, and every success executed.
    const launched = new Set(all.filter((r) => r.state !== 'skipped').map((r) => r.scheduledAt));
    assert.ok(executed.every((t) => launched.has(t)), `executed ${executed.join(' ')}; launched ${[...launched].join(' ')}`);
    for (const r of all.filter((r) => r.state === 'succeeded')) assert.ok(executed.includes(r.scheduledAt), `${r.scheduledAt} succeeded and executed`);
    // The first occurrence was recorded before the first crash and launched only after the second.
    assert.ok(executed.includes(first.toISOString()), `the first occurrence ran: ${executed.join(' ')}`);
    // Every occurrence from the first to the latest has exactly one run (run or skipped, none lost).
    const times = all.map((r) => Date.parse(r.scheduledAt)).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 1000, `no occurrence lost near ${new Date(times[i]!).toISOString()}`);
    await api(url).post('/api/v1/jobs/ticks/kill');
    await fetch(`${url}/api/v1/jobs/ticks`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  });

  it('does not start a run again when the server is killed while its task runs', async () => {
    await ensureRunning();
    const out = path.join(dir, 'slow.txt');
    const first = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
    const created = await api(url).post('/api/v1/jobs', {
      name: 'slow',
      command: `sleep 1.5; echo "$GANTRY_SCHEDULED_TIME" >> ${out}`,
      // 8 s apart: a restart on a busy machine can take 3 s, and a second occurrence due while the first
      // run is still being taken back is skipped (one run at a time), which is not what this test is about.
      schedule: `R2/${first.toISOString().replace('.000Z', 'Z')}/PT8S`,
      epsilon: 'PT60S',
      retries: 0,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await waitFor('the first run running', async () => (await runs('slow')).some((r) => r.state === 'running'), 15_000);
    server!.child.kill('SIGKILL');
    await died();
    await start();
    await waitFor('both occurrences finished', async () => {
      const all = await runs('slow');
      return all.length === 2 && all.every((r) => !['pending', 'running', 'retrying'].includes(r.state));
    }, 30_000);
    await everyTaskEnded('slow'); // the only way to execute again: a task, launched again after the restart
    assertOnce(await runs('slow'), lines(out));
    assert.equal(lines(out).length, 2, 'each occurrence executed once');
  });

  it('runs a task once when the server is killed between its spawn and its record', async () => {
    await server?.stop();
    await start('exec-after-spawn');
    const out = path.join(dir, 'spawned.txt');
    const first = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
    const created = await api(url).post('/api/v1/jobs', {
      name: 'spawned',
      command: `sleep 1; echo "$GANTRY_SCHEDULED_TIME" >> ${out}`,
      schedule: `R1/${first.toISOString().replace('.000Z', 'Z')}/PT4S`,
      epsilon: 'PT60S',
      retries: 0,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await died(); // the task's process runs; the agent never learned its pid
    await start();
    await waitFor('the run finished', async () => {
      const all = await runs('spawned');
      return all.length === 1 && !['pending', 'running', 'retrying'].includes(all[0]!.state);
    }, 30_000);
    await everyTaskEnded('spawned'); // the only way to execute again: a task, launched again after the restart
    assert.deepEqual(lines(out), [first.toISOString()], 'the occurrence executed once');
    assert.equal((await runs('spawned'))[0]!.state, 'succeeded');
  });

  it('after downtime longer than epsilon records the missed occurrences and runs the latest once', async () => {
    await ensureRunning();
    const first = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000);
    const created = await api(url).post('/api/v1/jobs', {
      name: 'catchup',
      command: 'true',
      schedule: `R/${first.toISOString().replace('.000Z', 'Z')}/PT2S`,
      epsilon: 'PT3S',
    });
    assert.equal(created.status, 201);
    await waitFor('a first run', async () => (await runs('catchup')).some((r) => r.state === 'succeeded'), 15_000);
    await server!.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, 9000));
    await start();
    // The earliest success after the downtime (runs are listed newest first, and the next regular
    // occurrence may have succeeded too by the time this looks).
    const catchUp = await waitFor('the catch-up run', async () =>
      (await runs('catchup'))
        .filter((r) => Date.parse(r.scheduledAt) > downAt + 3000 && r.state === 'succeeded')
        .sort((a, b) => Date.parse(a.scheduledAt) - Date.parse(b.scheduledAt))[0], 15_000);
    const all = await runs('catchup');
    // Between the last run before the downtime and the catch-up run: every occurrence skipped, the
    // older ones as missed (beyond epsilon), any within epsilon as superseded by the catch-up run.
    const during = all.filter((r) => Date.parse(r.scheduledAt) > downAt + 2000 && r.scheduledAt < catchUp.scheduledAt);
    const reasons = JSON.stringify(during.map((r) => [r.scheduledAt, r.state, r.reason]));
    assert.ok(during.length >= 2, `occurrences during the downtime are recorded: ${reasons}`);
    assert.ok(during.every((r) => r.state === 'skipped' && /^(missed|superseded)/.test(r.reason ?? '')), reasons);
    assert.ok(during.some((r) => /^missed: due .* more than epsilon \(3 s\)/.test(r.reason ?? '')), reasons);
    assertOnce(all, []);
    const times = all.map((r) => Date.parse(r.scheduledAt)).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) assert.equal(times[i]! - times[i - 1]!, 2000, 'every occurrence has its record');
  });
});
