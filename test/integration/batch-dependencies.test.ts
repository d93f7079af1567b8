// Dependencies, concurrency policies and retries with a server and a separate agent process: the
// agent keeps running tasks while the server restarts (as Mesos promises), so state that must survive
// the restart (a diamond half done, a pending retry) is really tested across one.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ADMIN_TOKEN, JOIN_TOKEN, api, freePort, killAll, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

interface Run {
  id: string;
  jobName: string;
  trigger: string;
  state: string;
  attempt: number;
  taskIds: string[];
  startedAt: string | null;
  finishedAt: string | null;
  reason: string | null;
  createdAt: string;
}

const FINISHED = new Set(['succeeded', 'failed', 'killed', 'skipped']);

describe('batch: dependencies, concurrency policies and retries across a server restart', function () {
  this.timeout(120_000);
  const dir = tempDir('batch-deps');
  let server: Started | undefined;
  let agent: Started | undefined;
  let url = '';

  const startServer = async () => {
    server = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', url.replace('http://', ''), '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
  };
  const restartServer = async () => {
    await server!.stop();
    await startServer();
  };
  const client = () => api(url);
  const put = async (job: Record<string, unknown>) => {
    const answer = await client().post('/api/v1/jobs', job);
    assert.ok(answer.status === 200 || answer.status === 201, JSON.stringify(answer.body));
  };
  const runs = async (job: string): Promise<Run[]> => (await client().get<{ runs: Run[] }>(`/api/v1/jobs/${encodeURIComponent(job)}/runs?limit=1000`)).body.runs;
  const settled = (job: string, count: number) =>
    waitFor(`${count} finished runs of ${job}`, async () => {
      const list = await runs(job);
      return list.filter((r) => FINISHED.has(r.state)).length >= count ? list : undefined;
    }, 30_000);
  const never = 'R/2030-01-01T00:00:00Z/P1D';

  before(async () => {
    url = `http://127.0.0.1:${await freePort()}`;
    await startServer();
    agent = await startGantry(
      ['agent', '--master', url, '--join-token', JOIN_TOKEN, '--data-dir', path.join(dir, 'agent'), '--resources', 'cpus:8;mem:4096', '--hostname', 'worker'],
      {},
      /Agent \S+ joined/,
    );
  });
  after(async () => {
    await server?.stop();
    await agent?.stop();
    killAll();
  });

  it('runs the join of a diamond once per generation, after both branches, across a restart between them', async () => {
    const go = path.join(dir, 'go');
    await put({ name: 'A', command: 'true', schedule: never });
    await put({ name: 'B', command: 'true', parents: ['A'] });
    await put({ name: 'C', command: `while [ ! -f ${go} ]; do sleep 0.1; done`, parents: ['A'] });
    await put({ name: 'D', command: 'true', parents: ['B', 'C'] });
    assert.equal((await client().post('/api/v1/jobs/A/run')).status, 201);
    await settled('B', 1);
    await waitFor('C running', async () => (await runs('C')).some((r) => r.state === 'running'));
    assert.deepEqual(await runs('D'), [], 'D waits for C');

    await restartServer(); // B's completion is in the store; C keeps running on the agent
    assert.deepEqual(await runs('D'), []);
    writeFileSync(go, '');
    const [c] = await settled('C', 1);
    const [d] = await settled('D', 1);
    assert.equal(c!.state, 'succeeded');
    assert.equal(d!.state, 'succeeded');
    assert.equal(d!.trigger, 'dependency');
    assert.ok(d!.startedAt! >= c!.finishedAt!, `D started ${d!.startedAt}, after C finished ${c!.finishedAt}`);

    // A second generation: D runs once more, not twice.
    await client().post('/api/v1/jobs/A/run');
    await settled('D', 2);
    // A third run of D could only come from a parent's run ending: once no run of A, B or C is active,
    // nothing can start D again.
    await waitFor('every run of A, B and C ended', async () => (await Promise.all(['A', 'B', 'C'].map(runs))).every((list) => list.every((r) => FINISHED.has(r.state))));
    assert.equal((await runs('D')).length, 2);
    assert.equal((await runs('B')).length, 2);
  });

  it('applies trigger rules at a fan-in: one_failed runs, all_success is skipped with the reason', async () => {
    await put({ name: 'ok', command: 'true', schedule: never });
    await put({ name: 'broken', command: 'exit 3', schedule: never, retries: 0 });
    await put({ name: 'alert', command: 'true', parents: ['ok', 'broken'], triggerRule: 'one_failed' });
    await put({ name: 'publish', command: 'true', parents: ['ok', 'broken'] });
    await put({ name: 'cleanup', command: 'true', parents: ['ok', 'broken'], triggerRule: 'all_done' });
    await client().post('/api/v1/jobs/ok/run');
    await client().post('/api/v1/jobs/broken/run');
    const [alert] = await settled('alert', 1);
    const [publish] = await settled('publish', 1);
    const [cleanup] = await settled('cleanup', 1);
    assert.equal(alert!.state, 'succeeded');
    assert.equal(cleanup!.state, 'succeeded');
    assert.equal(publish!.state, 'skipped');
    assert.match(publish!.reason!, /trigger rule all_success: parent broken \(run r-\S+\) failed/);
  });

  it('keeps a pending retry across a restart and backs off exponentially', async () => {
    await put({ name: 'flaky', command: 'exit 1', schedule: never, retries: 2, retryBackoff: { initial: 'PT2S', factor: 2, max: 'PT1M' } });
    await client().post('/api/v1/jobs/flaky/run');
    await waitFor('the first retry pending', async () => (await runs('flaky'))[0]?.state === 'retrying');
    await restartServer();
    const [run] = await settled('flaky', 1);
    assert.equal(run!.state, 'failed');
    assert.equal(run!.attempt, 2, 'two retries after the first attempt');
    assert.equal(run!.taskIds.length, 3);
    const tasks = await Promise.all(run!.taskIds.map(async (id) => (await client().get<{ startedAt: string; finishedAt: string }>(`/api/v1/tasks/${id}`)).body));
    const gap = (i: number) => Date.parse(tasks[i]!.startedAt) - Date.parse(tasks[i - 1]!.finishedAt);
    // Lower bounds are the backoff (the restart must not reset it to "now"); upper bounds only catch a
    // retry lost until something else woke the scheduler (a restart here takes a few seconds under load).
    assert.ok(gap(1) >= 1900 && gap(1) < 15_000, `first retry after ~2 s, across the restart: ${gap(1)} ms`);
    assert.ok(gap(2) >= 3900 && gap(2) < 15_000, `second retry after ~4 s: ${gap(2)} ms`);
    const stats = (await client().get<{ stats: { errorCount: number; successCount: number } }>('/api/v1/jobs/flaky')).body.stats;
    assert.deepEqual([stats.errorCount, stats.successCount], [1, 0], 'one failed run, counted once');
  });

  it('kills a run past maxCompletionTime and fails it, and keeps only the history asked for', async () => {
    await put({ name: 'stuck', command: 'sleep 30', schedule: never, retries: 0, maxCompletionTime: 1500 });
    await client().post('/api/v1/jobs/stuck/run');
    const [stuck] = await settled('stuck', 1);
    assert.equal(stuck!.state, 'failed');
    assert.match(stuck!.reason ?? '', /maxCompletionTime exceeded \(1500 ms\)/);
    const took = Date.parse(stuck!.finishedAt!) - Date.parse(stuck!.startedAt!);
    assert.ok(took >= 1400 && took < 10_000, `killed after ${took} ms`);

    await put({ name: 'short-memory', command: 'true', schedule: never, history: { successful: 2, failed: 2 } });
    for (let i = 1; i <= 4; i++) {
      await client().post('/api/v1/jobs/short-memory/run');
      await settled('short-memory', Math.min(i, 2));
      await waitFor('no active run', async () => (await runs('short-memory')).every((r) => FINISHED.has(r.state)));
    }
    assert.equal((await runs('short-memory')).length, 2, 'older runs pruned');
    const stats = (await client().get<{ stats: { successCount: number } }>('/api/v1/jobs/short-memory')).body.stats;
    assert.equal(stats.successCount, 4, 'the counts keep every run');
  });

  it('recognises a run still going after a restart and keeps Forbid', async () => {
    const start = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    await put({ name: 'long', command: 'sleep 6', schedule: `R2/${start}/PT3S`, retries: 0 });
    await waitFor('the first run running', async () => (await runs('long')).some((r) => r.state === 'running'));
    await restartServer();
    const all = await settled('long', 2);
    const states = all.map((r) => r.state).sort();
    assert.deepEqual(states, ['skipped', 'succeeded'], 'Chronos default (concurrent false): Forbid');
    assert.match(all.find((r) => r.state === 'skipped')!.reason ?? '', /still in progress \(concurrencyPolicy Forbid\)/);
  });

  it('enforces Forbid, Replace and Allow when runs overlap', async () => {
    const start = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    for (const policy of ['Forbid', 'Replace', 'Allow']) {
      await put({ name: `overlap-${policy}`, command: 'sleep 2.5', schedule: `R3/${start}/PT1S`, concurrencyPolicy: policy, retries: 0 });
    }
    const forbid = await settled('overlap-Forbid', 3);
    const replace = await settled('overlap-Replace', 3);
    const allow = await settled('overlap-Allow', 3);
    const states = (list: Run[]) => list.map((r) => r.state).sort();
    assert.deepEqual(states(forbid), ['skipped', 'skipped', 'succeeded']);
    assert.ok(forbid.filter((r) => r.state === 'skipped').every((r) => /concurrencyPolicy Forbid/.test(r.reason ?? '')));
    assert.deepEqual(states(replace), ['killed', 'killed', 'succeeded']);
    assert.ok(replace.filter((r) => r.state === 'killed').every((r) => /replaced by run r-\S+ \(concurrencyPolicy Replace\)/.test(r.reason ?? '')));
    assert.deepEqual(states(allow), ['succeeded', 'succeeded', 'succeeded']);
    const overlapping = allow.some((a) => allow.some((b) => a !== b && a.startedAt! < b.finishedAt! && b.startedAt! < a.finishedAt!));
    assert.ok(overlapping, 'Allow let runs overlap');
  });
});
