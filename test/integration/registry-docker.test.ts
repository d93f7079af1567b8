// The bundled registry with the Docker client: an image built locally (FROM a busybox image made from
// busybox-static, no Docker Hub) goes up with `docker login` + `docker push`, comes back with
// `docker pull` and runs. Anonymous push is refused and leaves nothing; anonymous pull works.
// Docker allows plain HTTP to registries on 127.0.0.0/8, so no daemon configuration is needed.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { docker, ensureBusyboxImage, imageExists, removeImages, requireDocker } from '../helpers/docker.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, runCli, startGantry, tempDir, type Started } from '../helpers/processes.ts';

interface InspectedImage {
  Id: string;
  RepoDigests: string[];
  RootFS: { Layers: string[] };
}

async function inspectImage(ref: string): Promise<InspectedImage> {
  const { stdout } = await docker(['image', 'inspect', ref]);
  return (JSON.parse(stdout) as InspectedImage[])[0]!;
}

const FILES = { '/app/one.txt': 'made by the first RUN\n', '/app/copied.txt': 'copied from the build context\n', '/app/three.txt': 'made by the last RUN\n' };
const EXPECTED_OUTPUT = Object.values(FILES).join('');

/** Three steps, three layers on top of the base: RUN, COPY, RUN. The image prints its files. */
function writeBuildContext(dir: string, base: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'copied.txt'), FILES['/app/copied.txt']);
  writeFileSync(
    path.join(dir, 'Dockerfile'),
    [
      `FROM ${base}`,
      `RUN mkdir /app && printf 'made by the first RUN\\n' > /app/one.txt`,
      'COPY copied.txt /app/copied.txt',
      `RUN printf 'made by the last RUN\\n' > /app/three.txt`,
      `CMD ["cat", ${Object.keys(FILES).map((f) => JSON.stringify(f)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  return dir;
}

describe('registry with docker', function () {
  this.timeout(120_000);
  const dir = tempDir('docker');
  // Private client configs: logins never reach ~/.docker, and "anonymous" really has no credentials.
  const loggedIn = path.join(dir, 'config-logged-in');
  const anonymous = path.join(dir, 'config-anonymous');
  const base = 'gantry-test/busybox:registry-docker';
  const built = 'gantry-test/registry-docker-app:v1';
  let server: Started | undefined;
  let registry = '';
  let env: Record<string, string> = {};
  let app = '';
  /** What `docker push` reported for the app image, once the first test pushed it. */
  let pushedDigest: string | undefined;

  before(async function () {
    await requireDocker(this);
    mkdirSync(loggedIn);
    mkdirSync(anonymous);
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Registry listening on http:\/\/(\S+)/,
    );
    server = started;
    registry = started.match[1]!;
    app = `${registry}/team/app:v1`;
    env = { GANTRY_URL: /listening on (http:\/\/\S+)/.exec(started.output())![1]!, GANTRY_TOKEN: ADMIN_TOKEN };
  });
  after(async () => {
    if (registry) await removeImages(app, `${registry}/team/anon:v1`, built, base).catch((err) => console.error('cleanup:', err));
    await server?.stop();
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes a built image after docker login, pulls it back with every layer, and it runs', async () => {
    await ensureBusyboxImage(base);
    const context = writeBuildContext(path.join(dir, 'context'), base);
    const imageId = (await docker(['build', '-q', '--force-rm', '--network', 'none', '-t', built, context], { config: loggedIn })).stdout.trim();
    await docker(['tag', built, app]);
    const builtLayers = (await inspectImage(app)).RootFS.Layers;
    assert.equal(builtLayers.length, 4, 'busybox + RUN + COPY + RUN');

    const login = await docker(['login', registry, '-u', 'admin', '--password-stdin'], { config: loggedIn, input: ADMIN_TOKEN });
    assert.match(login.stdout, /Login Succeeded/);
    const push = await docker(['push', app], { config: loggedIn });
    assert.equal(push.stdout.match(/: Pushed$/gm)?.length, 4, `every layer uploaded:\n${push.stdout}`);
    pushedDigest = /^v1: digest: (sha256:[0-9a-f]{64}) size: \d+$/m.exec(push.stdout)?.[1];
    assert.ok(pushedDigest, `push reports the manifest digest:\n${push.stdout}`);

    // Forget the image and its base, so the pull has to fetch all four layers from the registry.
    await removeImages(app, built, base);
    assert.equal(await imageExists(imageId), false, 'the image is gone locally');
    const pull = await docker(['pull', app], { config: loggedIn });
    assert.equal(pull.stdout.match(/: Pull complete$/gm)?.length, 4, `every layer downloaded:\n${pull.stdout}`);
    assert.match(pull.stdout, new RegExp(`^Digest: ${pushedDigest}$`, 'm'));

    const pulled = await inspectImage(app);
    assert.equal(pulled.Id, imageId, 'same image config as the one built');
    assert.deepEqual(pulled.RootFS.Layers, builtLayers);
    assert.deepEqual(pulled.RepoDigests, [`${registry}/team/app@${pushedDigest}`]);
    const { stdout } = await docker(['run', '--rm', '--network', 'none', app]);
    assert.equal(stdout, EXPECTED_OUTPUT);
  });

  it('refuses an anonymous push and stores nothing of it', async () => {
    const usage = async () => {
      const df = JSON.parse((await runCli(['registry', 'df', '--json'], env)).stdout) as { blobs: number; uploads: number };
      return { blobs: df.blobs, uploads: df.uploads };
    };
    const before = await usage();
    const anon = `${registry}/team/anon:v1`;
    await docker(['tag', await ensureBusyboxImage(base), anon]);
    await assert.rejects(docker(['push', anon], { config: anonymous }), (err: { stderr?: string }) => {
      assert.match(err.stderr ?? '', /unauthorized: authentication required/i);
      return true;
    });
    assert.deepEqual(JSON.parse((await runCli(['registry', 'ls', '--json'], env)).stdout), ['team/app']);
    const tags = await fetch(`http://${registry}/v2/team/anon/tags/list`);
    assert.equal(tags.status, 404, 'no such repository');
    assert.deepEqual(await usage(), before, 'no blob stored, no upload left open');
  });

  it('pulls anonymously, and the image runs', async () => {
    assert.ok(pushedDigest, 'needs the image the first test pushed');
    await removeImages(app);
    const pull = await docker(['pull', app], { config: anonymous });
    assert.match(pull.stdout, new RegExp(`^Digest: ${pushedDigest}$`, 'm'));
    const { stdout } = await docker(['run', '--rm', '--network', 'none', app]);
    assert.equal(stdout, EXPECTED_OUTPUT);
  });
});
