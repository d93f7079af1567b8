// `task.json` in a task's sandbox: what the exec driver needs to find a running task again after the
// agent restarted (recover): its process group, the leader's start time (pids are reused; a pid
// counts as ours only with the same start time) and its cgroups. The launcher helper writes it when it
// forks the task (exec.ts says why), in the same form as writeTaskRecord. Both files are read only
// when they are still the agent's own (own-file.ts): the sandbox may be the task user's.
import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TaskCgroupRecord } from './cgroups.ts';
import { readOwnFile } from './own-file.ts';

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
    const parsed: unknown = JSON.parse((await readOwnFile(path.join(sandboxDir, TASK_RECORD_FILE))) ?? 'null');
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

/**
 * `exit.json` in a task's sandbox: the task's exit status, written by the launcher helper that started
 * it when the task ended (src/shared/launcher/helper.mjs). The helper outlives a crashed agent, so the
 * next agent learns how a task it recovered ended, even one that ended while no agent ran.
 */
export const EXIT_STATUS_FILE = 'exit.json';

/** The exit status of the process `pid` started at `startTime`, if its exit file says so. */
export async function readExitStatus(
  sandboxDir: string,
  pid: number,
  startTime: number,
): Promise<{ exitCode: number | null; signal: NodeJS.Signals | null } | null> {
  try {
    const parsed = JSON.parse((await readOwnFile(path.join(sandboxDir, EXIT_STATUS_FILE))) ?? 'null') as Record<string, unknown> | null;
    if (!parsed) return null;
    if (parsed.pid !== pid || parsed.startTime !== startTime) return null; // another run's file
    const exitCode = Number.isInteger(parsed.code) ? (parsed.code as number) : null;
    const signal = typeof parsed.signal === 'string' ? (parsed.signal as NodeJS.Signals) : null;
    return exitCode === null && signal === null ? null : { exitCode, signal };
  } catch {
    return null;
  }
}

/** Forgets a task whose end was reported: a later recover() must not report it again. */
export async function removeTaskRecord(sandboxDir: string): Promise<void> {
  await rm(path.join(sandboxDir, TASK_RECORD_FILE), { force: true });
}
