// How a run's steps behave, seen through the API: parallel steps, failures and what they skip,
// `failure: ignore`, `when: {status: [failure]}`, step timeouts and retries, and secrets masked in the
// step logs. Each test pushes its own `.gantry.yml` on its own branch of a local bare repository; the
// runs are started together in `before` (they are independent), so the file takes as long as its
// slowest run.
import assert from 'node:assert/strict';
import { CiServer, GitRepo, step, stepStates, succeeded, type RunView } from '../helpers/ci.ts';
import { killAll, runCli, tempDir } from '../helpers/processes.ts';

const PIPELINES = {
  parallel: `steps:
  - name: left
    depends_on: []
    commands: [sleep 2, echo left > left.txt]
  - name: right
    depends_on: []
    commands: [sleep 2, echo right > right.txt]
  - name: join
    depends_on: [left, right]
    commands: [cat left.txt right.txt]
`,
  failing: `steps:
  - name: build
    commands: [echo built > artifact]
  - name: lint
    failure: ignore
    commands: ['echo "lint: 3 warnings"', exit 1]
  - name: test
    commands: [cat artifact, echo "2 tests failed", exit 2]
  - name: deploy
    commands: [echo deploying]
  - name: notify
    depends_on: [test]
    when:
      status: [failure]
    commands:
      - echo "the build failed, telling the team"
`,
  timeout: `steps:
  - name: hang
    timeout: 1s
    commands: [echo started, sleep 30]
  - name: after-hang
    commands: [echo never]
`,
  'run-timeout': `timeout: 3s
steps:
  - name: forever
    commands: [sleep 30]
  - name: next
    commands: [echo next]
`,
  retry: `steps:
  - name: flaky
    retry: 2
    commands:
      - echo attempt >> .attempts
      - echo "attempt $(wc -l < .attempts)"
      - test "$(wc -l < .attempts)" -ge 3
  - name: hopeless
    depends_on: []
    retry: 1
    failure: ignore
    commands: [echo trying, exit 3]
`,
  secrets: `secrets:
  TOKEN: {from_secret: deploy_token}
steps:
  - name: leak
    env:
      KEY: {from_secret: ssh_key}
      PLAIN: visible-value
    commands:
      - echo "token=$TOKEN plain=$PLAIN"
      - echo "$TOKEN" >&2
      - printf 'key:\\n%s\\nend of key\\n' "$KEY"
`,
  registry: `steps:
  - name: push
    commands:
      - echo "registry=$GANTRY_REGISTRY user=$GANTRY_REGISTRY_USERNAME password=$GANTRY_REGISTRY_PASSWORD"
      - >-
        node -e "fetch('http://' + process.env.GANTRY_REGISTRY + '/v2/ci/app/blobs/uploads/', { method: 'POST', headers: { authorization: 'Basic ' + Buffer.from(process.env.GANTRY_REGISTRY_USERNAME + ':' + process.env.GANTRY_REGISTRY_PASSWORD).toString('base64') } }).then((r) => { console.log('upload', r.status); process.exit(r.status === 202 ? 0 : 1); })"
`,
} as const;

