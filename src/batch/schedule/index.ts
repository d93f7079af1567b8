// The schedule module of the batch scheduler: parses a job's `schedule` (ISO 8601 repeating interval, as
// Chronos) or `cron`, with `scheduleTimeZone`, and answers when it runs. Pure: no store, no timers, no
// clock. The rules for zones and daylight saving are in README.md beside this file.
import { Invalid } from '../../shared/errors.ts';
import { cronOccurrencesBetween, latestCronOccurrence, nextCronOccurrence, parseCronSchedule } from './cron.ts';
import { isoOccurrencesBetween, latestIsoOccurrence, nextIsoOccurrence } from './iso-occurrences.ts';
import { parseIsoSchedule } from './iso8601.ts';
import type { Occurrence, Schedule } from './types.ts';
import { checkZoneName } from './zone.ts';

export type { CronSchedule, IsoPeriod, IsoSchedule, Occurrence, Schedule } from './types.ts';
export { parseIsoDuration } from './iso-period.ts';
export { describeSchedule } from './describe.ts';

export interface ScheduleInput {
  schedule?: string | null;
  cron?: string | null;
  /** An IANA zone name; absent or "" (as Chronos exports it) means none. */
  scheduleTimeZone?: string | null;
}

export interface ParseScheduleOptions {
  /**
   * When the job was defined: the anchor of an empty ISO start (`R//PT1H`, Chronos's "start now"). Pass the
   * stored definition time, not the current time, so the anchor does not move when the server restarts.
   */
  definedAt?: Date;
}

/**
 * Parses a job's schedule. Exactly one of `schedule` and `cron` must be given. Throws `Invalid` with a
 * message starting with the field at fault (`schedule: `, `cron: `, `scheduleTimeZone: `).
 */
export function parseSchedule(input: ScheduleInput, options: ParseScheduleOptions = {}): Schedule {
  const hasSchedule = input.schedule !== undefined && input.schedule !== null;
  const hasCron = input.cron !== undefined && input.cron !== null;
  if (hasSchedule && hasCron) throw new Invalid('cron: give either "schedule" (ISO 8601) or "cron", not both');
  if (!hasSchedule && !hasCron) {
    throw new Invalid('schedule: required, as an ISO 8601 repeating interval (e.g. R/2026-03-01T09:00:00Z/P1D), unless "cron" is given');
  }
  const zone = input.scheduleTimeZone ? checkZoneName(input.scheduleTimeZone) : null;
  if (hasCron) return parseCronSchedule(input.cron!, zone ?? 'UTC');
  return parseIsoSchedule(input.schedule!, zone, options.definedAt);
}

/** The first occurrence strictly after `after`; null when there is none (repetitions exhausted, R0). */
export function nextOccurrence(schedule: Schedule, after: Date): Occurrence | null {
  return schedule.kind === 'iso8601' ? nextIsoOccurrence(schedule, after) : nextCronOccurrence(schedule, after);
}

/**
 * The last occurrence at or before `atOrBefore`; null when none has come yet. For catch-up after downtime:
 * the latest missed occurrence, without walking the ones before it.
 */
export function latestOccurrence(schedule: Schedule, atOrBefore: Date): Occurrence | null {
  return schedule.kind === 'iso8601' ? latestIsoOccurrence(schedule, atOrBefore) : latestCronOccurrence(schedule, atOrBefore);
}

/** The occurrences in (from, to], in order, the first `limit` of them. */
export function occurrencesBetween(schedule: Schedule, from: Date, to: Date, limit: number): Occurrence[] {
  if (limit <= 0 || to.getTime() <= from.getTime()) return [];
  return schedule.kind === 'iso8601'
    ? isoOccurrencesBetween(schedule, from, to, limit)
    : cronOccurrencesBetween(schedule, from, to, limit);
}
