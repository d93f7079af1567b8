// `task.json` in a task's sandbox: what the exec driver needs to find a running task again after the
// agent restarted (recover): its process group, the leader's start time (pids are reused; a pid
// counts as ours only with the same start time) and its cgroups.
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskCgroupRecord } from './cgroups.ts';

export const TASK_RECORD_FILE = 'task.json';

export interface ExecTaskRecord {
  driver: 'exec';
  taskId: string;
  pid: number;
  /** The process group; the task is started as a group leader, so it equals pid. */
  pgid: number;
  /** Field 22 of /proc/PID/stat when the task started: clock ticks since boot. */
  startTime: number;
  startedAt: string;
  limits: string;
  cgroups: TaskCgroupRecord;
}

export async function writeTaskRecord(sandboxDir: string, record: ExecTaskRecord): Promise<void> {
  const file = path.join(sandboxDir, TASK_RECORD_FILE);
  await writeFile(`${file}.tmp`, JSON.stringify(record, null, 2) + '\n');
  await rename(`${file}.tmp`, file); // never a half-written record
}

function isRecord(value: unknown): value is ExecTaskRecord {
  const r = value as Partial<ExecTaskRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.driver === 'exec' &&
    typeof r.taskId === 'string' &&
    Number.isInteger(r.pid) &&
    Number.isInteger(r.pgid) &&
    Number.isInteger(r.startTime) &&
    typeof r.limits === 'string' &&
    typeof r.cgroups === 'object' &&
    r.cgroups !== null
  );
}

export async function readTaskRecord(sandboxDir: string): Promise<ExecTaskRecord | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path.join(sandboxDir, TASK_RECORD_FILE), 'utf8'));
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** The exec task records in the sandboxes directly under `sandboxRoot`, with their directories. */
export async function findTaskRecords(sandboxRoot: string): Promise<Array<{ sandboxDir: string; record: ExecTaskRecord }>> {
  let names: string[];
  try {
    names = await readdir(sandboxRoot);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const found: Array<{ sandboxDir: string; record: ExecTaskRecord }> = [];
  for (const name of names.sort()) {
    const sandboxDir = path.join(sandboxRoot, name);
    const record = await readTaskRecord(sandboxDir);
    if (record) found.push({ sandboxDir, record });
  }
  return found;
}
