// Pull requests on a real server: GitHub's own pull_request payloads (signed as GitHub signs them) for a
// local bare repository that keeps each pull request's head at refs/pull/N/head, as GitHub does. A pull
// request into a filtered base branch runs the pipeline on its head commit with the pull request's
// variables and the secrets; one from a fork gets neither secrets nor the registry robot and deploys
// nothing; a new push to a pull request cancels its older run (cancel_previous); other actions and base
// branches start nothing, saying why. Two repositories whose .gantry.yml has no name count their runs
// apart.
import assert from 'node:assert/strict';
import { CiServer, GitRepo, deliver, pullRequestPayload, step, succeeded, type PullRequestFields, type RunView } from '../helpers/ci.ts';
import { killAll, runCli, tempDir } from '../helpers/processes.ts';

const PINNED = `127.0.0.1:5000/team/pr@sha256:${'0'.repeat(64)}`;
const PIPELINE = `on:
  push: {branches: [main]}
  pull_request: {branches: [main]}
concurrency: {limit: 10, cancel_previous: true}
steps:
  - name: check
    env: {TOKEN: {from_secret: token}}
    commands:
      - 'echo "token=\${TOKEN:-none} robot=\${GANTRY_REGISTRY_PASSWORD:-none} event=$CI_EVENT branch=$CI_COMMIT_BRANCH pr=$CI_PULL_REQUEST from=$CI_COMMIT_SOURCE_BRANCH of $CI_COMMIT_SOURCE_REPO"'
      - 'test ! -f slow || test -f fast || sleep 60'
  - name: deploy
    failure: ignore
    deploy: {app: /prod/pr, image: '${PINNED}'}
`;

/** The line the step printed (the log also echoes each command). */
const printed = (log: string): string | undefined => log.split('\n').find((line) => line.startsWith('token='));

describe('CI: pull requests', function () {
  this.timeout(120_000);
  let server: CiServer;
  let repo: GitRepo;

  before(async () => {
    server = await CiServer.start('ci-pulls');
    repo = new GitRepo(tempDir('ci-pulls-repo'));
    repo.branch('main').commit({ '.gantry.yml': PIPELINE }, 'pipeline');
    repo.push('main');
    await runCli(['ci', 'secret', 'set', 'token'], server.cliEnv, 10_000, 's3cret-token').then(succeeded);
  });
  after(async () => {
    await server?.stop();
    killAll();
  });

  /** Commits `files` on `branch`, publishes it as pull request `number` and delivers `action` for it. */
  async function pull(number: number, branch: string, files: Record<string, string>, fields: Partial<PullRequestFields> = {}): Promise<{ id: string; status: number; body: Record<string, unknown> }> {
    repo.branch(branch, 'main').commit(files, `${branch} change`);
    const headSha = repo.publishPull(number, branch);
    return deliver(server.url, 'pull_request', pullRequestPayload({
      action: 'opened', number, fullName: 'acme/web', cloneUrl: repo.cloneUrl, baseRef: 'main', baseSha: repo.head('main'), headRef: branch, headSha, ...fields,
    }));
  }

  it('runs a pull request into main on its head commit, with its variables and the secrets', async () => {
    const delivery = await pull(1, 'topic', { 'feature.txt': 'one\n' });
    assert.equal(delivery.status, 202, JSON.stringify(delivery.body));
    const run = await server.finished((await server.runOf(delivery.id)).id);
    assert.deepEqual([run.event, run.ref, run.branch, run.commit], ['pull_request', 'refs/pull/1/head', 'main', repo.head('topic')]);
    assert.equal(step(run, 'check').state, 'success');
    assert.equal(printed(await server.stepLog(run, 'check')), 'token=******** robot=******** event=pull_request branch=main pr=1 from=topic of acme/web');
    assert.equal(step(run, 'deploy').state, 'failure', 'a pull request from the repository itself may deploy (this app does not exist)');
    assert.equal(step(run, 'deploy').reason, 'app /prod/pr does not exist');
  });

  it('gives a pull request from a fork no secret, not the robot either, and deploys nothing', async () => {
    const delivery = await pull(2, 'fork-change', { 'fork.txt': 'from outside\n' }, { headFullName: 'mallory/web' });
    const run = await server.finished((await server.runOf(delivery.id)).id);
    assert.equal(run.state, 'success', run.reason ?? '');
    assert.equal(printed(await server.stepLog(run, 'check')), 'token=none robot=none event=pull_request branch=main pr=2 from=fork-change of mallory/web');
    assert.deepEqual([step(run, 'deploy').state, step(run, 'deploy').reason], ['skipped', 'a pull request from a fork (mallory/web) deploys nothing']);
  });

  it('cancels a pull request\'s older run when it is pushed to again (cancel_previous)', async () => {
    const first = await pull(3, 'slow-topic', { slow: 'yes\n' });
    const older = await server.runOf(first.id);
    await server.stepIn(older.id, 'check', 'running', 30_000);
    // The second push makes the step quick.
    const second = await pull(3, 'slow-topic', { fast: 'yes\n' }, { action: 'synchronize' });
    const newer = await server.runOf(second.id);
    const canceled = await server.finished(older.id);
    assert.equal(canceled.state, 'canceled');
    assert.equal(canceled.reason, `superseded by run #${newer.number} (${newer.commit!.slice(0, 8)})`);
    assert.equal((await server.finished(newer.id)).steps.find((s) => s.name === 'check')?.state, 'success');
    const main = await server.runs();
    assert.ok(main.filter((r) => r.id !== older.id).every((r) => r.state !== 'canceled'), 'no other run was canceled: not the other pull requests\' nor main\'s');
  });

  it('starts nothing for other actions and other base branches, saying why', async () => {
    const closed = await pull(4, 'closing', { 'c.txt': 'c\n' }, { action: 'closed' });
    assert.equal(closed.status, 200);
    assert.match(String(closed.body.message), /pull request #4 closed: only opened, synchronize and reopened start runs/);
    const release = await pull(5, 'to-release', { 'r.txt': 'r\n' }, { baseRef: 'release' });
    assert.equal(release.status, 202);
    const settled = await server.settledDelivery(release.id);
    assert.match(settled.detail ?? '', /pull request #5 into "release": the base branch does not match on\.pull_request\.branches \(main\)/);
  });

  it('counts the runs of two repositories\' unnamed .gantry.yml apart', async () => {
    const other = new GitRepo(tempDir('ci-pulls-other'));
    const runs: RunView[] = [];
    for (const [r, name] of [[repo, 'acme/numbered-a'], [other, 'acme/numbered-b']] as const) {
      r.branch('numbers', 'main').commit({ '.gantry.yml': 'steps:\n  - name: one\n    commands: [true]\n' }, 'numbered');
      r.push('numbers');
      const delivery = await server.push(r, name, 'refs/heads/numbers');
      runs.push(await server.runOf(delivery.id));
    }
    assert.deepEqual(runs.map((r) => [r.repository, r.pipeline, r.number]), [['acme/numbered-a', 'gantry', 1], ['acme/numbered-b', 'gantry', 1]]);
  });
});