const TOKEN = 'tok-9f8e7d6c5b4a-DEPLOY';
const KEY = ['-----BEGIN TEST KEY-----', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', 'aW5zdGVhZCBvZiBhIHJlYWwga2V5IQ==', '-----END TEST KEY-----'].join('\n');

describe('CI: steps (order, failures, timeouts, retries, secrets)', function () {
  this.timeout(60_000);
  let server: CiServer;
  const runs = new Map<keyof typeof PIPELINES, Promise<RunView>>();

  before(async () => {
    server = await CiServer.start('ci-steps');
    // Secrets as a user sets them: the value on stdin (a multi-line key too).
    succeeded(await runCli(['ci', 'secret', 'set', 'deploy_token'], server.cliEnv, 20_000, `${TOKEN}\n`));
    succeeded(await runCli(['ci', 'secret', 'set', 'ssh_key'], server.cliEnv, 20_000, `${KEY}\n`));
    const repo = new GitRepo(tempDir('ci-steps-git'));
    for (const name of Object.keys(PIPELINES) as Array<keyof typeof PIPELINES>) {
      repo.branch(name, 'main').commit({ '.gantry.yml': PIPELINES[name] }, `${name} pipeline`);
      repo.push(name);
      const delivery = await server.push(repo, `acme/${name}`, `refs/heads/${name}`, repo.head('main'));
      assert.equal(delivery.status, 202);
      const started = server.runOf(delivery.id).then((run) => server.finished(run.id));
      started.catch(() => undefined); // awaited by its test
      runs.set(name, started);
    }
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('runs `depends_on: []` steps concurrently: two `sleep 2` take about 2 s, not 4', async () => {
    const run = await runs.get('parallel')!;
    assert.equal(run.state, 'success', run.reason ?? '');
    const [left, right, join] = ['left', 'right', 'join'].map((name) => step(run, name));
    const span = (s: typeof left) => ({ start: Date.parse(s!.startedAt!), end: Date.parse(s!.finishedAt!) });
    const l = span(left);
    const r = span(right);
    assert.ok(l.start < r.end && r.start < l.end, `left ${JSON.stringify(l)} and right ${JSON.stringify(r)} overlap`);
    assert.ok(l.end - l.start >= 2000 && r.end - r.start >= 2000, 'each slept 2 s');
    const both = Math.max(l.end, r.end) - Math.min(l.start, r.start);
    assert.ok(both < 3500, `both took ${both} ms together (in sequence it would be 4 s or more)`);
    assert.ok(span(join).start >= Math.max(l.end, r.end), 'join waited for both');
    assert.equal(await server.stepLog(run, 'join'), '+ cat left.txt right.txt\nleft\nright\n', 'the steps share the workspace');
  });

  it('a failing step fails the run and skips its dependents; `failure: ignore` continues; a `status: failure` step runs', async () => {
    const run = await runs.get('failing')!;
    assert.equal(run.state, 'failure');
    assert.match(run.reason ?? '', /step "test" failed/);
    assert.deepEqual(stepStates(run), { clone: 'success', build: 'success', lint: 'failure', test: 'failure', deploy: 'skipped', notify: 'success' });
    assert.equal(step(run, 'lint').exitCode, 1);
    assert.equal(step(run, 'test').exitCode, 2);
    assert.match(step(run, 'deploy').reason ?? '', /an earlier step failed/);
    assert.equal(step(run, 'deploy').taskId, null, 'a skipped step never ran');
    assert.equal(await server.stepLog(run, 'test'), '+ cat artifact\nbuilt\n+ echo "2 tests failed"\n2 tests failed\n+ exit 2\n', 'each command echoed, then its output');
    assert.match(await server.stepLog(run, 'notify'), /the build failed, telling the team/);
  });

  it('a step over its `timeout` is killed and is `timeout`; the run fails', async () => {
    const run = await runs.get('timeout')!;
    assert.equal(run.state, 'failure');
    const hang = step(run, 'hang');
    assert.equal(hang.state, 'timeout');
    assert.match(hang.reason ?? '', /took longer than its timeout \(1 s\)/);
    const took = Date.parse(hang.finishedAt!) - Date.parse(hang.startedAt!);
    assert.ok(took >= 1000 && took < 10_000, `the step ended after ${took} ms`);
    assert.equal(step(run, 'after-hang').state, 'skipped');
    assert.match(run.reason ?? '', /step "hang" failed/);
    const task = (await server.client.get(`/api/v1/tasks/${hang.taskId}`)).body;
    assert.equal(task.state, 'killed', 'the sleep was stopped, not left running');
  });

  it('a run over its own `timeout` is `timeout`: the running step is killed, the rest canceled', async () => {
    const run = await runs.get('run-timeout')!;
    assert.equal(run.state, 'timeout');
    assert.equal(run.reason, 'the run took longer than its timeout (3 s)');
    assert.deepEqual(stepStates(run), { clone: 'success', forever: 'timeout', next: 'canceled' });
    const took = Date.parse(run.finishedAt!) - Date.parse(run.startedAt!);
    assert.ok(took >= 3000 && took < 10_000, `the run ended after ${took} ms`);
    assert.equal((await server.client.get(`/api/v1/tasks/${step(run, 'forever').taskId}`)).body.state, 'killed');
  });

  it('retries a failing step: with `retry: 2`, failing twice then succeeding passes at attempt 3', async () => {
    const run = await runs.get('retry')!;
    assert.equal(run.state, 'success', run.reason ?? '');
    const flaky = step(run, 'flaky');
    assert.equal(flaky.state, 'success');
    assert.equal(flaky.attempt, 2, 'third attempt (0-based)');
    assert.equal(flaky.taskIds.length, 3);
    const logs = await Promise.all(flaky.taskIds.map((id) => server.stepLog(run, 'flaky', id)));
    assert.deepEqual(logs.map((log) => /attempt (\d)/.exec(log)?.[1]), ['1', '2', '3'], 'each attempt saw the one before it in the workspace');
    // Retries run out: the step fails with its last exit code (ignored here, so the run passes).
    const hopeless = step(run, 'hopeless');
    assert.deepEqual([hopeless.state, hopeless.attempt, hopeless.taskIds.length, hopeless.exitCode], ['failure', 1, 2, 3]);

    const shown = succeeded(await runCli(['ci', 'show', run.id], server.cliEnv));
    assert.match(shown.stdout, /flaky\s+success\s+3\s+0\b/, shown.stdout);
  });

  it('masks secrets as ******** in the step log, a multi-line secret too', async () => {
    const run = await runs.get('secrets')!;
    assert.equal(run.state, 'success', run.reason ?? '');
    const log = await server.stepLog(run, 'leak');
    assert.match(log, /token=\*{8} plain=visible-value/);
    assert.match(log, /key:\n\*{8}\nend of key/);
    assert.ok(!log.includes(TOKEN), log);
    for (const line of KEY.split('\n')) assert.ok(!log.includes(line), `"${line}" leaked:\n${log}`);
    // Nor does the API show the values (the task's environment, the run).
    const task = await (await fetch(`${server.url}/api/v1/tasks/${step(run, 'leak').taskId}`, { headers: { authorization: `Bearer ${server.cliEnv.GANTRY_TOKEN}` } })).text();
    const shown = JSON.stringify(await server.run(run.id));
    for (const text of [task, shown]) {
      assert.ok(!text.includes(TOKEN) && !text.includes(KEY.split('\n')[1]!), text);
    }
    // The CLI shows the same masked log.
    const cli = succeeded(await runCli(['ci', 'logs', run.id, 'leak'], server.cliEnv));
    assert.ok(!cli.stdout.includes(TOKEN) && cli.stdout.includes('token=********'), cli.stdout);
  });

  it('gives every step the bundled registry and the platform robot, password masked, so it can push', async () => {
    const run = await runs.get('registry')!;
    assert.equal(run.state, 'success', run.reason ?? '');
    const log = await server.stepLog(run, 'push');
    assert.match(log, /registry=127\.0\.0\.1:\d+ user=gantry-platform password=\*{8}\n/);
    assert.match(log, /upload 202/);
  });
});
