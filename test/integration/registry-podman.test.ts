// The bundled registry with podman, exactly as the README shows it: `podman push --tls-verify=false
// --creds admin:TOKEN`, then an anonymous `podman pull` brings back the same manifest and the image runs.
// podman keeps everything in a temporary --root (vfs storage: no overlay mounts to clean up), so the
// test touches neither the machine's images nor its credentials.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeBusyboxRootfsTar } from '../helpers/docker.ts';
import { ADMIN_TOKEN, JOIN_TOKEN, killAll, startGantry, tempDir, type Started } from '../helpers/processes.ts';

const execFileAsync = promisify(execFile);

const FILES = { '/app/one.txt': 'first COPY\n', '/app/two.txt': 'second COPY\n' };
const EXPECTED_OUTPUT = Object.values(FILES).join('');

/**
 * A container may not raise its limits above podman's own hard limits without CAP_SYS_RESOURCE, which
 * sandboxed CI machines lack; podman's default for root asks for 1048576 open files and processes.
 * These are below any hard limit, and `cat` needs no more.
 */
const MODEST_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

describe('registry with podman', function () {
  this.timeout(120_000);
  const dir = tempDir('podman');
  let server: Started | undefined;
  let registry = '';

  const podman = (...args: string[]) =>
    execFileAsync(
      'podman',
      // cgroupfs and file events: no systemd needed; vfs: plain directories under the temporary root.
      ['--root', path.join(dir, 'storage'), '--runroot', path.join(dir, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args],
      // An auth file of our own: the pull below is anonymous for sure, and no login leaks out.
      { env: { ...process.env, REGISTRY_AUTH_FILE: path.join(dir, 'auth.json') }, timeout: 60_000, maxBuffer: 16 << 20 },
    );

  /** Imports a busybox image made from busybox-static as REF (no registry involved). */
  const importBusybox = async (ref: string) => {
    const work = path.join(dir, `rootfs-${ref.replace(/\W/g, '-')}`);
    mkdirSync(work);
    await podman('import', '--change', 'CMD ["/bin/sh"]', await writeBusyboxRootfsTar(work, ref), ref);
  };

  before(async function () {
    try {
      await podman('info', '--format', '{{.Version.Version}}');
    } catch (err) {
      if (process.env.GANTRY_REQUIRE_PODMAN === '1') throw new Error(`GANTRY_REQUIRE_PODMAN=1 but podman does not run: ${(err as Error).message}`);
      this.skip();
    }
    writeFileSync(path.join(dir, 'auth.json'), '{"auths": {}}\n');
    const started = await startGantry(
      ['server', '--data-dir', path.join(dir, 'server'), '--listen', '127.0.0.1:0', '--registry-listen', '127.0.0.1:0', '--no-local-agent', '--log-level', 'warn'],
      { GANTRY_ADMIN_TOKEN: ADMIN_TOKEN, GANTRY_JOIN_TOKEN: JOIN_TOKEN },
      /Registry listening on http:\/\/(\S+)/,
    );
    server = started;
    registry = started.match[1]!;
  });
  after(async () => {
    await server?.stop();
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes with --creds, pulls the same manifest back anonymously, and the image runs', async () => {
    const base = 'localhost/gantry-test/busybox:podman';
    await importBusybox(base);
    // COPY only: RUN would start a container under podman's default limits (see MODEST_LIMITS).
    const context = path.join(dir, 'context');
    mkdirSync(context);
    writeFileSync(path.join(context, 'one.txt'), FILES['/app/one.txt']);
    writeFileSync(path.join(context, 'two.txt'), FILES['/app/two.txt']);
    writeFileSync(
      path.join(context, 'Containerfile'),
      `FROM ${base}\nCOPY one.txt /app/one.txt\nCOPY two.txt /app/two.txt\nCMD ["cat", "/app/one.txt", "/app/two.txt"]\n`,
    );
    await podman('build', '-q', '-t', 'team/app:v1', context);

    const remote = `${registry}/team/app:v1`;
    const digestFile = path.join(dir, 'pushed-digest');
    await podman('push', '--tls-verify=false', '--creds', `admin:${ADMIN_TOKEN}`, '--digestfile', digestFile, 'team/app:v1', remote);
    const pushedDigest = readFileSync(digestFile, 'utf8').trim();
    assert.match(pushedDigest, /^sha256:[0-9a-f]{64}$/);

    // Forget the image and its base, so every layer has to come from the registry.
    await podman('rmi', 'team/app:v1', base);
    await assert.rejects(podman('image', 'exists', base), 'the base is gone locally');
    await podman('pull', '-q', '--tls-verify=false', remote);
    const { stdout: pulledDigest } = await podman('image', 'inspect', '--format', '{{.Digest}}', remote);
    assert.equal(pulledDigest.trim(), pushedDigest);
    const { stdout } = await podman('run', '--rm', '--network', 'none', ...MODEST_LIMITS, remote);
    assert.equal(stdout, EXPECTED_OUTPUT);
  });

  it('refuses a push without credentials', async () => {
    const remote = `${registry}/team/anon:v1`;
    await importBusybox(remote);
    await assert.rejects(podman('push', '--tls-verify=false', remote), (err: { stderr?: string }) => {
      assert.match(err.stderr ?? '', /unauthorized: authentication required/i);
      return true;
    });
    assert.equal((await fetch(`http://${registry}/v2/team/anon/tags/list`)).status, 404, 'no such repository');
  });
});
