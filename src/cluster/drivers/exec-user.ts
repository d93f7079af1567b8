// Running an exec task as another user of the host (TaskLaunch.user), and the directories it needs.
//
// The switch is `setpriv` (util-linux), exec'd by the task's own shell after its prelude joined the
// task's cgroups, not Node's spawn options `uid`/`gid`:
// - joining a cgroup is root's (cgroup v2 asks for write access to cgroup.procs of the common ancestor
//   of both cgroups: the agent's), so the prelude must run before the privileges are dropped;
// - with `uid`/`gid`, libuv calls setgroups(0, NULL) in the child: the task would lose its user's
//   supplementary groups, and those are how an operator grants more (a user in the `docker` group).
// setpriv sets the real and effective uid and gid and exactly the user's groups (`id -G`), then execs
// the command with the same pid: the process group, task.json and recovery are unchanged. A uid other
// than 0 keeps no capabilities. One exec more per task (~1-3 ms).
//
// Directories: the sandbox is the task user's, mode 0700 (no other task user reads it; a task run as
// the agent's own user gets 0700 too); a workspace (a CI run's) is made the user's, 0700, when this
// task creates it, so every step of the run, run as the same user, shares it. The output files the
// launcher helper creates in the sandbox stay root's: the task writes them through the descriptors it
// inherited.
import { accessSync, constants } from 'node:fs';
import { chmod, chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TaskUser } from './driver.ts';

const SETPRIV_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin'];

let setprivPath: string | null | undefined;

/** Where setpriv is, or null when this host has none (looked up once). */
export function findSetpriv(): string | null {
  if (setprivPath === undefined) {
    setprivPath = null;
    for (const dir of SETPRIV_DIRS) {
      try {
        accessSync(path.join(dir, 'setpriv'), constants.X_OK);
        setprivPath = path.join(dir, 'setpriv');
        break;
      } catch {
        // not there
      }
    }
  }
  return setprivPath;
}

/** Whether the task must be switched to `user`: it is not the agent's own user. */
export function switchesTo(user: TaskUser | undefined): user is TaskUser {
  return user !== undefined && user.uid !== process.getuid?.();
}

/** The argv that runs what follows it as `user`: setpriv with its uid, gid and groups. */
export function switchUserArgv(user: TaskUser): string[] {
  if (process.getuid?.() !== 0) throw new Error(`cannot run the task as ${user.name}: the agent does not run as root`);
  const setpriv = findSetpriv();
  if (!setpriv) throw new Error(`cannot run the task as ${user.name}: setpriv (util-linux) is not installed`);
  const groups = user.groups.length > 0 ? `--groups=${user.groups.join(',')}` : '--clear-groups';
  return [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, groups, '--'];
}

/**
 * Makes the task's sandbox (and its working directory when missing), mode 0700, the user's when the
 * task switches to one: the sandbox at each run (a restarted task reuses it), a working directory only
 * when this call created it (one that existed is left as its first task made it).
 */
export async function prepareTaskDirs(sandboxDir: string, workingDir: string, user: TaskUser | undefined): Promise<void> {
  await mkdir(sandboxDir, { recursive: true });
  const madeWorkingDir = workingDir !== sandboxDir ? await mkdir(workingDir, { recursive: true }) : undefined;
  await makePrivate(sandboxDir, user);
  if (madeWorkingDir !== undefined) await makePrivate(workingDir, user);
}

async function makePrivate(dir: string, user: TaskUser | undefined): Promise<void> {
  if (switchesTo(user)) await chown(dir, user.uid, user.gid);
  await chmod(dir, 0o700);
}
