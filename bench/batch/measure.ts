// Measuring helpers: percentiles, a process's memory and CPU from /proc, and the accounting of the
// executions each scheduler wrote to its file against the occurrences expected in the window.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { occurrenceKey, type Occurrence } from './workload.ts';
import { memoryKiB } from '../shared/proc.ts';

import { percentile, summarize, type Summary } from '../shared/stats.ts';

export { percentile, summarize, type Summary };

// ---- /proc --------------------------------------------------------------------------------------

let clockTicks: number | undefined;
/** CPU seconds (user + system) the process itself used so far, or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at the last ')': utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * Samples a process's VmRSS every `everyMs`, keeping the maximum per named phase, and its CPU time at
 * each phase change (so CPU % per phase).
 */
export class ProcessSampler {
  private readonly timer: NodeJS.Timeout;
  private current = 'start';
  private peakKiB: number | undefined;
  private phaseStart = { at: performance.now(), cpu: 0 };
  readonly phases = new Map<string, { maxRssMiB: number; lastRssMiB: number; cpuPercent: number; seconds: number }>();

  constructor(readonly pid: number, everyMs = 250) {
    this.phaseStart.cpu = cpuSeconds(pid) ?? 0;
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    this.sample();
  }

  /** Closes the current phase and opens `name`. */
  phase(name: string): void {
    this.close();
    this.current = name;
    this.phaseStart = { at: performance.now(), cpu: cpuSeconds(this.pid) ?? this.phaseStart.cpu };
    this.sample();
  }

  /** VmHWM: the peak RSS over the process's life (as last sampled). */
  peakMiB(): number | undefined {
    return this.peakKiB === undefined ? undefined : this.peakKiB / 1024;
  }

  stop(): void {
    this.close();
    clearInterval(this.timer);
  }

  private close(): void {
    this.sample();
    const entry = this.entry();
    const seconds = (performance.now() - this.phaseStart.at) / 1000;
    const cpu = (cpuSeconds(this.pid) ?? this.phaseStart.cpu) - this.phaseStart.cpu;
    entry.seconds = seconds;
    entry.cpuPercent = seconds > 0 ? (100 * cpu) / seconds : 0;
  }

  private entry() {
    let entry = this.phases.get(this.current);
    if (!entry) this.phases.set(this.current, (entry = { maxRssMiB: 0, lastRssMiB: 0, cpuPercent: 0, seconds: 0 }));
    return entry;
  }

  private sample(): void {
    const memory = memoryKiB(this.pid);
    if (memory === undefined) return;
    this.peakKiB = memory.hwm;
    const kib = memory.rss;
    const entry = this.entry();
    entry.lastRssMiB = kib / 1024;
    entry.maxRssMiB = Math.max(entry.maxRssMiB, kib / 1024);
  }
}

// ---- executions -----------------------------------------------------------------------------------

/** One line a job wrote: the job, the occurrence it ran for, when its shell started (ms, fractional). */
export interface Execution {
  job: string;
  at: number;
  startMs: number;
}

/** `NAME OCCURRENCE_ISO START` (Gantry: the occurrence is $GANTRY_SCHEDULED_TIME). */
export function parseGantryLines(text: string): Execution[] {
  return lines(text).map((line) => {
    const [job, at, start] = line.split(' ');
    return { job: job!, at: Date.parse(at!), startMs: Number(start) * 1000 };
  });
}

/**
 * `NAME START` (cron tells a job nothing about the occurrence: it is the minute the job started in,
 * cron's resolution; a start more than a minute late would show as a miss plus a duplicate).
 */
export function parseCronLines(text: string): Execution[] {
  return lines(text).map((line) => {
    const [job, start] = line.split(' ');
    const startMs = Number(start) * 1000;
    return { job: job!, at: Math.floor(startMs / 60_000) * 60_000, startMs };
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

export interface Accounting {
  expected: number;
  /** Expected occurrences with no execution. */
  misses: Occurrence[];
  /** Extra executions of one occurrence (anywhere in the file, not only in the window). */
  duplicates: Array<{ key: string; count: number }>;
  /** Executions in the window for an occurrence that was not expected. */
  unexpected: Execution[];
  /** Start − occurrence (ms) of the first execution of each expected occurrence. */
  skewMs: number[];
  /** The same, for the frequent jobs only and the daily ones only. */
  skewFrequentMs: number[];
  skewDailyMs: number[];
}

export function account(expected: readonly Occurrence[], executions: readonly Execution[], window: { from: number; to: number }, isFrequent: (job: string) => boolean): Accounting {
  const byKey = new Map<string, Execution[]>();
  for (const e of executions) {
    const key = occurrenceKey(e.job, e.at);
    byKey.set(key, [...(byKey.get(key) ?? []), e]);
  }
  const expectedKeys = new Set(expected.map((o) => occurrenceKey(o.job, o.at)));
  const result: Accounting = { expected: expected.length, misses: [], duplicates: [], unexpected: [], skewMs: [], skewFrequentMs: [], skewDailyMs: [] };
  for (const o of expected) {
    const runs = byKey.get(occurrenceKey(o.job, o.at));
    if (!runs) {
      result.misses.push(o);
      continue;
    }
    const skew = Math.min(...runs.map((r) => r.startMs)) - o.at;
    result.skewMs.push(skew);
    (isFrequent(o.job) ? result.skewFrequentMs : result.skewDailyMs).push(skew);
  }
  for (const [key, runs] of byKey) if (runs.length > 1) result.duplicates.push({ key, count: runs.length });
  for (const e of executions) if (e.at >= window.from && e.at < window.to && !expectedKeys.has(occurrenceKey(e.job, e.at))) result.unexpected.push(e);
  return result;
}
