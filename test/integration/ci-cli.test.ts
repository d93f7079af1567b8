// The CI from the terminal, for users without GitHub: `gantry ci ls`, a manual run of a server
// pipeline (`gantry ci run PIPELINE --ref main --url file://...`) or of a repository's .gantry.yml (--repo), `ci runs`, `ci show`, `ci logs`,
// following a run with `-f`, and CI secrets by name.
import assert from 'node:assert/strict';
import { CiServer, GitRepo, step, stepStates, succeeded, type RunView } from '../helpers/ci.ts';
import { killAll, runCli, tempDir } from '../helpers/processes.ts';

const MANUAL = `name: manual
repository: acme/manual
steps:
  - name: greet
    commands:
      - echo "manual run of $CI_COMMIT_BRANCH ($CI_EVENT)"
      - cat VERSION
  - name: check
    commands:
      - test "$CI_COMMIT_BRANCH" = main
`;

/** A second file with a typo: it is reported, and does not stop the other pipelines. */
const BROKEN = `name: broken
repository: acme/manual
steps:
  - name: build
    commands: [make]
    timeout: 5
`;

describe('CI from the CLI: ls, manual runs, runs, show, logs', function () {
  this.timeout(60_000);
  let server: CiServer;
  let repo: GitRepo;
  let env: Record<string, string>;
  let first: RunView;

  const cli = (...args: string[]) => runCli(args, env);

  before(async () => {
    server = await CiServer.start('ci-cli', { 'manual.yml': MANUAL, 'broken.yml': BROKEN });
    env = server.cliEnv;
    repo = new GitRepo(tempDir('ci-cli-git'));
    repo.branch('main').commit({ VERSION: '1.2.3\n' }, 'version file');
    repo.push('main');
  });

  after(async () => {
    await server?.stop();
    killAll();
  });

  it('`gantry ci ls` lists the server pipelines and reports the broken file with its line', async () => {
    const listed = succeeded(await cli('ci', 'ls'));
    const lines = listed.stdout.trim().split('\n');
    assert.match(lines[0]!, /^PIPELINE\s+REPOSITORY\s+STEPS\s+FILE/);
    assert.equal(lines.length, 2, listed.stdout);
    assert.match(lines[1]!, /^manual\s+acme\/manual\s+greet → check\s+\S+manual\.yml$/);
    assert.match(listed.stderr, /broken\.yml:6: steps\[0\]\.timeout: 5 has no unit; write e\.g\. "5m" or "5s"/);
  });

  it('`gantry ci run PIPELINE --ref main --url file://...` runs a server pipeline by hand', async () => {
    const started = succeeded(await cli('ci', 'run', 'manual', '--ref', 'main', '--url', repo.cloneUrl));
    const match = /^Started manual #1 \((\S+)\) at refs\/heads\/main$/m.exec(started.stdout);
    assert.ok(match, started.stdout);
    first = await server.finished(match[1]!);
    assert.equal(first.state, 'success', first.reason ?? '');
    assert.deepEqual([first.event, first.ref, first.branch, first.commit, first.deliveryId], ['manual', 'refs/heads/main', 'main', repo.head('main'), null]);
    assert.deepEqual(stepStates(first), { clone: 'success', greet: 'success', check: 'success' });
    assert.equal(await server.stepLog(first, 'greet'), '+ echo "manual run of $CI_COMMIT_BRANCH ($CI_EVENT)"\nmanual run of main (manual)\n+ cat VERSION\n1.2.3\n');

    // Unknown pipelines are refused with a message, and nothing starts.
    const unknown = await cli('ci', 'run', 'nope', '--ref', 'main', '--url', repo.cloneUrl);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no server pipeline named "nope"/);
    // A branch or a repository that is not there: git's reason, as the asker's mistake (was a 500), and no run.
    const noBranch = await cli('ci', 'run', 'manual', '--ref', 'no-such-branch', '--url', repo.cloneUrl);
    assert.equal(noBranch.code, 1, noBranch.stdout + noBranch.stderr);
    assert.match(noBranch.stderr, /^gantry: cannot fetch refs\/heads\/no-such-branch from file:\/\/\S+: fatal: couldn't find remote ref refs\/heads\/no-such-branch$/m);
    const noRepo = await cli('ci', 'run', 'manual', '--ref', 'main', '--url', 'https://robot:s3cret@127.0.0.1:1/acme/nothing.git');
    assert.equal(noRepo.code, 1);
    assert.match(noRepo.stderr, /^gantry: cannot fetch refs\/heads\/main from https:\/\/\*\*\*@127\.0\.0\.1:1\/acme\/nothing\.git: /m);
    assert.ok(!noRepo.stderr.includes('s3cret'), 'the URL\'s password is not shown');
    assert.equal((await server.runs()).length, 1);
  });

  it('`gantry ci runs` and `ci show` list runs and steps', async () => {
    const runs = succeeded(await cli('ci', 'runs'));
    const lines = runs.stdout.trim().split('\n');
    assert.match(lines[0]!, /^RUN\s+REPOSITORY\s+PIPELINE\s+EVENT\s+REF\s+COMMIT\s+STATE\s+TOOK\s+AGE\s+REASON/);
    assert.match(lines[1]!, new RegExp(`^${first.id}\\s+acme/manual\\s+manual #1\\s+manual\\s+main\\s+${repo.head('main').slice(0, 8)}\\s+success\\s`));
    const json = JSON.parse(succeeded(await cli('ci', 'runs', 'manual', '--json')).stdout) as RunView[];
    assert.deepEqual(json.map((r) => r.id), [first.id]);
    assert.equal(JSON.parse(succeeded(await cli('ci', 'runs', 'other', '--json')).stdout).length, 0);

    const shown = succeeded(await cli('ci', 'show', first.id));
    const [header, columns, ...rows] = shown.stdout.trim().split('\n');
    assert.equal(header, `acme/manual manual #1 success (refs/heads/main ${repo.head('main').slice(0, 8)})`);
    assert.match(columns!, /^STEP\s+STATE\s+ATTEMPT\s+EXIT\s+TOOK\s+REASON/);
    assert.deepEqual(rows.map((r) => r.split(/\s+/).slice(0, 4)), [['clone', 'success', '1', '0'], ['greet', 'success', '1', '0'], ['check', 'success', '1', '0']]);
    const missing = await cli('ci', 'show', 'cr-missing');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no CI run with id "cr-missing"/);
  });

  it("`gantry ci logs RUN STEP` prints a step's output; without STEP, every step's", async () => {
    const one = succeeded(await cli('ci', 'logs', first.id, 'greet'));
    assert.equal(one.stdout, await server.stepLog(first, 'greet'));
    const all = succeeded(await cli('ci', 'logs', first.id));
    assert.match(all.stdout, /^--- clone \(success\)\n[\s\S]*--- greet \(success\)\n\+ echo [^\n]*\nmanual run of main \(manual\)\n\+ cat VERSION\n1\.2\.3\n--- check \(success\)\n/);
    const nope = await cli('ci', 'logs', first.id, 'deploy');
    assert.notEqual(nope.code, 0);
    assert.match(nope.stderr, /has no step "deploy"/);
  });

  it('`gantry ci run -f` follows the run live and exits with its outcome; the clone URL is remembered', async () => {
    repo.branch('topic').commit({ VERSION: '2.0.0-rc\n' }, 'topic work');
    repo.push('topic');
    // No --url: the last clone URL seen for acme/manual.
    const followed = await cli('ci', 'run', 'manual', '--ref', 'topic', '--follow');
    assert.equal(followed.code, 1, `the check step fails on topic\n${followed.stdout}\n${followed.stderr}`);
    assert.match(followed.stdout, /^Started manual #2 /);
    // The server's mirror fetched topic to plan the run: the clone step finds the commit there.
    assert.match(followed.stdout, new RegExp(`\\+ refs/heads/topic at ${repo.head('topic')} is in the server mirror: nothing to fetch\n${repo.head('topic')} topic work\n`), 'the clone step first');
    assert.match(followed.stdout, /manual run of topic \(manual\)\n\+ cat VERSION\n2\.0\.0-rc\n/);
    assert.match(followed.stderr, /\[greet\] success/);
    assert.match(followed.stderr, /^\[check\] failure: exited with code 1$/m);
    assert.match(followed.stderr, /manual #2 failure: step "check" failed: exited with code 1\n$/);
    const run = (await server.runs()).find((r) => r.number === 2 && r.pipeline === 'manual')!;
    assert.equal(step(await server.run(run.id), 'check').exitCode, 1);
  });

  it('`gantry ci secret set|ls|rm` keeps values out of every listing', async () => {
    succeeded(await runCli(['ci', 'secret', 'set', 'registry_password'], env, 20_000, 'p4ss-w0rd-value\n'));
    const listed = succeeded(await cli('ci', 'secret', 'ls'));
    assert.match(listed.stdout, /^NAME\s+UPDATED\nregistry_password\s/);
    assert.ok(!listed.stdout.includes('p4ss'));
    assert.ok(!JSON.stringify((await server.client.get('/api/v1/ci/secrets')).body).includes('p4ss'));
    succeeded(await cli('ci', 'secret', 'rm', 'registry_password'));
    assert.doesNotMatch(succeeded(await cli('ci', 'secret', 'ls')).stdout, /registry_password/);
  });

  it("`gantry ci run NAME --repo owner/name` runs the repository's own .gantry.yml by hand; a name it lacks is a 404", async () => {
    repo.branch('own', 'main').commit({ '.gantry.yml': 'name: own\nsteps:\n  - name: hello\n    commands:\n      - echo "own pipeline of $CI_REPO at $CI_COMMIT_BRANCH"\n' }, 'a pipeline of its own');
    repo.push('own');
    const started = succeeded(await cli('ci', 'run', 'own', '--repo', 'acme/manual', '--ref', 'own', '--follow'));
    assert.match(started.stdout, /^Started own #1 \(\S+\) at refs\/heads\/own$/m);
    assert.match(started.stdout, /own pipeline of acme\/manual at own\n/);
    const missing = await cli('ci', 'run', 'nothing-such', '--repo', 'acme/manual', '--ref', 'own');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^gantry: acme\/manual has no pipeline named "nothing-such" at refs\/heads\/own \(neither a server pipeline nor its \.gantry\.yml\)$/m);
  });
});
