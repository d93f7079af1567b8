// When a job runs: on its own schedule (`schedule`, ISO 8601, or `cron`) or after its parents (`parents`).
// Exactly one of the three: Chronos tells the two kinds apart by which field is present (JobUtils.fromBytes:
// `parents` first, then `schedule`); we refuse a definition that says both rather than guess.
// The schedule text is validated by the schedule module and never rewritten here.
import { GantryError } from '../../shared/errors.ts';
import { parseSchedule } from '../schedule/index.ts';
import type { Problem } from './problems.ts';

export type Schedule = ReturnType<typeof parseSchedule>;

export type JobTiming =
  | { kind: 'scheduled'; schedule: Schedule }
  | { kind: 'dependent'; parents: string[] };

const TIMING_FIELDS = ['schedule', 'cron', 'parents'] as const;

/**
 * The job's timing, or undefined with the problems recorded. `raw` is the definition without nulls;
 * `definedAt` anchors an empty ISO start (`R//PT1H`, Chronos's "from now").
 */
export function timingOf(raw: Record<string, unknown>, problems: Problem[], definedAt: Date | undefined): JobTiming | undefined {
  const given = TIMING_FIELDS.filter((field) => raw[field] !== undefined);
  const zone = nonEmptyString(raw.scheduleTimeZone);
  if (given.length === 0) {
    problems.push({
      path: '',
      problem:
        'a job needs one of "schedule" (ISO 8601, e.g. "R/2026-01-01T00:00:00Z/PT1H"), "cron" (e.g. "0 2 * * *") or "parents" (the jobs it runs after)',
    });
    return undefined;
  }
  if (given.length > 1) {
    problems.push({ path: '', problem: `give only one of "schedule", "cron" and "parents" (got ${given.map((f) => `"${f}"`).join(' and ')})` });
    return undefined;
  }
  if (given[0] === 'parents') {
    if (zone !== undefined) problems.push({ path: 'scheduleTimeZone', problem: 'applies only to a "schedule" or a "cron", not to a job with "parents"' });
    return dependentTiming(raw.parents, problems);
  }
  const text = raw[given[0]!];
  if (typeof text !== 'string') return undefined; // the schema reports the type
  try {
    const input = given[0] === 'schedule' ? { schedule: text, scheduleTimeZone: zone } : { cron: text, scheduleTimeZone: zone };
    const schedule = parseSchedule(input, definedAt === undefined ? {} : { definedAt });
    return { kind: 'scheduled', schedule };
  } catch (err) {
    // The schedule module's messages name the field at fault (schedule, cron or scheduleTimeZone).
    if (!(err instanceof GantryError)) throw err;
    problems.push({ path: '', problem: err.message });
    return undefined;
  }
}

function dependentTiming(parents: unknown, problems: Problem[]): JobTiming | undefined {
  if (!Array.isArray(parents)) return undefined; // the schema reports the type
  if (parents.length === 0) {
    problems.push({ path: 'parents', problem: 'a dependent job needs at least one parent (or give it a "schedule" instead)' });
    return undefined;
  }
  if (!parents.every((p): p is string => typeof p === 'string' && p !== '')) return undefined;
  // Chronos keeps parents as a Set: naming one twice is the same as naming it once.
  return { kind: 'dependent', parents: [...new Set(parents)] };
}

/** Chronos exports `"scheduleTimeZone": ""` for a job without a zone. */
function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
