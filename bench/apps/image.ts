// The small HTTP server image both contenders run, made from local files with no registry: Debian's
// statically linked busybox (busybox-static) as the whole root filesystem, every applet a link to it,
// a page at /www/index.html, imported with `docker import` and served by busybox httpd on port 8080.
// busybox's wget is in the image too: Docker's health check runs inside the container.
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isStaticElf } from '../../test/helpers/static-elf.ts';

const execFileAsync = promisify(execFile);
const BUSYBOX = '/bin/busybox';

/** The port httpd listens on inside the container. */
export const CONTAINER_PORT = 8080;
/** The page the health checks fetch. */
export const PAGE = '/index.html';

/** Runs `docker ARGS` (the legacy builder's environment, as the tests run it); rejects with stderr. */
export async function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync('docker', args, { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeout: timeoutMs, maxBuffer: 64 << 20 });
    return stdout;
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.join(' ')}: ${(stderr || message).trim()}`);
  }
}

export async function imageExists(ref: string): Promise<boolean> {
  return docker(['image', 'inspect', '--format', '{{.Id}}', ref]).then(
    () => true,
    () => false,
  );
}


/**
 * Imports the image under `tag` unless it exists. Returns whether it was made here (then the bench
 * removes it at the end).
 */
export async function ensureHttpdImage(tag: string): Promise<boolean> {
  if (await imageExists(tag)) return false;
  if (!isStaticElf(BUSYBOX)) throw new Error(`${BUSYBOX} is missing or dynamically linked: apt-get install busybox-static`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-apps-image-'));
  try {
    const rootfs = path.join(dir, 'rootfs');
    for (const sub of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'www']) mkdirSync(path.join(rootfs, sub), { recursive: true });
    copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
    const { stdout } = await execFileAsync(BUSYBOX, ['--list-full']);
    for (const applet of stdout.split('\n').filter((line) => line && line !== 'bin/busybox')) symlinkSync('/bin/busybox', path.join(rootfs, applet));
    chmodSync(path.join(rootfs, 'tmp'), 0o1777);
    writeFileSync(path.join(rootfs, 'www', 'index.html'), '<!doctype html><title>bench</title><p>ok</p>\n');
    writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n');
    const tar = path.join(dir, 'rootfs.tar');
    await execFileAsync('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
    const cmd = JSON.stringify(['/bin/busybox', 'httpd', '-f', '-p', String(CONTAINER_PORT), '-h', '/www']);
    await docker(['import', '--change', `CMD ${cmd}`, '--change', `EXPOSE ${CONTAINER_PORT}/tcp`, tar, tag]);
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
