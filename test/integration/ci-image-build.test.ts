// Image build steps (`build:` in a pipeline) on a real Docker engine and the bundled registry: a push
// builds the repository's Dockerfile with its .dockerignore, pushes the image with the platform robot
// under the run's tags, and records the digest on the step (API and `gantry ci show`); skopeo finds
// that digest on the registry. A failing Dockerfile, a context that leaves the workspace and a
// repository the robot may not push to each fail the step in the builder's or the registry's words,
// with nothing pushed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CiServer, GitRepo, step, succeeded, type RunView } from '../helpers/ci.ts';
import { docker, ensureBusyboxImage, removeImages, requireDocker } from '../helpers/docker.ts';
import { ADMIN_TOKEN, killAll, runCli, tempDir, waitFor } from '../helpers/processes.ts';

const run = promisify(execFile);
const BASE = 'gantry-test/busybox:latest';

const DOCKERFILE = `FROM ${BASE}
ARG GREETING=unset
COPY site/ /site/
RUN echo "$GREETING" > /site/greeting
CMD ["httpd", "-f", "-h", "/site"]
`;

function pipeline(build: string, extra = ''): string {
  return `steps:
  - name: test
    commands: [test -f Dockerfile]
  - name: image
    build:
${build
  .trim()
  .split('\n')
  .map((line) => `      ${line}`)
  .join('\n')}
${extra}`;
}

