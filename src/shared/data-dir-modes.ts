// The server's data directory, out of reach of the tasks that run on its host. The embedded agent runs
// tasks as unprivileged users (src/cluster/agent/task-users.ts) on this very host: they must not read
// the store file, the logs, the registry's blobs, the secrets, or list the CI mirrors.
//
// The directory stays traversable (0711, not listable) only for what tasks must reach through it: the
// embedded agent's work dir (`agent`, with their sandboxes and workspaces; the agent sets its own
// modes), and a passage to the CI git mirrors (`ci/mirrors`): a clone step on this host borrows its
// repository's mirror by the path it was handed, under a name it could not guess
// (src/ci/workspace/git-mirror.ts). The passage's directories are 0711 too, every other entry in them
// is closed, and what the last one holds (the mirrors) is left as it is. The entries the server makes,
// some only when first needed (logs/ at the first output, ci/ at the first push), are made here first with mode 0700, and
// every other entry (the store file) loses all group and other permissions. Run at start, it also
// closes a data directory an earlier version left open, and `ci` again when there is no longer an
// embedded agent. SQLite gives its -wal and -shm files the store file's mode.
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface DataDirLayout {
  /** Entries tasks must reach through the directory (left as they are). */
  reachable: readonly string[];
  /** Directories only the server uses: made 0700 when missing. */
  serverOnly: readonly string[];
  /**
   * Directories, one inside the other from the data directory down (`['ci', 'mirrors']`), that tasks
   * pass through to what the last one holds, without listing them: made 0711.
   */
  passage?: readonly string[];
}

/** Closes `dataDir` to everyone but its owner, except the reachable entries and the passage (see above). */
export async function restrictDataDir(dataDir: string, layout: DataDirLayout): Promise<void> {
  const passage = layout.passage ?? [];
  await chmod(dataDir, layout.reachable.length > 0 || passage.length > 0 ? 0o711 : 0o700);
  for (const name of layout.serverOnly) await mkdir(path.join(dataDir, name), { mode: 0o700 }).catch(ignoreExisting);
  if (passage.length === 0) return closeEntries(dataDir, layout.reachable);
  let dir = dataDir;
  let open = layout.reachable;
  for (const name of passage) {
    await mkdir(path.join(dir, name), { mode: 0o711 }).catch(ignoreExisting);
    await closeEntries(dir, [...open, name]);
    dir = path.join(dir, name);
    const stat = await lstat(dir);
    if (stat.isDirectory() && (stat.mode & 0o777) !== 0o711) await chmod(dir, 0o711);
    open = [];
  }
}

/** Takes group and other permissions from every entry of `dir` but those named. */
async function closeEntries(dir: string, open: readonly string[]): Promise<void> {
  for (const name of await readdir(dir)) {
    if (open.includes(name)) continue;
    const entry = path.join(dir, name);
    const stat = await lstat(entry).catch(() => null); // gone meanwhile
    if (!stat || stat.isSymbolicLink() || (stat.mode & 0o077) === 0) continue;
    await chmod(entry, stat.mode & 0o700);
  }
}

function ignoreExisting(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EEXIST') throw err;
}
