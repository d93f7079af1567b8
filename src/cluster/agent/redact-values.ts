// The secrets to mask in a task's output (TaskSpec.redact), kept in the agent's own directory (not the
// task's sandbox) while the task runs: after an agent restart, recover() gives back bare handles, and
// the output of a recovered task must be masked just the same. Readable by the agent's user only.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

function fileOf(workDir: string, taskId: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(taskId)) throw new Error(`unsafe task id ${taskId}`);
  return path.join(workDir, 'redact', `${taskId}.json`);
}

/** Records the values before the task starts, so there is no moment when it runs unrecorded. */
export async function saveRedactValues(workDir: string, taskId: string, values: readonly string[]): Promise<void> {
  if (values.length === 0) return;
  await mkdir(path.join(workDir, 'redact'), { recursive: true, mode: 0o700 });
  await writeFile(fileOf(workDir, taskId), JSON.stringify(values), { mode: 0o600 });
}

/** The values recorded for a task; none when there is no record. */
export async function loadRedactValues(workDir: string, taskId: string): Promise<string[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(fileOf(workDir, taskId), 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function removeRedactValues(workDir: string, taskId: string): Promise<void> {
  await rm(fileOf(workDir, taskId), { force: true });
}

/** After recovery: forgets the values of tasks that did not survive the agent's restart. */
export async function pruneRedactValues(workDir: string, keepTaskIds: ReadonlySet<string>): Promise<void> {
  let names: string[];
  try {
    names = await readdir(path.join(workDir, 'redact'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const name of names) {
    if (name.endsWith('.json') && !keepTaskIds.has(name.slice(0, -'.json'.length))) await rm(path.join(workDir, 'redact', name), { force: true });
  }
}