describe('CI image build steps (Docker engine, bundled registry)', function () {
  this.timeout(180_000);
  let server: CiServer;
  let repo: GitRepo;
  let registry = '';
  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { timeout: 60_000 });

  before(async function () {
    await requireDocker(this);
    await ensureBusyboxImage(BASE);
    server = await CiServer.start('ci-build');
    repo = new GitRepo(tempDir('ci-build-repo'));
    registry = await waitFor('the registry listening', async () => /Registry listening on http:\/\/(\S+)/.exec(server.process!.output())?.[1]);
  });
  after(async () => {
    await server?.stop();
    killAll();
    // What the builds tagged on the engine (the registry goes with the server's data directory).
    const built = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${registry}/*/*`]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
    if (built.length > 0) await removeImages(...built).catch(() => undefined);
  });

  async function pushed(branch: string, files: Record<string, string>): Promise<RunView> {
    repo.branch(branch, 'main').commit(files, `${branch}`);
    repo.push(branch);
    const delivery = await server.push(repo, `acme/${branch}`, `refs/heads/${branch}`, repo.head('main'));
    assert.equal(delivery.status, 202);
    return server.finished((await server.runOf(delivery.id)).id, 150_000);
  }

  it('builds the Dockerfile with its args and .dockerignore, pushes it under the run\'s tags, and records the digest', async () => {
    const finished = await pushed('feature/site', {
      Dockerfile: DOCKERFILE,
      '.dockerignore': '**/*.log\n',
      'site/index.html': '<h1>v1</h1>\n',
      'site/debug.log': 'left out\n',
      '.gantry.yml': pipeline(`image: team/web
tags: ['\${short_commit}', '\${branch}', latest]
args: {GREETING: hello}`),
    });
    const image = step(finished, 'image');
    assert.equal(finished.state, 'success', `${finished.reason}\n${await server.stepLog(finished, 'image')}`);
    assert.match(image.digest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(image.image, `${registry}/team/web@${image.digest}`);
    const log = await server.stepLog(finished, 'image');
    assert.match(log, /Step 1\/\d+ : FROM gantry-test\/busybox:latest/, log);
    assert.match(log, new RegExp(`gantry: pushed ${registry}/team/web@sha256:`));

    // On the registry under every tag, the branch's "/" made a "-"; the digest is the one recorded.
    const tags = JSON.parse((await skopeo('list-tags', '--tls-verify=false', '--creds', `admin:${ADMIN_TOKEN}`, `docker://${registry}/team/web`)).stdout) as { Tags: string[] };
    assert.deepEqual(tags.Tags.sort(), [finished.commit!.slice(0, 8), 'feature-site', 'latest'].sort());
    const inspected = JSON.parse((await skopeo('inspect', '--tls-verify=false', '--creds', `admin:${ADMIN_TOKEN}`, `docker://${image.image}`)).stdout) as { Digest: string };
    assert.equal(inspected.Digest, image.digest);

    // What is in it: the arg and the site, not the ignored log.
    const content = await docker(['run', '--rm', image.image!, 'sh', '-c', 'cat /site/greeting /site/index.html; ls /site']);
    assert.equal(content.stdout, 'hello\n<h1>v1</h1>\ngreeting\nindex.html\n');
    const labels = JSON.parse((await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', image.image!])).stdout) as Record<string, string>;
    assert.deepEqual(labels, { 'org.opencontainers.image.revision': finished.commit!, 'org.opencontainers.image.source': repo.cloneUrl });

    const shown = succeeded(await runCli(['ci', 'show', finished.id], server.cliEnv));
    assert.match(shown.stdout, new RegExp(`image image: ${registry.replace(/\./g, '\\.')}/team/web@${image.digest}`));
  });

  it('reuses the engine\'s layer cache for what did not change since the last build on the agent', async () => {
    // A step of its own (the engine keeps its cache across test runs).
    const once = `prepared once ${Date.now()}`;
    const files = (page: string) => ({
      Dockerfile: `FROM ${BASE}\nRUN echo "${once}" > /prepared\nCOPY site/ /site/\n`,
      'site/index.html': page,
      '.gantry.yml': pipeline('image: team/cached'),
    });
    const first = await pushed('cached', files('one\n'));
    assert.equal(first.state, 'success', first.reason ?? '');
    assert.doesNotMatch(await server.stepLog(first, 'image'), /Using cache/);
    const second = await pushed('cached', files('two\n'));
    assert.equal(second.state, 'success', second.reason ?? '');
    const log = await server.stepLog(second, 'image');
    assert.match(log, new RegExp(`Step 2/\\d+ : RUN echo "${once}" > /prepared\n ---> Using cache\n`), log);
    assert.notEqual(step(second, 'image').digest, step(first, 'image').digest, 'the page changed, and with it the last layer');
  });

  it('fails the step with the builder\'s message when the Dockerfile fails, and pushes nothing', async () => {
    const finished = await pushed('broken', {
      Dockerfile: `FROM ${BASE}\nRUN echo "about to fail" && exit 3\n`,
      '.gantry.yml': pipeline('image: team/broken'),
    });
    assert.equal(finished.state, 'failure');
    const image = step(finished, 'image');
    assert.equal(image.state, 'failure');
    assert.equal(image.reason, 'The command \'/bin/sh -c echo "about to fail" && exit 3\' returned a non-zero code: 3');
    assert.equal(image.digest, null);
    assert.match(await server.stepLog(finished, 'image'), /about to fail/);
    await assert.rejects(skopeo('list-tags', '--tls-verify=false', '--creds', `admin:${ADMIN_TOKEN}`, `docker://${registry}/team/broken`), /manifest unknown|not found|NAME_UNKNOWN/i);
  });

  it('refuses a context that leaves the workspace through a symlink, reading nothing outside', async () => {
    repo.branch('escape', 'main');
    symlinkSync('/etc', path.join(repo.work, 'outside'));
    const finished = await pushed('escape', {
      'outside-context/Dockerfile': `FROM ${BASE}\n`,
      Dockerfile: `FROM ${BASE}\n`,
      '.gantry.yml': pipeline(`image: team/escape
context: outside`),
    });
    const image = step(finished, 'image');
    assert.equal(image.state, 'failure');
    assert.equal(image.reason, 'the build context outside leaves the workspace');
    assert.equal(image.digest, null);
  });

  it('shows the registry\'s refusal when the robot may not push to the repository', async () => {
    succeeded(await runCli(['registry', 'acl', 'set', 'locked/**', 'group:gantry-platform', 'pull'], server.cliEnv));
    const finished = await pushed('locked', {
      Dockerfile: `FROM ${BASE}\nRUN echo locked > /locked\n`,
      '.gantry.yml': pipeline('image: locked/web'),
    });
    const image = step(finished, 'image');
    assert.equal(image.state, 'failure');
    assert.equal(image.reason, 'denied: gantry-platform may not push locked/web', 'the registry\'s refusal, as it said it');
    const left = await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `${registry}/locked/web`]);
    assert.equal(left.stdout, '', 'the tags of an image not pushed are removed from the engine');
    assert.equal(image.digest, null);
  });
});
