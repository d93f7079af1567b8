// Images the builder pushed run as they should: a busybox base goes into a real `gantry server`
// registry (from the Docker engine with skopeo, in Docker's format; or as an OCI image of the same
// busybox), a workspace's script and message are built onto it as the entrypoint, and `docker pull` +
// `docker run`, `podman pull` + `podman run` print the message with the env and workdir the step set.
// Without an engine the suites skip, or fail under GANTRY_REQUIRE_DOCKER=1 / GANTRY_REQUIRE_PODMAN=1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildImage, type ImageBuildResult } from '../../../src/cluster/image-builder/index.ts';
import { docker, ensureBusyboxImage, removeImages, requireDocker, writeBusyboxRootfsTar } from '../../helpers/docker.ts';
import { ADMIN_TOKEN, killAll, tempDir } from '../../helpers/processes.ts';
import { startRegistryServer, type RegistryServer } from '../../helpers/registry-server.ts';
import { pushBaseImage, type Registry } from './registry-images.ts';
import { writeTree } from './workspace-trees.ts';

const execFileAsync = promisify(execFile);

const MESSAGE = 'hello from the workspace';
const EXPECTED_OUTPUT = `${MESSAGE}\nPORT=8080 PWD=/app\n`;
/** Below any hard limit podman may not raise without CAP_SYS_RESOURCE (see registry-podman.test.ts). */
const MODEST_LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

describe('images built by the image builder run', function () {
  this.timeout(300_000);
  const dir = tempDir('image-builder-run');
  let server: RegistryServer | undefined;
  let registry: Registry;
  let host = '';
  let workspace = '';

  /** The busybox rootfs as a base image of `format` in `repo:1`, pushed over the OCI API (no engine). */
  const pushBusyboxBase = async (repo: string, format: 'oci' | 'docker') => {
    const work = path.join(dir, `rootfs-${repo.replace(/\W/g, '-')}`);
    mkdirSync(work);
    const tar = readFileSync(await writeBusyboxRootfsTar(work, repo));
    await pushBaseImage(registry, repo, ['1'], { format, tars: [tar] });
  };

  const buildHello = (from: string, tag: string): Promise<ImageBuildResult> =>
    buildImage({
      registry: { url: registry.url, username: 'admin', password: ADMIN_TOKEN },
      from,
      image: 'team/hello',
      tags: [tag],
      root: workspace,
      files: [{ src: 'dist/', dest: '/app' }],
      entrypoint: ['/app/hello.sh'],
      env: { PORT: '8080' },
      workdir: '/app',
      sourceDateEpoch: 1_700_000_000,
    });

  before(async () => {
    server = await startRegistryServer(dir);
    registry = { url: server.registry, authorization: server.basic.authorization };
    host = new URL(server.registry).host;
    workspace = writeTree(path.join(dir, 'workspace'), {
      'dist/hello.sh': { content: '#!/bin/sh\ncat /app/message.txt\necho "PORT=$PORT PWD=$(pwd)"\n', mode: 0o755 },
      'dist/message.txt': `${MESSAGE}\n`,
    });
  });
  after(async () => {
    await server?.server.stop();
    killAll();
  });

  describe('with docker', () => {
    const config = path.join(dir, 'docker-config');
    const pulled: string[] = [];

    before(async function () {
      await requireDocker(this);
      mkdirSync(config);
      writeFileSync(path.join(config, 'config.json'), '{}\n');
      // The base a user would have: an image of the engine, pushed with skopeo (Docker's v2 schema 2).
      const busybox = await ensureBusyboxImage();
      await execFileAsync(
        'skopeo',
        ['--insecure-policy', 'copy', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_TOKEN}`, `docker-daemon:${busybox}`, `docker://${host}/team/busybox:docker`],
        { timeout: 120_000 },
      );
      await pushBusyboxBase('team/busybox-oci', 'oci');
    });
    after(async () => {
      await removeImages(...pulled).catch((err) => console.error('cleanup:', err));
    });

    for (const [from, tag, format] of [
      ['team/busybox:docker', 'docker-base', 'Docker'],
      ['team/busybox-oci:1', 'oci-base', 'OCI'],
    ] as const) {
      it(`pulls and runs the image built on the busybox base in ${format} format`, async () => {
        const built = await buildHello(from, tag);
        const ref = `${host}/team/hello:${tag}`;
        pulled.push(ref);
        const pull = await docker(['pull', ref], { config });
        assert.match(pull.stdout, new RegExp(`^Digest: ${built.digest}$`, 'm'));
        const { stdout } = await docker(['run', '--rm', '--network', 'none', ref]);
        assert.equal(stdout, EXPECTED_OUTPUT);
        // By digest too: what a deploy step runs.
        pulled.push(built.image);
        assert.equal((await docker(['run', '--rm', '--network', 'none', built.image], { config })).stdout, EXPECTED_OUTPUT);
      });
    }
  });

  describe('with podman', () => {
    const podman = (...args: string[]) =>
      execFileAsync(
        'podman',
        ['--root', path.join(dir, 'podman-storage'), '--runroot', path.join(dir, 'podman-run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args],
        { env: { ...process.env, REGISTRY_AUTH_FILE: path.join(dir, 'podman-auth.json') }, timeout: 120_000, maxBuffer: 16 << 20 },
      );

    before(async function () {
      try {
        await podman('info', '--format', '{{.Version.Version}}');
      } catch (err) {
        if (process.env.GANTRY_REQUIRE_PODMAN === '1') throw new Error(`GANTRY_REQUIRE_PODMAN=1 but podman does not run: ${(err as Error).message}`);
        this.skip();
      }
      writeFileSync(path.join(dir, 'podman-auth.json'), '{"auths": {}}\n');
      await pushBusyboxBase('team/busybox-oci-podman', 'oci');
      await pushBusyboxBase('team/busybox-docker-podman', 'docker');
    });

    for (const [from, tag, format] of [
      ['team/busybox-oci-podman:1', 'podman-oci', 'OCI'],
      ['team/busybox-docker-podman:1', 'podman-docker', 'Docker'],
    ] as const) {
      it(`pulls and runs the image built on the busybox base in ${format} format`, async () => {
        const built = await buildHello(from, tag);
        await podman('pull', '-q', '--tls-verify=false', built.image);
        const { stdout: digest } = await podman('image', 'inspect', '--format', '{{.Digest}}', built.image);
        assert.equal(digest.trim(), built.digest);
        const { stdout } = await podman('run', '--rm', '--network', 'none', ...MODEST_LIMITS, built.image);
        assert.equal(stdout, EXPECTED_OUTPUT);
      });
    }
  });
});
