// Registry garbage collection through the whole platform (issue 7): two images pushed with docker that
// share their base layer; one is deleted; `gantry registry gc --dry-run` lists exactly its own blobs
// with their bytes and inodes and deletes nothing; `gantry registry gc` frees them; the other image
// still pulls with docker and runs; every run is recorded.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { docker, ensureBusyboxImage, removeImages, requireDocker } from '../helpers/docker.ts';
import { ADMIN_TOKEN, api, killAll, runCli, tempDir } from '../helpers/processes.ts';
import { startRegistryServer, type RegistryServer } from '../helpers/registry-server.ts';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

interface Manifest {
  config: { digest: string; size: number };
  layers: Array<{ digest: string; size: number }>;
}
interface Run {
  dryRun: boolean;
  trigger: string;
  blobs: Array<{ digest: string; size: number }>;
  bytesFreed: number;
  inodesFreed: number;
}

describe('registry gc with docker', function () {
  this.timeout(120_000);
  const dir = tempDir('registry-gc');
  const config = path.join(dir, 'docker-config');
  const base = 'gantry-test/busybox:registry-gc';
  let started: RegistryServer | undefined;
  let registry = '';
  let env: Record<string, string> = {};
  let keep = '';
  let drop = '';

  before(async function () {
    await requireDocker(this);
    mkdirSync(config);
    started = await startRegistryServer(dir);
    registry = started.registry.slice('http://'.length);
    env = started.env;
    keep = `${registry}/gc/app:base`;
    drop = `${registry}/gc/app:derived`;
  });
  after(async () => {
    if (registry) await removeImages(keep, drop, base).catch(() => undefined);
    await started?.server.stop();
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const basic = `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`;
  const manifestOf = async (reference: string): Promise<{ digest: string; size: number; body: Manifest }> => {
    const res = await fetch(`http://${registry}/v2/gc/app/manifests/${reference}`, { headers: { authorization: basic, accept: DOCKER_MANIFEST } });
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    return { digest: res.headers.get('docker-content-digest')!, size: bytes.length, body: JSON.parse(bytes.toString('utf8')) as Manifest };
  };

  it('frees exactly the deleted image\'s own blobs; the image sharing its base still pulls and runs', async () => {
    await ensureBusyboxImage(base);
    const context = path.join(dir, 'context');
    mkdirSync(context);
    writeFileSync(path.join(context, 'extra.txt'), 'only in the derived image\n');
    writeFileSync(path.join(context, 'Dockerfile'), `FROM ${base}\nCOPY extra.txt /extra.txt\n`);
    await docker(['login', registry, '-u', 'admin', '--password-stdin'], { config, input: ADMIN_TOKEN });
    await docker(['tag', base, keep]);
    await docker(['build', '-q', '--network', 'none', '-t', drop, context], { config });
    await docker(['push', keep], { config });
    await docker(['push', drop], { config });

    const kept = await manifestOf('base');
    const dropped = await manifestOf('derived');
    assert.equal(dropped.body.layers[0]!.digest, kept.body.layers[0]!.digest, 'the two share the base layer');
    const keptDigests = new Set([kept.digest, kept.body.config.digest, ...kept.body.layers.map((l) => l.digest)]);
    const own = [{ digest: dropped.digest, size: dropped.size }, dropped.body.config, ...dropped.body.layers]
      .filter((b) => !keptDigests.has(b.digest))
      .map((b) => ({ digest: b.digest, size: b.size }))
      .sort((a, b) => a.digest.localeCompare(b.digest));
    assert.equal(own.length, 3, 'its manifest, config and own layer');
    const del = await fetch(`http://${registry}/v2/gc/app/manifests/${dropped.digest}`, { method: 'DELETE', headers: { authorization: basic } });
    assert.equal(del.status, 202);

    const df = async () => {
      const { blobs, inodesUsed, bytesUsed } = (await api(env.GANTRY_URL!).get<{ blobs: number; inodesUsed: number; bytesUsed: number }>('/api/v1/registry/usage')).body;
      return { blobs, inodesUsed, bytesUsed };
    };
    const before = await df();
    const dry = await runCli(['registry', 'gc', '--dry-run', '--grace', '0s', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const dryRun = JSON.parse(dry.stdout) as Run;
    assert.deepEqual([...dryRun.blobs].sort((a, b) => a.digest.localeCompare(b.digest)), own);
    assert.equal(dryRun.bytesFreed, own.reduce((sum, b) => sum + b.size, 0));
    assert.equal(dryRun.inodesFreed, 3);
    assert.deepEqual(await df(), before, 'a dry run deletes nothing');

    const real = await runCli(['registry', 'gc', '--grace', '0s'], env);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /^blobs\s+3\s/m);
    assert.match(real.stdout, new RegExp(`^freed .+ and 3 inodes in \\d+\\.\\d s$`, 'm'));
    const after = await df();
    assert.equal(before.blobs - after.blobs, 3);
    assert.equal(before.inodesUsed - after.inodesUsed, 3);
    assert.equal(before.bytesUsed - after.bytesUsed, dryRun.bytesFreed, 'the bytes the dry run announced');

    // Forget every local copy of the layers, so that the pull has to download the shared one.
    await removeImages(keep, drop, base);
    const pull = await docker(['pull', keep], { config });
    assert.match(pull.stdout, /Pull complete/);
    const ran = await docker(['run', '--rm', '--network', 'none', keep, 'cat', '/etc/gantry-image']);
    assert.equal(ran.stdout, `${base}\n`);

    const runs = (await api(env.GANTRY_URL!).get<{ runs: Run[] }>('/api/v1/registry/gc')).body.runs;
    assert.deepEqual(runs.slice(0, 2).map((r) => [r.dryRun, r.trigger, r.blobs.length]), [[false, 'api', 3], [true, 'api', 3]]);
  });

  describe('bad input', () => {
    it('refuses a bad grace or an unknown field with a clear error', async () => {
      const cli = await runCli(['registry', 'gc', '--grace', 'soon'], env);
      assert.equal(cli.code, 2, cli.stderr);
      assert.equal(cli.stderr.trim().split('\n').length, 1);
      assert.match(cli.stderr, /grace must look like 500ms, 10s, 2m or 1h/);
      const extra = await api(env.GANTRY_URL!).post('/api/v1/registry/gc', { dryRun: true, everything: true });
      assert.equal(extra.status, 400);
      assert.deepEqual(Object.keys(extra.body).sort(), ['error', 'message']);
      const anonymous = await fetch(`${env.GANTRY_URL}/api/v1/registry/gc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(anonymous.status, 401, 'collecting needs the admin token');
    });
  });
});
