// The benchmark's job set, the same shape for Gantry and for cron:
//   - FREQUENT jobs firing every PERIOD seconds (Gantry: `R/<window start>/PT10S`; cron: `* * * * *`,
//     its finest resolution being a minute),
//   - DAILY jobs, one a day each, their times of day spread evenly over the 24 hours (job i at second
//     round(i × 86400 / DAILY) of the day UTC; cron: the minute that second falls in). About 7 of them
//     come due per minute, so a few fire inside the measured window, as they would in production.
// Every job appends one line per execution to a file: its name, the occurrence it runs for, and the
// time its shell started (`date +%s.%N`). The expected occurrences inside the window are computed here,
// so misses and duplicates can be counted against them.

export const DAY_MS = 86_400_000;

export interface Workload {
  /** Jobs in all (frequent + daily). */
  total: number;
  frequent: number;
  periodS: number;
  /** Second of the day (UTC) of each daily job, by index. */
  dailySeconds: number[];
}

export function workload(total: number, frequent: number, periodS: number): Workload {
  const daily = total - frequent;
  const dailySeconds = Array.from({ length: daily }, (_, i) => Math.round((i * 86_400) / daily) % 86_400);
  return { total, frequent, periodS, dailySeconds };
}

export const frequentName = (i: number): string => `every-${String(i + 1).padStart(2, '0')}`;
export const dailyName = (i: number): string => `daily-${String(i + 1).padStart(5, '0')}`;

/** One expected execution: a job and the occurrence (ms since the epoch) it must run for. */
export interface Occurrence {
  job: string;
  at: number;
}

/** The key an execution is counted under. */
export const occurrenceKey = (job: string, at: number): string => `${job}@${at}`;

/**
 * The occurrences due in [from, to): every PERIOD for the frequent jobs from `frequentStart`, and the
 * daily jobs whose time of day falls in the window. `resolutionS` is the scheduler's: cron runs a daily
 * line at the minute its second falls in.
 */
export function expectedOccurrences(w: Workload, from: number, to: number, opts: { frequentEveryS: number; frequentStart: number; resolutionS: number }): Occurrence[] {
  const out: Occurrence[] = [];
  for (let i = 0; i < w.frequent; i++) {
    for (let at = opts.frequentStart; at < to; at += opts.frequentEveryS * 1000) if (at >= from) out.push({ job: frequentName(i), at });
  }
  const resolution = opts.resolutionS * 1000;
  for (const [i, second] of w.dailySeconds.entries()) {
    const ofDay = Math.floor((second * 1000) / resolution) * resolution;
    // The occurrence on the window's first day, or the day after (a window across midnight).
    for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) {
      const at = day + ofDay;
      if (at >= from && at < to) out.push({ job: dailyName(i), at });
    }
  }
  return out;
}

/** The ISO 8601 schedule of a daily job for Gantry: anchored on the given day at its second, every day. */
export function dailySchedule(dayStart: number, second: number): string {
  return `R/${isoSeconds(dayStart + second * 1000)}/P1D`;
}

/** `2026-11-24T10:00:00Z` (no milliseconds, as Chronos users write it). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
