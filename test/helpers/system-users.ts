// Users of this host for the tests of tasks run as unprivileged users (these tests run as root, as CI
// does): made with useradd when missing, as system users with a group of their own, and removed when
// the test process exits if it made them. Names start with gantry-test-.
import { execFileSync } from 'node:child_process';
import type { TaskUser } from '../../src/cluster/drivers/driver.ts';

const made = new Set<string>();

function id(flag: string, name: string): string {
  return execFileSync('id', [flag, '--', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The user `name` as the agent resolves it, or null when there is none. */
export function findUser(name: string): TaskUser | null {
  try {
    return { name, uid: Number(id('-u', name)), gid: Number(id('-g', name)), groups: id('-G', name).split(/\s+/).map(Number) };
  } catch {
    return null;
  }
}

/** The user `name` (made when missing, in the supplementary `groups` too). */
export function ensureUser(name: string, groups: readonly string[] = []): TaskUser {
  const found = findUser(name);
  if (found) return found;
  const shell = '/usr/sbin/nologin';
  execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', shell, ...(groups.length > 0 ? ['--groups', groups.join(',')] : []), '--', name], { stdio: 'pipe' });
  made.add(name);
  return findUser(name)!;
}

process.on('exit', () => {
  for (const name of made) {
    try {
      execFileSync('userdel', ['--', name], { stdio: 'ignore' });
    } catch {
      // in use by a process still running, or gone: nothing more to do
    }
  }
});
