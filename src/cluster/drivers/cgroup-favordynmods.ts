// favordynmods: moving a process into a cgroup without waiting for the kernel.
//
// Every exec task's shell moves itself into its cgroups before it runs the command (cgroups.ts). That
// write to `cgroup.procs` takes a kernel-wide lock (cgroup_threadgroup_rwsem) for writing, which first
// waits for an RCU grace period unless another move happened moments before: 10 / 14 / 17 ms
// (p50 / p90 / p99) per isolated move on the 2-core machine this was measured on, and the p99 of a CI
// step's overhead (bench/README.md, CI). The kernel's own answer (Linux 6.0) is the `favordynmods`
// option of the cgroup file system: moves no longer wait (0.16 / 0.18 / 0.31 ms there), at the price of
// forks and exits taking a slightly slower path.
//
// It is the operator's choice, so it is opt-in (`gantry agent --cgroup-favordynmods`, `gantry server
// --agent-cgroup-favordynmods`): the switch is kernel-wide whichever hierarchy it is set on, the kernel
// takes it on a cgroup2 mount only (a v1 remount with changed options is refused), and since Linux 6.17
// it cannot be turned off again until the next boot. At agent start:
// - a cgroup2 mount exists (v2 hosts, hybrid hosts' /sys/fs/cgroup/unified):
//   `mount -o remount,favordynmods MOUNT` (mount(8) keeps the mount's other options);
// - none (a v1-only host): a cgroup2 file system is mounted with the option in a temporary directory,
//   which sets it on the kernel's one v2 root, and unmounted again.
// Then mountinfo is read back: a kernel that ignored the option (an agent in a container's cgroup
// namespace cannot set it) is reported, not assumed.
import { mkdtemp, readFile, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseMountInfo } from './cgroup-detect.ts';
import { sharedLauncher } from '../../shared/launcher/launcher.ts';

export interface FavorDynmodsOutcome {
  /** Whether moves into cgroups are now fast. */
  on: boolean;
  /** One line for the agent's log. */
  message: string;
}

/** What the function touches, as parameters so tests can give a host of their own. */
export interface FavorDynmodsHost {
  uid: number;
  readMountInfo(): Promise<string>;
  /** Runs mount(8) or umount(8); exit code and what it printed on stderr. */
  run(argv: string[]): Promise<{ exitCode: number | null; stderr: string }>;
  makeTempDir(): Promise<string>;
  removeTempDir(dir: string): Promise<void>;
}

const realHost: FavorDynmodsHost = {
  uid: process.getuid?.() ?? -1,
  readMountInfo: () => readFile('/proc/self/mountinfo', 'utf8'),
  run: async (argv) => {
    const result = await sharedLauncher().run(argv, { timeoutMs: 10_000 });
    return { exitCode: result.exitCode, stderr: result.stderr.toString('utf8') };
  },
  makeTempDir: () => mkdtemp(path.join(os.tmpdir(), 'gantry-cgroup2-')),
  removeTempDir: (dir) => rmdir(dir),
};

function cgroup2WithOption(mountInfo: string): string | undefined {
  return parseMountInfo(mountInfo).find((m) => m.version === 2 && m.favorDynmods)?.mountPoint;
}

function failed(why: string): FavorDynmodsOutcome {
  return { on: false, message: `cannot turn cgroup favordynmods on: ${why}; each task's move into its cgroups may wait 10–30 ms` };
}

/** mount(8)'s complaint in one line, with the likely cause of its usual "bad option". */
function mountFailure(stderr: string): string {
  const line = stderr.trim().split('\n')[0] ?? '';
  const hint = /bad option|unknown parameter/i.test(stderr) ? ' (favordynmods needs Linux 6.0 or later)' : '';
  return `${line || 'mount failed'}${hint}`;
}

/** Turns the kernel's `favordynmods` on (see the top of this file); never throws. */
export async function favorDynamicCgroupMoves(host: FavorDynmodsHost = realHost): Promise<FavorDynmodsOutcome> {
  try {
    if (process.platform !== 'linux') return failed('not Linux');
    if (host.uid !== 0) return failed('not running as root');
    const before = parseMountInfo(await host.readMountInfo());
    const alreadyOn = before.find((m) => m.version === 2 && m.favorDynmods);
    if (alreadyOn) return { on: true, message: `cgroup favordynmods is on (${alreadyOn.mountPoint})` };

    const cgroup2 = before.find((m) => m.version === 2);
    if (cgroup2) {
      const remount = await host.run(['mount', '-o', 'remount,favordynmods', cgroup2.mountPoint]);
      if (remount.exitCode !== 0) return failed(mountFailure(remount.stderr));
      if (!cgroup2WithOption(await host.readMountInfo())) return failed(`the kernel did not take it on ${cgroup2.mountPoint} (in a container's cgroup namespace? set it on the host)`);
      return { on: true, message: `cgroup favordynmods turned on: remounted ${cgroup2.mountPoint} with it` };
    }

    const dir = await host.makeTempDir();
    try {
      const mount = await host.run(['mount', '-t', 'cgroup2', '-o', 'favordynmods', 'cgroup2', dir]);
      if (mount.exitCode !== 0) return failed(mountFailure(mount.stderr));
      const taken = cgroup2WithOption(await host.readMountInfo()) !== undefined;
      const unmount = await host.run(['umount', dir]);
      if (unmount.exitCode !== 0) return failed(`cannot unmount the cgroup2 file system at ${dir}: ${unmount.stderr.trim()}`);
      if (!taken) return failed('the kernel did not take it (in a container\'s cgroup namespace? set it on the host)');
      return { on: true, message: 'cgroup favordynmods turned on (through a cgroup2 file system mounted for the purpose and unmounted)' };
    } finally {
      await host.removeTempDir(dir).catch(() => undefined);
    }
  } catch (err) {
    return failed((err as Error).message);
  }
}
