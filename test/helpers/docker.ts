// Docker for tests: whether an engine answers (skip, or fail under GANTRY_REQUIRE_DOCKER=1, as CI sets),
// a `docker` runner with its own client config, and a tiny busybox base image made locally: CI has no
// Docker Hub, so every image a test runs is built FROM it.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './processes.ts';
import { isStaticElf } from './static-elf.ts';

const execFileAsync = promisify(execFile);

/** The client on PATH: Debian's docker.io (20.10) in CI; a newer CLI works too (API negotiation). */
export const DOCKER_CLI = 'docker';

/** The statically linked busybox of Debian's busybox-static: it runs in an image that has no libc. */
export const BUSYBOX = '/bin/busybox';

export interface DockerOptions {
  /** DOCKER_CONFIG for this call: where `docker login` keeps credentials. */
  config?: string;
  /** Written to the command's stdin (e.g. `login --password-stdin`). */
  input?: string;
  timeoutMs?: number;
  /** DOCKER_HOST for this call: another engine than the default one (startSecondEngine). */
  host?: string;
}

export interface DockerResult {
  stdout: string;
  stderr: string;
}

/** Runs `docker ARGS`; rejects with the command's stderr in the message when it exits non-zero. */
export function docker(args: string[], options: DockerOptions = {}): Promise<DockerResult> {
  // The legacy builder behaves the same with every CLI here: the 28.x CLI without buildx and
  // Debian's 20.10 CLI. BuildKit would change the output and how FROM finds local images.
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_BUILDKIT: '0' };
  if (options.config) env.DOCKER_CONFIG = options.config;
  if (options.host) env.DOCKER_HOST = options.host;
  const child = execFileAsync(DOCKER_CLI, args, { env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 << 20 });
  if (options.input !== undefined) child.child.stdin!.end(options.input);
  return child;
}

/** The engine's version, or why none answers. */
export async function dockerEngine(): Promise<{ version: string } | { error: string }> {
  try {
    const { stdout } = await docker(['version', '--format', '{{.Server.Version}}'], { timeoutMs: 10_000 });
    return { version: stdout.trim() };
  } catch (err) {
    const { stderr, message } = err as { stderr?: string; message: string };
    return { error: (stderr || message).trim() };
  }
}

export async function dockerAvailable(): Promise<boolean> {
  return 'version' in (await dockerEngine());
}

/**
 * Call from a `before(async function () { ... })`: skips the suite when no Docker engine answers, or
 * fails it when GANTRY_REQUIRE_DOCKER=1, so CI cannot go green by silently skipping.
 */
export async function requireDocker(ctx: Mocha.Context): Promise<void> {
  const engine = await dockerEngine();
  if ('version' in engine) return;
  if (process.env.GANTRY_REQUIRE_DOCKER === '1') {
    throw new Error(`GANTRY_REQUIRE_DOCKER=1 but no Docker engine answers \`docker version\`: ${engine.error}`);
  }
  ctx.skip();
}


/**
 * Writes `rootfs.tar` in DIR: /bin/busybox, every applet as a symlink to it (sh, ls, cat, echo, ...)
 * and /etc/gantry-image naming `stamp`. The stamp gives each image its own base layer, so removing one
 * tag really removes its layer and a later pull has to download it. Also used for podman.
 */
export async function writeBusyboxRootfsTar(dir: string, stamp: string): Promise<string> {
  if (!isStaticElf(BUSYBOX)) {
    throw new Error(`${BUSYBOX} is missing or dynamically linked: install Debian's busybox-static`);
  }
  const rootfs = path.join(dir, 'rootfs');
  for (const sub of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'root']) mkdirSync(path.join(rootfs, sub), { recursive: true });
  copyFileSync(BUSYBOX, path.join(rootfs, 'bin', 'busybox'));
  const { stdout } = await execFileAsync(BUSYBOX, ['--list-full']);
  for (const applet of stdout.split('\n').filter((line) => line && line !== 'bin/busybox')) {
    // The absolute target resolves inside the container's root, wherever the applet lives.
    symlinkSync('/bin/busybox', path.join(rootfs, applet));
  }
  writeFileSync(path.join(rootfs, 'etc', 'gantry-image'), `${stamp}\n`);
  chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  const tar = path.join(dir, 'rootfs.tar');
  await execFileAsync('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
  return tar;
}

export async function imageExists(ref: string): Promise<boolean> {
  try {
    await docker(['image', 'inspect', ref]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure TAG names a busybox image (CMD /bin/sh), importing one from busybox-static when it does
 * not: no registry is involved. Returns at once when the tag exists.
 */
export async function ensureBusyboxImage(tag = 'gantry-test/busybox:latest'): Promise<string> {
  if (await imageExists(tag)) return tag;
  const dir = tempDir('busybox');
  try {
    const tar = await writeBusyboxRootfsTar(dir, tag);
    await docker(['import', '--change', 'CMD ["/bin/sh"]', tar, tag]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return tag;
}

/** Removes these image references, ignoring the ones that are already gone. */
export async function removeImages(...refs: string[]): Promise<void> {
  for (const ref of refs) {
    if (await imageExists(ref)) await docker(['rmi', ref]);
  }
}

export interface SecondEngine {
  /** DOCKER_HOST for it: `unix://DIR/docker.sock`. */
  host: string;
  stop(): Promise<void>;
}

/**
 * Starts a second Docker engine with its own image store under DIR, for tests where two agents must
 * hold different images, as two machines would (agents on one engine share its images). It gets a
 * bridge of its own and touches no iptables rules. Not `--bridge=none`: a daemon started so deletes
 * the host's docker0, breaking the default engine.
 */
export async function startSecondEngine(dir: string): Promise<SecondEngine> {
  mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, 'docker.sock');
  const bridge = `gtest${process.pid % 100_000}`;
  const ip = (...args: string[]) => execFileAsync('ip', args);
  await ip('link', 'delete', bridge).catch(() => undefined);
  await ip('link', 'add', 'name', bridge, 'type', 'bridge');
  await ip('addr', 'add', `10.213.${process.pid % 250}.1/24`, 'dev', bridge);
  await ip('link', 'set', bridge, 'up');
  const log = openSync(path.join(dir, 'dockerd.log'), 'a');
  const child = spawn(
    'dockerd',
    ['--data-root', path.join(dir, 'root'), '--exec-root', path.join(dir, 'exec'), '-H', `unix://${socket}`, '--pidfile', path.join(dir, 'docker.pid'), '--bridge', bridge, '--iptables=false', '--ip6tables=false'],
    { stdio: ['ignore', log, log], detached: true },
  );
  closeSync(log);
  const host = `unix://${socket}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (await docker(['version'], { host, timeoutMs: 5000 }).then(() => true, () => false)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await ip('link', 'delete', bridge).catch(() => undefined);
      throw new Error(`the second Docker engine did not start (see ${path.join(dir, 'dockerd.log')})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    host,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await ip('link', 'delete', bridge).catch(() => undefined);
    },
  };
}
