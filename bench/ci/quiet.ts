// Other work on the machine: the CPU used outside this benchmark's own tree (its server, the server's
// tasks, its git commands, the peer), read from /proc, so a figure taken while something else ran says
// so; and a wait for the machine to be quiet before the benchmark starts. Others = the whole machine's
// busy time (/proc/stat) minus our tree's (each process's own time plus that of its reaped children,
// which is where short-lived tasks and git commands end up), so short-lived processes count too.
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime in clock ticks. */
  ticks: number;
  /** utime + stime + cutime + cstime: with the children it has reaped. */
  withChildren: number;
}

function readAll(): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const f = stat.slice(close + 2).split(' ');
      const ticks = Number(f[11]) + Number(f[12]);
      all.set(Number(name), { pid: Number(name), ppid: Number(f[1]), comm: stat.slice(stat.indexOf('(') + 1, close), ticks, withChildren: ticks + Number(f[13]) + Number(f[14]) });
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** Whether `pid` is this process or descends from it. */
function ours(pid: number, all: Map<number, ProcStat>): boolean {
  for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
    if (p === process.pid) return true;
    p = all.get(p)?.ppid;
  }
  return false;
}

/** Busy clock ticks of the whole machine (all CPUs): user, nice, system, irq, softirq, steal. */
function machineBusy(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const f = cpu!.trim().split(/\s+/).slice(1).map(Number);
  return (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
}

/** Our tree's ticks: each live process's own time and its reaped children's. */
function ourTicks(all: Map<number, ProcStat>): number {
  let sum = 0;
  for (const [pid, p] of all) if (ours(pid, all)) sum += p.withChildren;
  return sum;
}

/** CPU used outside our tree since the last mark, as a share of one core, with the busiest long-lived processes. */
export class OtherLoad {
  private last = readAll();
  private lastOurs = ourTicks(this.last);
  private lastMachine = machineBusy();
  private lastAt = performance.now();

  constructor(private readonly clockTicks: number) {}

  mark(): { share: number; busiest: string } {
    const machine = machineBusy();
    const now = readAll();
    const oursNow = ourTicks(now);
    const at = performance.now();
    const seconds = (at - this.lastAt) / 1000;
    const others = Math.max(0, machine - this.lastMachine - (oursNow - this.lastOurs));
    const by = new Map<string, number>();
    for (const [pid, p] of now) {
      if (ours(pid, now)) continue;
      const before = this.last.get(pid);
      const delta = before ? p.ticks - before.ticks : 0;
      if (delta > 0) by.set(p.comm, (by.get(p.comm) ?? 0) + delta);
    }
    this.last = now;
    this.lastOurs = oursNow;
    this.lastMachine = machine;
    this.lastAt = at;
    const busiest = [...by].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([comm, t]) => `${comm} ${((100 * t) / this.clockTicks / seconds).toFixed(0)} %`).join(', ');
    return { share: seconds > 0 ? others / this.clockTicks / seconds : 0, busiest };
  }
}

/**
 * Waits until the processes outside our tree use less than `limit` of a core over `windowS` seconds, at
 * most `maxS` seconds; returns what it saw last (the benchmark goes on either way, and says so).
 */
export async function waitForQuiet(clockTicks: number, limit: number, windowS: number, maxS: number): Promise<{ share: number; busiest: string; waitedS: number }> {
  const started = performance.now();
  const load = new OtherLoad(clockTicks);
  for (;;) {
    await new Promise((r) => setTimeout(r, windowS * 1000));
    const seen = load.mark();
    const waitedS = (performance.now() - started) / 1000;
    if (seen.share < limit || waitedS >= maxS) return { ...seen, waitedS };
  }
}
