// From git push to a running app, end to end on a real server, Docker engine and registry: a signed
// push runs test → build → deploy; the app's instances then run the digest just built and answer with
// the pushed content; a second push rolls them again; a push whose image fails its health check fails
// the run while the previous version keeps serving. A deploy that waits for approval is released by
// `gantry ci approve`, which records who approved it; a deploy to an unknown app fails in words.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CiServer, GitRepo, step, succeeded, type RunView } from '../helpers/ci.ts';
import { docker, ensureBusyboxImage, removeImages, requireDocker } from '../helpers/docker.ts';
import { killAll, runCli, tempDir, waitFor } from '../helpers/processes.ts';

const BASE = 'gantry-test/busybox:latest';
const FIRST_IMAGE = 'gantry-test/cd-web:v0';
const APP = '/prod/web';

const dockerfile = (root: string): string => `FROM ${BASE}\nCOPY site/ /site/\nCMD ["httpd", "-f", "-p", "8080", "-h", "${root}"]\n`;

const PIPELINE = `steps:
  - name: test
    commands: [grep -q . site/index.html]
  - name: image
    build: {image: team/cd-web, tags: ['\${short_commit}']}
  - name: deploy
    deploy: {app: ${APP}, image: '\${steps.image.image}'}
`;

interface MarathonTask {
  id: string;
  ports: number[];
  healthCheckResults?: Array<{ alive: boolean }>;
}

