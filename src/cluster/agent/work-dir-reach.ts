// Whether the agent's task users can reach its work dir, where their sandboxes and workspaces are. The
// agent makes the work dir and its roots traversable (0711), but a parent it does not own may not be:
// a data directory under /root (0700) leaves every task a sandbox it cannot name ($HOME,
// $GANTRY_SANDBOX), and tasks would fail on their first absolute path. The agent says so at start.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { TaskUser } from '../drivers/driver.ts';

/** The first directory on the way to `dir` that one of `users` may not pass through, or null. */
export async function unreachableWorkDir(dir: string, users: readonly TaskUser[]): Promise<{ directory: string; user: string } | null> {
  const ancestors: string[] = [];
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    ancestors.unshift(at);
    if (at === path.dirname(at)) break;
  }
  for (const directory of ancestors) {
    const info = await stat(directory).catch(() => null);
    if (!info) return null; // not made yet: the agent makes it, 0711
    for (const user of users) {
      if (user.uid === 0) continue;
      const bit = user.uid === info.uid ? 0o100 : user.groups.concat(user.gid).includes(info.gid) ? 0o010 : 0o001;
      if ((info.mode & bit) === 0) return { directory, user: user.name };
    }
  }
  return null;
}
