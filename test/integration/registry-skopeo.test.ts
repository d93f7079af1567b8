// The bundled registry with a real client: skopeo pushes an OCI image to `gantry server`'s registry
// port and pulls it back byte-exact. Anonymous pull works; anonymous push is refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, runCli, startGantry, tempDir, type Started } from '../helpers/processes.ts';
import { buildOciLayout, readBlob } from '../helpers/oci-layout.ts';

const run = promisify(execFile);

function hasSkopeo(): boolean {
  try {
    statSync('/usr/bin/skopeo');
    return true;
  } catch {
    return false;
  }
}

describe('registry with skopeo', function () {
  this.timeout(120_000);
  const dir = tempDir('skopeo');
  let server: Started | undefined;
  let registry = '';
  let env: Record<string, string> = {};
  let inodesBeforePush = 0;

  before(async function () {
    if (!hasSkopeo()) {
      if (process.env.GANTRY_REQUIRE_SKOPEO === '1') throw new Error('GANTRY_REQUIRE_SKOPEO=1 but skopeo is not installed');
      this.skip();
    }
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Registry listening on http:\/\/(\S+)/,
    );
    server = started;
    registry = started.match[1]!;
    env = { GANTRY_URL: /listening on (http:\/\/\S+)/.exec(started.output())![1]!, GANTRY_TOKEN: ADMIN_TOKEN };
    inodesBeforePush = (JSON.parse((await runCli(['registry', 'df', '--json'], env)).stdout) as { inodesUsed: number }).inodesUsed;
  });
  after(async () => {
    await server?.stop();
    killAll();
  });

  const skopeo = (...args: string[]) => run('skopeo', ['--insecure-policy', ...args], { timeout: 60_000 });

  it('pushes a 3-layer image with the admin token and pulls it back byte-exact, anonymously', async () => {
    const image = buildOciLayout(path.join(dir, 'src'), 'v1', 3);
    await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_TOKEN}`, `oci:${image.dir}:v1`, `docker://${registry}/team/app:v1`);
    const out = path.join(dir, 'pulled');
    await skopeo('copy', '--src-tls-verify=false', `docker://${registry}/team/app:v1`, `oci:${out}:v1`);
    for (const digest of [image.manifestDigest, ...image.blobDigests]) {
      assert.ok(readBlob(out, digest).equals(readBlob(image.dir, digest)), `${digest} is byte-exact`);
    }
    const { stdout } = await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${registry}/team/app:v1`);
    assert.equal(stdout, readBlob(image.dir, image.manifestDigest).toString());
    const tags = JSON.parse((await skopeo('list-tags', '--tls-verify=false', `docker://${registry}/team/app`)).stdout) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['v1']);
  });

  it('shows repositories, tags and storage use in the CLI', async () => {
    const repos = await runCli(['registry', 'ls', '--json'], env);
    assert.deepEqual(JSON.parse(repos.stdout), ['team/app']);
    const listed = JSON.parse((await runCli(['registry', 'ls', 'team/app', '--json'], env)).stdout) as Array<{ name: string; pushedBy: string }>;
    assert.deepEqual(listed.map((t) => [t.name, t.pushedBy]), [['v1', 'admin']]);
    const df = JSON.parse((await runCli(['registry', 'df', '--json'], env)).stdout) as { blobs: number; inodesUsed: number; freeInodes: number };
    assert.equal(df.blobs, 5, 'config, 3 layers and the manifest: one file each');
    assert.equal(df.inodesUsed - inodesBeforePush, 5, 'the 3-layer image cost one inode per blob and nothing else');
    assert.ok(df.freeInodes > 0);
    // A new tag for the same image costs no inode at all (tags live in the store).
    await skopeo('copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_TOKEN}`, `docker://${registry}/team/app:v1`, `docker://${registry}/team/app:stable`);
    const retagged = JSON.parse((await runCli(['registry', 'df', '--json'], env)).stdout) as { inodesUsed: number; blobs: number };
    assert.deepEqual([retagged.blobs, retagged.inodesUsed], [df.blobs, df.inodesUsed]);
    const unknown = await runCli(['registry', 'ls', 'no/such'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /repository "no\/such" is not known/);
  });

  it('refuses an anonymous push and a push with a wrong token', async () => {
    const image = buildOciLayout(path.join(dir, 'other'), 'v2', 1, 'other');
    await assert.rejects(
      skopeo('copy', '--dest-tls-verify=false', `oci:${image.dir}:v2`, `docker://${registry}/team/app:v2`),
      (err: { stderr?: string }) => /unauthorized|authentication required/i.test(err.stderr ?? ''),
    );
    await assert.rejects(
      skopeo('copy', '--dest-tls-verify=false', '--dest-creds', 'admin:gat_wrong', `oci:${image.dir}:v2`, `docker://${registry}/team/app:v2`),
      (err: { stderr?: string }) => /unauthorized|authentication required|invalid/i.test(err.stderr ?? ''),
    );
    const tags = JSON.parse((await skopeo('list-tags', '--tls-verify=false', `docker://${registry}/team/app`)).stdout) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ['stable', 'v1'], 'nothing was tagged');
  });
});
