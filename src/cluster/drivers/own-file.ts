// Opening the files the agent and its launcher helper keep in a task's sandbox (stdout, stderr,
// task.json, exit.json) when that sandbox belongs to the task's user (exec-user.ts). The user may
// delete, rename and replace anything in its own directory, so a file is trusted only as the agent
// made it: opened without following a symbolic link, without blocking on a FIFO, and used only when it
// is a regular file with one link owned by the agent's own user. Otherwise a task could make the agent
// (root) read a file the task may not (a link to the store), trust a record it forged (task.json names
// the process group and cgroups the agent kills), or hang on a FIFO.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Thrown for a file that is there but not the agent's own regular file. */
export class NotOwnFile extends Error {
  readonly code = 'ENOTOWN';
}

/** Opens `file` for reading when it is the agent's own regular file; ENOENT when it is missing. */
export async function openOwnFile(file: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(file, FLAGS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new NotOwnFile(`${file} is a symbolic link`);
    throw err;
  }
  try {
    const stat = await handle.stat();
    const ownUid = process.getuid?.() ?? stat.uid;
    if (!stat.isFile() || stat.nlink !== 1 || stat.uid !== ownUid) throw new NotOwnFile(`${file} is not the agent's own file`);
    return handle;
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** The text of `file` when it is the agent's own regular file, else null (missing, replaced, unreadable). */
export async function readOwnFile(file: string): Promise<string | null> {
  let handle: FileHandle;
  try {
    handle = await openOwnFile(file);
  } catch {
    return null;
  }
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
