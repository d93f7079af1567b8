// The Chronos REST API as Chronos documents it (docs/docs/api.md), with its own example job JSON
// posted unchanged, and the `gantry jobs` CLI over the native API, against a real server process.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { documentedDependentJob, documentedScheduledJob } from '../batch/jobs/chronos-jobs.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, runCli, startGantry, tempDir, waitFor, type Started } from '../helpers/processes.ts';

// Chronos's documented examples, verbatim (api.md: "Adding a Scheduled Job", "Adding a Dependent Job").
const SAMPLE_JOB1 = documentedScheduledJob;
const DEPENDENT_JOB = documentedDependentJob;

describe('batch: the Chronos API and the jobs CLI', function () {
  this.timeout(90_000);
  const dir = tempDir('batch-api');
  let server: Started | undefined;
  let url = '';
  let env: Record<string, string> = {};

  const chronos = async (method: string, route: string, body?: unknown, raw?: string) => {
    const response = await fetch(url + route, {
      method,
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`, ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: raw ?? (body === undefined ? null : JSON.stringify(body)),
    });
    const text = await response.text();
    let json: any = text;
    try {
      json = JSON.parse(text);
    } catch {
      // text answers (graph/dot, graph/csv) and empty 204s
    }
    return { status: response.status, body: json, text };
  };
  const jobNames = async () => ((await chronos('GET', '/scheduler/jobs')).body as Array<{ name: string }>).map((j) => j.name).sort();

  before(async () => {
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--log-level', 'warn', '--agent-resources', 'cpus:4;mem:4096;disk:4096'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /listening on (http:\/\/\S+)/,
    );
    server = started;
    url = started.match[1]!;
    env = { GANTRY_URL: url, GANTRY_TOKEN: ADMIN_TOKEN };
  });
  after(async () => {
    await server?.stop();
    killAll();
  });

  it("takes Chronos's documented scheduled and dependent jobs unchanged, and serves them back with statistics", async () => {
    assert.equal((await chronos('POST', '/scheduler/iso8601', SAMPLE_JOB1)).status, 204);
    for (const parent of DEPENDENT_JOB.parents) {
      assert.equal((await chronos('POST', '/v1/scheduler/iso8601', { name: parent, command: 'true', schedule: 'R/2030-01-01T00:00:00Z/P1D', owner: 'bob@airbnb.com' })).status, 204);
    }
    assert.equal((await chronos('POST', '/scheduler/dependency', DEPENDENT_JOB)).status, 204);
    const jobs = (await chronos('GET', '/scheduler/jobs')).body as Array<Record<string, unknown>>;
    const sample = jobs.find((j) => j.name === 'SAMPLE_JOB1')!;
    assert.equal(sample.schedule, 'R10/2012-10-01T05:52:00Z/PT2S', 'the schedule is served as given, never rewritten');
    assert.deepEqual([sample.successCount, sample.errorCount, sample.lastSuccess, sample.lastError], [0, 0, '', '']);
    const dependent = (await chronos('GET', '/scheduler/job/hostings_earnings_summary')).body as Record<string, unknown>;
    assert.deepEqual(dependent.parents, DEPENDENT_JOB.parents);
    assert.equal(dependent.successCount, 0, "Chronos's statistics in the posted JSON are read-only: ignored");
    // A job exported from Chronos (with its statistics) posts back unchanged.
    assert.equal((await chronos('PUT', '/scheduler/dependency', dependent)).status, 204);
    const search = (await chronos('GET', '/scheduler/jobs/search?any=HIVE_QUERY')).body as Array<{ name: string }>;
    assert.deepEqual(search.map((j) => j.name), ['hostings_earnings_summary']);
    const summary = (await chronos('GET', '/scheduler/jobs/summary')).body as { jobs: Array<{ name: string; status: string; state: string }> };
    assert.deepEqual(summary.jobs.find((j) => j.name === 'SAMPLE_JOB1'), { name: 'SAMPLE_JOB1', status: 'fresh', state: 'idle', schedule: SAMPLE_JOB1.schedule, parents: [], disabled: false });
  });

  it('starts a job by hand without moving its schedule, marks one successful, kills runs, and draws the graph', async () => {
    const parent = 'db_export-airbed_hostings';
    const before = (await chronos('GET', `/api/v1/jobs/${parent}`)).body as { nextDueAt: string };
    assert.equal((await chronos('PUT', `/scheduler/job/${parent}`)).status, 204);
    const runs = await waitFor('the manual run succeeded', async () => {
      const list = (await chronos('GET', `/api/v1/jobs/${parent}/runs`)).body.runs as Array<{ trigger: string; state: string }>;
      return list.length === 1 && list[0]!.state === 'succeeded' ? list : undefined;
    });
    assert.equal(runs[0]!.trigger, 'manual');
    assert.equal(((await chronos('GET', `/api/v1/jobs/${parent}`)).body as { nextDueAt: string }).nextDueAt, before.nextDueAt, 'the anchor and next due time stay');

    assert.equal((await chronos('PUT', '/scheduler/job/success/db_export-airbed_reservation2s')).body, true);
    const marked = (await chronos('GET', '/scheduler/job/db_export-airbed_reservation2s')).body as { successCount: number; lastSuccess: string };
    assert.equal(marked.successCount, 1);
    assert.notEqual(marked.lastSuccess, '');

    // Both parents have now completed a run: the dependent job runs once (and fails, no such script
    // here: it waits for its first retry, Chronos's 60 s later).
    const child = await waitFor('the child run failed once', async () => {
      const list = (await chronos('GET', '/api/v1/jobs/hostings_earnings_summary/runs')).body.runs as Array<{ trigger: string; state: string; attempt: number; retryAt: string | null }>;
      return list.length === 1 && list[0]!.state === 'retrying' ? list[0] : undefined;
    }, 20_000);
    assert.equal(child.trigger, 'dependency');
    assert.ok(Date.parse(child.retryAt!) - Date.now() > 40_000, `retry due ${child.retryAt}`);
    assert.equal((await chronos('DELETE', '/scheduler/task/kill/hostings_earnings_summary')).status, 204);
    const killed = (await chronos('GET', '/api/v1/jobs/hostings_earnings_summary/runs')).body.runs as Array<{ state: string; reason: string }>;
    assert.deepEqual([killed[0]!.state, killed[0]!.reason], ['killed', 'killed by user']);

    assert.equal((await chronos('DELETE', `/scheduler/task/kill/${parent}`)).status, 204);
    const dot = (await chronos('GET', '/scheduler/graph/dot')).text;
    assert.match(dot, /^digraph G \{/);
    assert.match(dot, /label="hostings_earnings_summary"/);
    assert.equal((dot.match(/->/g) ?? []).length, 2);
    const csv = (await chronos('GET', '/scheduler/graph/csv')).text;
    assert.match(csv, /^node,db_export-airbed_hostings,success,idle$/m);
    assert.match(csv, /^link,db_export-airbed_hostings,hostings_earnings_summary$/m);
  });

  it('refuses bad jobs with 400 and a clear message, storing nothing', async () => {
    const names = await jobNames();
    const cases: Array<[string, string, unknown, string | undefined, RegExp]> = [
      ['invalid JSON', '/scheduler/iso8601', undefined, '{"name": "x",', /JSON|invalid/i],
      ['unknown fields', '/scheduler/iso8601', { name: 'x', comand: 'true', schedule: 'R/2030-01-01T00:00:00Z/P1D', colour: 'red' }, undefined, /unknown field "comand" \(did you mean "command"\?\).*unknown field "colour"/],
      ['a bad schedule', '/scheduler/iso8601', { name: 'x', command: 'true', schedule: 'R/2026-02-30T00:00:00Z/P1D' }, undefined, /schedule: .*(day|30)/],
      ['a zero period', '/scheduler/iso8601', { name: 'x', command: 'true', schedule: 'R/2026-01-01T00:00:00Z/PT0S' }, undefined, /schedule: .*period/],
      ['a missing parent', '/scheduler/dependency', { name: 'x', command: 'true', parents: ['nope'] }, undefined, /parent "nope" does not exist/],
      ['a dependent job on the scheduled endpoint', '/scheduler/iso8601', { name: 'x', command: 'true', parents: ['SAMPLE_JOB1'] }, undefined, /has parents: post dependent jobs to \/scheduler\/dependency/],
      ['a cycle', '/scheduler/dependency', { ...DEPENDENT_JOB, name: 'db_export-airbed_hostings', parents: ['hostings_earnings_summary'] }, undefined, /cycle: .*→/],
    ];
    for (const [what, route, body, raw, message] of cases) {
      const answer = await chronos('POST', route, body, raw);
      assert.equal(answer.status, 400, `${what}: ${answer.text}`);
      assert.equal(answer.body.error, 'invalid', what);
      assert.match(answer.body.message, message, what);
    }
    assert.deepEqual(await jobNames(), names, 'nothing was stored');
    assert.equal(((await chronos('GET', '/scheduler/job/db_export-airbed_hostings')).body as { schedule: string }).schedule, 'R/2030-01-01T00:00:00Z/P1D', 'the refused cycle changed nothing');
    const unauthenticated = await fetch(`${url}/scheduler/jobs`);
    assert.equal(unauthenticated.status, 401);
    assert.equal((await chronos('GET', '/scheduler/job/no-such-job')).status, 404);
  });

  it('manages jobs from the CLI: add, ls, show, run, runs, logs, graph, rm', async () => {
    const file = path.join(dir, 'report.json');
    // scheduleTimeZone wins over the offset in the schedule (Chronos): 06:00 in Paris is 05:00Z in winter.
    writeFileSync(file, JSON.stringify({ name: 'report', command: 'echo "report for $GANTRY_SCHEDULED_TIME"', schedule: 'R/2030-01-01T06:00:00Z/P1D', scheduleTimeZone: 'Europe/Paris', owner: 'ops@example.com' }));
    const added = await runCli(['jobs', 'add', file], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Saved job report: next run 2030-01-01T05:00:00.000Z/);
    const listed = JSON.parse((await runCli(['jobs', 'ls', '--json'], env)).stdout) as Array<{ name: string }>;
    assert.ok(listed.some((j) => j.name === 'report'));
    assert.match((await runCli(['jobs', 'ls'], env)).stdout, /report\s+idle/);

    const started = await runCli(['jobs', 'run', 'report'], env);
    assert.equal(started.code, 0, started.stderr);
    const runId = /Started run (r-\S+)/.exec(started.stdout)![1]!;
    await waitFor('the run succeeded', async () => JSON.parse((await runCli(['jobs', 'runs', 'report', '--json'], env)).stdout)[0]?.state === 'succeeded', 20_000);
    const logs = await runCli(['jobs', 'logs', runId], env);
    assert.match(logs.stdout, /^report for \d{4}-\d\d-\d\dT/);
    assert.match((await runCli(['jobs', 'runs', 'report'], env)).stdout, new RegExp(`${runId}\\s+manual\\s+\\S+\\s+succeeded\\s+1\\s+0`));
    const shown = await runCli(['jobs', 'show', 'report'], env);
    assert.match(shown.stdout, /runs:\s+1 succeeded, 0 failed/);
    assert.match(shown.stdout, /"scheduleTimeZone": "Europe\/Paris"/);
    assert.match((await runCli(['jobs', 'graph'], env)).stdout, /label="report"/);

    const bad = await runCli(['jobs', 'add', path.join(dir, 'missing.json')], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^gantry: cannot read .*missing\.json/);
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ name: 'bad', command: 'true', cron: '61 * * * *' }));
    const invalid = await runCli(['jobs', 'add', path.join(dir, 'bad.json')], env);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /cron/);

    const removed = await runCli(['jobs', 'rm', 'db_export-airbed_hostings'], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /"hostings_earnings_summary" now runs after "db_export-airbed_reservation2s"/);
    const unknown = await runCli(['jobs', 'show', 'db_export-airbed_hostings'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no job named "db_export-airbed_hostings"/);
  });

  it('kills the running task of a job that is deleted', async () => {
    assert.equal((await chronos('POST', '/scheduler/iso8601', { name: 'sleeper', command: 'sleep 60', schedule: 'R/2030-01-01T00:00:00Z/P1D' })).status, 204);
    assert.equal((await chronos('PUT', '/scheduler/job/sleeper')).status, 204);
    const run = await waitFor('running', async () => {
      const list = (await chronos('GET', '/api/v1/jobs/sleeper/runs')).body.runs as Array<{ state: string; taskId: string }>;
      return list[0]?.state === 'running' ? list[0] : undefined;
    });
    assert.equal((await chronos('DELETE', '/scheduler/job/sleeper')).status, 204);
    const task = await waitFor('the task killed', async () => {
      const t = (await chronos('GET', `/api/v1/tasks/${run.taskId}`)).body as { state: string; reason: string };
      return t.state === 'killed' ? t : undefined;
    });
    assert.match(task.reason, /job "sleeper" was deleted/);
  });
});
