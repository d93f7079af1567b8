// The machine as the bench sees it: a process's CPU seconds (/proc/PID/stat), the engine's processes
// (dockerd, containerd) to count what each contender costs them, the whole machine's busy CPU seconds
// (/proc/stat), and a wait for a quiet machine (other sessions run their tests here: no heavy phase
// starts while the 1-minute load average is above the limit).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

let clockTicks: number | undefined;
function ticks(): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return clockTicks;
}

/** CPU seconds (user + system) the process used so far, or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks();
  } catch {
    return undefined;
  }
}

/** Busy CPU seconds of the whole machine so far (every core: all but idle and iowait). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - n[3]! - n[4]!) / ticks();
}

/** Pids of the processes whose command name is `comm` (read-only: the bench never signals them). */
export function pidsNamed(comm: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === comm) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** CPU seconds of a set of processes, summed (gone ones count 0). */
export function cpuOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

/** A meter of CPU seconds over one phase: the server, the engine (dockerd + containerd) and the machine. */
export class CpuMeter {
  private readonly engine = [...pidsNamed('dockerd'), ...pidsNamed('containerd')];
  private readonly start: { server: number; engine: number; machine: number; at: number };
  constructor(private readonly serverPid: number | null) {
    this.start = this.read();
  }

  private read(): { server: number; engine: number; machine: number; at: number } {
    return { server: this.serverPid ? (cpuSeconds(this.serverPid) ?? 0) : 0, engine: cpuOf(this.engine), machine: machineBusySeconds(), at: performance.now() };
  }

  /** CPU seconds since the meter started, and the wall seconds. */
  used(): { server: number; engine: number; machine: number; wall: number } {
    const now = this.read();
    return { server: now.server - this.start.server, engine: now.engine - this.start.engine, machine: now.machine - this.start.machine, wall: (now.at - this.start.at) / 1000 };
  }
}

/**
 * Waits until the 1-minute load average is at most `maxLoad` (checked every 15 s), saying so while it
 * waits; gives up after `maxWaitS`.
 */
export async function waitForQuiet(maxLoad: number, maxWaitS: number, what: string): Promise<void> {
  const started = Date.now();
  let said = false;
  for (;;) {
    const [one] = os.loadavg();
    if (one! <= maxLoad) {
      if (said) console.log(`   load ${one!.toFixed(2)}: going on`);
      return;
    }
    if ((Date.now() - started) / 1000 > maxWaitS) throw new Error(`the 1-minute load stayed above ${maxLoad} for ${maxWaitS} s: ${what} not run`);
    if (!said) console.log(`   waiting before ${what}: 1-minute load ${one!.toFixed(2)} > ${maxLoad}`);
    said = true;
    await new Promise((r) => setTimeout(r, 15_000));
  }
}
