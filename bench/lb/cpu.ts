// CPU time as /proc counts it: a process's user + system time (all its threads), and the machine's busy
// time, so that a throughput figure can say how much CPU it cost and whether the machine was full.
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc's clock ticks per second (100 on Linux). */
const TICK_S = 0.01;

/** Seconds of CPU a process used so far (utime + stime), or NaN once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis; utime and stime are the 14th and 15th fields.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_S;
  } catch {
    return NaN;
  }
}

/** The machine's busy and total CPU seconds so far (all cores). */
export function machineCpuSeconds(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: (total - idle) * TICK_S, total: total * TICK_S };
}

export interface CpuWindow {
  /** Cores each group of processes used over the window (1.0: one core all the time). */
  cores: Record<string, number>;
  /** Share of the machine's CPU that was busy. */
  machineBusy: number;
}

/** Starts measuring the named groups of pids; end() gives what they used since. */
export function cpuWindow(groups: Record<string, number[]>): { end(): CpuWindow } {
  const started = performance.now();
  const before = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids.map(processCpuSeconds)]));
  const machine = machineCpuSeconds();
  return {
    end() {
      const seconds = (performance.now() - started) / 1000;
      const cores: Record<string, number> = {};
      for (const [name, pids] of Object.entries(groups)) {
        const used = pids.map((pid, i) => processCpuSeconds(pid) - before[name]![i]!).filter(Number.isFinite);
        cores[name] = used.reduce((a, b) => a + b, 0) / seconds;
      }
      const after = machineCpuSeconds();
      return { cores, machineBusy: (after.busy - machine.busy) / Math.max(1e-9, after.total - machine.total) };
    },
  };
}
