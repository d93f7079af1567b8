// Processes and process groups seen through /proc: who is in a group, whether a pid is still the
// process we started (pids are reused, so a pid is checked together with its start time), and
// signalling a whole group. Linux only.
import { readdir, readFile } from 'node:fs/promises';

export interface ProcStat {
  pid: number;
  /** One letter: R running, S sleeping, Z zombie, ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** When the process started, in clock ticks since boot (field 22 of /proc/PID/stat). */
  startTime: number;
}

/** Parses the text of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses. */
export function parseProcStat(pid: number, text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // Fields from 3 (state) on; field N is at index N - 3.
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isFinite(ppid) || !Number.isFinite(pgrp) || !Number.isFinite(startTime)) return null;
  return { pid, state, ppid, pgrp, startTime };
}

export async function readProcStat(pid: number): Promise<ProcStat | null> {
  try {
    return parseProcStat(pid, await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone (or never existed)
  }
}

/** True while `pid` is the process that started at `startTime` and has not exited (zombies have exited). */
export async function isSameProcessAlive(pid: number, startTime: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== null && stat.startTime === startTime && stat.state !== 'Z';
}

/**
 * The pids of the live (non-zombie) members of process group `pgid`. With `maxAgeMs`, from a scan of
 * /proc at most that old, shared by every caller meanwhile: the agent samples the usage of each of its
 * tasks in the same round, and a scan per task was tasks × processes reads (a hundred services: tens of
 * thousands of reads every round, a core busy). Without it, from a scan of now (kills wait on it).
 */
export async function groupMembers(pgid: number, maxAgeMs = 0): Promise<number[]> {
  // Most tasks leave nothing behind: when no process is in the group at all, skip reading every
  // /proc/PID/stat of the machine (about 90 reads a task here, the bulk of a task end's cost).
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return [];
  }
  const table = maxAgeMs > 0 ? await recentProcessTable(maxAgeMs) : await processTable();
  return table
    .filter((stat) => stat.pgrp === pgid && stat.state !== 'Z')
    .map((stat) => stat.pid)
    .sort((a, b) => a - b);
}

/** Every process's stat, read now. */
async function processTable(): Promise<ProcStat[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const stats = await Promise.all(entries.filter((name) => /^\d+$/.test(name)).map((name) => readProcStat(Number(name))));
  return stats.filter((stat): stat is ProcStat => stat !== null);
}

let sharedTable: { at: number; table: Promise<ProcStat[]> } | null = null;

function recentProcessTable(maxAgeMs: number): Promise<ProcStat[]> {
  const now = Date.now();
  if (!sharedTable || now - sharedTable.at > maxAgeMs) sharedTable = { at: now, table: processTable() };
  return sharedTable.table;
}

/** Sends `signal` to every process of group `pgid`; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Sends `signal` to each pid; pids that are already gone are skipped. */
export function signalEach(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every `intervalMs` until it returns true or `deadline` (ms since the epoch) passes.
 * Resolves with the last result.
 */
export async function pollUntil(check: () => Promise<boolean>, deadline: number, intervalMs = 50): Promise<boolean> {
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}
