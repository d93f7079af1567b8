// Users of the agent's host, as the agent needs them for its task users (task-users.ts): looked up by
// name with `id` (so NSS sources such as LDAP count, not only /etc/passwd), and the default task user
// created when missing. Run once at the agent's start, with child_process: not on a task's path.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Unavailable } from '../../shared/errors.ts';
import type { TaskUser } from '../drivers/driver.ts';

/** The default task user of an agent running as root with no --task-users. */
export const DEFAULT_TASK_USER = 'gantry-task';

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 30_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err); // not started (ENOENT) or killed
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** The user `name` of this host, or null when there is none. */
export async function lookUpUser(name: string): Promise<TaskUser | null> {
  const [uid, gid, groups] = await Promise.all([run('id', ['-u', '--', name]), run('id', ['-g', '--', name]), run('id', ['-G', '--', name])]);
  if (uid.code !== 0 || gid.code !== 0 || groups.code !== 0) return null;
  return {
    name,
    uid: Number(uid.stdout.trim()),
    gid: Number(gid.stdout.trim()),
    groups: groups.stdout.trim().split(/\s+/).filter(Boolean).map(Number),
  };
}

/**
 * Creates `name` as a system user with a group of its own and no other group, no home directory and
 * no login shell (useradd; adduser where there is no useradd). Another agent creating it at the same
 * moment is fine. Returns the user.
 */
export async function createSystemUser(name: string): Promise<TaskUser> {
  const shell = ['/usr/sbin/nologin', '/sbin/nologin'].find((s) => existsSync(s)) ?? '/bin/false';
  let made: { code: number; stderr: string };
  try {
    made = await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', shell, '--', name]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    made = await run('adduser', ['--system', '--group', '--no-create-home', '--home', '/nonexistent', '--shell', shell, name]);
  }
  const user = await lookUpUser(name);
  if (!user) throw new Unavailable(`cannot create the system user ${name}: ${made.stderr.trim() || `exit ${made.code}`}`);
  return user;
}
