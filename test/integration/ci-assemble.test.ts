// A build step without a Dockerfile (`build: {from, files, ...}`), on a real server: the agent puts the
// checkout's files onto a base image of the bundled registry with the daemonless builder and pushes it
// with the robot. Built twice from the same commit it has the same digest; it runs with Docker, with
// its entrypoint, environment and the OCI labels of its commit.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CiServer, GitRepo, step, succeeded } from '../helpers/ci.ts';
import { docker, ensureBusyboxImage, removeImages, requireDocker } from '../helpers/docker.ts';
import { ADMIN_TOKEN, killAll, runCli, tempDir, waitFor } from '../helpers/processes.ts';

const run = promisify(execFile);
const BASE = 'gantry-test/busybox:latest';

const PIPELINE = `steps:
  - name: image
    build:
      from: team/base:1
      files: [{src: app/, dest: /app}]
      entrypoint: [/bin/sh, /app/run.sh]
      env: {GREETING: hello}
      workdir: /app
      image: team/assembled
      tags: ['\${short_commit}']
`;

describe('CI: images assembled without a Docker engine (build from a base)', function () {
  this.timeout(120_000);
  let server: CiServer;
  let repo: GitRepo;
  let registry = '';

  before(async function () {
    await requireDocker(this);
    await ensureBusyboxImage(BASE);
    server = await CiServer.start('ci-assemble');
    registry = await waitFor('the registry listening', async () => /Registry listening on http:\/\/(\S+)/.exec(server.process!.output())?.[1]);
    // The base, in the bundled registry where the builder reads it.
    await run('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_TOKEN}`, `docker-daemon:${BASE}`, `docker://${registry}/team/base:1`], { timeout: 60_000 });
    repo = new GitRepo(tempDir('ci-assemble-repo'));
    repo.commit({ '.gantry.yml': PIPELINE, 'app/run.sh': 'echo "$GREETING from $(cat message.txt) in $PWD"\n', 'app/message.txt': 'the checkout\n' }, 'an app');
    repo.push('main');
  });
  after(async () => {
    await server?.stop();
    killAll();
    const pulled = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${registry}/team/*`]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
    await removeImages(...pulled).catch(() => undefined);
  });

  async function build(): Promise<{ image: string; digest: string; log: string }> {
    const started = succeeded(await runCli(['ci', 'run', 'gantry', '--repo', 'acme/assembled', '--ref', 'main', '--url', repo.cloneUrl], server.cliEnv));
    const id = /\((cr-[^)]+)\)/.exec(started.stdout)![1]!;
    const finished = await server.finished(id, 60_000);
    assert.equal(finished.state, 'success', `${finished.reason}\n${await server.stepLog(finished, 'image')}`);
    const built = step(finished, 'image');
    return { image: built.image!, digest: built.digest!, log: await server.stepLog(finished, 'image') };
  }

  it('gives the same digest for the same commit twice, pushing nothing new the second time, and the image runs', async () => {
    const first = await build();
    assert.match(first.image, new RegExp(`^${registry.replace(/\./g, '\\.')}/team/assembled@sha256:[0-9a-f]{64}$`));
    const second = await build();
    assert.equal(second.digest, first.digest, 'reproducible: the commit\'s time and content only');
    assert.match(second.log, /^pushed \S+ as team\/assembled:\w+ in [\d.]+ s: 0 blob\(s\) uploaded, 0 mounted, 3 already there$/m);

    await docker(['pull', first.image]);
    const ran = await docker(['run', '--rm', first.image]);
    assert.equal(ran.stdout, 'hello from the checkout in /app\n');
    const labels = JSON.parse((await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', first.image])).stdout) as Record<string, string>;
    assert.equal(labels['org.opencontainers.image.revision'], repo.head('main'));
    assert.equal(labels['org.opencontainers.image.source'], repo.cloneUrl);
  });

  it('fails the step in words when the base is not in the registry, pushing nothing', async () => {
    repo.branch('nobase', 'main').commit({ '.gantry.yml': PIPELINE.replace('team/base:1', 'team/nothing:1') }, 'a base that is not there');
    repo.push('nobase');
    const started = succeeded(await runCli(['ci', 'run', 'gantry', '--repo', 'acme/assembled', '--ref', 'nobase', '--url', repo.cloneUrl], server.cliEnv));
    const finished = await server.finished(/\((cr-[^)]+)\)/.exec(started.stdout)![1]!, 60_000);
    assert.equal(finished.state, 'failure');
    assert.match(step(finished, 'image').reason ?? '', /base image team\/nothing:1 not found/);
  });
});
