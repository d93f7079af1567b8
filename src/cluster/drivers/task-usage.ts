// What a running exec task uses, read from the kernel: CPU time since it started and memory now. The
// task's cgroups say it best (every process it ever had, reaped children included): memory from
// memory.usage_in_bytes (v1) or memory.current (v2), CPU from cpu.stat's usage_usec (v2). Without
// them, the live processes of its group are summed from /proc (utime + stime of each and of the
// children it reaped, and resident pages). Consumers turn two samples into a CPU rate.
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { TaskCgroupRecord } from './cgroups.ts';

export interface TaskUsage {
  /** CPU time used since the task started, in seconds (all its processes, all cores). */
  cpuSeconds: number;
  /** Memory in use now, in bytes. */
  memBytes: number;
}

/** Linux's USER_HZ: /proc counts CPU time in these ticks (100 on every mainstream architecture). */
const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

/** The usage of the processes `pids` (a task's members) and, when it has them, of its cgroups. */
export async function taskUsage(pids: readonly number[], cgroup: TaskCgroupRecord | null): Promise<TaskUsage> {
  const fromProc = await processesUsage(pids);
  const memory = cgroup?.memory ? await cgroupMemory(cgroup.memory.version, cgroup.memory.dir) : null;
  const cpu = cgroup?.cpu?.version === 2 ? await cgroupV2Cpu(cgroup.cpu.dir) : null;
  return { cpuSeconds: cpu ?? fromProc.cpuSeconds, memBytes: memory ?? fromProc.memBytes };
}

/** CPU (their own and their reaped children's) and resident memory of live processes, from /proc/PID/stat. */
export async function processesUsage(pids: readonly number[]): Promise<TaskUsage> {
  let ticks = 0;
  let pages = 0;
  for (const pid of pids) {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (!text) continue; // gone meanwhile
    // Fields from 3 (state) on, after the command name in parentheses: field N is at index N - 3.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    ticks += [11, 12, 13, 14].reduce((sum, i) => sum + (Number(fields[i]) || 0), 0); // utime stime cutime cstime
    pages += Number(fields[21]) || 0; // rss
  }
  return { cpuSeconds: ticks / TICKS_PER_SECOND, memBytes: pages * PAGE_BYTES };
}

async function cgroupMemory(version: 1 | 2, dir: string): Promise<number | null> {
  const text = await readFile(posix.join(dir, version === 1 ? 'memory.usage_in_bytes' : 'memory.current'), 'utf8').catch(() => null);
  const bytes = text === null ? NaN : Number(text.trim());
  return Number.isFinite(bytes) ? bytes : null;
}

async function cgroupV2Cpu(dir: string): Promise<number | null> {
  const text = await readFile(posix.join(dir, 'cpu.stat'), 'utf8').catch(() => null);
  const match = text === null ? null : /^usage_usec (\d+)$/m.exec(text);
  return match ? Number(match[1]) / 1e6 : null;
}
