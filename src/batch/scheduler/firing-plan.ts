// What to do when a job's next due time has come, possibly long ago (the server was down): pure, so
// that catch-up after downtime is decided by one tested function.
//
// Every occurrence at or before `now` is accounted for exactly once: the latest one runs if it is
// within `epsilon` of now; every other one is recorded as skipped (the first MAX_RECORDED_SKIPS of
// them one by one, the rest summed up in the reason of the last one recorded), and the job's next due
// time becomes the first occurrence after now.
import { latestOccurrence, nextOccurrence, occurrencesBetween, type Occurrence, type Schedule } from '../schedule/index.ts';

/** Skipped occurrences written one by one after downtime; beyond that they are only summed up. */
export const MAX_RECORDED_SKIPS = 100;

export interface SkippedOccurrence {
  occurrence: Occurrence;
  reason: string;
}

export interface FiringPlan {
  /** The occurrence to run now, or null when the latest one due is older than epsilon. */
  run: Occurrence | null;
  skipped: SkippedOccurrence[];
  /** The job's next due occurrence, after now (null: the schedule is exhausted). */
  next: Occurrence | null;
}

export function planFiring(schedule: Schedule, due: Occurrence, epsilonMs: number, now: Date): FiringPlan {
  const horizon = now.getTime() - epsilonMs;
  const found = latestOccurrence(schedule, now);
  const latest = found && found.at.getTime() > due.at.getTime() ? found : due;
  const run = latest.at.getTime() >= horizon ? latest : null;

  // The others: the due one and those between it and the latest (the latest too when it is late).
  const between = latest === due ? [] : occurrencesBetween(schedule, due.at, latest.at, MAX_RECORDED_SKIPS);
  const complete = between.length < MAX_RECORDED_SKIPS || between[between.length - 1]!.at.getTime() === latest.at.getTime();
  const others = latest === due ? [] : [due, ...between.filter((o) => o.at.getTime() !== latest.at.getTime())];
  if (!run) others.push(latest);
  const listed = others.slice(0, MAX_RECORDED_SKIPS);
  const truncated = !complete || others.length > MAX_RECORDED_SKIPS;

  const skipped = listed.map((occurrence): SkippedOccurrence => ({
    occurrence,
    reason:
      occurrence.at.getTime() < horizon
        ? `missed: due ${occurrence.at.toISOString()}, more than epsilon (${epsilonMs / 1000} s) before ${now.toISOString()}`
        : `superseded by the occurrence of ${latest.at.toISOString()}, due by ${now.toISOString()}`,
  }));
  if (truncated) {
    skipped[skipped.length - 1]!.reason += `; the occurrences after it up to ${latest.at.toISOString()} were skipped too and are not listed`;
  }
  return { run, skipped, next: nextOccurrence(schedule, now) };
}
