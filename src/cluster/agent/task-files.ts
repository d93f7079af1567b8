// Small per-task JSON files in the agent's own directory (not the task's sandbox), one subdirectory per
// kind: what the agent must know again about a task after its own restart, when the drivers' recover()
// gives back bare handles. Readable by the agent's user only (some hold secrets).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

function fileOf(workDir: string, kind: string, taskId: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(taskId)) throw new Error(`unsafe task id ${taskId}`);
  return path.join(workDir, kind, `${taskId}.json`);
}

export async function saveTaskFile(workDir: string, kind: string, taskId: string, value: unknown): Promise<void> {
  await mkdir(path.join(workDir, kind), { recursive: true, mode: 0o700 });
  await writeFile(fileOf(workDir, kind, taskId), JSON.stringify(value), { mode: 0o600 });
}

/** The file's parsed content; undefined when there is none. */
export async function loadTaskFile(workDir: string, kind: string, taskId: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(fileOf(workDir, kind, taskId), 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function removeTaskFile(workDir: string, kind: string, taskId: string): Promise<void> {
  await rm(fileOf(workDir, kind, taskId), { force: true });
}

/** The ids of the tasks that have a file of this kind. */
export async function listTaskFiles(workDir: string, kind: string): Promise<string[]> {
  try {
    return (await readdir(path.join(workDir, kind))).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** After recovery: removes the files of tasks that did not survive the agent's restart. */
export async function pruneTaskFiles(workDir: string, kind: string, keepTaskIds: ReadonlySet<string>): Promise<void> {
  let names: string[];
  try {
    names = await readdir(path.join(workDir, kind));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of names) {
    if (name.endsWith('.json') && !keepTaskIds.has(name.slice(0, -'.json'.length))) await rm(path.join(workDir, kind, name), { force: true });
  }
}
