// The server's data directory, out of reach of the tasks that run on its host. The embedded agent runs
// tasks as unprivileged users (src/cluster/agent/task-users.ts) on this very host: they must not read
// the store file, the logs, the registry's blobs, the secrets or the CI mirrors.
//
// The directory stays traversable (0711, not listable) only for what tasks must reach through it: the
// embedded agent's work dir (`agent`, with their sandboxes and workspaces; the agent sets its own
// modes). The entries the server makes, some only when first needed (logs/ at the first output, ci/ at
// the first push), are made here first with mode 0700, and every other entry (the store file) loses
// all group and other permissions. Run at start, it also closes a data directory an earlier version
// left open. SQLite gives its -wal and -shm files the store file's mode.
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface DataDirLayout {
  /** Entries tasks must reach through the directory (left as they are). */
  reachable: readonly string[];
  /** Directories only the server uses: made 0700 when missing. */
  serverOnly: readonly string[];
}

/** Closes `dataDir` to everyone but its owner, except the reachable entries (see above). */
export async function restrictDataDir(dataDir: string, layout: DataDirLayout): Promise<void> {
  await chmod(dataDir, layout.reachable.length > 0 ? 0o711 : 0o700);
  for (const name of layout.serverOnly) await mkdir(path.join(dataDir, name), { mode: 0o700 }).catch(ignoreExisting);
  for (const name of await readdir(dataDir)) {
    if (layout.reachable.includes(name)) continue;
    const entry = path.join(dataDir, name);
    const stat = await lstat(entry).catch(() => null); // gone meanwhile
    if (!stat || stat.isSymbolicLink() || (stat.mode & 0o077) === 0) continue;
    await chmod(entry, stat.mode & 0o700);
  }
}

function ignoreExisting(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EEXIST') throw err;
}
