// The server's secrets on disk: one file each in `<data>/secrets/` (0700, closed to the tasks that run
// on the server's host; src/shared/data-dir-modes.ts), mode 0600 like the store itself. A file is
// written aside and then put in place in one step, so a crash never leaves half a secret that the next
// start would read.
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Writes (or replaces) the secret `file` with `text`. */
export async function writeSecretFile(file: string, text: string): Promise<void> {
  const temp = await writeAside(file, text);
  await rename(temp, file);
}

/**
 * The secret kept in `file` (its text, trimmed), made by `make` and written on first use. Made once:
 * when two callers race, the first file to be linked in place wins and both read it.
 */
export async function readOrCreateSecretFile(file: string, make: () => string): Promise<string> {
  const kept = await readSecret(file);
  if (kept !== null) return kept;
  const temp = await writeAside(file, `${make()}\n`);
  try {
    await link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const made = await readSecret(file);
  if (made === null) throw new Error(`${file} vanished as it was made`);
  return made;
}

async function readSecret(file: string): Promise<string | null> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A new file beside `file` (its directory made 0700 when missing) holding `text`, mode 0600. */
async function writeAside(file: string, text: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${randomBytes(6).toString('hex')}`;
  await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
  return temp;
}
