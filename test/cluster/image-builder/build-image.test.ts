// buildImage against a real `gantry server` registry on loopback: files onto a base image, pushed as a
// user would see it (the manifest, config and layer read back over the OCI API), reproducible digests,
// only missing blobs pushed (HEAD skips, cross-repository mounts), chunked uploads, the token flow and
// plain Basic, and the errors a step's user reads (missing base, denied push, refused source).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildImage, type ImageBuildRequest, type ImageBuildResult } from '../../../src/cluster/image-builder/index.ts';
import { Forbidden, Invalid, NotFound, Unauthorized } from '../../../src/shared/errors.ts';
import { ADMIN_TOKEN, killAll, runCli, tempDir } from '../../helpers/processes.ts';
import { startRegistryServer, type RegistryServer } from '../../helpers/registry-server.ts';
import { getBlob, getManifest, listTags, pushBaseImage, pushBaseIndex, sha256, startBasicGateway, type PushedBase, type Registry } from './registry-images.ts';
import { readTar, tarOf, writeTree } from './workspace-trees.ts';

const EPOCH = 1_717_171_717;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

describe('image builder against the bundled registry', function () {
  this.timeout(120_000);
  const dir = tempDir('image-builder');
  let server: RegistryServer | undefined;
  let registry: Registry;
  let host = '';
  let base: PushedBase;
  let workspace = '';

  /** A request building from team/base:1 with the admin token, changes given. */
  const request = (changes: Partial<ImageBuildRequest> = {}): ImageBuildRequest => ({
    registry: { url: registry.url, username: 'admin', password: ADMIN_TOKEN },
    from: 'team/base:1',
    image: 'team/web',
    tags: ['1'],
    root: workspace,
    files: [{ src: 'dist/', dest: '/app' }],
    entrypoint: ['/app/server'],
    env: { PORT: '8080' },
    workdir: '/app',
    sourceDateEpoch: EPOCH,
    revision: '0123456789abcdef0123456789abcdef01234567',
    source: 'https://git.example.com/team/web',
    ...changes,
  });

  const counts = (result: ImageBuildResult) => ({ pushed: result.pushedBlobs, mounted: result.mountedBlobs, skipped: result.skippedBlobs });

  before(async () => {
    server = await startRegistryServer(dir);
    registry = { url: server.registry, authorization: server.basic.authorization };
    host = new URL(server.registry).host;
    const tars = [await tarOf({ 'etc/os-release': 'ID=gantry-test\n' }), await tarOf({ 'bin/tool': { content: '#!/bin/sh\n', mode: 0o755 } })];
    base = await pushBaseImage(registry, 'team/base', ['1'], { format: 'oci', tars, config: { config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin', 'PORT=80'] } } });
    workspace = writeTree(path.join(dir, 'workspace'), {
      'dist/server': { content: '#!/bin/sh\necho serving\n', mode: 0o755 },
      'dist/public/index.html': '<h1>hello</h1>\n',
    });
  });
  after(async () => {
    await server?.server.stop();
    killAll();
  });

  it('builds into a new repository by mounting the base layers, and the same inputs again push nothing and give the same digest', async () => {
    const lines: string[] = [];
    const first = await buildImage(request({ image: 'team/repro', progress: (line) => lines.push(line) }));
    assert.match(first.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(first.image, `${host}/team/repro@${first.digest}`);
    assert.deepEqual(counts(first), { pushed: 2, mounted: 2, skipped: 0 }, 'the layer and config uploaded, both base layers mounted');
    assert.match(lines.join('\n'), /^base team\/base:1: sha256:[0-9a-f]{64} \(OCI image, 2 layer\(s\)\)$/m);
    assert.match(lines.join('\n'), /^base layer 1\/2 sha256:[0-9a-f]{12} \(.*\): mounted from team\/base$/m);
    assert.match(lines.join('\n'), /^pushed .*team\/repro@sha256:[0-9a-f]{64} as team\/repro:1 in [\d.]+ s: 2 blob\(s\) uploaded, 2 mounted, 0 already there$/m);

    const again = await buildImage(request({ image: 'team/repro' }));
    assert.equal(again.digest, first.digest);
    assert.deepEqual(counts(again), { pushed: 0, mounted: 0, skipped: 4 });

    // Another checkout of the same sources (other mtimes, another directory) builds the same image.
    const checkout = path.join(dir, 'checkout');
    cpSync(workspace, checkout, { recursive: true });
    const elsewhere = await buildImage(request({ image: 'team/repro', root: checkout }));
    assert.equal(elsewhere.digest, first.digest);

    // A changed file is a new image: only its layer and config go up, the base layers are there (HEAD).
    writeFileSync(path.join(checkout, 'dist/public/index.html'), '<h1>hello again</h1>\n');
    const changed = await buildImage(request({ image: 'team/repro', root: checkout, tags: ['2'] }));
    assert.notEqual(changed.digest, first.digest);
    assert.deepEqual(counts(changed), { pushed: 2, mounted: 0, skipped: 2 });
    assert.notEqual((await buildImage(request({ image: 'team/repro', sourceDateEpoch: EPOCH + 1 }))).digest, first.digest, 'another epoch, another image');
    assert.deepEqual(await listTags(registry, 'team/repro'), ['1', '2']);
  });

  it('pushes an image whose manifest, config and layer say what the step asked for', async () => {
    const result = await buildImage(request({ tags: ['1', 'latest'], labels: { team: 'web' } }));
    const manifest = await getManifest(registry, 'team/web', 'latest');
    assert.equal(sha256(manifest.bytes), result.digest, 'every tag names the digest returned');
    assert.equal(manifest.contentType, OCI_MANIFEST);
    assert.equal(manifest.json.mediaType, OCI_MANIFEST);
    assert.equal(manifest.json.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.deepEqual(manifest.json.layers.slice(0, 2).map((l: { digest: string }) => l.digest), base.layers);
    const layer = manifest.json.layers[2] as { mediaType: string; digest: string; size: number };
    assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');

    const config = JSON.parse((await getBlob(registry, 'team/web', manifest.json.config.digest)).toString());
    assert.deepEqual(config.config, {
      Entrypoint: ['/app/server'],
      Env: ['PATH=/bin', 'PORT=8080'],
      WorkingDir: '/app',
      Labels: { 'org.opencontainers.image.revision': '0123456789abcdef0123456789abcdef01234567', 'org.opencontainers.image.source': 'https://git.example.com/team/web', team: 'web' },
    });
    assert.equal(config.created, '2024-05-31T16:08:37Z');
    assert.deepEqual(config.history.at(-1), { comment: 'gantry image builder', created: '2024-05-31T16:08:37Z', created_by: 'COPY dist/ /app' });
    const tarBytes = gunzipSync(await getBlob(registry, 'team/web', layer.digest));
    assert.deepEqual(config.rootfs.diff_ids, [...(base.config.rootfs as { diff_ids: string[] }).diff_ids, sha256(tarBytes)]);
    const entries = await readTar(tarBytes);
    assert.deepEqual(
      entries.map((e) => [e.name, e.mode, e.content]),
      [
        ['app/', 0o755, ''],
        ['app/public/', 0o755, ''],
        ['app/public/index.html', 0o644, '<h1>hello</h1>\n'],
        ['app/server', 0o755, '#!/bin/sh\necho serving\n'],
      ],
    );
  });

  it('keeps a Docker base a Docker image', async () => {
    await pushBaseImage(registry, 'team/docker-base', ['1'], { format: 'docker', tars: [await tarOf({ 'etc/hostname': 'x\n' })] });
    const result = await buildImage(request({ from: `${host}/team/docker-base:1`, image: 'team/docker-web' }));
    const manifest = await getManifest(registry, 'team/docker-web', result.digest);
    assert.equal(manifest.json.mediaType, DOCKER_MANIFEST);
    assert.equal(manifest.json.config.mediaType, 'application/vnd.docker.container.image.v1+json');
    assert.deepEqual(manifest.json.layers.map((l: { mediaType: string }) => l.mediaType), Array(2).fill('application/vnd.docker.image.rootfs.diff.tar.gzip'));
  });

  it('pushes a layer that the base lists twice once', async () => {
    const empty = await tarOf({});
    await pushBaseImage(registry, 'team/twice', ['1'], { format: 'docker', tars: [empty, await tarOf({ 'etc/x': 'x' }), empty] });
    const result = await buildImage(request({ from: 'team/twice:1', image: 'team/twice-web' }));
    assert.deepEqual(counts(result), { pushed: 2, mounted: 2, skipped: 0 });
    assert.equal((await getManifest(registry, 'team/twice-web', '1')).json.layers.length, 4);
  });

  it('builds on the linux/amd64 image of a multi-platform base', async () => {
    const pushed = await pushBaseIndex(registry, 'team/multi', '1', [await tarOf({ 'arch': 'amd64\n' })], [await tarOf({ 'arch': 'arm64\n' })]);
    const lines: string[] = [];
    const result = await buildImage(request({ from: 'team/multi:1', image: 'team/multi-web', progress: (line) => lines.push(line) }));
    assert.ok(lines.some((line) => line.includes(`base team/multi:1: ${pushed.amd64.digest}`)), lines.join('\n'));
    const manifest = await getManifest(registry, 'team/multi-web', result.digest);
    assert.equal(manifest.json.layers[0].digest, pushed.amd64.layers[0]);
    assert.equal(JSON.parse((await getBlob(registry, 'team/multi-web', manifest.json.config.digest)).toString()).architecture, 'amd64');
  });

  it('uploads a layer larger than a chunk in chunks', async () => {
    const root = writeTree(path.join(dir, 'big'), { 'data/blob.bin': { content: randomBytes(300 * 1024), mode: 0o644 } });
    // Through a gateway that counts the requests.
    const gateway = await startBasicGateway(registry.url, 'ci', 'gateway secret', registry.authorization);
    let result: ImageBuildResult;
    try {
      const access = { url: gateway.url, username: 'ci', password: 'gateway secret', chunkBytes: 64 * 1024 };
      result = await buildImage(request({ root, files: [{ src: 'data/blob.bin', dest: '/data/' }], image: 'team/big', registry: access }));
      assert.equal(gateway.seen.methods.PATCH, 5, '300 KiB of random bytes, gzip\'d, in 64 KiB chunks');
    } finally {
      await gateway.close();
    }
    const manifest = await getManifest(registry, 'team/big', '1');
    assert.equal(sha256(manifest.bytes), result.digest);
    const layer = manifest.json.layers[2] as { digest: string; size: number };
    assert.ok(layer.size > 4 * 64 * 1024, `the layer (${layer.size} bytes) took several chunks`);
    const entries = await readTar(gunzipSync(await getBlob(registry, 'team/big', layer.digest)));
    assert.deepEqual(entries.map((e) => [e.name, e.content.length > 0]), [['data/', false], ['data/blob.bin', true]]);
  });

  it('names a missing base image, and pushes nothing', async () => {
    await assert.rejects(buildImage(request({ from: 'team/nope:1', image: 'team/orphan' })), (err: unknown) => {
      assert.ok(err instanceof NotFound, String(err));
      assert.equal(err.message, `base image team/nope:1 not found in the registry ${host}`);
      return true;
    });
    await assert.rejects(buildImage(request({ from: 'team/base:2', image: 'team/orphan' })), /base image team\/base:2 not found/);
    assert.equal(await listTags(registry, 'team/orphan'), null);
  });

  it('answers with the registry\'s own words when the user may not push, or has a wrong password', async () => {
    const env = server!.env;
    assert.equal((await runCli(['registry', 'user', 'add', 'bob', '--password-stdin'], env, 30_000, 'bobs password\n')).code, 0);
    assert.equal((await runCli(['registry', 'acl', 'set', 'prod/**', 'authenticated', 'pull'], env)).code, 0);
    const bob = { url: registry.url, username: 'bob', password: 'bobs password' };
    await assert.rejects(buildImage(request({ registry: bob, image: 'prod/web' })), (err: unknown) => {
      assert.ok(err instanceof Forbidden, String(err));
      assert.equal(err.message, 'denied: bob may not push prod/web');
      return true;
    });
    assert.equal(await listTags(registry, 'prod/web'), null, 'nothing tagged');
    // bob may push elsewhere: the same request works into his own tree, through the token flow.
    assert.deepEqual(counts(await buildImage(request({ registry: bob, image: 'bob/web' }))), { pushed: 2, mounted: 2, skipped: 0 });

    await assert.rejects(buildImage(request({ registry: { ...bob, password: 'wrong' }, image: 'bob/web' })), (err: unknown) => {
      assert.ok(err instanceof Unauthorized, String(err));
      assert.equal(err.message, 'unauthorized: wrong user name or password');
      return true;
    });
  });

  it('works with a registry that challenges with plain Basic', async () => {
    const gateway = await startBasicGateway(registry.url, 'ci', 'gateway secret', registry.authorization);
    try {
      const result = await buildImage(request({ registry: { url: gateway.url, username: 'ci', password: 'gateway secret' }, image: 'team/via-gateway' }));
      assert.equal(result.image, `${new URL(gateway.url).host}/team/via-gateway@${result.digest}`);
      assert.equal(sha256((await getManifest(registry, 'team/via-gateway', '1')).bytes), result.digest);
      assert.equal(gateway.seen.challenged, 1, 'one challenge, then Basic on every request');
      await assert.rejects(buildImage(request({ registry: { url: gateway.url }, image: 'team/via-gateway' })), (err: unknown) => {
        assert.ok(err instanceof Unauthorized, String(err));
        assert.equal(err.message, 'unauthorized: gateway: credentials required (the registry asks for credentials and the build has none)');
        return true;
      });
    } finally {
      await gateway.close();
    }
  });

  it('copies the base layers from the base repository when the registry will not mount them', async () => {
    const gateway = await startBasicGateway(registry.url, 'ci', 'gateway secret', registry.authorization, { ignoreMounts: true });
    try {
      const lines: string[] = [];
      const result = await buildImage(request({ registry: { url: gateway.url, username: 'ci', password: 'gateway secret' }, image: 'team/copied', progress: (line) => lines.push(line) }));
      assert.deepEqual(counts(result), { pushed: 4, mounted: 0, skipped: 0 });
      assert.match(lines.join('\n'), /^base layer 2\/2 sha256:[0-9a-f]{12} \(.*\): copied from team\/base$/m);
      const manifest = await getManifest(registry, 'team/copied', '1');
      assert.equal(sha256(manifest.bytes), result.digest);
      for (const digest of base.layers) assert.equal(sha256(await getBlob(registry, 'team/copied', digest)), digest);
    } finally {
      await gateway.close();
    }
  });

  it('refuses sources outside the workspace before reaching the registry', async () => {
    const root = writeTree(path.join(dir, 'hostile'), { 'dist/app': 'x', etc: { link: '/etc' } });
    for (const [files, message] of [
      [[{ src: '../x', dest: '/x' }], /must be a path inside the workspace, relative and without "\.\."/],
      [[{ src: 'etc', dest: '/etc' }], /etc leads outside the workspace \(through a symbolic link\): refused/],
      [[{ src: 'etc/shadow', dest: '/x' }], /etc\/shadow leads outside the workspace/],
    ] as const) {
      await assert.rejects(buildImage(request({ root, files: [...files], image: 'team/hostile' })), (err: unknown) => {
        assert.ok(err instanceof Invalid, String(err));
        assert.match(err.message, message);
        return true;
      });
    }
    assert.equal(await listTags(registry, 'team/hostile'), null);
  });
});