describe('CI: from git push to a running app (build and deploy steps)', function () {
  this.timeout(240_000);
  let server: CiServer;
  let repo: GitRepo;

  before(async function () {
    await requireDocker(this);
    await ensureBusyboxImage(BASE);
    // The app's first version, from before the pipeline existed.
    const context = mkdtempSync(path.join(os.tmpdir(), 'gantry-cd-web-'));
    writeFileSync(path.join(context, 'Dockerfile'), `FROM ${BASE}\nRUN mkdir -p /site && echo v0 > /site/index.html\nCMD ["httpd", "-f", "-p", "8080", "-h", "/site"]\n`);
    await docker(['build', '-q', '-t', FIRST_IMAGE, context]);
    server = await CiServer.start('ci-deploy', {}, { agentResources: 'cpus:32;mem:32768;disk:32768;ports:[23100-23199]' });
    repo = new GitRepo(tempDir('ci-deploy-repo'));
    const created = await server.client.post<{ id: string }>('/v2/apps', {
      id: APP,
      instances: 2,
      cpus: 0.05,
      mem: 32,
      container: { type: 'DOCKER', docker: { image: FIRST_IMAGE }, portMappings: [{ containerPort: 8080, hostPort: 0, name: 'http' }] },
      networks: [{ mode: 'container/bridge' }],
      healthChecks: [{ protocol: 'HTTP', path: '/index.html', portIndex: 0, intervalSeconds: 1, timeoutSeconds: 1, gracePeriodSeconds: 2, maxConsecutiveFailures: 2 }],
      upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
      backoffSeconds: 1,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await serving('v0');
  });
  after(async () => {
    await server?.stop();
    killAll();
    const built = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=*/team/cd-web']).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
    await removeImages(FIRST_IMAGE, ...built).catch(() => undefined);
  });

  async function healthyTasks(): Promise<MarathonTask[]> {
    const answer = await server.client.get<{ tasks: MarathonTask[] }>(`/v2/apps${APP}/tasks`);
    return answer.body.tasks.filter((t) => t.healthCheckResults?.some((r) => r.alive));
  }

  /** Waits until every instance (two) is healthy and answers `content`; returns the app's image. */
  async function serving(content: string): Promise<string> {
    await waitFor(`both instances healthy and serving ${content}`, async () => {
      const tasks = await healthyTasks();
      if (tasks.length !== 2) return false;
      const pages = await Promise.all(tasks.map((t) => fetch(`http://127.0.0.1:${t.ports[0]}/index.html`).then((r) => r.text()).catch(() => '')));
      return pages.every((page) => page.trim() === content);
    }, 60_000);
    return ((await server.client.get<{ app: { container: { docker: { image: string } } } }>(`/v2/apps${APP}`)).body.app.container.docker.image);
  }

  async function pushed(files: Record<string, string>, message: string): Promise<RunView> {
    repo.branch('main').commit(files, message);
    repo.push('main');
    const delivery = await server.push(repo, 'acme/cd-web', 'refs/heads/main', repo.head('main~1'));
    assert.equal(delivery.status, 202);
    return server.finished((await server.runOf(delivery.id)).id, 180_000);
  }

  it('builds, pushes and deploys the pushed commit: the app runs the digest just built and serves the new content', async () => {
    const first = await pushed({ '.gantry.yml': PIPELINE, Dockerfile: dockerfile('/site'), 'site/index.html': 'v1\n' }, 'v1');
    assert.equal(first.state, 'success', `${first.reason}\n${(await runCli(['ci', 'logs', first.id], server.cliEnv)).stdout}`);
    const built = step(first, 'image').image!;
    assert.match(built, /\/team\/cd-web@sha256:[0-9a-f]{64}$/);
    assert.equal(await serving('v1'), built, 'the app runs the image by digest, never a tag');
    assert.match(step(first, 'deploy').deploymentId ?? '', /^[0-9a-f-]{36}$/);
    const log = succeeded(await runCli(['ci', 'logs', first.id, 'deploy'], server.cliEnv)).stdout;
    assert.match(log, new RegExp(`^deploying ${built.replace(/[.]/g, '\\.')} to ${APP}\\n`));
    assert.match(log, /\/prod\/web: 0 of 2 new instances healthy, 2 old still running\n/);
    assert.match(log, /\/prod\/web: 2 of 2 new instances healthy, 0 old still running\ndeployed\n$/);
    assert.match(log, /deployed\n$/);

    const second = await pushed({ 'site/index.html': 'v2\n' }, 'v2');
    assert.equal(second.state, 'success', second.reason ?? '');
    assert.equal(await serving('v2'), step(second, 'image').image);
    assert.notEqual(step(second, 'image').image, built);
  });

  it('fails the run when the new image fails its health check, and the previous version keeps serving', async () => {
    const before = await serving('v2');
    const broken = await pushed({ Dockerfile: dockerfile('/nowhere') }, 'serve from a directory that does not exist');
    assert.equal(broken.state, 'failure');
    const deploy = step(broken, 'deploy');
    assert.equal(deploy.state, 'failure');
    assert.match(deploy.reason ?? '', /deployment failed: .*failed and none became healthy/);
    assert.equal(await serving('v2'), before, 'rolled back to the image that served');
  });

  it('holds a deploy that waits for approval until `gantry ci approve`, which records who approved it', async () => {
    const before = await serving('v2');
    const gated = PIPELINE.replace('  - name: deploy\n', '  - name: deploy\n    approval: true\n');
    repo.branch('main').commit({ '.gantry.yml': gated, Dockerfile: dockerfile('/site'), 'site/index.html': 'v3\n' }, 'v3, once approved');
    repo.push('main');
    const delivery = await server.push(repo, 'acme/cd-web', 'refs/heads/main', repo.head('main~1'));
    const run = await server.runOf(delivery.id);
    const waiting = await server.stepIn(run.id, 'deploy', 'waiting', 120_000);
    assert.equal(waiting.reason, `waiting for approval: gantry ci approve ${run.id} deploy`);
    assert.equal((await server.run(run.id)).state, 'running', 'the run waits with it');
    assert.equal(await serving('v2'), before, 'nothing deployed before the approval');

    const approved = succeeded(await runCli(['ci', 'approve', run.id, 'deploy'], server.cliEnv));
    assert.match(approved.stdout, /deploy approved by \S+/);
    const finished = await server.finished(run.id, 120_000);
    assert.equal(finished.state, 'success', finished.reason ?? '');
    assert.equal(await serving('v3'), step(finished, 'image').image);
    const deploy = step(finished, 'deploy');
    assert.ok(deploy.approvedBy && deploy.approvedAt && deploy.approvedAt <= deploy.startedAt!, JSON.stringify(deploy));
    const again = await runCli(['ci', 'approve', run.id, 'deploy'], server.cliEnv);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /was approved by .* at /);
    assert.match((await runCli(['ci', 'approve', run.id, 'image'], server.cliEnv)).stderr, /step "image" waits for no approval/);
  });

  it('waits while another deployment of the app runs, then deploys', async () => {
    await serving('v3');
    const restart = await server.client.post<{ deploymentId: string }>(`/v2/apps${APP}/restart`, {});
    assert.equal(restart.status, 200, JSON.stringify(restart.body));
    // The pipeline without the approval the test before added.
    const run = await pushed({ '.gantry.yml': PIPELINE, 'site/index.html': 'v4\n' }, 'v4, during a restart');
    assert.equal(run.state, 'success', run.reason ?? '');
    const log = succeeded(await runCli(['ci', 'logs', run.id, 'deploy'], server.cliEnv)).stdout;
    assert.match(log, new RegExp(`waiting for the app's running deployment to end: .*${restart.body.deploymentId}`));
    assert.equal(await serving('v4'), step(run, 'image').image);
  });

  it('fails a deploy to an app that does not exist, saying so', async () => {
    const pinned = `127.0.0.1:5000/team/cd-web@sha256:${'0'.repeat(64)}`;
    const run = await pushed({ '.gantry.yml': `steps:\n  - name: deploy\n    deploy: {app: /prod/nothing, image: '${pinned}'}\n` }, 'deploy nowhere');
    assert.equal(run.state, 'failure');
    assert.equal(step(run, 'deploy').reason, 'app /prod/nothing does not exist');
  });
});
