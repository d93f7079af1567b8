// Where a task's log lives on disk. A log is one or more files ("segments"): `<taskId>.jsonl` holds
// the output from offset 0, and a capped log rolls on to `<taskId>.jsonl.<base>`, whose first byte is
// at offset <base> of the task's log. Offsets so stay the same across files for good (a reader's
// Last-Event-ID names one place however the log was cut since), and the oldest files are dropped
// without renaming the others. A task id may hold dots, so a name is read from its end: `.jsonl.<digits>`
// is a rolled file (no first file's name ends so), and what comes before it is the task id.
//
// Which rolled files exist is listed once per store (one readdir of the directory, at first use) and
// kept up to date by the store, the only writer; whether the first file exists is asked by name.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const ROLLED_FILE = /^(.+)\.jsonl\.(\d+)$/;

export class LogSegments {
  /** Bases of each task's rolled files, oldest first (tasks whose log never rolled are not in it). */
  private rolled: Promise<Map<string, number[]>> | null = null;

  constructor(private readonly dir: string) {}

  /** The file of the task's output from offset 0 (gone once the log was cut). */
  firstFile(taskId: string): string {
    if (!/^[A-Za-z0-9._-]+$/.test(taskId)) throw new Error(`unsafe task id ${taskId}`);
    return path.join(this.dir, `${taskId}.jsonl`);
  }

  /** The file whose first byte is at `base` of the task's log. */
  fileAt(taskId: string, base: number): string {
    const first = this.firstFile(taskId);
    return base === 0 ? first : `${first}.${base}`;
  }

  /** Where each of the task's files starts, oldest first; [] when it has none. */
  async bases(taskId: string): Promise<number[]> {
    const hasFirst = await exists(this.firstFile(taskId));
    const rolled = (await this.index()).get(taskId) ?? [];
    return hasFirst ? [0, ...rolled] : [...rolled];
  }

  /** Records a rolled file just created (after it exists, so that no reader looks for it before). */
  async added(taskId: string, base: number): Promise<void> {
    if (base === 0) return;
    const index = await this.index();
    const bases = index.get(taskId) ?? [];
    if (!bases.includes(base)) index.set(taskId, [...bases, base].sort((a, b) => a - b));
  }

  /** Records a rolled file gone (after it was removed). */
  async removed(taskId: string, base: number): Promise<void> {
    const index = await this.index();
    const left = (index.get(taskId) ?? []).filter((b) => b !== base);
    if (left.length > 0) index.set(taskId, left);
    else index.delete(taskId);
  }

  private index(): Promise<Map<string, number[]>> {
    this.rolled ??= listRolled(this.dir);
    return this.rolled;
  }
}

async function listRolled(dir: string): Promise<Map<string, number[]>> {
  const index = new Map<string, number[]>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return index;
    throw err;
  }
  for (const name of names) {
    const match = ROLLED_FILE.exec(name);
    if (!match) continue;
    const bases = index.get(match[1]!) ?? [];
    bases.push(Number(match[2]));
    index.set(match[1]!, bases);
  }
  for (const bases of index.values()) bases.sort((a, b) => a - b);
  return index;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
